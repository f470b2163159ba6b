-- An event about several incidents keeps its headers and body once
-- (host/src/store/shared_bodies.rs): the record under the SHA-256 of its
-- bytes, with the number of log entries that refer to it.
CREATE TABLE event_bodies (
    key    text PRIMARY KEY,
    refs   bigint NOT NULL,
    record bytea NOT NULL
);
-- Retention deletes the records no entry refers to any more.
CREATE INDEX event_bodies_unreferenced ON event_bodies (key) WHERE refs <= 0;

ALTER TABLE incident_log ADD COLUMN shared_body text;
