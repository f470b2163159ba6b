# The two commands of the README, and the steps they share.
# Everything runs in release mode so wasmtime is compiled once for both.

CARGO ?= cargo

.PHONY: run test plugins toolchain

## Build the host and the plugins, then serve config.toml.
run: plugins
	$(CARGO) run --release -p inbound -- serve --config config.toml

## Build the plugins, then run every test of the workspace.
test: plugins
	$(CARGO) test --release --workspace

plugins: toolchain
	$(CARGO) build --release --target wasm32-wasip2 -p inbound-zendesk -p inbound-alertmanager \
		-p inbound-test-hostile -p inbound-test-wrong-world -p inbound-test-api-v0-1-0

toolchain:
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
