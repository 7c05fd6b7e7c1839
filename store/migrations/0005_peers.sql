-- The co-ops that form this node's federation (DESIGN.md, "Who acts, and
-- who sees"), as an admin listed them: the actor URI of each peer co-op's
-- Organization. The co-op's follow of each peer is a row of following,
-- kept apart: a peer may be listed while its Accept is still awaited.
CREATE TABLE peers (
    id        INTEGER PRIMARY KEY,
    actor_uri TEXT NOT NULL UNIQUE,
    added_at  TEXT NOT NULL,
    added_by  TEXT NOT NULL
);

-- Projects of the federation's other co-ops, as their Organization
-- announced them (an Add of the project's Group to its coop:projects):
-- kept only when the sender is a peer. Tags and needs are JSON arrays of
-- strings; they are filtered in Go.
CREATE TABLE remote_projects (
    uri        TEXT PRIMARY KEY,
    coop_uri   TEXT NOT NULL,
    host       TEXT NOT NULL,
    handle     TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL DEFAULT '',
    repository TEXT NOT NULL DEFAULT '',
    licence    TEXT NOT NULL DEFAULT '',
    tags       TEXT NOT NULL DEFAULT '[]',
    needs      TEXT NOT NULL DEFAULT '[]',
    updated_at TEXT NOT NULL
);
CREATE INDEX remote_projects_coop ON remote_projects (coop_uri);
