//! End to end: the rate limit per client address (`server.client_rate_limit_*`),
//! the limit on failed token attempts per client (`api.failed_auth_per_minute`)
//! and `server.trusted_proxies`. One client over its limit gets 429 while
//! others are served, its refused requests do not use up the source's
//! budget, and `X-Forwarded-For` counts only from a trusted proxy. A client
//! past its quota of wrong tokens has its tokens refused without being
//! compared, a right one too, until its `Retry-After` has passed.

use crate::support;

use std::time::{Duration, Instant};
use support::{Host, KEY, TOKEN, console_sign_in, ticket, zendesk_config};

/// The limits below refill one request a second, so what a test sends in
/// one round means what it says only if the round took less than that.
const QUICK: Duration = Duration::from_millis(900);

/// Runs `round` on a fresh host from `start` until a round takes less than
/// [`QUICK`]; its host and outcome. A loaded machine, where a round can
/// outlast a refill, gets ten tries; a wrong outcome of a quick round is
/// the test's to find.
fn quick_round<T>(start: impl Fn() -> Host, round: impl Fn(&Host) -> T) -> (Host, T) {
    let mut took = Vec::new();
    while took.len() < 10 {
        let host = start();
        let begun = Instant::now();
        let outcome = round(&host);
        let elapsed = begun.elapsed();
        if elapsed < QUICK {
            return (host, outcome);
        }
        took.push(elapsed);
    }
    panic!("no round took less than {QUICK:?}, the limits' refill: {took:?}");
}

fn webhook_path() -> String {
    format!("/api/v1/events/zendesk/{KEY}")
}

/// A host whose clients may send `burst` webhooks at once (1 per second
/// sustained), with `extra` in `[server]`.
fn host(burst: u32, extra: &str) -> Host {
    Host::start(&zendesk_config("").replace(
        "[server]\n",
        &format!(
            "[server]\nclient_rate_limit_per_second = 1\nclient_rate_limit_burst = {burst}\n{extra}"
        ),
    ))
}

/// Sends ticket `id` as from `forwarded_for` (when set): the status and the
/// error code of the answer.
fn send(host: &Host, id: u64, forwarded_for: Option<&str>) -> (u16, String) {
    let headers: Vec<(&str, &str)> =
        forwarded_for.map(|address| ("x-forwarded-for", address)).into_iter().collect();
    let (status, answer_headers, answer) =
        host.post_with_headers(&webhook_path(), &headers, ticket(id, "Open").to_string());
    if status == 429 {
        let retry: u64 = answer_headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..60).contains(&retry), "{answer_headers:?}");
    }
    (status, format!("{}: {}", answer["error"]["code"], answer["error"]["message"]))
}

#[test]
fn a_client_over_its_limit_gets_429_and_a_forged_forwarded_for_does_not_help() {
    // The host trusts no proxy: a client writing another address into the
    // header (the fourth) is still itself.
    let forged = Some("198.51.100.44");
    let (host, answers) = quick_round(
        || host(2, ""),
        |host| {
            [send(host, 1, None), send(host, 2, None), send(host, 3, None), send(host, 4, forged)]
        },
    );
    let [first, second, third, forged] = answers;
    assert_eq!((first.0, second.0), (202, 202), "{first:?} {second:?}");
    let (status, error) = third;
    assert_eq!(status, 429, "{error}");
    assert!(error.contains("client 127.0.0.1 is over its rate limit"), "{error}");
    let (status, error) = forged;
    assert_eq!(status, 429, "{error}");
    assert_eq!(host.all_incidents().len(), 2, "a refused request stored something");
}

#[test]
fn a_refusal_that_leaves_the_body_unread_says_connection_close() {
    // The host closes such a connection after the answer; a reverse proxy
    // that pooled it would otherwise send the next request into it (a 502).
    let connection = |host: &Host, id: u64| {
        let body = ticket(id, "Open").to_string();
        let (answered, headers, _) = host.post_with_headers(&webhook_path(), &[], body);
        (answered, headers.get("connection").map(|value| value.to_str().unwrap().to_string()))
    };
    let (_, [accepted, refused]) =
        quick_round(|| host(1, ""), |host| [connection(host, 1), connection(host, 2)]);
    assert_eq!(accepted, (202, None), "a read body keeps the connection");
    assert_eq!(refused, (429, Some("close".to_string())));
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let noisy = Some("203.0.113.5");
    // Another client behind the same proxy is served (the fourth); an
    // address the client wrote left of the one the proxy appended is not
    // believed (the fifth).
    let (host, answers) = quick_round(
        || host(2, "trusted_proxies = [\"127.0.0.1\"]\n"),
        |host| {
            [
                send(host, 1, noisy),
                send(host, 2, noisy),
                send(host, 3, noisy),
                send(host, 4, Some("203.0.113.6")),
                send(host, 5, Some("203.0.113.6, 203.0.113.5")),
            ]
        },
    );
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(statuses, [202, 202, 429, 202, 429], "{answers:?}");
    assert!(answers[2].1.contains("client 203.0.113.5"), "{answers:?}");
    // The refusal's log line names the client and the proxy it came through.
    let logged = host.wait_for_log("client=\"203.0.113.5\"", std::time::Duration::from_secs(10));
    assert!(logged, "{}", host.logs());
    assert!(host.logs().contains("via=\"127.0.0.1:"), "{}", host.logs());
}

