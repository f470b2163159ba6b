//! The PostgreSQL engine: several inbound hosts on one database.
//!
//! Same model, same change sets, same promises as the embedded engine; what
//! differs is who keeps them across hosts:
//! - a 2xx only after the transaction commits (`synchronous_commit` on);
//! - one open incident per key: every writer takes a transaction-scoped
//!   advisory lock per key, incident, state key, failed delivery,
//!   escalation and notification a change set reads or writes, in one
//!   sorted statement (so two hosts never deadlock), and checks the change
//!   set's reads under those locks; a unique partial index backs it up;
//! - escalations and notifications fire once: each firing is a change set
//!   guarded by the version it read, so of two hosts acting on the same due
//!   row one commits and the other sees a conflict;
//! - other hosts' commits wake this one's console and outbox through
//!   `LISTEN/NOTIFY`.
//!
//! The host's code is synchronous where it reads (plugins read on blocking
//! threads); this engine runs its connections on a small runtime of its
//! own and blocks on it, so callers never see async.
//!
//! Records are stored as the same JSON the redb engine writes.

mod accounts;
mod error;
mod keyed;
mod link;
mod reads;
mod snapshot;
mod tls;
mod writer;

use crate::store::accounts::{AuditEntry, AuditQuery, StoredSession};
use crate::store::changes::ChangeSet;
use crate::store::engine::{Engine, Snapshot};
use crate::store::error::Error;
use crate::store::model::{FailedDelivery, FailureId, Incident, IncidentId, LogEntry, Millis};
use crate::store::options::StoreOptions;
use crate::store::outbox::{Escalation, Notification, NotificationId};
use crate::store::page::Page;
use crate::store::queries::{
    BackupReport, Counts, DueFilter, ListQuery, NotificationQuery, OutboxStats, RetentionCutoffs,
};
use crate::store::writer::{BatchStats, WriterHandle};
use anyhow::Context;
use link::{Link, OnConnect};
use std::future::Future;
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use snapshot::PostgresSnapshot;

/// Where the database is (`storage.url` or the variable `storage.url_env`
/// names): a libpq connection string or URL.
#[derive(Clone)]
pub struct PostgresOptions {
    pub url: String,
    /// PEM certificates that may sign the server's, for `sslmode=require`
    /// (`storage.ca_file`); `None`: the public web roots.
    pub ca_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for PostgresOptions {
    // The URL may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresOptions { url: <hidden> }")
    }
}

impl PostgresOptions {
    /// The options of `config`'s `[storage]`, when it stores in PostgreSQL.
    pub fn of(config: &crate::config::Config) -> Option<PostgresOptions> {
        let storage = &config.storage;
        match (storage.backend, &storage.url) {
            (crate::config::StorageBackend::Postgres, Some(url)) => Some(PostgresOptions {
                url: url.clone(),
                ca_file: storage.ca_file.as_ref().map(|file| config.resolve(file)),
            }),
            _ => None,
        }
    }

    /// The parsed connection settings, or why they do not parse (without
    /// echoing the URL, which may hold a password).
    pub fn config(&self) -> anyhow::Result<tokio_postgres::Config> {
        let mut config = tokio_postgres::Config::from_str(&self.url).map_err(|error| {
            anyhow::anyhow!("storage.url is not a PostgreSQL connection string or URL: {error}")
        })?;
        if config.get_application_name().is_none() {
            config.application_name("inbound");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        // A peer that vanished without closing (a failed-over primary, a
        // partition) is noticed in about half a minute, not at the kernel's
        // two hours: keepalives while idle, and a bound on unacknowledged
        // data while sending.
        config
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(10))
            .keepalives_interval(Duration::from_secs(5))
            .keepalives_retries(3)
            .tcp_user_timeout(Duration::from_secs(30));
        // The server's side of the same: a host that dies mid-transaction
        // releases its locks after seconds (idle in transaction), and no
        // writer waits for a lock, or runs a statement, without end. And a
        // commit is durable before it returns, whatever the server's default
        // (a 2xx promises it).
        config.options(
            "-c idle_in_transaction_session_timeout=10000 -c lock_timeout=10000 \
             -c statement_timeout=30000 -c synchronous_commit=on",
        );
        Ok(config)
    }

