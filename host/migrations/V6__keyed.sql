-- Keyed records (host/src/store/keyed.rs): maintenance windows made at run
-- time, heartbeat timers, what each contact was sent lately. Few of each,
-- read whole by kind, written with compare-and-set on the value.
CREATE TABLE keyed (
    kind  text NOT NULL,
    name  text NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (kind, name)
);
