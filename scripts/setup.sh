#!/usr/bin/env bash
# Installs everything Pigeon needs to build, test and demo, idempotently.
# A warm rerun only checks versions and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

WORKER_BUILD_VERSION=0.8.7
say() { printf '\033[1;34msetup:\033[0m %s\n' "$*"; }

# --- Debian packages: headless Chromium and its WebDriver (tests and benchmarks) ----------
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  say "installing chromium and chromium-driver (apt)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# --- Rust: wasm target, wasm-bindgen CLI matching Cargo.lock, worker-build ---------------
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The CLI must be exactly the wasm-bindgen version in Cargo.lock.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
  # No --locked: the CLI's own lockfile pins a crate the registry mirror lacks.
  cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$WORKER_BUILD_VERSION" ]; then
  say "installing worker-build $WORKER_BUILD_VERSION (about 3 minutes)"
  cargo install -q worker-build --version "$WORKER_BUILD_VERSION" --locked
fi

# --- npm tools pinned in package-lock.json: wrangler, Node 24, binaryen, esbuild, Playwright
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.pigeon-installed-lock; then
  say "installing npm tools (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  cp package-lock.json node_modules/.pigeon-installed-lock
fi
# npm 11 skips install scripts of packages not yet approved; the binaries are what we need.
if [ ! -x node_modules/@esbuild/linux-x64/bin/esbuild ] || [ ! -x node_modules/@cloudflare/workerd-linux-64/bin/workerd ]; then
  say "rebuilding workerd and esbuild binaries"
  npm rebuild workerd esbuild --loglevel=error
fi
say "tools ready"
