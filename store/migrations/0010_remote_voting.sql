-- Mastodon-compatible voting (issue 7): linked remote accounts, votes
-- held until a link is confirmed, strangers' refused votes in aggregate,
-- the remote audience of a proposal's live counts, and the notices sent
-- to members' linked accounts.

-- One-time link codes: only a hash of the code is kept. A code is used
-- once, before it expires.
CREATE TABLE link_codes (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER NOT NULL REFERENCES actors (id),
    code_hash  TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
);

-- A remote account linked to a member: pending (confirmed_at NULL) from
-- the direct message with the code until the member confirms it. One
-- account links to one member at most (the primary key). Members-only
-- data: never published.
CREATE TABLE account_links (
    account      TEXT PRIMARY KEY,
    member_id    INTEGER NOT NULL REFERENCES actors (id),
    requested_at TEXT NOT NULL,
    confirmed_at TEXT,
    note_id      TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX account_links_member ON account_links (member_id);

-- Votes from accounts not linked (or not yet confirmed), accepted before
-- the deadline: they count once the link is confirmed before the close;
-- at the close the rest are refused in aggregate and deleted.
CREATE TABLE pending_votes (
    id          INTEGER PRIMARY KEY,
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    account     TEXT NOT NULL,
    option      TEXT NOT NULL,
    note_id     TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    UNIQUE (proposal_id, account, option)
);
CREATE INDEX pending_votes_account ON pending_votes (account);

-- Accounts told how to link: one direct message each, not one per vote.
CREATE TABLE link_hints (
    account TEXT PRIMARY KEY,
    sent_at TEXT NOT NULL
) WITHOUT ROWID;

-- Strangers' refused votes, counted and not stored one by one: by
-- proposal and reason; after_close counts those that came after the
-- outcome was fixed (shown, not in the outcome).
CREATE TABLE stranger_refusals (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    reason      TEXT NOT NULL,
    after_close INTEGER NOT NULL DEFAULT 0,
    count       INTEGER NOT NULL CHECK (count >= 1),
    PRIMARY KEY (proposal_id, reason, after_close)
) WITHOUT ROWID;

-- Remote actors who voted on or boosted a proposal: they receive its live
-- counts and its outcome, as Mastodon sends them.
CREATE TABLE proposal_audience (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    account     TEXT NOT NULL,
    PRIMARY KEY (proposal_id, account)
) WITHOUT ROWID;

-- When the counts changed since the last Update{Question}, and when that
-- was sent: the scheduler debounces the updates.
ALTER TABLE proposals ADD COLUMN counts_changed_at TEXT;
ALTER TABLE proposals ADD COLUMN counts_sent_at TEXT;

-- Notices sent to a member's linked accounts, once each.
CREATE TABLE proposal_notices (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id),
    member_id   INTEGER NOT NULL REFERENCES actors (id),
    kind        TEXT NOT NULL CHECK (kind IN ('opened', 'reminder', 'outcome')),
    sent_at     TEXT NOT NULL,
    PRIMARY KEY (proposal_id, member_id, kind)
) WITHOUT ROWID;
