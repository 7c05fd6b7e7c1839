-- Web sessions (issue 9): server-side, so that a member's sessions can be
-- revoked at once (removed, password changed, signed out). Only a hash
-- of the cookie's token is kept. csrf is the session's form token.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    member_id    INTEGER NOT NULL REFERENCES actors (id),
    csrf         TEXT NOT NULL,
    must_change  INTEGER NOT NULL DEFAULT 0, -- signed in with a one-time password: only the password page
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_member ON sessions (member_id);
