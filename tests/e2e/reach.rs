//! End to end: how a person is reached. Their own notification rules (one
//! contact at once, another minutes later unless someone accepted, durable
//! across a kill -9), SMS replies that act (Twilio's signature checked with
//! the channel's secret), and contact checks. The real binary, the real
//! webhook notifier and the documented Python receiver.
//!
//! `[notifications] time_scale = 60`: a rule's minute lasts a second.

use crate::notifications::{Receiver, SECRET, notifier};
use crate::support;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Host, inbound, poll, storage_section, ticket};

const WAIT: Duration = Duration::from_secs(20);
const PUBLIC_URL: &str = "https://inbound.example";
const AUTH_TOKEN: &str = "twilio-auth-token-0123456789abcdef";
const ADA_NUMBER: &str = "+4712345678";

/// Ada is reached on `push` at once and on `later` after 3 minutes (3 s);
/// `sms` is a channel with a secret, for replies.
fn config(push_url: &str, later_url: &str, sms_url: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
public_url = "{PUBLIC_URL}"

{storage}

[[api.tokens]]
name = "ops"
token = "{token}"
role = "admin"

[notifications]
time_scale = 60

[integrations.zendesk]
plugin = "{zendesk}"

[[sources]]
name = "support"
integration = "zendesk"
escalation_policy = "support-oncall"
key = "{key}"
rate_limit_per_second = 0

[[escalation_policies]]
name = "support-oncall"
  [[escalation_policies.levels]]
  notify = ["person:ada"]

[[channels]]
name = "push"
plugin = "{webhook}"
url = "{push_url}"
signing_secret = "{SECRET}"

[[channels]]
name = "later"
plugin = "{webhook}"
url = "{later_url}"
signing_secret = "{SECRET}"

[[channels]]
name = "sms"
plugin = "{webhook}"
url = "{sms_url}"
signing_secret = "{AUTH_TOKEN}"
replies = true

[[people]]
name = "ada"
contacts = [
  {{ channel = "push", address = "ada" }},
  {{ channel = "later", address = "ada-later" }},
  {{ channel = "sms", address = "{ADA_NUMBER}" }},
]
rules = [
  {{ channel = "push" }},
  {{ channel = "sms" }},
  {{ channel = "later", after_minutes = 3 }},
]
"#,
        storage = storage_section(),
        token = support::TOKEN,
        key = support::KEY,
        zendesk = support::plugin_wasm("zendesk").display(),
        webhook = notifier("notify_webhook"),
    )
}

/// The incident ids the receiver got on `path`, in order.
fn delivered(receiver: &Receiver, path: &str) -> Vec<u64> {
    receiver
        .requests()
        .iter()
        .filter(|request| request["path"] == path)
        .map(|request| {
            let body: Value = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
            body["incident"]["id"].as_u64().unwrap()
        })
        .collect()
}

fn open(host: &Host, ticket_id: u64) -> u64 {
    let (code, answer) = host.zendesk(&ticket(ticket_id, "New"));
    assert_eq!(code, 202, "{answer}");
    answer["incident"]["id"].as_u64().unwrap()
}

