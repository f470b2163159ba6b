# The two commands of the README, and the steps they share.
# Everything runs in release mode so wasmtime is compiled once for both.

CARGO ?= cargo
# apt-get needs root; elsewhere ask sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-deps plugins toolchain bench fuzz lint

## Build the host and the plugins, then serve config.toml.
run: plugins
	$(CARGO) run --release -p inbound -- serve --config config.toml

## Build the plugins, then run every test of the workspace.
test: plugins test-deps
	$(CARGO) test --release --workspace --no-fail-fast

## What the end-to-end tests run against: Debian's Alertmanager (a real
## sender), promtool (checks /metrics and the alerting rules in contrib/),
## headless Chromium with its WebDriver (the console's browser tests),
## Python's aiosmtpd (a real SMTP server), and nginx and Caddy (the reverse
## proxy examples of contrib/proxy). A no-op when they are installed.
test-deps:
	@test -x /usr/bin/prometheus-alertmanager || { $(SUDO) apt-get update && $(SUDO) apt-get install -y prometheus-alertmanager; }
	@command -v promtool >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends prometheus; }
	@{ test -x /usr/bin/chromium && test -x /usr/bin/chromedriver; } || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver; }
	@/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-aiosmtpd; }
	@{ test -x /usr/sbin/nginx && test -x /usr/bin/caddy; } || { $(SUDO) apt-get update && $(SUDO) apt-get install -y nginx-light caddy; }

plugins: toolchain
	$(CARGO) build --release --target wasm32-wasip2 -p inbound-zendesk -p inbound-alertmanager \
		-p inbound-test-hostile -p inbound-test-wrong-world -p inbound-test-api-v0-1-0 \
		-p inbound-test-future-api -p inbound-notify-webhook -p inbound-notify-slack \
		-p inbound-notify-email -p inbound-test-hostile-notifier

toolchain:
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

## Format and lint checks, as CI runs them (rustfmt.toml; warnings are errors).
lint:
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

## Benchmark against the ceilings (docs/performance.md). Not part of `make test`.
bench: plugins
	@command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(CARGO) build --release -p inbound -p inbound-bench
	./target/release/bench run

## Run every fuzz target for FUZZ_SECONDS each (docs/testing.md). CI runs 25 s.
FUZZ_SECONDS ?= 25
fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)
