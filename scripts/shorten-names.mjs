#!/usr/bin/env node
// Shortens the names the wasm and its JS glue use to find each other. wasm-bindgen names every
// import `__wbg_<method>_<16 hex digits>` and every closure shim `..._invoke__h<16 hex>`;
// hex digits do not compress, and each name is written twice (wasm import/export section and
// JS). Renamed consistently to `$0`, `$1`, ... they cost a few bytes each.
//   node scripts/shorten-names.mjs widget/dist/widget/pigeon_widget   (the _bg.wasm and .js)
// Fails (and writes nothing) if any old name would be left behind in the JS.
import fs from 'node:fs';

const base = process.argv[2];
const wasmPath = `${base}_bg.wasm`;
const jsPath = `${base}.js`;
const wasm = fs.readFileSync(wasmPath);
let js = fs.readFileSync(jsPath, 'utf8');

function leb(buf, at) {
  let value = 0, shift = 0, byte;
  do { byte = buf[at++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
  return [value, at];
}
function encodeLeb(n) {
  const out = [];
  do { let b = n & 0x7f; n = Math.floor(n / 128); if (n) b |= 0x80; out.push(b); } while (n);
  return Buffer.from(out);
}
const name = (s) => { const b = Buffer.from(s, 'utf8'); return Buffer.concat([encodeLeb(b.length), b]); };
function readName(buf, at) {
  const [len, start] = leb(buf, at);
  return [buf.subarray(start, start + len).toString('utf8'), start + len];
}

const renames = new Map();
const fresh = () => `$${renames.size.toString(36)}`;
const worthRenaming = (n) => n.length > 4 && /^[A-Za-z_][\w$]*$/.test(n);

// Import section: [module, field, kind, descriptor]; only the field names of the glue module.
function rewriteImports(body) {
  let [count, at] = leb(body, 0);
  const parts = [encodeLeb(count)];
  while (count--) {
    const [module, a1] = readName(body, at);
    const [field, a2] = readName(body, a1);
    const descStart = a2;
    const kind = body[descStart];
    let end = descStart + 1;
    if (kind === 0) end = leb(body, end)[1]; // function: type index
    else if (kind === 1) { end += 1; const flags = body[end++]; end = leb(body, end)[1]; if (flags & 1) end = leb(body, end)[1]; } // table
    else if (kind === 2) { const flags = body[end++]; end = leb(body, end)[1]; if (flags & 1) end = leb(body, end)[1]; } // memory
    else if (kind === 3) end += 2; // global: valtype, mutability
    else throw new Error(`import kind ${kind} not handled`);
    let newField = field;
    if (module !== 'env' && worthRenaming(field)) {
      if (!renames.has(field)) renames.set(field, fresh());
      newField = renames.get(field);
    }
    parts.push(name(module), name(newField), body.subarray(descStart, end));
    at = end;
  }
  return Buffer.concat(parts);
}

// Export section: only the hashed closure shims (the named API stays as it is).
function rewriteExports(body) {
  let [count, at] = leb(body, 0);
  const parts = [encodeLeb(count)];
  while (count--) {
    const [field, a1] = readName(body, at);
    const end = leb(body, a1 + 1)[1];
    let newField = field;
    if (/h[0-9a-f]{16}(_\d+)?$/.test(field)) {
      if (!renames.has(field)) renames.set(field, fresh());
      newField = renames.get(field);
    }
    parts.push(name(newField), body.subarray(a1, end));
    at = end;
  }
  return Buffer.concat(parts);
}

const sections = [wasm.subarray(0, 8)];
for (let at = 8; at < wasm.length;) {
  const id = wasm[at];
  const [size, start] = leb(wasm, at + 1);
  let body = wasm.subarray(start, start + size);
  if (id === 2) body = rewriteImports(body);
  if (id === 7) body = rewriteExports(body);
  sections.push(Buffer.from([id]), encodeLeb(body.length), body);
  at = start + size;
}

// A whole identifier, not part of a longer one (`..._h<hash>` vs `..._h<hash>_19`).
const word = (n, flags) => new RegExp(`(?<![\\w$])${n.replace(/\$/g, '\\$')}(?![\\w$])`, flags);
const missing = [];
for (const [from, to] of renames) {
  const before = js;
  js = js.replace(word(from, 'g'), to);
  if (js === before) missing.push(from);
}
const leftover = [...renames.keys()].filter((n) => word(n).test(js));
if (missing.length || leftover.length) {
  console.error(`shorten-names: names not found in ${jsPath}: ${missing.join(', ')}; left behind: ${leftover.join(', ')}`);
  process.exit(1);
}
fs.writeFileSync(wasmPath, Buffer.concat(sections));
fs.writeFileSync(jsPath, js);
console.log(`shorten-names: ${renames.size} names shortened`);
