//! End to end: `inbound check` and `inbound serve` on bad configs, one test
//! per kind of error, each asserting the file, line, key and the fix; and
//! `inbound sources add` on the commented example config.

use crate::support;

use support::{KEY, TOKEN, inbound, plugin_wasm, plugins_config, workspace_root, zendesk_config};

/// Writes `config` into a fresh folder and runs `inbound check` on it.
fn check(config: &str, envs: &[(&str, &str)]) -> (i32, String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, config).unwrap();
    let (code, stdout, stderr) = inbound(&["check", "--config", file.to_str().unwrap()], envs);
    (code, stdout, stderr, dir)
}

/// The 1-based line of the last occurrence of `marker` in `text`.
fn line_of(text: &str, marker: &str) -> usize {
    let at = text.rfind(marker).unwrap_or_else(|| panic!("{marker:?} is not in the config"));
    text[..at].matches('\n').count() + 1
}

/// `check` fails, naming `config.toml:<line of marker>: <key>` and saying `fix`.
fn assert_refused(config: &str, marker: &str, key: &str, fix: &str) {
    assert_refused_with(config, &[], marker, key, fix);
}

fn assert_refused_with(config: &str, envs: &[(&str, &str)], marker: &str, key: &str, fix: &str) {
    let (code, stdout, stderr, _dir) = check(config, envs);
    assert_eq!(code, 1, "check must fail; stdout: {stdout}\nstderr: {stderr}");
    let place = format!("config.toml:{}: {key}", line_of(config, marker));
    assert!(stderr.contains(&place), "expected {place:?} in:\n{stderr}");
    assert!(stderr.contains(fix), "expected the fix {fix:?} in:\n{stderr}");
    assert!(!stdout.contains("ok"), "{stdout}");
}

fn base() -> String {
    zendesk_config("")
}

#[test]
fn a_valid_config_passes_and_prints_each_webhook_url() {
    let config =
        base().replace("[server]\n", "[server]\npublic_url = \"https://inbound.example.com/\"\n");
    let (code, stdout, stderr, _dir) = check(&config, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("ok"), "{stdout}");
    assert!(
        stdout.contains(&format!("source \"support\" (zendesk, escalation policy \"support-oncall\"): https://inbound.example.com/api/v1/events/zendesk/{KEY}")),
        "{stdout}"
    );
}

#[test]
fn syntax_error() {
    let config = base().replace("[storage]", "[storage");
    let (code, _, stderr, _dir) = check(&config, &[]);
    assert_eq!(code, 1);
    let place = format!("config.toml:{}:", line_of(&config, "[storage"));
    assert!(stderr.contains(&place) && stderr.contains("not valid TOML"), "{stderr}");
}

#[test]
fn unknown_key_is_a_typo() {
    let config = base().replace("listen = ", "lisen = ");
    assert_refused(&config, "lisen", "server.lisen", "unknown field `lisen`");
    assert_refused(&config, "lisen", "server.lisen", "check the spelling");
}

#[test]
fn unknown_key_inside_a_source() {
    let config = base()
        .replace(&format!("key = \"{KEY}\""), &format!("key = \"{KEY}\"\nescalation = \"x\""));
    assert_refused(&config, "escalation = ", "sources[0].escalation", "check the spelling");
}

#[test]
fn value_of_the_wrong_type() {
    let config = base().replace("[server]\n", "[server]\nbody_limit_bytes = \"big\"\n");
    assert_refused(&config, "body_limit_bytes", "server.body_limit_bytes", "fix the value");
}

#[test]
fn listen_is_not_an_address() {
    let config = base().replace("\"127.0.0.1:0\"", "\"localhost\"");
    assert_refused(&config, "listen", "server.listen", "write e.g. \"127.0.0.1:8080\"");
}

#[test]
fn zero_where_a_positive_number_is_needed() {
    let config = base().replace("[server]\n", "[server]\nrequest_timeout_ms = 0\n");
    assert_refused(
        &config,
        "request_timeout_ms",
        "server.request_timeout_ms",
        "must be greater than 0",
    );
}

#[test]
fn unknown_integration() {
    let config = base().replace("integration = \"zendesk\"", "integration = \"pagerduty\"");
    assert_refused(
        &config,
        "integration = ",
        "sources[0].integration (source \"support\")",
        "declare it under [integrations.pagerduty]",
    );
}

