//! `bench commits`: the storage writer alone. Realistic change sets (a new
//! incident, its created and event-received log entries, a state write), in
//! batches of a given size, each batch one durable group commit. With
//! `--updates P`, P % of the events instead change an older incident at
//! random (its status, an event-received entry, its state), as the Zendesk
//! mix's updates do: what a larger batch saves when events land all over
//! the tables, which is what a journal with a background apply would buy.

use inbound::store::{
    Action, ChangeSet, Incident, LogEntry, LogKind, Status, Store, StoreOptions, Write,
    WriterOptions, now_millis,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// `reader`: a thread beside the writer that takes a snapshot, holds it
/// 100 µs and takes the next, as webhooks do under load; redb reuses a page
/// a commit freed only once no older read is alive, so this shows what
/// concurrent reads cost in file size.
pub fn run(batch: usize, batches: usize, reader: bool, updates: u8) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // The writer takes at most `max_batch` change sets per commit: let it
    // take the whole batch, however large.
    let writer = WriterOptions { max_batch: batch.max(1), queue: batch.max(1) * 2, durable: true };
    let options = StoreOptions { writer, ..StoreOptions::default() };
    let store = Arc::new(Store::open(&dir.path().join("commits.redb"), options, |_| {})?);
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
    // Incidents created by earlier batches, as the bench last wrote them.
    let mut created: Vec<Incident> = Vec::new();
    let mut picks = Picks(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    let cpu_started = process_cpu_seconds();
    let mut per_batch = Vec::with_capacity(batches);
    for _ in 0..batches {
        let older = created.len();
        let sets: Vec<ChangeSet> = (0..batch)
            .map(|_| {
                if older > 0 && picks.percent() < u64::from(updates) {
                    update(&mut created[picks.below(older)], &body)
                } else {
                    let (incident, changes) = event(&store, &body);
                    created.push(incident);
                    changes
                }
            })
            .collect();
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
    let cpu = process_cpu_seconds() - cpu_started;
    stop.store(true, Ordering::Relaxed);
    if let Some(reading) = reading {
        reading.join().expect("reader");
    }
    per_batch.sort();
    let total = started.elapsed();
    let events = (batch * batches) as f64;
    println!(
        "{batches} group commits of {batch} events ({updates} % updates of older incidents): p50 {:.2} ms, p99 {:.2} ms per commit; {:.0} events/s; {:.1} µs of CPU per event",
        per_batch[batches / 2].as_secs_f64() * 1000.0,
        per_batch[batches * 99 / 100].as_secs_f64() * 1000.0,
        events / total.as_secs_f64(),
        cpu / events * 1e6,
    );
    // The writer thread still holds the file: measure a copy (every commit
    // above was durable, so the copy holds them all).
    let copy = dir.path().join("measured.redb");
    std::fs::copy(dir.path().join("commits.redb"), &copy)?;
    crate::footprint::print(&copy, (batch * batches) as u64)
}

/// A small deterministic generator (splitmix64): the same picks every run,
/// so runs with different batch sizes change the same incidents.
struct Picks(u64);

impl Picks {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn percent(&mut self) -> u64 {
        self.next() % 100
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// CPU time of this process so far, user and system, in seconds.
fn process_cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// An update of `incident`, as a Zendesk update does: the status flips
/// between pending and accepted, an event-received entry, the state.
fn update(incident: &mut Incident, body: &str) -> ChangeSet {
    let now = now_millis();
    incident.status =
        if incident.status == Status::Pending { Status::Accepted } else { Status::Pending };
    incident.version += 1;
    incident.updated_at = now;
    let id = incident.id;
    ChangeSet {
        reads: vec![],
        writes: vec![
            Write::PutIncident(incident.clone()),
            Write::AppendLog { incident: id, entry: received(body, Action::Accepted, now) },
            comment_state(id),
        ],
    }
}

fn received(body: &str, action: Action, at: u64) -> LogEntry {
    let kind = LogKind::EventReceived {
        action,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string(),
        body_bytes: body.len(),
        body_truncated: false,
        repeats: 0,
        last_repeat_at: None,
        shared_body: None,
    };
    LogEntry { at, kind }
}

fn comment_state(id: u64) -> Write {
    Write::SetState {
        source: "bench".into(),
        key: format!("ticket/{id}/comment"),
        value: b"0123456789abcdef".to_vec(),
        quota: u64::MAX,
    }
}

/// A new incident and the change set that creates it.
fn event(store: &Store, body: &str) -> (Incident, ChangeSet) {
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
    let changes = ChangeSet {
        reads: vec![],
        writes: vec![
            Write::PutIncident(incident.clone()),
            Write::AppendLog {
                incident: id,
                entry: LogEntry { at: now, kind: LogKind::Created { by: "bench".into() } },
            },
            Write::AppendLog { incident: id, entry: received(body, Action::Created, now) },
            comment_state(id),
        ],
    };
    (incident, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_flips_the_status_and_changes_the_incident_it_was_given() {
        let mut incident = Incident {
            id: 7,
            source: "bench".into(),
            key: "7".into(),
            status: Status::Pending,
            summary: "s".into(),
            details: String::new(),
            priority: None,
            url: None,
            links: Vec::new(),
            escalation_policy: "oncall".into(),
            created_at: 1,
            updated_at: 1,
            version: 1,
        };
        let changes = update(&mut incident, "{}");
        assert_eq!((incident.status, incident.version), (Status::Accepted, 2));
        match &changes.writes[..] {
            [
                Write::PutIncident(put),
                Write::AppendLog { incident: 7, .. },
                Write::SetState { .. },
            ] => {
                assert_eq!(put.version, 2)
            }
            other => panic!("unexpected writes: {other:?}"),
        }
        update(&mut incident, "{}");
        assert_eq!((incident.status, incident.version), (Status::Pending, 3));
    }

    #[test]
    fn picks_are_the_same_every_run_and_within_range() {
        let (mut a, mut b) = (Picks(1), Picks(1));
        let first: Vec<usize> = (0..100).map(|_| a.below(10)).collect();
        assert_eq!(first, (0..100).map(|_| b.below(10)).collect::<Vec<_>>());
        assert!(first.iter().all(|pick| *pick < 10));
        assert!((1..10).all(|n| first.contains(&n)), "{first:?}");
    }
}
