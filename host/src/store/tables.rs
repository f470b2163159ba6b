//! Every redb table the host uses. Values are JSON so the format can grow
//! fields without a migration; keys are typed for ordered scans.

use redb::TableDefinition;

/// incident id -> Incident (JSON).
pub const INCIDENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("incidents");
/// (source, key) -> id of the open incident for that key.
pub const OPEN_BY_KEY: TableDefinition<(&str, &str), u64> = TableDefinition::new("open_by_key");
/// (source, key) -> id of the most recently created incident for that key.
pub const LATEST_BY_KEY: TableDefinition<(&str, &str), u64> = TableDefinition::new("latest_by_key");
/// (status code, id): list by status, newest first.
pub const BY_STATUS: TableDefinition<(u8, u64), ()> = TableDefinition::new("by_status");
/// (source, id): list by source, newest first.
pub const BY_SOURCE: TableDefinition<(&str, u64), ()> = TableDefinition::new("by_source");
/// (source, status code, id): list by source and status.
pub const BY_SOURCE_STATUS: TableDefinition<(&str, u8, u64), ()> =
    TableDefinition::new("by_source_status");
/// (incident id, sequence) -> LogEntry (JSON). Sequence is global and increasing.
pub const INCIDENT_LOG: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("incident_log");
/// (source, key) -> plugin state value.
pub const PLUGIN_STATE: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("plugin_state");
/// source -> bytes of plugin state (keys + values) it holds, for its quota.
pub const STATE_BYTES: TableDefinition<&str, u64> = TableDefinition::new("state_bytes");
/// failure id -> FailedDelivery (JSON).
pub const FAILED_DELIVERIES: TableDefinition<u64, &[u8]> =
    TableDefinition::new("failed_deliveries");
/// failure id -> the raw request body, unmodified, for replay.
pub const FAILED_BODIES: TableDefinition<u64, &[u8]> = TableDefinition::new("failed_bodies");
/// (source, status code) -> number of incidents: counts per status without a
/// scan, for the console and `/metrics`. Kept in step by the writer.
pub const COUNTS: TableDefinition<(&str, u8), u64> = TableDefinition::new("counts");
/// Counters and the schema version.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

pub const META_SCHEMA_VERSION: &str = "schema_version";
pub const META_NEXT_LOG_SEQ: &str = "next_log_seq";
/// Set once [`COUNTS`] has been filled from the indexes (databases written
/// before it existed are counted once, at start-up).
pub const META_COUNTS_READY: &str = "counts_ready";
pub const SCHEMA_VERSION: u64 = 1;