#[test]
fn missing_plugin_file() {
    let wasm = plugin_wasm("zendesk").display().to_string();
    let config = base().replace(&wasm, "plugins/missing.wasm");
    assert_refused(
        &config,
        "plugin = ",
        "integrations.zendesk.plugin",
        "build it (make plugins) or fix the path",
    );
}

#[test]
fn unknown_escalation_policy() {
    let config =
        base().replace("escalation_policy = \"support-oncall\"", "escalation_policy = \"nobody\"");
    assert_refused(
        &config,
        "escalation_policy = ",
        "sources[0].escalation_policy",
        "declare it in [[escalation_policies]] or use one of: support-oncall",
    );
}

#[test]
fn duplicate_escalation_policy() {
    let config = zendesk_config("\n[[escalation_policies]]\nname = \"support-oncall\"\n");
    assert_refused(
        &config,
        "name = \"support-oncall\"",
        "escalation_policies[1].name",
        "declared twice",
    );
}

#[test]
fn escalation_level_that_notifies_nobody() {
    let config =
        zendesk_config("\n[[escalation_policies.levels]]\ndelay_minutes = 5\nnotify = []\n")
            .replace("levels = []\n", "");
    assert_refused(
        &config,
        "notify = []",
        "escalation_policies[0].levels[0].notify",
        "must notify someone",
    );
}

fn second_source(name: &str, key: &str) -> String {
    format!(
        "\n[[sources]]\nname = \"{name}\"\nintegration = \"zendesk\"\nescalation_policy = \"support-oncall\"\nkey = \"{key}\"\n"
    )
}

#[test]
fn duplicate_source_name() {
    let config = zendesk_config(&second_source("support", "another-key-0123456789abcdef"));
    assert_refused(
        &config,
        "name = \"support\"",
        "sources[1].name (source \"support\")",
        "names must be unique",
    );
}

#[test]
fn duplicate_source_key() {
    let config = zendesk_config(&second_source("billing", KEY));
    assert_refused(
        &config,
        &format!("key = \"{KEY}\""),
        "sources[1].key (source \"billing\")",
        "keys must be unique",
    );
}

#[test]
fn key_too_short_to_be_secret() {
    let config = base().replace(KEY, "short-key");
    assert_refused(&config, "key = ", "sources[0].key", "at least 22 characters");
    assert_refused(&config, "key = ", "sources[0].key", "openssl rand -hex 16");
}

#[test]
fn key_missing() {
    let config = base().replace(&format!("key = \"{KEY}\"\n"), "");
    assert_refused(
        &config,
        "[[sources]]",
        "sources[0].key",
        "set key = \"...\" or key_env = \"VARIABLE\"",
    );
}

#[test]
fn key_and_key_env_both_set() {
    let config = base().replace(
        &format!("key = \"{KEY}\""),
        &format!("key = \"{KEY}\"\nkey_env = \"SUPPORT_KEY\""),
    );
    assert_refused(&config, "key_env", "sources[0].key_env", "keep only one of them");
}

#[test]
fn key_env_names_an_unset_variable() {
    let config =
        base().replace(&format!("key = \"{KEY}\""), "key_env = \"INBOUND_TEST_UNSET_KEY\"");
    assert_refused(&config, "key_env", "sources[0].key_env", "INBOUND_TEST_UNSET_KEY is not set");
}

#[test]
fn key_from_the_environment_is_used_and_checked() {
    let config = base().replace(&format!("key = \"{KEY}\""), "key_env = \"INBOUND_TEST_KEY\"");
    let (code, stdout, stderr, _dir) =
        check(&config, &[("INBOUND_TEST_KEY", "from-env-0123456789abcdefghij")]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("/api/v1/events/zendesk/from-env-0123456789abcdefghij"), "{stdout}");
    assert_refused_with(
        &config,
        &[("INBOUND_TEST_KEY", "short")],
        "key_env",
        "sources[0].key_env",
        "at least 22 characters",
    );
}

#[test]
fn signing_secret_env_unset() {
    let config = zendesk_config("signing_secret_env = \"INBOUND_TEST_UNSET_SECRET\"\n");
    assert_refused(&config, "signing_secret_env", "sources[0].signing_secret_env", "is not set");
}

