//! Every redb table the host uses, declared once. Values are JSON so the
//! format can grow fields without a migration; keys are typed for ordered
//! scans.
//!
//! [`tables!`] turns the one list below into the table constants, the
//! [`Tables`] a write transaction opens (each table once per transaction:
//! opening a redb table per write dominated the cost of a batch; opening
//! them all also creates any that are missing), and [`copy_all`], which a
//! backup uses.

use redb::{ReadTransaction, ReadableTable, Table, TableDefinition, WriteTransaction};

macro_rules! tables {
    ($( $(#[$doc:meta])* $field:ident: $name:ident = $text:literal, $key:ty => $value:ty; )*) => {
        $( $(#[$doc])* pub const $name: TableDefinition<$key, $value> = TableDefinition::new($text); )*

        /// Every table, opened in one write transaction.
        pub struct Tables<'txn> {
            $( pub $field: Table<'txn, $key, $value>, )*
        }

        impl<'txn> Tables<'txn> {
            /// Opens (creating where missing) every table in `txn`.
            pub fn open(txn: &'txn WriteTransaction) -> Result<Self, redb::TableError> {
                Ok(Tables { $( $field: txn.open_table($name)?, )* })
            }
        }

        /// Copies every row of every table from the snapshot `from` into
        /// `to`. Returns the rows copied.
        pub fn copy_all(from: &ReadTransaction, to: &WriteTransaction) -> Result<u64, redb::Error> {
            let mut rows = 0;
            $(
                {
                    let source = from.open_table($name)?;
                    let mut target = to.open_table($name)?;
                    for entry in source.iter()? {
                        let (key, value) = entry?;
                        target.insert(key.value(), value.value())?;
                        rows += 1;
                    }
                }
            )*
            Ok(rows)
        }
    };
}

tables! {
    /// incident id -> Incident (JSON).
    incidents: INCIDENTS = "incidents", u64 => &'static [u8];
    /// (source, key) -> id of the open incident for that key.
    open_by_key: OPEN_BY_KEY = "open_by_key", (&'static str, &'static str) => u64;
    /// (source, key) -> id of the most recently created incident for that key.
    latest_by_key: LATEST_BY_KEY = "latest_by_key", (&'static str, &'static str) => u64;
    /// (status code, id): list by status, newest first.
    by_status: BY_STATUS = "by_status", (u8, u64) => ();
    /// (source, id): list by source, newest first.
    by_source: BY_SOURCE = "by_source", (&'static str, u64) => ();
    /// (source, status code, id): list by source and status.
    by_source_status: BY_SOURCE_STATUS = "by_source_status", (&'static str, u8, u64) => ();
    /// (incident id, sequence) -> LogEntry (JSON). Sequence is global and increasing.
    log: INCIDENT_LOG = "incident_log", (u64, u64) => &'static [u8];
    /// (source, key) -> plugin state value.
    state: PLUGIN_STATE = "plugin_state", (&'static str, &'static str) => &'static [u8];
    /// source -> bytes of plugin state (keys + values) it holds, for its quota.
    state_bytes: STATE_BYTES = "state_bytes", &'static str => u64;
    /// failure id -> FailedDelivery (JSON).
    failures: FAILED_DELIVERIES = "failed_deliveries", u64 => &'static [u8];
    /// failure id -> the raw request body, unmodified, for replay.
    failure_bodies: FAILED_BODIES = "failed_bodies", u64 => &'static [u8];
    /// incident id -> Escalation (JSON).
    escalations: ESCALATIONS = "escalations", u64 => &'static [u8];
    /// (due millis, incident id): escalations the engine must act on, earliest first.
    escalation_due: ESCALATION_DUE = "escalation_due", (u64, u64) => ();
    /// notification id -> Notification (JSON): the outbox.
    notifications: NOTIFICATIONS = "notifications", u64 => &'static [u8];
    /// (next attempt millis, notification id): pending notifications, earliest first.
    notification_due: NOTIFICATION_DUE = "notification_due", (u64, u64) => ();
    /// (delivery status code, notification id): list by status, newest first.
    notification_status: NOTIFICATION_STATUS = "notification_status", (u8, u64) => ();
    /// (incident id, notification id): an incident's notifications.
    notification_by_incident: NOTIFICATION_BY_INCIDENT = "notification_by_incident", (u64, u64) => ();
    /// (source, status code) -> number of incidents: counts per status without
    /// a scan, for the web console and `/metrics`. Kept in step by the writer.
    counts: COUNTS = "counts", (&'static str, u8) => u64;
    /// (resolved millis, incident id): resolved incidents, oldest resolution
    /// first, for retention (schema 2).
    resolved_at: RESOLVED_AT = "resolved_at", (u64, u64) => ();
    /// key -> (entries referring to it, headers and body as JSON): a received
    /// event's headers and body, kept once for all the incidents it
    /// concerned (schema 3, see `shared_bodies.rs`).
    event_bodies: EVENT_BODIES = "event_bodies", &'static str => (u64, &'static [u8]);
    /// person -> password hash (PHC string, Argon2id).
    passwords: PASSWORDS = "passwords", &'static str => &'static str;
    /// SHA-256 of a session cookie (hex) -> StoredSession (JSON).
    sessions: SESSIONS = "sessions", &'static str => &'static [u8];
    /// entry id -> AuditEntry (JSON); ids grow with time.
    audit: AUDIT = "audit", u64 => &'static [u8];
    /// shift id -> Shift (JSON): shifts taken at run time.
    shifts: SHIFTS = "shifts", u64 => &'static [u8];
    /// person -> SHA-256 (hex) of their calendar feed key.
    feed_keys: FEED_KEYS = "feed_keys", &'static str => &'static str;
    /// (kind, name) -> a keyed record (JSON): maintenance windows made at
    /// run time, heartbeat timers, what each contact was sent lately.
    keyed: KEYED = "keyed", (&'static str, &'static str) => &'static [u8];
    /// Counters and the schema version.
    meta: META = "meta", &'static str => u64;
}

pub const META_SCHEMA_VERSION: &str = "schema_version";
pub const META_NEXT_LOG_SEQ: &str = "next_log_seq";
/// The next ids of audit entries and shifts: never reused, also after deletes.
pub const META_NEXT_AUDIT_ID: &str = "next_audit_id";
pub const META_NEXT_SHIFT_ID: &str = "next_shift_id";
/// Set once [`COUNTS`] has been filled from the indexes (databases written
/// before it existed are counted once, at start-up).
pub const META_COUNTS_READY: &str = "counts_ready";
/// 1: 0.2. 2: the `resolved_at` index. 3: `event_bodies` (see `migrate.rs`).
pub const SCHEMA_VERSION: u64 = 3;