/// A later rule is not sent when the incident is accepted before it is
/// due, and is sent when nobody accepts; the log and the outbox say which.
#[test]
fn a_later_rule_waits_and_is_cancelled_by_an_accept() {
    let receiver = Receiver::start(0, 0);
    let host = Host::start(&config(
        &receiver.url("/push"),
        &receiver.url("/later"),
        &receiver.url("/sms"),
    ));
    let taken = open(&host, 1);
    let ignored = open(&host, 2);
    let started = Instant::now();
    assert!(poll(WAIT, || delivered(&receiver, "/push").len() == 2), "{:#?}", receiver.requests());
    assert!(delivered(&receiver, "/later").is_empty(), "the later rule waits");
    let (code, answer) = host.post_json(&format!("/api/v1/incidents/{taken}/accept"), &json!({}));
    assert_eq!(code, 200);
    assert_eq!(answer["incident"]["status"], "accepted", "{answer}");

    assert!(
        poll(WAIT, || delivered(&receiver, "/later") == [ignored]),
        "{:?}\n{}\n{}",
        delivered(&receiver, "/later"),
        host.get(&format!("/api/v1/notifications?incident={taken}")).1,
        host.incident(&json!(taken))
    );
    assert!(started.elapsed() >= Duration::from_secs(3), "after 3 minutes at time_scale 60");
    let cancelled = || {
        let (_, page) =
            host.get(&format!("/api/v1/notifications?incident={taken}&status=cancelled"));
        page["notifications"].as_array().cloned().unwrap_or_default()
    };
    assert!(poll(WAIT, || cancelled().len() == 1), "the accepted one's later step is cancelled");
    assert_eq!(cancelled()[0]["channel"], "later");
    let log = host.incident(&json!(taken))["log"].clone();
    assert!(
        log.as_array().unwrap().iter().any(|e| e["outcome"] == "cancelled"
            && e["detail"].as_str().unwrap().contains("accepted before this rule's 3 minutes")),
        "{log:#}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(delivered(&receiver, "/later"), [ignored], "nothing more");
}

/// A kill -9 while a later step waits: after the restart it fires once,
/// and what was sent before the kill is not sent again.
#[test]
fn a_later_rule_survives_a_kill_and_fires_once() {
    let receiver = Receiver::start(0, 0);
    let host = Host::start(&config(
        &receiver.url("/push"),
        &receiver.url("/later"),
        &receiver.url("/sms"),
    ));
    let id = open(&host, 3);
    let recorded = || {
        let (_, page) = host.get(&format!("/api/v1/notifications?incident={id}&status=sent"));
        page["notifications"].as_array().map_or(0, Vec::len)
    };
    assert!(poll(WAIT, || recorded() == 2), "push and sms sent and recorded");
    host.kill();
    let host = host.restart_after_kill();
    assert!(poll(WAIT, || delivered(&receiver, "/later") == [id]), "{:#?}", receiver.requests());
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(delivered(&receiver, "/push"), [id], "not sent again");
    assert_eq!(delivered(&receiver, "/later"), [id], "once");
    drop(host);
}

/// Twilio's signature over the URL and the sorted form parameters.
fn sign(url: &str, params: &[(&str, &str)], secret: &str) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut text = url.to_string();
    for (name, value) in sorted {
        text.push_str(name);
        text.push_str(value);
    }
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Posts an SMS reply as Twilio would, signed with `secret`.
fn reply(host: &Host, from: &str, body: &str, secret: &str) -> (u16, String) {
    let params = [("From", from), ("To", "+15005550006"), ("Body", body), ("MessageSid", "SM1")];
    let url = format!("{PUBLIC_URL}/api/v1/channels/sms/inbound");
    let signature = sign(&url, &params, secret);
    let response = reqwest::blocking::Client::new()
        .post(host.url("/api/v1/channels/sms/inbound"))
        .header("X-Twilio-Signature", signature)
        .form(&params)
        .send()
        .unwrap();
    (response.status().as_u16(), response.text().unwrap())
}

/// "ACK n" accepts as the person whose number sent it; "1" the newest page
/// they got; a bad signature or an unknown number changes nothing.
#[test]
fn an_sms_reply_accepts_as_the_person_and_nothing_else_does() {
    let receiver = Receiver::start(0, 0);
    let host = Host::start(&config(
        &receiver.url("/push"),
        &receiver.url("/later"),
        &receiver.url("/sms"),
    ));
    let first = open(&host, 4);
    let status = |id: u64| host.incident(&json!(id))["incident"]["status"].clone();

    let (code, _) = reply(&host, ADA_NUMBER, &format!("ACK {first}"), "not-the-token");
    assert_eq!(code, 403, "a bad signature");
    let (code, _) = reply(&host, "+4799999999", &format!("ACK {first}"), AUTH_TOKEN);
    assert_eq!(code, 403, "a number that is nobody's contact");
    assert_eq!(status(first), "pending", "neither changed anything");
    // A webhook channel's secret is shared with its receiver: without
    // `replies = true` a channel takes no replies, however well signed.
    let params = [("From", ADA_NUMBER), ("Body", "ACK 1")];
    let url = format!("{PUBLIC_URL}/api/v1/channels/push/inbound");
    let refused = reqwest::blocking::Client::new()
        .post(host.url("/api/v1/channels/push/inbound"))
        .header("X-Twilio-Signature", sign(&url, &params, SECRET))
        .form(&params)
        .send()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 404, "a channel without replies");
    assert_eq!(status(first), "pending");

    let (code, answer) = reply(&host, ADA_NUMBER, &format!("ack {first}"), AUTH_TOKEN);
    assert_eq!(code, 200, "{answer}");
    assert!(answer.contains("<Message>inbound: #") && answer.contains("accepted"), "{answer}");
    assert_eq!(status(first), "accepted");
    let log = host.incident(&json!(first))["log"].clone();
    assert!(log.to_string().contains("ada via sms reply"), "{log:#}");

    // "1": the newest incident ada was paged for on this channel.
    let second = open(&host, 5);
    assert!(poll(WAIT, || delivered(&receiver, "/sms").contains(&second)));
    // "1" means the newest page the host has recorded as sent, a moment
    // after the provider has it.
    let sms_sent = || {
        let (_, page) = host.get(&format!("/api/v1/notifications?incident={second}&status=sent"));
        page["notifications"]
            .as_array()
            .is_some_and(|sent| sent.iter().any(|n| n["channel"] == "sms"))
    };
    assert!(poll(WAIT, sms_sent), "the page to ada's phone is recorded as sent");
    let (code, answer) = reply(&host, "+47 123 45 678", "1", AUTH_TOKEN);
    assert_eq!(code, 200, "{answer}");
    assert_eq!(status(second), "accepted", "{answer}");
    let (code, answer) = reply(&host, ADA_NUMBER, "hello?", AUTH_TOKEN);
    assert_eq!(code, 200);
    assert!(answer.contains("reply ACK"), "how to reply: {answer}");
}