#[test]
fn api_token_too_short() {
    let config = base().replace(TOKEN, "secret");
    assert_refused(
        &config,
        "token = ",
        "api.tokens[0].token (token \"ops\")",
        "at least 22 characters",
    );
}

#[test]
fn api_token_missing() {
    let config = base().replace(&format!("token = \"{TOKEN}\"\n"), "");
    assert_refused(
        &config,
        "[[api.tokens]]",
        "api.tokens[0].token",
        "set token = \"...\" or token_env",
    );
}

#[test]
fn serve_refuses_a_bad_config_and_never_listens() {
    let config = base().replace("integration = \"zendesk\"", "integration = \"pagerduty\"");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, &config).unwrap();
    let (code, _, stderr) = inbound(&["serve", "--config", file.to_str().unwrap()], &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("sources[0].integration"), "{stderr}");
    assert!(!stderr.contains("listening"), "{stderr}");
    assert!(!dir.path().join("data").exists(), "nothing may be created before the config is valid");
}

/// The example config.toml of the repository, with its plugin paths made absolute.
fn example_config() -> String {
    let text = std::fs::read_to_string(workspace_root().join("config.toml")).unwrap();
    ["zendesk", "alertmanager", "notify_webhook", "notify_slack", "notify_email"].iter().fold(
        text,
        |text, plugin| {
            text.replace(
                &format!("\"target/wasm32-wasip2/release/inbound_{plugin}.wasm\""),
                &format!("{:?}", plugin_wasm(plugin).display().to_string()),
            )
        },
    )
}

#[test]
fn sources_add_appends_to_a_commented_config_and_prints_the_webhook_url() {
    let original = example_config();
    assert!(original.contains("# "), "the example must have comments");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, &original).unwrap();
    let path = file.to_str().unwrap();
    let args = [
        "sources",
        "add",
        "--name",
        "billing",
        "--integration",
        "zendesk",
        "--escalation-policy",
        "support-oncall",
        "--config",
        path,
    ];
    let (code, stdout, stderr) = inbound(&args, &[]);
    assert_eq!(code, 0, "{stderr}");
    let url = stdout
        .lines()
        .find_map(|line| line.strip_prefix("webhook URL: "))
        .expect("a webhook URL line");
    let key = url.strip_prefix("http://127.0.0.1:8080/api/v1/events/zendesk/").expect(url);
    assert_eq!(key.len(), 32, "{key}");
    assert!(key.chars().all(|c| c.is_ascii_hexdigit()), "{key}");

    let changed = std::fs::read_to_string(&file).unwrap();
    assert!(
        changed.starts_with(&original),
        "every existing line and comment stays as it was:\n{changed}"
    );
    assert!(changed.ends_with(&format!("[[sources]]\nname = \"billing\"\nintegration = \"zendesk\"\nescalation_policy = \"support-oncall\"\nkey = \"{key}\"\n")), "{changed}");

    let (code, stdout, stderr) = inbound(&["sources", "list", "--config", path], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("source \"support\""), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "source \"billing\" (zendesk, escalation policy \"support-oncall\"): {url}"
        )),
        "{stdout}"
    );

    // A second add with the same name is refused and leaves the file alone.
    let (code, _, stderr) = inbound(&args, &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("names must be unique"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), changed);
}

#[test]
fn sources_add_refuses_an_unknown_integration_without_changing_the_file() {
    let original = example_config();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, &original).unwrap();
    let args = [
        "sources",
        "add",
        "--name",
        "pager",
        "--integration",
        "pagerduty",
        "--escalation-policy",
        "support-oncall",
        "--config",
        file.to_str().unwrap(),
    ];
    let (code, stdout, stderr) = inbound(&args, &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stderr.contains("unknown integration \"pagerduty\""), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["check", "--help"],
        vec!["reload", "--help"],
        vec!["sources", "add", "--help"],
        vec!["sources", "list", "--help"],
        vec!["incidents", "list", "--help"],
        vec!["incidents", "show", "--help"],
        vec!["incidents", "accept", "--help"],
        vec!["incidents", "resolve", "--help"],
    ] {
        let (code, stdout, _) = inbound(&args, &[]);
        assert_eq!(code, 0, "{args:?}");
        assert!(stdout.contains("Usage:"), "{args:?}: {stdout}");
    }
}

