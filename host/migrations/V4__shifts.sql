-- Shifts taken at run time ("take this shift", "cover until";
-- host/src/store/shifts.rs): the latest taken wins where they overlap.
CREATE TABLE shifts (
    id       bigserial PRIMARY KEY,
    schedule text NOT NULL,
    until    bigint NOT NULL,
    record   bytea NOT NULL
);
CREATE INDEX shifts_by_end ON shifts (until);
