//! `bench commits`: the storage writer alone. Realistic change sets (a new
//! incident, its created and event-received log entries, a state write), in
//! batches of a given size, each batch one durable group commit.

use inbound::store::{
    Action, ChangeSet, Incident, LogEntry, LogKind, Status, Store, Write, now_millis,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// `reader`: a thread beside the writer that takes a snapshot, holds it
/// 100 µs and takes the next, as webhooks do under load; redb reuses a page
/// a commit freed only once no older read is alive, so this shows what
/// concurrent reads cost in file size.
pub fn run(batch: usize, batches: usize, reader: bool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store =
        Arc::new(Store::open(&dir.path().join("commits.redb"), Default::default(), |_| {})?);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build()?;
    let body = include_str!("../wrk/zendesk-mix.lua").chars().take(800).collect::<String>();
    let stop = Arc::new(AtomicBool::new(false));
    let reading = reader.then(|| {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let snapshot = store.snapshot().expect("snapshot");
                std::thread::sleep(Duration::from_micros(100));
                drop(snapshot);
            }
        })
    });
    let started = Instant::now();
    let mut per_batch = Vec::with_capacity(batches);
    for _ in 0..batches {
        let sets: Vec<ChangeSet> = (0..batch).map(|_| event(&store, &body)).collect();
        let at = Instant::now();
        // Sent together, as concurrent requests would be: one group commit.
        runtime.block_on(async {
            let tasks: Vec<_> = sets
                .into_iter()
                .map(|changes| {
                    let store = store.clone();
                    tokio::spawn(async move { store.commit(changes).await })
                })
                .collect();
            for task in tasks {
                task.await.expect("task").expect("commit");
            }
        });
        per_batch.push(at.elapsed());
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(reading) = reading {
        reading.join().expect("reader");
    }
    per_batch.sort();
    let total = started.elapsed();
    println!(
        "{batches} group commits of {batch} events: p50 {:.2} ms, p99 {:.2} ms per commit; {:.0} events/s",
        per_batch[batches / 2].as_secs_f64() * 1000.0,
        per_batch[batches * 99 / 100].as_secs_f64() * 1000.0,
        (batch * batches) as f64 / total.as_secs_f64()
    );
    // The writer thread still holds the file: measure a copy (every commit
    // above was durable, so the copy holds them all).
    let copy = dir.path().join("measured.redb");
    std::fs::copy(dir.path().join("commits.redb"), &copy)?;
    crate::footprint::print(&copy, (batch * batches) as u64)
}

fn event(store: &Store, body: &str) -> ChangeSet {
    let id = store.allocate_incident_id().expect("the embedded store allocates in memory");
    let now = now_millis();
    let incident = Incident {
        id,
        source: "bench".into(),
        key: id.to_string(),
        status: Status::Pending,
        summary: "Printer on fire".into(),
        details: body.chars().take(300).collect(),
        priority: None,
        url: Some(format!("https://example.zendesk.com/agent/tickets/{id}")),
        links: Vec::new(),
        escalation_policy: "oncall".into(),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let received = LogKind::EventReceived {
        action: Action::Created,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string(),
        body_bytes: body.len(),
        body_truncated: false,
        repeats: 0,
        last_repeat_at: None,
        shared_body: None,
    };
    ChangeSet {
        reads: vec![],
        writes: vec![
            Write::PutIncident(incident),
            Write::AppendLog {
                incident: id,
                entry: LogEntry { at: now, kind: LogKind::Created { by: "bench".into() } },
            },
            Write::AppendLog { incident: id, entry: LogEntry { at: now, kind: received } },
            Write::SetState {
                source: "bench".into(),
                key: format!("ticket/{id}/comment"),
                value: b"0123456789abcdef".to_vec(),
                quota: u64::MAX,
            },
        ],
    }
}