#[test]
#[cfg(unix)]
fn printing_into_a_closed_pipe_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(&file, base()).unwrap();
    for command in [["check", "--config"], ["sources", "list"]] {
        // `inbound check | head -0`: the reader is gone before anything is written.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut args: Vec<&str> = command.to_vec();
        if command[0] == "sources" {
            args.push("--config");
        }
        args.push(file.to_str().unwrap());
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_inbound"))
            .args(&args)
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        // Ended by SIGPIPE like `cat` would be, or cleanly.
        let status = output.status;
        assert!(status.success() || status.signal() == Some(13), "{args:?}: {status}: {stderr}");
    }
}

// --- What only loading the plugins shows (`inbound check` runs them) -------

#[test]
fn a_plugin_that_is_not_webassembly() {
    // Any file that exists but is not WebAssembly: the inbound binary itself.
    let config = base().replace(
        &format!("plugin = \"{}\"", plugin_wasm("zendesk").display()),
        &format!("plugin = \"{}\"", env!("CARGO_BIN_EXE_inbound")),
    );
    assert_refused(&config, "plugin = ", "integrations.zendesk.plugin", "is not WebAssembly");
    // serve says the same in a line or two, not a hex dump.
    let (code, stderr) = support::serve_expecting_failure(&config);
    assert_ne!(code, 0);
    assert!(stderr.contains("the file is not WebAssembly"), "{stderr}");
    assert!(stderr.lines().count() <= 3, "{stderr}");
}

#[test]
fn a_plugin_that_is_a_core_module() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("core.wasm");
    // The smallest valid core module: magic and version 1, no sections.
    std::fs::write(&module, b"\0asm\x01\0\0\0").unwrap();
    let config = base().replace(
        &format!("plugin = \"{}\"", plugin_wasm("zendesk").display()),
        &format!("plugin = \"{}\"", module.display()),
    );
    assert_refused(
        &config,
        "plugin = ",
        "integrations.zendesk.plugin",
        "a core WebAssembly module, not a component: build with `--target wasm32-wasip2`",
    );
}

#[test]
fn a_plugin_of_the_wrong_world() {
    let config = base().replace(
        &format!("plugin = \"{}\"", plugin_wasm("zendesk").display()),
        &format!("plugin = \"{}\"", plugin_wasm("test_wrong_world").display()),
    );
    assert_refused(
        &config,
        "plugin = ",
        "integrations.zendesk.plugin",
        "does not fit the inbound:plugin world",
    );
}

#[test]
fn settings_the_plugin_refuses() {
    // Zendesk (API 0.3.0) lists its settings: the host names the unknown key
    // and the ones the plugin takes.
    let config = base() + "\n[sources.settings]\nonhold = \"pending\"\n";
    assert_refused(
        &config,
        "onhold",
        "sources[0].settings.onhold (source \"support\")",
        "the zendesk plugin refuses these settings: onhold: no such setting; this plugin takes status_aliases, on_hold",
    );
    // A value of the wrong kind, judged by the host.
    let config = base() + "\n[sources.settings]\non_hold = 1\n";
    assert_refused(
        &config,
        "on_hold",
        "sources[0].settings.on_hold",
        "must be a string, not a whole number",
    );
    // A value the plugin's own `validate-settings` refuses.
    let config = base() + "\n[sources.settings]\non_hold = \"later\"\n";
    assert_refused(
        &config,
        "on_hold",
        "sources[0].settings.on_hold",
        "expected \"open\" (the default) or \"pending\"",
    );
    // Settings the plugin takes pass.
    let config = base() + "\n[sources.settings]\non_hold = \"pending\"\n";
    let (code, stdout, stderr, _dir) = check(&config, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("integration \"zendesk\": "), "{stdout}");
}

#[test]
fn settings_an_older_plugin_refuses_are_found_by_probing_it() {
    // A 0.2.0 plugin cannot say what it takes: `check` sends it one empty
    // request with the settings, and its `invalid-settings` answer fails the check.
    let config = plugins_config(&[("old", "test_api_v0_2_0", "old-plugin-key-0123456789abcdef")])
        + "\n[sources.settings]\ncolour = \"blue\"\n";
    assert_refused(
        &config,
        "colour",
        "sources[0].settings.colour (source \"old\")",
        "every webhook would get 400 invalid-settings: unknown setting \"colour\"",
    );
}

