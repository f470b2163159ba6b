# The two commands of the README, and the steps they share.
# Everything runs in release mode so wasmtime is compiled once for both.

CARGO ?= cargo
# apt-get needs root; elsewhere ask sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-deps plugins served-plugins rust-plugins python-plugins js-toolchain js-plugins sdk-test oidc-provider toolchain bench fuzz lint

## Build the host and the plugins, then serve config.toml.
run: served-plugins
	$(CARGO) run --release -p inbound -- serve --config config.toml

## Build the plugins, run the Python and JavaScript SDKs' tests, then every
## test of the workspace, then the end-to-end suite again on PostgreSQL
## (storage.backend = "postgres").
test: plugins js-toolchain sdk-test oidc-provider test-deps
	$(CARGO) test --release --workspace --no-fail-fast
	INBOUND_TEST_STORAGE=postgres $(CARGO) test --release -p inbound --test e2e --no-fail-fast \
		-- $(POSTGRES_SUITE) $(POSTGRES_SKIP)

# The end-to-end suites (modules of tests/e2e) that run on both engines: all
# but those of redb's own file (backups, migration, file modes, disk space)
# and the tools that open no storage. The postgres suite, which starts its
# own clusters, runs above. A filter `storage::` selects that module's tests.
POSTGRES_SUITE := $(foreach t,storage zendesk_lifecycle sandbox plugin_cache concurrency \
	crash_safety config_errors api operations plugin_api_versions plugin_settings \
	alertmanager_e2e signatures abuse_limits bad_input notifications escalation_clock \
	monitoring links early_refusals refusal_log ui_browser tls client_limits reverse_proxy \
	page_headers people noise throttle two_way reach chat_channels phone_channels candidates,$(t)::)
# Single tests about the redb file (its path, its lock, compaction), or
# that start a second host on the same config expecting a fresh database.
# The kill-during-delivery test waits for a notification its killed host had
# claimed; on a shared database the claim holds for its lease (over a
# minute, docs/high-availability.md), and tests/e2e/postgres.rs covers fire-once.
POSTGRES_SKIP := --skip a_second_host_on_the_same_database_says_another_inbound_holds_it \
	--skip a_storage_path_change_waits_for_a_restart \
	--skip a_storage_path_where_no_database_can_be_created \
	--skip reverting_a_restart_only_setting_before_restarting_warns_no_more \
	--skip retention_deletes_what_expired_in_the_background_and_compact_gives_the_space_back \
	--skip identical_resends_are_counted_on_the_last_entry_unless_turned_off \
	--skip a_plugin_that_is_not_webassembly \
	--skip a_kill_between_commit_and_delivery_sends_after_restart_and_fires_no_level_twice

## What the end-to-end tests run against: Debian's Alertmanager (a real
## sender), promtool (checks /metrics and the alerting rules in contrib/),
## systemd's systemd-analyze (verifies the unit in contrib/systemd),
## headless Chromium with its WebDriver (the console's browser tests),
## Python's aiosmtpd (a real SMTP server; it brings python3), nginx and
## Caddy (the reverse proxy examples of contrib/proxy), Python's icalendar
## (reads the calendar feeds as a calendar app would), and PostgreSQL
## (throwaway clusters for storage.backend = "postgres"). A no-op when they
## are installed. A test that finds one missing fails and names it
## (docs/testing.md: INBOUND_TEST_ALLOW_SKIP).
test-deps:
	@test -x /usr/bin/prometheus-alertmanager || { $(SUDO) apt-get update && $(SUDO) apt-get install -y prometheus-alertmanager; }
	@command -v promtool >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends prometheus; }
	@command -v systemd-analyze >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends systemd; }
	@{ test -x /usr/bin/chromium && test -x /usr/bin/chromedriver; } || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver; }
	@/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-aiosmtpd; }
	@/usr/bin/python3 -c 'import icalendar' 2>/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-icalendar; }
	@{ test -x /usr/sbin/nginx && test -x /usr/bin/caddy; } || { $(SUDO) apt-get update && $(SUDO) apt-get install -y nginx-light caddy; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update && $(SUDO) apt-get install -y postgresql; }

