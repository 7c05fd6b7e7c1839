-- The outbound delivery queue: one row per activity and target inbox
-- (shared inboxes de-duplicated before insert). A row is claimed by a
-- worker (state 'in_flight' with a lease), then ends 'done' or 'dead', or
-- goes back to 'queued' with a later next_attempt_at. A crash leaves
-- in-flight rows whose lease expires; they are claimed again.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    activity_id     TEXT    NOT NULL,
    sender_id       INTEGER NOT NULL REFERENCES actors (id),
    inbox           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'in_flight', 'done', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    lease_until     TEXT,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    UNIQUE (activity_id, inbox)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
