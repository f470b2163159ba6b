-- inbound's PostgreSQL schema, version 1. Applied by refinery at start-up,
-- under an advisory lock so hosts starting together migrate once.
--
-- Records are the same JSON documents the redb engine stores (bytea), so
-- both engines read and write one model; the columns beside them are what
-- the queries filter and sort on. Ids are 64-bit and shared by every host
-- through sequences.

CREATE SEQUENCE incident_ids;
CREATE SEQUENCE failure_ids;
CREATE SEQUENCE notification_ids;
CREATE SEQUENCE log_seq;

CREATE TABLE incidents (
    id          bigint PRIMARY KEY,
    source      text NOT NULL,
    key         text NOT NULL,
    -- 0 pending, 1 accepted, 2 resolved (store::Status::code)
    status      smallint NOT NULL,
    version     bigint NOT NULL,
    -- updated_at of the change that resolved it, for retention
    resolved_at bigint,
    record      bytea NOT NULL
);
-- The promise "one open incident per key", kept by the database itself
-- across every host: a second open incident for a key cannot be inserted.
CREATE UNIQUE INDEX incidents_one_open_per_key ON incidents (source, key) WHERE status <> 2;
CREATE INDEX incidents_by_key ON incidents (source, key, id);
CREATE INDEX incidents_by_status ON incidents (status, id);
CREATE INDEX incidents_by_source ON incidents (source, id);
CREATE INDEX incidents_by_source_status ON incidents (source, status, id);
CREATE INDEX incidents_resolved ON incidents (resolved_at, id) WHERE resolved_at IS NOT NULL;

-- Incidents per source and status, kept in step by the writers, so the
-- console and /metrics never count a million rows.
CREATE TABLE incident_counts (
    source text NOT NULL,
    status smallint NOT NULL,
    count  bigint NOT NULL,
    PRIMARY KEY (source, status)
);

CREATE TABLE incident_log (
    incident bigint NOT NULL,
    seq      bigint NOT NULL,
    entry    bytea NOT NULL,
    PRIMARY KEY (incident, seq)
);

CREATE TABLE plugin_state (
    source text NOT NULL,
    key    text NOT NULL,
    value  bytea NOT NULL,
    PRIMARY KEY (source, key)
);
CREATE TABLE plugin_state_bytes (
    source text PRIMARY KEY,
    bytes  bigint NOT NULL
);

CREATE TABLE failed_deliveries (
    id          bigint PRIMARY KEY,
    received_at bigint NOT NULL,
    record      bytea NOT NULL,
    body        bytea
);

CREATE TABLE escalations (
    incident bigint PRIMARY KEY,
    due_at   bigint,
    version  bigint NOT NULL,
    record   bytea NOT NULL
);
CREATE INDEX escalations_due ON escalations (due_at, incident) WHERE due_at IS NOT NULL;

CREATE TABLE notifications (
    id         bigint PRIMARY KEY,
    incident   bigint NOT NULL,
    -- 0 pending, 1 sent, 2 failed (store::DeliveryStatus::code)
    status     smallint NOT NULL,
    -- next attempt, while pending
    due_at     bigint,
    created_at bigint NOT NULL,
    version    bigint NOT NULL,
    record     bytea NOT NULL
);
CREATE INDEX notifications_due ON notifications (due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX notifications_by_status ON notifications (status, id);
CREATE INDEX notifications_by_incident ON notifications (incident, id);