plugins: rust-plugins python-plugins

# The plugins config.toml uses, and those only the tests use.
SERVED_PLUGINS := -p inbound-zendesk -p inbound-alertmanager -p inbound-notify-webhook \
	-p inbound-notify-slack -p inbound-notify-email -p inbound-notify-ntfy -p inbound-notify-teams \
	-p inbound-notify-mattermost -p inbound-notify-discord -p inbound-notify-telegram \
	-p inbound-notify-twilio
TEST_PLUGINS := -p inbound-test-hostile -p inbound-test-wrong-world -p inbound-test-api-v0-1-0 \
	-p inbound-test-api-v0-2-0 -p inbound-test-api-v0-3-0 -p inbound-test-api-v0-4-0 -p inbound-test-future-api -p inbound-test-hostile-notifier \
	-p inbound-test-unregistered -p inbound-test-notifier-v0-1-0

## What `make run` needs: no test plugins, no Python toolchain.
served-plugins: toolchain
	$(CARGO) build --release --target wasm32-wasip2 $(SERVED_PLUGINS)

rust-plugins: toolchain
	$(CARGO) build --release --target wasm32-wasip2 $(SERVED_PLUGINS) $(TEST_PLUGINS)

## Python plugins: built by componentize-py (PyPI), installed into a virtual
## environment under target/ when missing (Debian's python3-venv gives
## `python3 -m venv` its pip). The version is the one `inbound plugin new
## --lang python` writes into a new project's Makefile.
COMPONENTIZE_PY_VERSION := 0.25.1
PY_VENV := target/componentize-py
COMPONENTIZE_PY := $(PY_VENV)/bin/componentize-py
PY_INSTALLED := $(PY_VENV)/installed-$(COMPONENTIZE_PY_VERSION)
WASM_OUT := target/wasm32-wasip2/release

python-plugins: $(WASM_OUT)/inbound_grafana.wasm $(WASM_OUT)/inbound_test_outbound_py.wasm

$(WASM_OUT)/inbound_grafana.wasm: plugins/grafana/app.py plugins/python-sdk/inbound_sdk.py plugins/sdk/wit/plugin.wit $(PY_INSTALLED)
	@mkdir -p $(WASM_OUT)
	$(COMPONENTIZE_PY) -d plugins/sdk/wit -w plugin componentize -p plugins/grafana -p plugins/python-sdk app -o $@

# A test plugin: the SDK's on_change and request helpers.
$(WASM_OUT)/inbound_test_outbound_py.wasm: tests/plugins/outbound-py/app.py plugins/python-sdk/inbound_sdk.py plugins/sdk/wit/plugin.wit $(PY_INSTALLED)
	@mkdir -p $(WASM_OUT)
	$(COMPONENTIZE_PY) -d plugins/sdk/wit -w plugin componentize -p tests/plugins/outbound-py -p plugins/python-sdk app -o $@

$(PY_INSTALLED):
	@/usr/bin/python3 -c 'import ensurepip' 2>/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3-venv; }
	python3 -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install --quiet componentize-py==$(COMPONENTIZE_PY_VERSION)
	@touch $@

## JavaScript plugins: componentize-js (npm), installed under target/ when
## missing, for the test that builds a JavaScript scaffold. The versions are
## the ones `inbound plugin new --lang javascript` pins in a new project's
## package.json. componentize-js imports preview2-shim without declaring it
## (it relies on npm hoisting jco's copy, and jco's 0.26 cannot read the WIT
## folder), so it is installed beside it at the version componentize-js is
## tested with. The whole tree is locked (plugins/js-sdk/toolchain/
## package-lock.json) and installed with `npm ci`, so no dependency drifts.
## Needs node 20 and npm.
COMPONENTIZE_JS_VERSION := 0.23.0
PREVIEW2_SHIM_VERSION := 0.17.9
JS_TOOLS := target/componentize-js
JS_INSTALLED := $(JS_TOOLS)/installed-$(COMPONENTIZE_JS_VERSION)-$(PREVIEW2_SHIM_VERSION)

