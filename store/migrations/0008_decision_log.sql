-- The decision log (package ledger; DESIGN.md "Secure history"). One row
-- in logs per origin: a key rotation closes the old log and opens a new one.
-- skey is the log's private note signer key: backups hold it.
CREATE TABLE logs (
    id         INTEGER PRIMARY KEY,
    origin     TEXT NOT NULL UNIQUE,
    skey       TEXT NOT NULL,
    vkey       TEXT NOT NULL,
    size       INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),
    -- The largest size a witness reported having seen; the node refuses
    -- to append while size < floor.
    floor         INTEGER NOT NULL DEFAULT 0,
    floor_witness TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    closed_at  TEXT
);
-- At most one open log.
CREATE UNIQUE INDEX logs_open ON logs (closed_at IS NULL) WHERE closed_at IS NULL;

-- Record idx of a log: its canonical JSON bytes, exactly as hashed.
CREATE TABLE log_records (
    log_id INTEGER NOT NULL REFERENCES logs (id),
    idx    INTEGER NOT NULL CHECK (idx >= 0),
    data   BLOB NOT NULL,
    PRIMARY KEY (log_id, idx)
) WITHOUT ROWID;

-- The tree's stored hashes, by tlog.StoredHashIndex.
CREATE TABLE log_hashes (
    log_id INTEGER NOT NULL REFERENCES logs (id),
    idx    INTEGER NOT NULL CHECK (idx >= 0),
    hash   BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (log_id, idx)
) WITHOUT ROWID;

-- The plain values behind the commitments in records: personal data,
-- served only to those allowed, erasable (value and salt set to NULL)
-- while the record and the tree stay as they are.
CREATE TABLE log_personal (
    log_id    INTEGER NOT NULL REFERENCES logs (id),
    idx       INTEGER NOT NULL,
    field     TEXT NOT NULL,
    value     TEXT,
    salt      BLOB,
    erased_at TEXT,
    PRIMARY KEY (log_id, idx, field)
) WITHOUT ROWID;

-- Checkpoints this node signed, each only once its size was durable.
CREATE TABLE log_checkpoints (
    log_id    INTEGER NOT NULL REFERENCES logs (id),
    size      INTEGER NOT NULL,
    note      BLOB NOT NULL,
    signed_at TEXT NOT NULL,
    PRIMARY KEY (log_id, size)
) WITHOUT ROWID;

-- Cosignatures of our checkpoints by witnesses (signature lines of
-- C2SP tlog-cosignature/v1), one per witness key and size.
CREATE TABLE log_cosignatures (
    log_id      INTEGER NOT NULL REFERENCES logs (id),
    size        INTEGER NOT NULL,
    witness     TEXT NOT NULL,
    line        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (log_id, size, witness)
) WITHOUT ROWID;

-- The node's own witness key (C2SP tlog-cosignature/v1), distinct from
-- its log keys.
CREATE TABLE witness_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    name       TEXT NOT NULL,
    skey       TEXT NOT NULL,
    vkey       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- The logs of the federation's member co-ops: their keys, pinned when
-- first read from the member's host (log_url), and the latest checkpoint
-- this node keeps of each (size 0 and no note before the first).
CREATE TABLE witnessed (
    origin       TEXT PRIMARY KEY,
    peer         TEXT NOT NULL,
    log_url      TEXT NOT NULL,
    vkey         TEXT NOT NULL,
    witness_vkey TEXT NOT NULL,
    size         INTEGER NOT NULL DEFAULT 0,
    hash         BLOB NOT NULL,
    note         BLOB NOT NULL,
    updated_at   TEXT NOT NULL,
    -- Set when the member rotated its key: its next log is witnessed
    -- instead, after the handover between them was checked.
    retired_at   TEXT
);

-- Evidence of inconsistent checkpoints (a fork, a rewrite, a shrink) of a
-- log this node witnesses, or of its own log as a witness reported it:
-- both signed notes, kept for good.
CREATE TABLE log_evidence (
    id        INTEGER PRIMARY KEY,
    origin    TEXT NOT NULL,
    old_note  BLOB NOT NULL,
    new_note  BLOB NOT NULL,
    reason    TEXT NOT NULL,
    found_at  TEXT NOT NULL,
    -- The same pair, found again in a later round, is not news.
    UNIQUE (origin, old_note, new_note)
);