#[test]
fn a_storage_path_where_no_database_can_be_created() {
    // The database's folder would have to be inside a regular file: refused
    // even for root, unlike a folder without write permission.
    let config =
        base().replace("path = \"data/inbound.redb\"", "path = \"config.toml/data/inbound.redb\"");
    assert_refused(&config, "path = \"config.toml", "storage.path", "is not a folder");
}

#[test]
fn an_integration_limit_of_zero() {
    let wasm = format!("plugin = \"{}\"\n", plugin_wasm("zendesk").display());
    let config = base().replace(&wasm, &format!("{wasm}memory_limit_mib = 0\n"));
    assert_refused(
        &config,
        "memory_limit_mib = 0",
        "integrations.zendesk.memory_limit_mib",
        "must be greater than 0",
    );
}

// --- Secrets that are no secret, and channels and policies that cannot page --

/// The example config with `listen` on every address: each example secret
/// (the two source keys, the API token, the link secret) is refused in turn
/// by `check` and by `serve`, which never listens; replaced, it starts.
#[test]
fn the_example_secrets_are_refused_where_other_machines_can_reach_the_host() {
    let mut config = example_config().replace("127.0.0.1:8080\"\n# The", "0.0.0.0:8080\"\n# The");
    assert!(config.contains("listen = \"0.0.0.0:8080\""), "{config}");
    let examples = [
        (
            "key = \"example-key-change-me-0123456789\"",
            "sources[0].key (source \"support\")",
            "post events as this source",
            "openssl rand -hex 16",
        ),
        (
            "key = \"example-alertmanager-key-change-me\"",
            "sources[1].key (source \"prometheus\")",
            "post events as this source",
            "openssl rand -hex 16",
        ),
        (
            "token = \"example-token-change-me-0123456789\"",
            "api.tokens[0].token (token \"admin\")",
            "read and change incidents through the API, read /metrics and reload the host",
            "openssl rand -hex 16",
        ),
        (
            "link_secret = \"example-link-secret-change-me-0123456789\"",
            "notifications.link_secret",
            "sign accept and resolve links for any incident",
            "openssl rand -hex 32",
        ),
    ];
    for (index, (line, key, grants, generate)) in examples.into_iter().enumerate() {
        let why = format!(
            "the host is reachable from other machines (server.listen is 0.0.0.0:8080, not a loopback address): anyone who read them could {grants}; generate your own with `{generate}`"
        );
        assert_refused(&config, line, key, &why);
        let (code, stderr) = support::serve_expecting_failure(&config);
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains(&format!("{key}: this is the example value")), "{stderr}");
        assert!(!stderr.contains("listening"), "{stderr}");
        let (field, _) = line.split_once(" = ").unwrap();
        config =
            config.replace(line, &format!("{field} = \"f3a9c2e8d1b7{index}a6c5e4d3b2a1f0e9d8c7\""));
    }
    let (code, stdout, stderr, _dir) = check(&config, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stderr.contains("example"), "{stderr}");
}

