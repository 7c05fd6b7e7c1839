-- Local actors: the co-op (Organization), its members (Person) and its
-- projects (Group) share one namespace of handles, compared without case.
-- A removed actor keeps its row, so that its handle is never given out again
-- (peers cache keys by it).
CREATE TABLE actors (
    id                          INTEGER PRIMARY KEY,
    kind                        TEXT    NOT NULL CHECK (kind IN ('Organization', 'Person', 'Group')),
    handle                      TEXT    NOT NULL,
    handle_fold                 TEXT    NOT NULL UNIQUE,
    name                        TEXT    NOT NULL,
    summary                     TEXT    NOT NULL DEFAULT '',
    public_key_pem              TEXT    NOT NULL,
    private_key_pem             TEXT    NOT NULL,
    manually_approves_followers INTEGER NOT NULL DEFAULT 0,
    discoverable                INTEGER NOT NULL DEFAULT 1,
    created_at                  TEXT    NOT NULL,
    updated_at                  TEXT    NOT NULL,
    removed_at                  TEXT,
    revision                    INTEGER NOT NULL DEFAULT 1,
    CHECK (handle_fold = lower(handle))
);

-- There is one co-op per node.
CREATE UNIQUE INDEX actors_one_organization ON actors (kind) WHERE kind = 'Organization';

CREATE TABLE members (
    actor_id             INTEGER PRIMARY KEY REFERENCES actors (id),
    email                TEXT    NOT NULL DEFAULT '',
    role                 TEXT    NOT NULL CHECK (role IN ('admin', 'member')),
    password_hash        TEXT    NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 1,
    last_active_at       TEXT
);

CREATE TABLE projects (
    actor_id   INTEGER PRIMARY KEY REFERENCES actors (id),
    repository TEXT NOT NULL DEFAULT '',
    licence    TEXT NOT NULL DEFAULT ''
);

CREATE TABLE project_tags (
    project_id INTEGER NOT NULL REFERENCES projects (actor_id),
    tag        TEXT    NOT NULL,
    PRIMARY KEY (project_id, tag)
);

CREATE TABLE project_needs (
    project_id INTEGER NOT NULL REFERENCES projects (actor_id),
    need       TEXT    NOT NULL,
    PRIMARY KEY (project_id, need)
);

-- Maintainers are actor URIs, local or remote, in the order given.
CREATE TABLE project_maintainers (
    project_id INTEGER NOT NULL REFERENCES projects (actor_id),
    position   INTEGER NOT NULL,
    actor_uri  TEXT    NOT NULL,
    PRIMARY KEY (project_id, actor_uri)
);
