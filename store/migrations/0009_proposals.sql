-- Proposals and their ballots (package governance; issue 7, "On a node").
-- A proposal is decided by a group: the co-op's Organization actor or a
-- project's Group actor. Its fields are governance.Proposal's; state is
-- governance.State's name. hide_counts asks that counts be shown only after
-- the close.
CREATE TABLE proposals (
    id             INTEGER PRIMARY KEY,
    group_actor_id INTEGER NOT NULL REFERENCES actors (id),
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    proposer       TEXT NOT NULL,
    method         TEXT NOT NULL,
    score_min      INTEGER NOT NULL DEFAULT 0,
    score_max      INTEGER NOT NULL DEFAULT 0,
    opens_at       TEXT NOT NULL,
    closes_at      TEXT NOT NULL,
    quorum_num     INTEGER NOT NULL DEFAULT 0,
    quorum_den     INTEGER NOT NULL DEFAULT 0,
    threshold      TEXT NOT NULL,
    eligibility    TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('open', 'closed', 'withdrawn')),
    hide_counts    INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
-- What the scheduler looks for: open proposals by deadline.
CREATE INDEX proposals_due ON proposals (closes_at) WHERE state = 'open';

CREATE TABLE proposal_options (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    position    INTEGER NOT NULL,
    key         TEXT NOT NULL,
    label       TEXT NOT NULL,
    PRIMARY KEY (proposal_id, position),
    UNIQUE (proposal_id, key)
) WITHOUT ROWID;

-- The eligible voters, fixed when the proposal opens (actor URIs).
CREATE TABLE proposal_voters (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    voter       TEXT NOT NULL,
    PRIMARY KEY (proposal_id, voter)
) WITHOUT ROWID;

-- Every ballot accepted. One stands per voter (replaced_at IS NULL); a
-- replaced one stays as history, and the tally reads them all (its
-- InputHash covers the history). choices and ratings are JSON arrays;
-- stance is governance.Stance's name. log_index is the ballot's record.
CREATE TABLE ballots (
    id          INTEGER PRIMARY KEY,
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    voter       TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    abstain     INTEGER NOT NULL DEFAULT 0,
    choices     TEXT NOT NULL DEFAULT '[]',
    ratings     TEXT NOT NULL DEFAULT '[]',
    stance      TEXT NOT NULL DEFAULT '',
    final       INTEGER NOT NULL DEFAULT 0,
    channel     TEXT NOT NULL,
    log_index   INTEGER NOT NULL,
    replaced_at TEXT
);
CREATE UNIQUE INDEX ballots_standing ON ballots (proposal_id, voter) WHERE replaced_at IS NULL;

-- Every refused vote, with its reason (governance.ReasonCode) and detail:
-- counted, never dropped. count > 1 stands for refused votes kept in
-- aggregate (no voter).
CREATE TABLE ballot_refusals (
    id          INTEGER PRIMARY KEY,
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    voter       TEXT NOT NULL,
    refused_at  TEXT NOT NULL,
    reason      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    count       INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1),
    channel     TEXT NOT NULL,
    log_index   INTEGER NOT NULL
);
CREATE INDEX ballot_refusals_proposal ON ballot_refusals (proposal_id);

-- The outcome of a closed proposal: governance.Outcome as JSON, its
-- InputHash (hex), and the index of the proposal.closed record.
CREATE TABLE proposal_outcomes (
    proposal_id INTEGER PRIMARY KEY REFERENCES proposals (id),
    outcome     TEXT NOT NULL,
    input_hash  TEXT NOT NULL,
    log_id      INTEGER NOT NULL REFERENCES logs (id),
    log_index   INTEGER NOT NULL,
    closed_at   TEXT NOT NULL
);