/// On a loopback address (`make run`) the examples work, with a warning
/// for each from `check` and in the log at start-up.
#[test]
fn the_example_secrets_are_only_warned_about_on_loopback() {
    let (code, stdout, stderr, _dir) = check(&example_config(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let host = support::Host::start(
        &example_config().replace("127.0.0.1:8080\"\n# The", "127.0.0.1:0\"\n# The"),
    );
    let logs = host.logs();
    for key in [
        "sources[0].key (source \"support\")",
        "sources[1].key (source \"prometheus\")",
        "api.tokens[0].token (token \"admin\")",
        "notifications.link_secret",
    ] {
        let warning = format!("{key} is the example value from config.toml and the docs");
        assert!(stderr.contains(&format!("warning: {warning}")), "{warning:?} not in:\n{stderr}");
        assert!(logs.contains(&warning), "{warning:?} not in the log:\n{logs}");
    }
}

#[test]
fn api_token_that_is_one_character_repeated() {
    let config = base().replace(TOKEN, "aaaaaaaaaaaaaaaaaaaaaa");
    assert_refused(
        &config,
        "token = ",
        "api.tokens[0].token (token \"ops\")",
        "the token is one character repeated, so it is easy to guess; generate a random one with `openssl rand -hex 16`",
    );
}

fn webhook_channel(extra: &str) -> String {
    format!(
        "\n[[channels]]\nname = \"hook\"\nplugin = \"{}\"\n{extra}\n",
        plugin_wasm("notify_webhook").display()
    )
}

/// A channel URL is said with its scheme, host and port only: its user
/// name, password, path and query (a Slack webhook's path is its secret)
/// appear nowhere, from `url` or `url_env`, nor does a URL that does not
/// parse.
#[test]
fn a_channel_url_is_never_echoed_in_an_error() {
    let secret = "https://hook-user:s3cret-pass@hooks.example.com/services/T0/B0/XyZ?token=abc";
    let not_a_url = "s3cret-pass/services/T0/B0/XyZ?token=abc";
    let cases = [
        (
            format!("url = \"{secret}\""),
            &[][..],
            "url = ",
            "channels[0].url (channel \"hook\")",
            "https://hooks.example.com:443 (the rest not shown) has credentials in it",
        ),
        (
            "url_env = \"INBOUND_TEST_HOOK_URL\"".to_string(),
            &[("INBOUND_TEST_HOOK_URL", secret)][..],
            "url_env = ",
            "channels[0].url_env (channel \"hook\")",
            "https://hooks.example.com:443 (the rest not shown) has credentials in it",
        ),
        (
            format!("url = \"{not_a_url}\""),
            &[][..],
            "url = ",
            "channels[0].url (channel \"hook\")",
            "the value is not a URL (relative URL without a base; not shown, as it may hold a secret)",
        ),
        (
            "url = \"ftp://u:s3cret-pass@hooks.example.com/services/XyZ?token=abc\"".to_string(),
            &[][..],
            "url = ",
            "channels[0].url (channel \"hook\")",
            "ftp://hooks.example.com:21 is not an http:// or https:// URL",
        ),
    ];
    for (url, envs, marker, key, message) in cases {
        let config = base()
            + &webhook_channel(&format!(
                "{url}\nsigning_secret = \"webhook-secret-0123456789abcdef\""
            ));
        assert_refused_with(&config, envs, marker, key, message);
        let (_, stdout, stderr, _dir) = check(&config, envs);
        for part in ["s3cret-pass", "hook-user", "/services", "XyZ", "token=abc"] {
            assert!(!stderr.contains(part) && !stdout.contains(part), "{part} shown:\n{stderr}");
        }
    }
}

/// The webhook notifier signs every request, so it refuses to render
/// without a signing secret: `check` asks it once, and says so, instead of
/// every notification failing later.
#[test]
fn a_webhook_channel_without_a_signing_secret() {
    let config = base() + &webhook_channel("url = \"http://127.0.0.1:9/hook\"");
    assert_refused(
        &config,
        "name = \"hook\"",
        "channels[0].signing_secret (channel \"hook\")",
        "its notifier refuses to send without one (the webhook channel \"hook\" needs a signing secret",
    );
    let signed = base()
        + &webhook_channel(
            "url = \"http://127.0.0.1:9/hook\"\nsigning_secret = \"webhook-secret-0123456789abcdef\"",
        );
    let (code, stdout, stderr, _dir) = check(&signed, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// A policy without levels notifies nobody: refused unless written as
/// `levels = []`, which passes with a warning.
#[test]
fn a_policy_without_levels_must_say_so() {
    let config = base().replace("levels = []\n", "");
    assert_refused(
        &config,
        "name = \"support-oncall\"",
        "escalation_policies[0].levels (policy \"support-oncall\")",
        "write levels = [] to page nobody on purpose",
    );
    let (code, stdout, stderr, _dir) = check(&base(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains(
            "warning: escalation policy \"support-oncall\" has levels = []: its incidents notify nobody"
        ),
        "{stderr}"
    );
}

#[test]
fn a_repeat_without_a_pause() {
    let config = base().replace(
        "levels = []\n",
        "repeat = 1\nrepeat_after_minutes = 0\n\n  [[escalation_policies.levels]]\n  notify = [\"channel:hook\"]\n",
    ) + &webhook_channel(
        "url = \"http://127.0.0.1:9/hook\"\nsigning_secret = \"webhook-secret-0123456789abcdef\"",
    );
    assert_refused(
        &config,
        "repeat_after_minutes",
        "escalation_policies[0].repeat_after_minutes (policy \"support-oncall\")",
        "must be at least 1 while repeat is set",
    );
}
