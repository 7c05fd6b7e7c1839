-- What a local actor has published, newest last by id. The outbox serves
-- these pages; delivery comes with the federation issue.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    actor_id      INTEGER NOT NULL REFERENCES actors (id),
    activity_id   TEXT    NOT NULL UNIQUE,
    activity_type TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    published_at  TEXT    NOT NULL
);
CREATE INDEX outbox_actor ON outbox (actor_id, id);

-- Remote (or local) actors following a local actor.
CREATE TABLE followers (
    id           INTEGER PRIMARY KEY,
    actor_id     INTEGER NOT NULL REFERENCES actors (id),
    follower_uri TEXT    NOT NULL,
    follow_id    TEXT    NOT NULL DEFAULT '',
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'accepted')),
    created_at   TEXT    NOT NULL,
    UNIQUE (actor_id, follower_uri)
);
CREATE INDEX followers_actor ON followers (actor_id, state, id);

-- Actors a local actor follows.
CREATE TABLE following (
    id         INTEGER PRIMARY KEY,
    actor_id   INTEGER NOT NULL REFERENCES actors (id),
    target_uri TEXT    NOT NULL,
    follow_id  TEXT    NOT NULL DEFAULT '',
    state      TEXT    NOT NULL CHECK (state IN ('pending', 'accepted')),
    created_at TEXT    NOT NULL,
    UNIQUE (actor_id, target_uri)
);
CREATE INDEX following_actor ON following (actor_id, state, id);
