-- Reports received: an ActivityPub Flag (Mastodon's "report" when its user
-- asks to forward it) naming this node's actors or objects. Only what is
-- ours is kept: the local accounts and objects named (report_targets);
-- the comment as plain text. A Flag is stored once by its id, however
-- often it comes. An admin resolves a report with a note.
CREATE TABLE reports (
    id           INTEGER PRIMARY KEY,
    flag_id      TEXT    NOT NULL UNIQUE,
    reporter_uri TEXT    NOT NULL,
    comment      TEXT    NOT NULL DEFAULT '',
    received_at  TEXT    NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    resolved_by  TEXT    NOT NULL DEFAULT '',
    resolved_at  TEXT,
    note         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX reports_state ON reports (state, id);

-- What a report names: local actors (kind 'account') and local objects
-- (kind 'object'), in the Flag's order.
CREATE TABLE report_targets (
    report_id INTEGER NOT NULL REFERENCES reports (id),
    position  INTEGER NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('account', 'object')),
    uri       TEXT    NOT NULL,
    PRIMARY KEY (report_id, position)
) WITHOUT ROWID;