#[test]
fn requests_refused_per_client_do_not_use_up_the_sources_budget() {
    // The source allows 4 at once; one client 2.
    let start = || {
        Host::start(
            &zendesk_config("rate_limit_per_second = 1\nrate_limit_burst = 4\n").replace(
                "[server]\n",
                "[server]\nclient_rate_limit_per_second = 1\nclient_rate_limit_burst = 2\ntrusted_proxies = [\"127.0.0.0/8\"]\n",
            ),
        )
    };
    let noisy = Some("192.0.2.1");
    let (_, (accepted, flood, others, over)) = quick_round(start, |host| {
        let accepted: Vec<_> = (1..=2).map(|id| send(host, id, noisy)).collect();
        // A flood from the noisy client: all refused per client.
        let flood: Vec<_> = (3..=7).map(|id| send(host, id, noisy)).collect();
        // The source still has 2 of its 4 for everyone else.
        let others = [send(host, 21, Some("192.0.2.2")), send(host, 22, Some("192.0.2.3"))];
        (accepted, flood, others, send(host, 23, Some("192.0.2.4")))
    });
    for (status, error) in accepted.iter().chain(&others) {
        assert_eq!(*status, 202, "{error}");
    }
    for (status, error) in &flood {
        assert!(*status == 429 && error.contains("client 192.0.2.1"), "{status} {error}");
    }
    let (status, error) = over;
    assert_eq!(status, 429, "{error}");
    assert!(error.contains("source \\\"support\\\""), "{error}");
}

/// `GET /api/v1/incidents` with `token`, as from `client` behind the trusted
/// proxy: the status, `Retry-After` and the error code.
fn list_as(host: &Host, token: &str, client: &str) -> (u16, Option<u64>, String) {
    let answer = reqwest::blocking::Client::new()
        .get(host.url("/api/v1/incidents"))
        .bearer_auth(token)
        .header("x-forwarded-for", client)
        .send()
        .unwrap();
    let status = answer.status().as_u16();
    let retry = answer.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    let body: serde_json::Value = answer.json().unwrap_or_default();
    (status, retry, body["error"]["code"].as_str().unwrap_or_default().to_string())
}

/// A host behind a trusted proxy on loopback (so each test client can name
/// its own address) allowing `per_minute` wrong tokens per client.
fn guarded_host(per_minute: u32) -> Host {
    let config = zendesk_config("")
        .replace("[server]\n", "[server]\ntrusted_proxies = [\"127.0.0.1\"]\n")
        .replace(
            "[[api.tokens]]",
            &format!("[api]\nfailed_auth_per_minute = {per_minute}\n\n[[api.tokens]]"),
        );
    Host::start(&config)
}

const WRONG: &str = "not-the-token-0123456789abcdef";

#[test]
fn past_the_quota_a_clients_tokens_are_refused_unchecked_and_other_clients_pass() {
    let host = guarded_host(3);
    let (guesser, colleague) = ("203.0.113.66", "198.51.100.7");
    // Three wrong tokens use up the quota; the next is refused before it
    // is compared.
    for attempt in 1..=3 {
        assert_eq!(list_as(&host, WRONG, guesser).0, 401, "attempt {attempt}");
    }
    let (status, retry, code) = list_as(&host, WRONG, guesser);
    assert_eq!((status, code.as_str()), (429, "too-many-failed-attempts"));
    assert!(retry.is_some_and(|seconds| (1..=60).contains(&seconds)), "{retry:?}");
    // Its tokens are no longer compared: the right one gets the same 429,
    // so the answers tell the guesser nothing, on both doors.
    let (status, retry, code) = list_as(&host, TOKEN, guesser);
    assert_eq!((status, code.as_str()), (429, "too-many-failed-attempts"), "a right token");
    assert!(retry.is_some_and(|seconds| (1..=60).contains(&seconds)), "{retry:?}");
    let refused = console_sign_in(&host, TOKEN, Some(guesser));
    assert_eq!(refused.status().as_u16(), 429, "a right token at the console");
    assert!(refused.headers().contains_key("retry-after"));
    assert!(refused.text().unwrap().contains("Too many failed sign-ins"));
    // Another client is neither blocked nor counted with it.
    assert_eq!(list_as(&host, TOKEN, colleague).0, 200);
    assert_eq!(console_sign_in(&host, TOKEN, Some(colleague)).status().as_u16(), 303);
    assert_eq!(list_as(&host, WRONG, colleague).0, 401);
    // Wrong console sign-ins count on the same quota, and block the API too.
    let console_guesser = "203.0.113.77";
    for _ in 1..=3 {
        assert_eq!(console_sign_in(&host, WRONG, Some(console_guesser)).status().as_u16(), 401);
    }
    assert_eq!(list_as(&host, TOKEN, console_guesser).0, 429);
    // The log is read from a pipe: wait for the last request's line, so every
    // line written before it is there too.
    let last = "code=\"too-many-failed-attempts\" client=\"203.0.113.77\"";
    assert!(host.wait_for_log(last, std::time::Duration::from_secs(10)), "{}", host.logs());
    let logs = host.logs();
    assert_eq!(
        logs.matches("refusing its tokens unchecked for a while").count(),
        2,
        "logged once per blocked client, not per attempt:\n{logs}"
    );
}

#[test]
fn a_blocked_client_with_the_right_token_is_served_once_its_retry_after_has_passed() {
    // 60 a minute: one more attempt each second, so the block is short.
    let host = guarded_host(60);
    let client = "203.0.113.88";
    // The quota refills while the wrong tokens go out: send until blocked.
    let retry = (0..300)
        .map(|_| list_as(&host, WRONG, client))
        .find(|(status, _, _)| *status == 429)
        .and_then(|(_, retry, _)| retry)
        .expect("blocked, with a Retry-After");
    assert!((1..=2).contains(&retry), "one attempt a second: {retry}");
    std::thread::sleep(std::time::Duration::from_millis(retry * 1000 + 500));
    assert_eq!(list_as(&host, TOKEN, client).0, 200, "served after waiting it out");
}
