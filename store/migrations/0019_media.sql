-- Images the node serves (issue 9: the co-op's avatar and header), kept in
-- the database so that a backup holds them: content addressed by the
-- SHA-256 of their bytes (hex), with the media type and size read from the
-- image itself when it was accepted.
CREATE TABLE media (
    sha256     TEXT    PRIMARY KEY,
    media_type TEXT    NOT NULL,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    bytes      BLOB    NOT NULL,
    created_at TEXT    NOT NULL
);

-- Which image a local actor shows as its avatar ('icon') and its header
-- ('image'), the names of the ActivityStreams properties that carry them.
CREATE TABLE actor_images (
    actor_id INTEGER NOT NULL REFERENCES actors (id),
    role     TEXT    NOT NULL CHECK (role IN ('icon', 'image')),
    sha256   TEXT    NOT NULL REFERENCES media (sha256),
    PRIMARY KEY (actor_id, role)
) WITHOUT ROWID;
