//! End to end: the limits that keep one sender from exhausting the host —
//! per-source rate limit (429), global webhook concurrency (503), slow
//! request heads and bodies — each answered quickly with nothing stored.

use crate::support;

use std::io::Write;
use std::time::{Duration, Instant};
use support::{
    Host, KEY, TOKEN, poll, read_raw_answer, serve_expecting_failure, ticket, zendesk_config,
};

const OTHER_KEY: &str = "other-key-0123456789abcdefghijkl";

fn webhook_path(key: &str) -> String {
    format!("/api/v1/events/zendesk/{key}")
}

/// The head of a webhook POST announcing `length` body bytes.
fn head(length: usize) -> String {
    format!(
        "POST {} HTTP/1.1\r\nhost: inbound\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n",
        webhook_path(KEY)
    )
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> u64 {
    headers["retry-after"].to_str().unwrap().parse().unwrap()
}

#[test]
fn a_source_over_its_rate_limit_gets_429_with_a_short_retry_after() {
    let host = Host::start(&zendesk_config(&format!(
        r#"rate_limit_per_second = 1
rate_limit_burst = 2

[[sources]]
name = "other"
integration = "zendesk"
escalation_policy = "support-oncall"
key = "{OTHER_KEY}"
"#
    )));
    for id in 1..=2 {
        assert_eq!(host.zendesk(&ticket(id, "Open")).0, 202);
    }
    let before = host.snapshot();
    let body = ticket(3, "Open").to_string();
    let (status, headers, answer) =
        host.post_full(&webhook_path(KEY), "application/json", body.clone());
    assert_eq!((status, answer["error"]["code"].as_str()), (429, Some("rate-limited")), "{answer}");
    // Zendesk retries only when Retry-After is under 60 seconds.
    assert!((1..60).contains(&retry_after(&headers)), "{headers:?}");
    assert_eq!(host.snapshot(), before, "a rate-limited request changed something");
    // The limit is per source: another source of the same integration is served.
    let (status, _, answer) = host.post_full(&webhook_path(OTHER_KEY), "application/json", body);
    assert_eq!(status, 202, "{answer}");
}

#[test]
fn webhooks_over_the_concurrency_limit_get_503_instead_of_waiting() {
    // Deadlines far beyond the test: on a loaded machine the slow webhook
    // must not lose its place to the body or request deadline.
    let host = Host::start(&zendesk_config("").replace(
        "[server]\n",
        "[server]\nmax_concurrent_webhooks = 1\nbody_read_timeout_ms = 60000\nrequest_timeout_ms = 60000\n",
    ));
    // One webhook holds the only place: its body is announced, not sent.
    let body = ticket(1, "Open").to_string();
    let mut slow = host.connect();
    slow.write_all(head(body.len()).as_bytes()).unwrap();
    slow.write_all(&body.as_bytes()[..10]).unwrap();
    // Wait until it holds the place, watching the gauge rather than sending
    // webhooks: a probing webhook would itself take the place for a moment,
    // and the slow one, arriving then, would be the one refused.
    let holds_the_place = poll(Duration::from_secs(30), || {
        let (status, metrics) = host.get_text("/metrics", Some(TOKEN));
        status == 200 && metrics.lines().any(|line| line == "inbound_webhooks_in_flight 1")
    });
    assert!(holds_the_place, "the slow webhook was not admitted");
    // Exactly one more webhook, so nothing races: it must be refused at once.
    let started = Instant::now();
    let (status, headers, answer) =
        host.post_full(&webhook_path(KEY), "application/json", ticket(2, "Open").to_string());
    assert_eq!((status, answer["error"]["code"].as_str()), (503, Some("overloaded")), "{answer}");
    assert!((1..60).contains(&retry_after(&headers)), "{headers:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "it waited {:?}", started.elapsed());
    // The slow webhook completes normally, and its place is given back.
    slow.write_all(&body.as_bytes()[10..]).unwrap();
    let (status, answer) = read_raw_answer(&mut slow).expect("an answer to the slow webhook");
    assert_eq!(status, 202, "{answer}");
    assert_eq!(host.zendesk(&ticket(2, "Open")).0, 202);
    let (_, metrics) = host.get_text("/metrics", Some(TOKEN));
    assert!(metrics.contains("inbound_webhooks_in_flight 0"), "{metrics}");
}

#[test]
fn a_body_that_does_not_arrive_in_time_gets_408_and_stores_nothing() {
    let host = Host::start(
        &zendesk_config("").replace("[server]\n", "[server]\nbody_read_timeout_ms = 300\n"),
    );
    let mut slow = host.connect();
    let started = Instant::now();
    slow.write_all(head(100).as_bytes()).unwrap();
    slow.write_all(b"{\"id\": \"1\"").unwrap();
    let (status, answer) = read_raw_answer(&mut slow).expect("an answer");
    assert_eq!(status, 408, "{answer}");
    assert!(answer.contains("body-timeout"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(host.all_incidents().is_empty());
}

#[test]
fn a_request_head_that_does_not_arrive_in_time_closes_the_connection() {
    let host = Host::start(
        &zendesk_config("").replace("[server]\n", "[server]\nheader_read_timeout_ms = 300\n"),
    );
    let mut slow = host.connect();
    let started = Instant::now();
    slow.write_all(format!("POST {} HTTP/1.1\r\nhost: inbound\r\n", webhook_path(KEY)).as_bytes())
        .unwrap();
    // hyper closes the connection, answering 408 or nothing at all.
    let answer = read_raw_answer(&mut slow);
    assert!(matches!(answer, None | Some((408, _))), "{answer:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the connection stayed open {:?}",
        started.elapsed()
    );
    assert_eq!(host.zendesk(&ticket(1, "Open")).0, 202, "the host keeps serving others");
}

#[test]
fn limits_are_validated_at_start_up() {
    let cases = [
        ("[server]\nheader_limit_bytes = 1024", "server.header_limit_bytes: must be at least 8192"),
        (
            "[server]\nbody_read_timeout_ms = 0",
            "server.body_read_timeout_ms: must be greater than 0",
        ),
        (
            "[server]\nmax_concurrent_webhooks = 0",
            "server.max_concurrent_webhooks: must be greater than 0",
        ),
    ];
    for (server, expected) in cases {
        let config = zendesk_config("").replace("[server]", server);
        let (code, stderr) = serve_expecting_failure(&config);
        assert_ne!(code, 0);
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    let (code, stderr) = serve_expecting_failure(&zendesk_config("signature_window_seconds = 0"));
    assert_ne!(code, 0);
    assert!(
        stderr.contains("signature_window_seconds (source \"support\"): must be greater than 0"),
        "{stderr}"
    );
}
