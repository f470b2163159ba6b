-- Calendar feed keys (host/src/app/calendar.rs): one per person, kept as
-- the SHA-256 of the key, which travels in the feed's URL.
CREATE TABLE feed_keys (
    person text PRIMARY KEY,
    digest text NOT NULL UNIQUE
);