    /// The parsed settings with their TLS connector (which reads
    /// `ca_file`): everything needed to connect.
    pub fn target(&self) -> anyhow::Result<tls::Target> {
        tls::Target::new(self.config()?, self.ca_file.as_deref())
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// No read waits longer on a server that stopped answering.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Most change sets in one transaction: each takes a few advisory locks,
/// and PostgreSQL's lock table is shared by every host.
const MAX_BATCH: usize = 64;
/// Reader connections per host (plus the writer's): a host uses five of
/// the server's `max_connections` (100 by default).
const READERS: usize = 4;
/// The key of the session advisory lock that makes one host migrate while
/// the others wait ("inbound" in ASCII).
const MIGRATION_LOCK: i64 = 0x0069_6e62_6f75_6e64;

mod schema {
    refinery::embed_migrations!("migrations");
}

pub struct Postgres {
    /// Drives every connection; shut down in the background on drop.
    runtime: Option<tokio::runtime::Runtime>,
    /// Connections for reads, used in turn: PostgreSQL runs one
    /// connection's queries one after another, so the plugin calls in
    /// flight are spread over several. The first also LISTENs.
    readers: Vec<Arc<Link>>,
    next_reader: AtomicUsize,
    writer_link: Arc<Link>,
    writer_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Postgres {
    /// Migrates the schema, connects, and starts this host's writer.
    pub fn open(
        options: &PostgresOptions,
        store: StoreOptions,
        on_batch: impl Fn(BatchStats) + Send + 'static,
        outbox_signal: Arc<tokio::sync::Notify>,
        changes: Arc<tokio::sync::watch::Sender<u64>>,
    ) -> anyhow::Result<(Postgres, WriterHandle)> {
        let target = options.target()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("inbound-postgres")
            .enable_all()
            .build()
            .context("cannot start the PostgreSQL runtime")?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        // Built first, so that an error below drops it (and its runtime) safely.
        let engine = Postgres {
            runtime: Some(runtime),
            readers: (0..READERS).map(|_| Arc::new(Link::new("reader"))).collect(),
            next_reader: AtomicUsize::new(0),
            writer_link: Arc::new(Link::new("writer")),
            writer_task: Mutex::new(None),
            stop,
        };
        engine.block(migrate(&target))?;

        let changed: Arc<dyn Fn() + Send + Sync> = {
            let outbox_signal = outbox_signal.clone();
            Arc::new(move || {
                changes.send_modify(|generation| *generation += 1);
                outbox_signal.notify_one();
            })
        };
        let quiet = || OnConnect { listen: false, changed: Arc::new(|| {}) };
        for (index, reader) in engine.readers.iter().enumerate() {
            let on_connect = if index == 0 {
                OnConnect { listen: true, changed: changed.clone() }
            } else {
                quiet()
            };
            let keep =
                link::keep_connected(reader.clone(), target.clone(), on_connect, stopped.clone());
            engine.handle().spawn(keep);
        }
        let writer_link = engine.writer_link.clone();
        engine.handle().spawn(link::keep_connected(writer_link, target, quiet(), stopped));
        // Serve only once both links are up (the migration just connected).
        engine.block(async {
            let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
            while !engine.is_ready() {
                if tokio::time::Instant::now() > deadline {
                    anyhow::bail!("cannot connect to PostgreSQL within {CONNECT_TIMEOUT:?}");
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Ok(())
        })?;

        let (handle, jobs) = WriterHandle::channel(store.writer.queue);
        let max_batch = store.writer.max_batch.clamp(1, MAX_BATCH);
        let writer =
            writer::run(engine.writer_link.clone(), jobs, max_batch, on_batch, outbox_signal);
        *engine.writer_task.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(engine.handle().spawn(writer));
        Ok((engine, handle))
    }

    /// The next connected reader, in turn. While the readers reconnect
    /// after an outage, one at a time, a read goes to one that is back
    /// rather than failing on one that is not; with none back, the one in
    /// turn says why.
    fn reader(&self) -> &Arc<Link> {
        let next = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let count = self.readers.len();
        (0..count)
            .map(|offset| &self.readers[(next + offset) % count])
            .find(|reader| reader.is_connected())
            .unwrap_or(&self.readers[next % count])
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime.as_ref().expect("the runtime lives until drop").handle()
    }

    /// Runs `future` on this engine's runtime and waits for it.
    fn block<T: Send>(&self, future: impl Future<Output = T> + Send) -> T {
        block_on(self.handle(), future)
    }

    /// Runs a read against the reader's connection, bounded by
    /// [`QUERY_TIMEOUT`].
    fn read<T: Send, F, Fut>(&self, read: F) -> Result<T, Error>
    where
        F: FnOnce(Arc<link::Connection>) -> Fut,
        Fut: Future<Output = Result<T, Error>> + Send,
    {
        let connection = self.reader().get()?;
        self.block(timed(read(connection)))
    }
}

impl Engine for Postgres {
    fn is_shared(&self) -> bool {
        true
    }

    fn snapshot(&self) -> Result<Snapshot, Error> {
        // Fail before the plugin runs when the database is away.
        let reader = self.reader();
        reader.get()?;
        Ok(Box::new(PostgresSnapshot::new(reader.clone(), self.handle().clone())))
    }

    fn allocate_incident_id(&self) -> Result<IncidentId, Error> {
        self.read(|db| async move { reads::next_id(&db, "SELECT nextval('incident_ids')").await })
    }

    fn allocate_failure_id(&self) -> Result<FailureId, Error> {
        self.read(|db| async move { reads::next_id(&db, "SELECT nextval('failure_ids')").await })
    }

    fn allocate_notification_id(&self) -> Result<NotificationId, Error> {
        let sql = "SELECT nextval('notification_ids')";
        self.read(|db| async move { reads::next_id(&db, sql).await })
    }

    fn password_hash(&self, person: &str) -> Result<Option<String>, Error> {
        self.read(|db| async move { accounts::password_hash(&db, person).await })
    }

    fn session(&self, key: &str) -> Result<Option<StoredSession>, Error> {
        self.read(|db| async move { accounts::session(&db, key).await })
    }

    fn audit(&self, query: &AuditQuery) -> Result<Page<AuditEntry>, Error> {
        self.read(|db| async move { accounts::audit(&db, query).await })
    }

    fn shifts(&self, after: Millis) -> Result<Vec<crate::store::Shift>, Error> {
        self.read(|db| async move { accounts::shifts(&db, after).await })
    }

    fn feed_key_owner(&self, digest: &str) -> Result<Option<String>, Error> {
        self.read(|db| async move { accounts::feed_key_owner(&db, digest).await })
    }

    fn records(
        &self,
        kind: crate::store::keyed::RecordKind,
    ) -> Result<Vec<(String, Vec<u8>)>, Error> {
        self.read(|db| async move { keyed::records(&db, kind).await })
    }

    fn record(
        &self,
        kind: crate::store::keyed::RecordKind,
        name: &str,
    ) -> Result<Option<Vec<u8>>, Error> {
        self.read(|db| async move { keyed::record(&db, kind, name).await })
    }

    fn list(&self, query: &ListQuery) -> Result<Page<Incident>, Error> {
        self.read(|db| async move { reads::list(&db, query).await })
    }

    fn incident_with_log(
        &self,
        id: IncidentId,
    ) -> Result<Option<(Incident, Vec<LogEntry>)>, Error> {
        self.read(|db| async move { reads::incident_with_log(&db, id).await })
    }

    fn incident(&self, id: IncidentId) -> Result<Option<Incident>, Error> {
        self.read(|db| async move { reads::incident(&db, id).await })
    }

    fn failures(
        &self,
        before: Option<FailureId>,
        limit: usize,
    ) -> Result<Page<FailedDelivery>, Error> {
        self.read(|db| async move { reads::failures(&db, before, limit).await })
    }

    fn failure(&self, id: FailureId) -> Result<Option<(FailedDelivery, Vec<u8>)>, Error> {
        self.read(|db| async move { reads::failure_and_body(&db, id).await })
    }

    fn counts(&self, source: Option<&str>) -> Result<Counts, Error> {
        self.read(|db| async move { reads::counts(&db, source).await })
    }

    fn log_before(
        &self,
        id: IncidentId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Page<(u64, LogEntry)>, Error> {
        self.read(|db| async move { reads::log_before(&db, id, before, limit).await })
    }

    fn log_after(
        &self,
        id: IncidentId,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Page<(u64, LogEntry)>, Error> {
        self.read(|db| async move { reads::log_after(&db, id, after, limit).await })
    }

    fn newest_incident_of(&self, source: &str) -> Result<Option<Incident>, Error> {
        self.read(|db| async move { reads::newest_incident_of(&db, source).await })
    }

    fn due_escalations(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<(Escalation, Option<Incident>)>, Error> {
        self.read(|db| async move { reads::due_escalations(&db, now, limit).await })
    }

    fn next_due(&self) -> Result<Option<Millis>, Error> {
        self.read(|db| async move { reads::next_due(&db).await })
    }

    fn due_notifications(
        &self,
        now: Millis,
        limit: usize,
        filter: &DueFilter,
    ) -> Result<Vec<Notification>, Error> {
        self.read(|db| async move { reads::due_notifications(&db, now, limit, filter).await })
    }

    fn notification(&self, id: NotificationId) -> Result<Option<Notification>, Error> {
        self.read(|db| async move { reads::notification(&db, id).await })
    }

    fn notifications(&self, query: &NotificationQuery) -> Result<Page<Notification>, Error> {
        self.read(|db| async move { reads::notifications(&db, query).await })
    }

    fn escalation_of(&self, incident: IncidentId) -> Result<Option<Escalation>, Error> {
        self.read(|db| async move { reads::escalation(&db, incident).await })
    }

    fn outbox_stats(&self) -> Result<OutboxStats, Error> {
        self.read(|db| async move { reads::outbox_stats(&db).await })
    }

    /// Outside any commit: the retention sweep reads what expired.
    fn expired(&self, cutoffs: RetentionCutoffs) -> Result<ChangeSet, Error> {
        self.read(|db| async move {
            let mut changes = reads::expired(&db, cutoffs).await?;
            changes.writes.extend(accounts::expired(&db, cutoffs).await?);
            Ok(changes)
        })
    }

    fn backup_to(&self, _destination: &Path) -> Result<BackupReport, Error> {
        Err(Error::Unsupported(
            "the online backup copies a redb file; back a PostgreSQL store up with pg_dump or pg_basebackup".into(),
        ))
    }

    fn is_ready(&self) -> bool {
        self.readers.iter().all(|reader| reader.is_connected()) && self.writer_link.is_connected()
    }

    fn free_bytes(&self) -> Option<u64> {
        None
    }

    /// Waits for the writer (whose handle is dropped already) to finish,
    /// then closes the connections.
    fn shut_down(self: Box<Self>) {
        let task = self.writer_task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = self.block(task);
        }
        let _ = self.stop.send(true);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(runtime) = self.runtime.take() {
            // Dropping a runtime blocks, which an async caller must not do.
            runtime.shutdown_background();
        }
    }
}

/// Waits for `future` on `handle`'s runtime from synchronous code: on a
/// blocking thread directly, on a worker of a multi-thread runtime after
/// telling it this thread blocks, and from a single-thread runtime (which
/// cannot be blocked in place) on a thread of its own.
fn block_on<T: Send>(handle: &tokio::runtime::Handle, future: impl Future<Output = T> + Send) -> T {
    let run = || handle.block_on(future);
    match tokio::runtime::Handle::try_current().map(|current| current.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
        Ok(_) => std::thread::scope(|scope| {
            scope.spawn(run).join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }),
        Err(_) => run(),
    }
}

async fn timed<T>(future: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    match tokio::time::timeout(QUERY_TIMEOUT, future).await {
        Ok(result) => result,
        Err(_) => {
            Err(Error::Unavailable(format!("PostgreSQL did not answer within {QUERY_TIMEOUT:?}")))
        }
    }
}

/// Applies the schema migrations this build has and the database lacks.
/// Hosts starting together queue on a session advisory lock, so one
/// migrates and the others find it done.
async fn migrate(target: &tls::Target) -> anyhow::Result<()> {
    let (mut client, connection) = target
        .connect()
        .await
        .context("cannot connect to PostgreSQL (storage.url or storage.url_env)")?;
    let driver = tokio::spawn(connection);
    // A migration may take long, and the hosts waiting for it must wait.
    client
        .batch_execute("SET lock_timeout = 0; SET statement_timeout = 0")
        .await
        .context("cannot prepare the migration session")?;
    client
        .query_one("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .context("cannot take the migration lock")?;
    let report = schema::migrations::runner()
        .set_migration_table_name("inbound_schema_history")
        .run_async(&mut client)
        .await
        .context("cannot migrate the PostgreSQL schema")?;
    for migration in report.applied_migrations() {
        tracing::info!("PostgreSQL schema migrated to {migration}");
    }
    // Closing the session releases the lock.
    drop(client);
    let _ = driver.await;
    Ok(())
}
