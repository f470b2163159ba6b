//! A plugin that misbehaves on request, for the sandbox's end-to-end tests.
//!
//! The body's first word picks the behaviour; the rest is an argument.
//! `ok KEY` behaves well (creates or finds the open incident for KEY), so the
//! same plugin also serves as the well-behaved neighbour in tests.

use inbound_sdk::about::SettingsProblem;
use inbound_sdk::{Action, NewIncident, Outcome, Plugin, Rejection, Request, incidents, state};

struct Hostile;

impl Plugin for Hostile {
    /// A source's setting `judge` picks how the plugin misbehaves while the
    /// host judges its settings: `loop`, `alloc`, `host-api` (a call the
    /// host refuses outside a request), `refuse`; any other passes.
    fn validate_settings(settings: &str) -> Result<(), Vec<SettingsProblem>> {
        let judge = |mode: &str| settings.contains(&format!("\"judge\":\"{mode}\""));
        if judge("loop") {
            loop {
                std::hint::black_box(());
            }
        }
        if judge("alloc") {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1; 1 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        if judge("host-api") {
            state::get("anything");
        }
        if judge("refuse") {
            return Err(vec![SettingsProblem::of("judge", "refused on purpose")]);
        }
        if judge("aliased") {
            // 64 messages that are all one 1 MiB buffer: 64 MiB once copied,
            // 1 MiB of the plugin's memory. Over the call's 32 MiB cap, under
            // wasmtime's default 128 MiB: only the host's own cap refuses it.
            let buffer = "x".repeat(1 << 20).leak();
            let problems = (0..64)
                .map(|_| {
                    // SAFETY: never freed or written again; the lowering only
                    // reads the bytes. The leak is the point of this plugin.
                    let aliased = unsafe {
                        String::from_raw_parts(
                            buffer.as_ptr() as *mut u8,
                            buffer.len(),
                            buffer.len(),
                        )
                    };
                    SettingsProblem { setting: None, message: aliased }
                })
                .collect();
            return Err(problems);
        }
        Ok(())
    }

    fn handle(request: Request) -> Result<Vec<Outcome>, Rejection> {
        run(&String::from_utf8_lossy(&request.body))
    }
}

/// Runs the command `body` names.
fn run(body: &str) -> Result<Vec<Outcome>, Rejection> {
    let (command, argument) = body.trim().split_once(' ').unwrap_or((body.trim(), ""));
    match command {
        "ok" => open_incident(argument, "well behaved", String::new()),
        // `slow MS COMMAND`: busy for MS milliseconds of wall time, then
        // COMMAND; keeps a misbehaving call in flight long enough for a
        // test to see others served meanwhile.
        "slow" => {
            let (millis, rest) = argument.split_once(' ').unwrap_or((argument, ""));
            let millis: u64 = millis
                .parse()
                .map_err(|_| Rejection::new("bad-argument", "slow needs milliseconds"))?;
            let started = std::time::Instant::now();
            while started.elapsed() < std::time::Duration::from_millis(millis) {
                std::hint::black_box(());
            }
            run(rest)
        }
        // One plugin log line: TEXT at info.
        "log" => {
            inbound_sdk::info!("{argument}");
            Ok(vec![])
        }
        // Reports the state value under KEY (a rejection, so the call
        // changes nothing): `KEY: Some("value")` or `KEY: None`.
        "state-of" => {
            let value = state::get(argument).map(|v| String::from_utf8_lossy(&v).into_owned());
            Err(Rejection::new("state-report", format!("{argument}: {value:?}")))
        }
        "loop" => loop {
            std::hint::black_box(());
        },
        "alloc" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1; 1 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        "recurse" => Ok(vec![Outcome { action: Action::Unchanged, incident: recurse(1) }]),
        "panic" => panic!("hostile plugin panicked on purpose"),
        "log-flood" => {
            let line = "x".repeat(1024);
            for _ in 0..100_000 {
                inbound_sdk::info!("{line}");
            }
            open_incident("flood", "survived its own log flood", String::new())
        }
        "stderr-flood" => {
            let line = "y".repeat(1024);
            for _ in 0..10_000 {
                eprintln!("{line}");
            }
            panic!("after flooding stderr");
        }
        "oversized" => {
            let huge = "k".repeat(1 << 20);
            incidents::create(&NewIncident::new(huge, "too big"))?;
            Ok(vec![])
        }
        "too-many-actions" => {
            for index in 0..100_000 {
                state::set(&format!("k{index}"), b"v")?;
            }
            Ok(vec![])
        }
        "state-fill" => {
            state::set(argument, &vec![0; 64 << 10])?;
            open_incident("fill", "state filled", String::new())
        }
        // Like state-fill, touching no incident: calls with different
        // keys read nothing in common, so none conflicts with another.
        "state-put" => {
            state::set(argument, &vec![0; 64 << 10])?;
            Ok(vec![])
        }
        // One incident and N - 1 comments on it: N changes.
        "changes" => {
            let count: usize = argument
                .parse()
                .map_err(|_| Rejection::new("bad-argument", "changes needs a count"))?;
            let key = format!("changes-{count}");
            let incident = incidents::create(&NewIncident::new(key, "many changes"))?;
            for index in 1..count {
                incidents::comment(incident.id, None, &format!("comment {index}"))?;
            }
            Ok(vec![Outcome { action: Action::Created, incident: incident.id }])
        }
        // Claims to have resolved the open incident for KEY without doing so.
        "false-claim" => match incidents::find_open(argument) {
            Some(open) => Ok(vec![Outcome { action: Action::Resolved, incident: open.id }]),
            None => open_incident(argument, "claimed", String::new()),
        },
        // N outcomes, all naming one incident.
        "outcomes" => {
            let count: usize = argument
                .parse()
                .map_err(|_| Rejection::new("bad-argument", "outcomes needs a count"))?;
            let incident = match incidents::find_open("outcomes") {
                Some(open) => open,
                None => incidents::create(&NewIncident::new("outcomes", "many outcomes"))?,
            };
            Ok(vec![Outcome { action: Action::Unchanged, incident: incident.id }; count])
        }
        // A rejection of N bytes that tries to forge a log line.
        "reject-flood" => {
            let count: usize = argument
                .parse()
                .map_err(|_| Rejection::new("bad-argument", "reject-flood needs a count"))?;
            let message = format!("first\r\nINFO forged line{}", "x".repeat(count));
            Err(Rejection::new("flood", message))
        }
        // A host API misuse (an empty link URL) turned into a rejection
        // by the SDK's `?`: the plugin's bug, not the sender's.
        "bad-link" => {
            let new = NewIncident::new("bad-link", "bad link").link("graph", "");
            incidents::create(&new)?;
            Ok(vec![])
        }
        // An incident KEY with 4 (or, huge, 6) comments of 200 KiB.
        "big-comments" | "huge-comments" => {
            let count = if command == "big-comments" { 4 } else { 6 };
            let incident = incidents::create(&NewIncident::new(argument, "big comments"))?;
            for _ in 0..count {
                incidents::comment(incident.id, None, &"c".repeat(200 << 10))?;
            }
            Ok(vec![Outcome { action: Action::Created, incident: incident.id }])
        }
        "escape" => open_incident("escape", "escape attempts", escape_attempts()),
        "write-then-trap" => {
            state::set("written-before-trap", b"yes").expect("state write");
            open_incident(argument, "written before a trap", String::new())?;
            panic!("trapping after writing");
        }
        "peek" => {
            // Try to read and change an incident by id, whatever its source.
            let id: u64 =
                argument.parse().map_err(|_| Rejection::new("bad-argument", "peek needs an id"))?;
            let seen = incidents::get(id);
            let accepted = incidents::accept(id, Some("peeking"));
            let report =
                format!("get: {:?}; accept: {:?}", seen.map(|i| i.id), accepted.map(|i| i.id));
            open_incident("peek", "peek report", report)
        }
        "state" => {
            let before = state::get("counter").map(|v| String::from_utf8_lossy(&v).into_owned());
            state::set("counter", argument.as_bytes())?;
            open_incident("state", "state report", format!("before: {before:?}"))
        }
        // Stands in for a broken plugin release: any JSON body traps.
        json if json.starts_with('{') => panic!("this release cannot read JSON bodies"),
        "reject" => {
            Err(Rejection::new("not-supported", format!("the hostile plugin rejects {argument:?}")))
        }
        // Text with line breaks, to forge log lines if they were kept raw.
        "forge" => {
            inbound_sdk::warn!("one\r\nFORGED plugin line {argument}");
            Err(Rejection::new("forged", "two\r\nFORGED rejection line"))
        }
        "forge-panic" => panic!("three\nFORGED panic line"),
        // The argument, verbatim, as a new incident's url or link.
        "url" | "link" => {
            let new = NewIncident::new(format!("{command} {argument}"), "a url from the body");
            let new = if command == "url" { new.url(argument) } else { new.link("x", argument) };
            let incident = incidents::create(&new)?;
            Ok(vec![Outcome { action: Action::Created, incident: incident.id }])
        }
        "bad-outcome" => Ok(vec![Outcome { action: Action::Created, incident: 999_999 }]),
        // `update KEY SUMMARY`: the open incident for KEY gets SUMMARY
        // (API 0.4.0): `commented` when it changed, `unchanged` otherwise.
        "update" => {
            let (key, summary) = argument.split_once(' ').unwrap_or((argument, ""));
            let open = incidents::find_open(key)
                .ok_or_else(|| Rejection::new("not-open", format!("nothing open for {key:?}")))?;
            let changes = incidents::IncidentUpdate::new().summary(summary);
            let updated = incidents::update(open.id, &changes)?;
            let action =
                if updated.summary == open.summary { Action::Unchanged } else { Action::Commented };
            Ok(vec![Outcome { action, incident: updated.id }])
        }
        // Opens KEY, resolves it and tries to update it: the answer is a
        // new incident `KEY report` whose details say what update returned.
        "update-resolved" => {
            let incident = incidents::create(&NewIncident::new(argument, "to resolve"))?;
            incidents::resolve(incident.id, None)?;
            let changes = incidents::IncidentUpdate::new().summary("changed after resolving");
            let result = incidents::update(incident.id, &changes).map(|i| i.summary);
            let report = incidents::create(
                &NewIncident::new(format!("{argument} report"), "update report")
                    .details(format!("{result:?}")),
            )?;
            Ok(vec![Outcome { action: Action::Created, incident: report.id }])
        }
        other => Err(Rejection::new("unknown-command", format!("unknown command {other:?}"))),
    }
}

fn open_incident(key: &str, summary: &str, details: String) -> Result<Vec<Outcome>, Rejection> {
    let key = if key.is_empty() { "default" } else { key };
    if let Some(open) = incidents::find_open(key) {
        return Ok(vec![Outcome { action: Action::Unchanged, incident: open.id }]);
    }
    let incident = incidents::create(&NewIncident::new(key, summary).details(details))?;
    Ok(vec![Outcome { action: Action::Created, incident: incident.id }])
}

/// Everything a plugin might try to reach outside its sandbox, and what it got.
fn escape_attempts() -> String {
    let file = std::fs::read_to_string("/etc/passwd").map(|text| text.len());
    let dir = std::fs::read_dir(".").map(|entries| entries.count());
    let write = std::fs::write("/tmp/inbound-escape", b"escaped");
    let env: Vec<(String, String)> = std::env::vars().collect();
    let args: Vec<String> = std::env::args().collect();
    let net = std::net::TcpStream::connect("127.0.0.1:1").map(|_| ());
    format!(
        "file: {file:?}\ndir: {dir:?}\nwrite: {write:?}\nenv: {env:?}\nargs: {args:?}\nnet: {net:?}\n"
    )
}

#[inline(never)]
fn recurse(depth: u64) -> u64 {
    if depth == u64::MAX {
        return 0;
    }
    let padding = std::hint::black_box([depth; 64]);
    recurse(depth + 1) + padding[3]
}

inbound_sdk::register_plugin!(Hostile);
