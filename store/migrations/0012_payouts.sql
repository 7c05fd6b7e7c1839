-- Payout rounds (issue 8): a project's budget split over its approved
-- contribution records of a period, by a formula (package payout). A
-- draft until a second member approves it; then final and immutable,
-- with the records it split, its statement and the hash of its inputs.
CREATE TABLE payout_rounds (
    id                INTEGER PRIMARY KEY,
    project_id        INTEGER NOT NULL REFERENCES actors (id),
    period_from       TEXT NOT NULL, -- YYYY-MM-DD, included
    period_to         TEXT NOT NULL, -- YYYY-MM-DD, excluded
    budget            INTEGER NOT NULL CHECK (budget > 0), -- minor units
    currency          TEXT NOT NULL,
    formula           TEXT NOT NULL,
    rate              INTEGER NOT NULL DEFAULT 0,
    cap               INTEGER NOT NULL DEFAULT 0,
    floor             INTEGER NOT NULL DEFAULT 0,
    requires_proposal INTEGER REFERENCES proposals (id),
    state             TEXT NOT NULL CHECK (state IN ('draft', 'final')),
    created_by        TEXT NOT NULL,
    approved_by       TEXT NOT NULL DEFAULT '',
    records           TEXT NOT NULL DEFAULT '[]', -- JSON: the contribution IDs split, when final
    statement         TEXT NOT NULL DEFAULT '',   -- the statement's JSON, when final
    input_hash        TEXT NOT NULL DEFAULT '',
    created_at        TEXT NOT NULL,
    finalized_at      TEXT,
    log_index         INTEGER NOT NULL,           -- payout.created
    final_log_index   INTEGER                     -- payout.finalized
);
CREATE INDEX payout_rounds_project ON payout_rounds (project_id);
