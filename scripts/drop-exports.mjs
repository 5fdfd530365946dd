#!/usr/bin/env node
// Drops the JS stream classes that leptos' server_fn brings in through wasm-streams
// (IntoUnderlyingSource, IntoUnderlyingSink, IntoUnderlyingByteSource). The widget never
// uses them (no server functions), but as `#[wasm_bindgen]` exports they and all the code
// behind them survive every optimiser. Removed from the JS glue and the wasm's exports here,
// wasm-opt then deletes their code. Run after wasm-bindgen, before wasm-opt:
//   node scripts/drop-exports.mjs widget/dist/widget/pigeon_widget   (the _bg.wasm and .js)
// Fails (and writes nothing) if the glue does not look as expected or a name is left behind.
import fs from 'node:fs';
import binaryen from 'binaryen';

const CLASSES = ['IntoUnderlyingByteSource', 'IntoUnderlyingSink', 'IntoUnderlyingSource'];
const base = process.argv[2];
const wasmPath = `${base}_bg.wasm`;
const jsPath = `${base}.js`;
let js = fs.readFileSync(jsPath, 'utf8');

const fail = (why) => { console.error(`drop-exports: ${why}`); process.exit(1); };
for (const name of CLASSES) {
  const cls = new RegExp(`export class ${name} \\{[\\s\\S]*?\\nif \\(Symbol\\.dispose\\) ${name}\\.prototype\\[Symbol\\.dispose\\] = ${name}\\.prototype\\.free;\\n`);
  const registry = new RegExp(`const ${name}Finalization = [\\s\\S]*?;\\n`);
  if (!cls.test(js) || !registry.test(js)) fail(`${name} not found in ${jsPath} as expected (wasm-bindgen changed?)`);
  js = js.replace(cls, '').replace(registry, '');
}
if (/intounderlying/i.test(js)) fail(`a stream class name is still used in ${jsPath}`);

const module = binaryen.readBinary(fs.readFileSync(wasmPath));
// The features build.sh gives wasm-opt (with All, binaryen would write newer encodings).
const F = binaryen.Features;
module.setFeatures(F.MVP | F.BulkMemory | F.NontrappingFPToInt | F.SignExt | F.ReferenceTypes | F.Multivalue | F.MutableGlobals);
const doomed = [];
for (let i = 0; i < module.getNumExports(); i++) {
  const { name } = binaryen.getExportInfo(module.getExportByIndex(i));
  if (/intounderlying/.test(name)) doomed.push(name);
}
if (doomed.length === 0) fail(`no stream exports in ${wasmPath}`);
for (const name of doomed) module.removeExport(name);
const out = module.emitBinary();
module.dispose();

fs.writeFileSync(jsPath, js);
fs.writeFileSync(wasmPath, out);
console.log(`drop-exports: ${CLASSES.length} classes, ${doomed.length} wasm exports removed`);
