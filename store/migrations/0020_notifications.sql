-- A member's notifications (issue 9) are derived from what the node
-- keeps already (proposals, outcomes, contributions, payout rounds,
-- replies, pending links); only how far the member has read them is kept
-- here, one row per member, not a copy of every event.
CREATE TABLE notification_marks (
    member_id  INTEGER PRIMARY KEY REFERENCES actors (id),
    read_until TEXT NOT NULL
);

-- Replies that local actors published (a member's reply to a proposal,
-- from its page): the discussion of a proposal shows them with the
-- remote replies (received_notes). The text is kept as written (plain
-- text); the Note itself is in the outbox.
CREATE TABLE local_replies (
    note_id     TEXT PRIMARY KEY,
    in_reply_to TEXT NOT NULL,
    author_id   INTEGER NOT NULL REFERENCES actors (id),
    text        TEXT NOT NULL,
    published   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX local_replies_in_reply_to ON local_replies (in_reply_to);
