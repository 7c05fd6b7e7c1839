-- Contribution records of other co-ops' projects (issue 8), as their
-- project's Group sent them to the members here who take part. Hours and
-- points are members-only. One row per record, under its Note's id; the
-- latest status wins, but a decided record never goes back to pending.
CREATE TABLE remote_contributions (
    object_id   TEXT PRIMARY KEY,  -- the record's URL, its Note's id
    project     TEXT NOT NULL,     -- the project's Group actor URI
    number      INTEGER NOT NULL,  -- its ID on its node
    contributor TEXT NOT NULL,     -- actor URI
    kind        TEXT NOT NULL CHECK (kind IN ('code', 'review', 'docs', 'design', 'operations', 'care')),
    minutes     INTEGER NOT NULL DEFAULT 0 CHECK (minutes >= 0),
    points      INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),
    evidence    TEXT NOT NULL DEFAULT '[]', -- JSON array of URLs
    day         TEXT NOT NULL,              -- YYYY-MM-DD
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    reason      TEXT NOT NULL DEFAULT '',
    log_index   INTEGER NOT NULL,           -- its latest record in its node's decision log
    received_at TEXT NOT NULL,
    -- The decision a member here sent to the Group, and who.
    sent        TEXT NOT NULL DEFAULT '' CHECK (sent IN ('', 'approve', 'reject')),
    sent_by     TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX remote_contributions_project ON remote_contributions (project, status, day);