/// `inbound people test` sends each contact a test message and reports
/// each answer; a contact whose receiver is down fails the command.
#[test]
fn a_contact_check_reports_each_contact() {
    let receiver = Receiver::start(0, 0);
    let down = format!("http://127.0.0.1:{}/sms", support::free_port());
    let host = Host::start(&config(&receiver.url("/push"), &receiver.url("/later"), &down));
    let remote = ["--url", host.base.as_str(), "--token", support::TOKEN];
    let (code, stdout, stderr) =
        inbound(&[&["people", "test", "ada", "--channel", "push"][..], &remote[..]].concat(), &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("push") && stdout.contains("sent"), "{stdout}");
    let test =
        receiver.requests().into_iter().find(|r| r["path"] == "/push").expect("a test message");
    let body: Value = serde_json::from_str(test["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["incident"]["id"], 0);
    assert!(body["incident"]["summary"].as_str().unwrap().contains("Test message"), "{body}");

    let (code, stdout, _) =
        inbound(&[&["people", "test", "ada", "--output", "json"][..], &remote[..]].concat(), &[]);
    assert_eq!(code, 1, "a failed contact fails the command, JSON too: {stdout}");
    let answer: Value = serde_json::from_str(&stdout).unwrap();
    let outcomes: Vec<(&str, &str)> = answer["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["channel"].as_str().unwrap(), c["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(outcomes, [("push", "sent"), ("later", "sent"), ("sms", "failed")]);
    let (code, _, _) = inbound(&[&["people", "test", "ada"][..], &remote[..]].concat(), &[]);
    assert_eq!(code, 1, "a failed contact fails the command");
    let (code, _, stderr) =
        inbound(&[&["people", "test", "nobody"][..], &remote[..]].concat(), &[]);
    assert_ne!(code, 0);
    assert!(stderr.contains("nobody"), "{stderr}");
}