js-toolchain: $(JS_INSTALLED)

$(JS_INSTALLED): plugins/js-sdk/toolchain/package.json plugins/js-sdk/toolchain/package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y nodejs npm; }
	@mkdir -p $(JS_TOOLS)
	cp plugins/js-sdk/toolchain/package.json plugins/js-sdk/toolchain/package-lock.json $(JS_TOOLS)/
	npm ci --prefix $(JS_TOOLS) --no-audit --no-fund
	@touch $@

## JavaScript test plugins (the SDK's outbound and request helpers), each
## built in a folder laid out as `inbound plugin new --lang javascript`
## writes one: app.js, inbound_sdk.js and wit/ side by side.
COMPONENTIZE_JS := $(JS_TOOLS)/node_modules/.bin/componentize-js
JS_BUILD := target/js-plugins

js-plugins: $(WASM_OUT)/inbound_test_outbound_js.wasm

$(WASM_OUT)/inbound_test_outbound_js.wasm: tests/plugins/outbound-js/app.js plugins/js-sdk/inbound_sdk.js plugins/sdk/wit/plugin.wit $(JS_INSTALLED)
	@mkdir -p $(WASM_OUT) $(JS_BUILD)/outbound-js/wit
	cp tests/plugins/outbound-js/app.js plugins/js-sdk/inbound_sdk.js $(JS_BUILD)/outbound-js/
	cp plugins/sdk/wit/plugin.wit $(JS_BUILD)/outbound-js/wit/
	cd $(JS_BUILD)/outbound-js && $(CURDIR)/$(COMPONENTIZE_JS) app.js --wit wit --world-name plugin \
		--disable http fetch-event --out $(CURDIR)/$@

## The Python and JavaScript SDKs' tests (tests/sdk): their helpers natively
## (Python against the bindings componentize-py generates from the WIT), and
## the test plugins and Grafana as components, transpiled by the locked
## toolchain's jco and run by node with the host API faked. node 20 needs
## the flag for the components' extended constant expressions.
PY_BINDINGS := target/python-sdk-bindings

sdk-test: python-plugins js-plugins
	rm -rf $(PY_BINDINGS)
	$(COMPONENTIZE_PY) -d plugins/sdk/wit -w plugin bindings $(PY_BINDINGS)
	PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$(PY_BINDINGS):plugins/python-sdk \
		$(PY_VENV)/bin/python tests/sdk/python_sdk_test.py
	node --experimental-wasm-extended-const --test tests/sdk/js_sdk.test.mjs tests/sdk/readers.test.mjs \
		tests/sdk/outbound.test.mjs

## The OpenID Connect provider the console's sign-in tests run against:
## panva's oidc-provider (npm), driven by tests/e2e/oidc-provider/provider.mjs,
## which loads it from target/oidc-provider/node_modules. Locked by its
## package-lock.json and installed with `npm ci` when missing or when either
## file changed (the version is the lock's: 8.8.1). Needs node 20 and npm.
OIDC_PROVIDER_DIR := tests/e2e/oidc-provider
OIDC_PROVIDER := target/oidc-provider
OIDC_PROVIDER_INSTALLED := $(OIDC_PROVIDER)/installed

oidc-provider: $(OIDC_PROVIDER_INSTALLED)

$(OIDC_PROVIDER_INSTALLED): $(OIDC_PROVIDER_DIR)/package.json $(OIDC_PROVIDER_DIR)/package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y nodejs npm; }
	@mkdir -p $(OIDC_PROVIDER)
	cp $(OIDC_PROVIDER_DIR)/package.json $(OIDC_PROVIDER_DIR)/package-lock.json $(OIDC_PROVIDER)/
	npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund
	@touch $@

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
