-- Remote actors, as fetched (signed GET) and cached: by actor URI, and
-- findable by the id of their key (GoToSocial's key ids are paths such as
-- .../main-key, not fragments of the actor URI). gone_at is set once the
-- actor is deleted or its documents answer 410: it is not fetched again.
CREATE TABLE remote_actors (
    uri                TEXT PRIMARY KEY,
    type               TEXT NOT NULL DEFAULT '',
    preferred_username TEXT NOT NULL DEFAULT '',
    name               TEXT NOT NULL DEFAULT '',
    inbox              TEXT NOT NULL DEFAULT '',
    shared_inbox       TEXT NOT NULL DEFAULT '',
    followers          TEXT NOT NULL DEFAULT '',
    key_id             TEXT NOT NULL DEFAULT '',
    public_key_pem     TEXT NOT NULL DEFAULT '',
    host               TEXT NOT NULL DEFAULT '',
    fetched_at         TEXT NOT NULL,
    gone_at            TEXT
);
CREATE INDEX remote_actors_key ON remote_actors (key_id);

-- Activities accepted by an inbox, stored before the 202 is sent; the row
-- is also the queue of their processing. An activity is stored once by id;
-- an Update once by id and content (content_hash is '' for the others),
-- because GoToSocial reuses one id for every Update{Question} of a poll.
-- A worker claims a row (state 'in_flight' with a lease); a crash leaves
-- the lease to expire and the row is claimed again. Processing is
-- idempotent and commits with the row's 'done'.
CREATE TABLE inbound (
    id              INTEGER PRIMARY KEY,
    activity_id     TEXT    NOT NULL,
    content_hash    TEXT    NOT NULL DEFAULT '',
    activity_type   TEXT    NOT NULL,
    actor_uri       TEXT    NOT NULL,
    key_id          TEXT    NOT NULL,
    recipient_id    INTEGER REFERENCES actors (id),
    body            TEXT    NOT NULL,
    received_at     TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'in_flight', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    lease_until     TEXT,
    last_error      TEXT    NOT NULL DEFAULT '',
    processed_at    TEXT,
    UNIQUE (activity_id, content_hash)
);
CREATE INDEX inbound_due ON inbound (state, next_attempt_at);
-- Activities of one actor are processed in the order they came.
CREATE INDEX inbound_actor ON inbound (actor_uri, state, id);

-- Notes that remote actors sent to local actors (posts mentioning them,
-- direct messages, poll votes: a Note with name and inReplyTo), content as
-- received. Later issues read votes and link codes from here.
CREATE TABLE received_notes (
    id           INTEGER PRIMARY KEY,
    inbound_id   INTEGER REFERENCES inbound (id),
    activity_id  TEXT    NOT NULL,
    object_id    TEXT    NOT NULL UNIQUE,
    actor_uri    TEXT    NOT NULL,
    direct       INTEGER NOT NULL DEFAULT 0,
    content      TEXT    NOT NULL DEFAULT '',
    in_reply_to  TEXT    NOT NULL DEFAULT '',
    name         TEXT    NOT NULL DEFAULT '',
    published    TEXT,
    raw          TEXT    NOT NULL,
    received_at  TEXT    NOT NULL
);
CREATE INDEX received_notes_reply ON received_notes (in_reply_to);

CREATE TABLE received_note_recipients (
    note_id  INTEGER NOT NULL REFERENCES received_notes (id),
    actor_id INTEGER NOT NULL REFERENCES actors (id),
    PRIMARY KEY (note_id, actor_id)
);
