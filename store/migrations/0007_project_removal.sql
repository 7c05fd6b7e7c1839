-- What a member co-op's project Group carries beyond 0005's columns: its
-- description (summary: sanitized HTML, and the same as plain text) and
-- its maintainers (a JSON array of actor URIs). removed_at marks a project
-- its co-op removed (Remove from coop:projects, or Delete of the Group):
-- the row stays so that an older Add or Update that arrives later (a
-- retried delivery, a backfill) cannot bring it back; a removed project's
-- URI is never reused.
ALTER TABLE remote_projects ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE remote_projects ADD COLUMN summary_text TEXT NOT NULL DEFAULT '';
ALTER TABLE remote_projects ADD COLUMN maintainers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE remote_projects ADD COLUMN removed_at TEXT;

-- The backfill's high-water mark per peer: the id of the newest item of
-- the peer's outbox when its last backfill ended. The next backfill reads
-- back to it, past items already stored, so that an activity missed behind
-- a newer one that was delivered is found (federation/backfill.go).
CREATE TABLE backfill_marks (
    peer_uri   TEXT PRIMARY KEY,
    item_id    TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
