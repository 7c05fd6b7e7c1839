-- Most inbound rows are stored done (an activity applied in the
-- transaction that stores it) and stay so: the indexes that find
-- unfinished work need not hold them. Partial indexes leave two index
-- inserts per accepted activity out of the inbox's group commit (and the
-- pages they dirty out of its WAL frames), and keep the claims' passes
-- over the unfinished rows small however many done rows there are. A
-- query uses them only when its WHERE has the index's own term
-- (state IN ('queued', 'in_flight')) verbatim.
DROP INDEX inbound_due;
CREATE INDEX inbound_due ON inbound (state, next_attempt_at) WHERE state IN ('queued', 'in_flight');
DROP INDEX inbound_actor;
CREATE INDEX inbound_actor ON inbound (actor_uri, state, id) WHERE state IN ('queued', 'in_flight');

-- Most received Notes reply to nothing; a query by in_reply_to must say
-- in_reply_to <> '' to use this index.
DROP INDEX received_notes_reply;
CREATE INDEX received_notes_reply ON received_notes (in_reply_to) WHERE in_reply_to <> '';
