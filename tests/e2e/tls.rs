//! End to end: `[server.tls]`. The host serves HTTPS with a certificate the
//! test makes, refuses plain HTTP on that port, serves a renewed
//! certificate after a reload without a restart, keeps the old one when the
//! new files are broken, and refuses to start on a key that does not fit.

use crate::support;

use reqwest::blocking::Client;
use std::path::Path;
use std::time::Duration;
use support::{
    Authority, Host, KEY, TOKEN, inbound, serve_expecting_failure, ticket, zendesk_config,
};

fn write_certificate(dir: &Path, (certificate, key): &(String, String)) {
    std::fs::create_dir_all(dir.join("tls")).unwrap();
    std::fs::write(dir.join("tls/cert.pem"), certificate).unwrap();
    std::fs::write(dir.join("tls/key.pem"), key).unwrap();
}

fn tls_config() -> String {
    zendesk_config("").replace(
        "[server]\n",
        "[server.tls]\ncert = \"tls/cert.pem\"\nkey = \"tls/key.pem\"\n\n[server]\n",
    )
}

/// Starts the host on `tls_config()` with the certificate `certificate`.
fn start(certificate: &(String, String)) -> Host {
    let dir = tempfile::tempdir().unwrap();
    write_certificate(dir.path(), certificate);
    std::fs::write(dir.path().join("config.toml"), tls_config()).unwrap();
    Host::start_in(dir)
}

fn webhook(client: &Client, host: &Host, id: u64) -> reqwest::Result<u16> {
    client
        .post(host.url(&format!("/api/v1/events/zendesk/{KEY}")))
        .json(&ticket(id, "Open"))
        .send()
        .map(|response| response.status().as_u16())
}

/// The error of `answer` and every error beneath it, one after another.
fn error_chain(answer: reqwest::Result<u16>) -> String {
    let error = match answer {
        Ok(status) => return format!("no error: answered {status}"),
        Err(error) => error,
    };
    let mut chain = vec![error.to_string()];
    let mut cause = std::error::Error::source(&error);
    while let Some(error) = cause {
        chain.push(error.to_string());
        cause = error.source();
    }
    chain.join(": ")
}

/// Asserts the client refused the server's certificate as not signed by
/// any authority it trusts: not a refused connection, a timeout or a
/// broken handshake.
fn assert_untrusted(answer: reqwest::Result<u16>, what: &str) {
    let chain = error_chain(answer);
    assert!(chain.contains("UnknownIssuer"), "{what}: {chain}");
}

fn reload(client: &Client, host: &Host) -> (u16, serde_json::Value) {
    let response = client.post(host.url("/api/v1/admin/reload")).bearer_auth(TOKEN).send().unwrap();
    (response.status().as_u16(), response.json().unwrap())
}

