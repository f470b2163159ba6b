//! End to end: a request refused before its body is read still gets its
//! answer. Clients such as Python's urllib send the whole body before they
//! read anything; a server that answers early and closes at once resets the
//! connection under them, and they report a broken pipe instead of the 413.

use crate::support;

use std::io::Write;
use std::time::{Duration, Instant};
use support::{Host, KEY, read_raw_answer, zendesk_config};

/// Three times the default body limit (1 MiB), as in the report.
const TOO_LARGE: usize = 3 << 20;

fn webhook_head(length: usize, extra: &str) -> String {
    format!(
        "POST /api/v1/events/zendesk/{KEY} HTTP/1.1\r\nhost: inbound\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n{extra}\r\n"
    )
}

#[test]
fn a_client_that_sends_its_whole_body_first_reads_the_413() {
    let host = Host::start(&zendesk_config(""));
    for round in 0..3 {
        let mut stream = host.connect();
        stream.write_all(webhook_head(TOO_LARGE, "").as_bytes()).unwrap();
        // What urllib does: sendall(body), then read the answer.
        let sent = stream.write_all(&vec![b' '; TOO_LARGE]);
        assert!(sent.is_ok(), "round {round}: sending the body failed: {sent:?}");
        let answer = read_raw_answer(&mut stream);
        let (status, body) = answer.unwrap_or_else(|| panic!("round {round}: no answer"));
        assert_eq!(status, 413, "round {round}: {body}");
        assert!(body.contains("body-too-large"), "round {round}: {body}");
    }
}

#[test]
fn expect_100_continue_is_answered_with_the_413_before_the_body() {
    let host = Host::start(&zendesk_config(""));
    let mut stream = host.connect();
    let started = Instant::now();
    stream.write_all(webhook_head(TOO_LARGE, "expect: 100-continue\r\n").as_bytes()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (status, body) = read_raw_answer(&mut stream).expect("an answer without sending the body");
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("body-too-large"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[test]
fn python_urllib_reads_the_413() {
    let script = r#"
import sys, urllib.request, urllib.error
request = urllib.request.Request(sys.argv[1], data=b" " * (3 << 20), headers={"content-type": "application/json"})
try:
    urllib.request.urlopen(request, timeout=20)
    print("accepted")
except urllib.error.HTTPError as error:
    print(error.code, error.read().decode())
except Exception as error:
    print("failed:", repr(error))
"#;
    let host = Host::start(&zendesk_config(""));
    let url = host.url(&format!("/api/v1/events/zendesk/{KEY}"));
    for round in 0..3 {
        let output = match std::process::Command::new("python3").args(["-c", script, &url]).output()
        {
            Ok(output) => output,
            Err(error) => {
                support::cannot_check(
                    "python3",
                    &format!("python3 cannot be run here ({error})"),
                    "install Debian's python3 (`make test-deps` does)",
                );
                return;
            }
        };
        let printed = String::from_utf8_lossy(&output.stdout);
        assert!(
            printed.starts_with("413 ") && printed.contains("body-too-large"),
            "round {round}: urllib got {printed}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
