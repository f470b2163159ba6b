# The two commands of the README, and the steps they share.
# Everything runs in release mode so wasmtime is compiled once for both.

CARGO ?= cargo

.PHONY: run test plugins toolchain bench fuzz

## Build the host and the plugins, then serve config.toml.
run: plugins
	$(CARGO) run --release -p inbound -- serve --config config.toml

## Build the plugins, then run every test of the workspace.
test: plugins
	$(CARGO) test --release --workspace

plugins: toolchain
	$(CARGO) build --release --target wasm32-wasip2 -p inbound-zendesk \
		-p inbound-test-hostile -p inbound-test-wrong-world

toolchain:
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

## Benchmark against the ceilings (docs/performance.md). Not part of `make test`.
bench: plugins
	@command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(CARGO) build --release -p inbound -p inbound-bench
	./target/release/bench run

## Run every fuzz target for FUZZ_SECONDS each (docs/testing.md). CI runs 25 s.
FUZZ_SECONDS ?= 25
fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)