#[test]
fn https_is_served_and_a_renewed_certificate_is_served_after_a_reload() {
    let (first, renewed) = (Authority::new("first authority"), Authority::new("renewed authority"));
    let host = start(&first.host_certificate());
    assert!(host.url("/").starts_with("https://"), "{}", host.url("/"));

    assert_eq!(webhook(&first.client(), &host, 1).unwrap(), 202);
    // A client that does not trust the certificate gets no answer.
    assert_untrusted(webhook(&renewed.client(), &host, 2), "a client of another authority");
    // Plain HTTP on the HTTPS port gets no HTTP answer.
    let plain = host.url("/healthz").replacen("https://", "http://", 1);
    let answer = Client::new().get(&plain).timeout(Duration::from_secs(10)).send();
    assert!(answer.is_err() || !answer.unwrap().status().is_success());

    // The certificate is renewed (by another authority, so the test can
    // tell which one is served) and the host reloaded.
    write_certificate(host.config_path().parent().unwrap(), &renewed.host_certificate());
    let (status, answer) = reload(&first.client(), &host);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(webhook(&renewed.client(), &host, 3).unwrap(), 202);
    assert_untrusted(webhook(&first.client(), &host, 4), "the old certificate is still served");

    // A broken renewal: the reload fails and the working certificate stays.
    std::fs::write(host.config_path().parent().unwrap().join("tls/key.pem"), "not a key").unwrap();
    let (status, answer) = reload(&renewed.client(), &host);
    assert_eq!(status, 422, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("key.pem"), "{answer}");
    assert_eq!(webhook(&renewed.client(), &host, 5).unwrap(), 202);

    // Everything acknowledged over HTTPS is stored.
    let listed: serde_json::Value = renewed
        .client()
        .get(host.url("/api/v1/incidents?limit=10"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let keys: Vec<&str> = listed["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|incident| incident["key"].as_str())
        .collect();
    assert_eq!(keys, ["5", "3", "1"], "{listed}");
}

#[test]
fn the_cli_reaches_an_https_host_with_its_authority() {
    let authority = Authority::new("cli authority");
    let host = start(&authority.host_certificate());
    assert_eq!(webhook(&authority.client(), &host, 7).unwrap(), 202);
    let ca = host.config_path().parent().unwrap().join("tls/ca.pem");
    std::fs::write(&ca, &authority.pem).unwrap();
    let url = host.url("");
    let args = ["incidents", "list", "--url", &url, "--token", TOKEN];
    // Without the authority the CLI cannot verify the host.
    let (code, _, stderr) = inbound(&args, &[]);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("UnknownIssuer"), "the certificate is not trusted: {stderr}");
    let (code, stdout, stderr) =
        inbound(&[&args[..], &["--ca-cert", ca.to_str().unwrap()]].concat(), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Printer on fire #7"), "{stdout}");
}

#[test]
fn a_key_that_does_not_fit_the_certificate_stops_start_up() {
    let authority = Authority::new("mismatch authority");
    let (certificate, _) = authority.host_certificate();
    let (_, other_key) = authority.host_certificate();
    let dir = tempfile::tempdir().unwrap();
    write_certificate(dir.path(), &(certificate, other_key));
    std::fs::write(dir.path().join("config.toml"), tls_config()).unwrap();
    let config = dir.path().join("config.toml");
    for command in ["check", "serve"] {
        let (code, _, stderr) = inbound(&[command, "--config", config.to_str().unwrap()], &[]);
        assert_ne!(code, 0, "{command}");
        assert!(stderr.contains("does not fit the certificate"), "{command}: {stderr}");
    }
}

/// The value of the certificate-expiry gauge on `/metrics`.
fn expiry_metric(client: &Client, host: &Host) -> Option<f64> {
    let text = client.get(host.url("/metrics")).bearer_auth(TOKEN).send().unwrap().text().unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("inbound_tls_certificate_expiry_timestamp_seconds "))
        .map(|value| value.trim().parse().unwrap())
}

#[test]
fn the_served_certificates_expiry_is_a_metric_and_a_warning_and_check_refuses_an_expired_one() {
    let authority = Authority::new("expiry authority");
    let client = authority.client();
    let (soon, soon_expiry) = authority.host_certificate_expiring_in(5);
    let host = start(&soon);
    assert_eq!(expiry_metric(&client, &host), Some(soon_expiry as f64));
    assert!(host.wait_for_log("expires soon", Duration::from_secs(10)), "{}", host.logs());

    let config = host.config_path();
    let (code, stdout, stderr) = inbound(&["check", "--config", config.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("more days: renew it soon"), "{stdout}");

    // Renewed: the metric follows the reload.
    let (renewed, renewed_expiry) = authority.host_certificate_expiring_in(90);
    write_certificate(config.parent().unwrap(), &renewed);
    assert_eq!(reload(&client, &host).0, 200);
    assert_eq!(expiry_metric(&client, &host), Some(renewed_expiry as f64));

    // An expired certificate: `check` refuses it, naming the key.
    let (expired, _) = authority.host_certificate_expiring_in(-1);
    write_certificate(config.parent().unwrap(), &expired);
    let (code, _, stderr) = inbound(&["check", "--config", config.to_str().unwrap()], &[]);
    assert_ne!(code, 0);
    assert!(stderr.contains("server.tls.cert: the certificate expired"), "{stderr}");

    // One not valid yet (a clock or a renewal gone wrong): refused too.
    let (early, _) = authority.host_certificate_valid(3, 90);
    write_certificate(config.parent().unwrap(), &early);
    let (code, _, stderr) = inbound(&["check", "--config", config.to_str().unwrap()], &[]);
    assert_ne!(code, 0);
    assert!(stderr.contains("the certificate is not valid for another"), "{stderr}");
}

#[test]
fn a_missing_certificate_file_is_a_config_error_with_its_line() {
    let (code, stderr) = serve_expecting_failure(&tls_config());
    assert_ne!(code, 0);
    assert!(stderr.contains("server.tls.cert"), "{stderr}");
    assert!(stderr.contains("cert.pem is not a readable file"), "{stderr}");
}

#[test]
fn a_client_that_never_finishes_its_handshake_is_closed_and_holds_nothing() {
    let authority = Authority::new("slow authority");
    let dir = tempfile::tempdir().unwrap();
    write_certificate(dir.path(), &authority.host_certificate());
    let config = tls_config().replace("[server]\n", "[server]\nheader_read_timeout_ms = 300\n");
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    let host = Host::start_in(dir);
    // Connections that say nothing: no ClientHello ever comes.
    let mut silent: Vec<_> = (0..20).map(|_| host.connect()).collect();
    // Others are served meanwhile.
    assert_eq!(webhook(&authority.client(), &host, 1).unwrap(), 202);
    // Each silent one is closed by the host once the head's deadline passes
    // (the 10 s read timeout of `connect` is the test's own bound).
    for stream in &mut silent {
        let mut byte = [0u8; 1];
        let read = std::io::Read::read(stream, &mut byte);
        // Closed, not merely silent until the test's read timeout.
        let closed = match &read {
            Ok(0) => true,
            Err(error) => error.kind() == std::io::ErrorKind::ConnectionReset,
            Ok(_) => false,
        };
        assert!(closed, "{read:?}");
    }
    assert_eq!(webhook(&authority.client(), &host, 2).unwrap(), 202);
}
