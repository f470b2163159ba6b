-- People: password hashes, console sessions and the audit trail
-- (host/src/store/accounts.rs). Sessions are kept here so that any host
-- serves any session and a restart keeps them.
CREATE TABLE passwords (
    person text PRIMARY KEY,
    hash   text NOT NULL
);

-- key: the SHA-256 of the session cookie (hex); the table holds nothing a
-- browser could present.
CREATE TABLE sessions (
    key        text PRIMARY KEY,
    person     text,
    expires_at bigint NOT NULL,
    record     bytea NOT NULL
);
CREATE INDEX sessions_by_person ON sessions (person) WHERE person IS NOT NULL;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE audit (
    id     bigserial PRIMARY KEY,
    at     bigint NOT NULL,
    action text NOT NULL,
    record bytea NOT NULL
);
CREATE INDEX audit_by_action ON audit (action, id);
