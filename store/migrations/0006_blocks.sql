-- Blocked remote domains (a domain covers its subdomains) and accounts
-- (by actor URI). target is normalized by coop.NormalizeDomain for a
-- domain, so that one domain has one row.
CREATE TABLE blocks (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('domain', 'account')),
    target     TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (kind, target)
);
