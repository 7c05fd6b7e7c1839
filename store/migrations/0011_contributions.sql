-- Contribution records (issue 8): who did what for a project. Hours and
-- points are members-only; the decision log holds them as commitments.

-- Extra addresses of a member, to match commit authors (lower-cased).
CREATE TABLE member_aliases (
    email     TEXT PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES actors (id),
    added_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX member_aliases_member ON member_aliases (member_id);

CREATE TABLE contributions (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES actors (id),
    contributor TEXT NOT NULL, -- actor URI: a member here or of a federation member co-op
    kind        TEXT NOT NULL CHECK (kind IN ('code', 'review', 'docs', 'design', 'operations', 'care')),
    minutes     INTEGER NOT NULL DEFAULT 0 CHECK (minutes >= 0),
    points      INTEGER NOT NULL DEFAULT 0 CHECK (points >= 0),
    evidence    TEXT NOT NULL DEFAULT '[]', -- JSON array of URLs
    day         TEXT NOT NULL,              -- YYYY-MM-DD, the day of the work
    note        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    reason      TEXT NOT NULL DEFAULT '',
    commit_hash TEXT,                       -- imported from git: each commit once per project
    recorded_by TEXT NOT NULL,
    decided_by  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    log_index   INTEGER NOT NULL,           -- the record's latest decision-log record
    UNIQUE (project_id, commit_hash)
);
CREATE INDEX contributions_project ON contributions (project_id, status, day);
