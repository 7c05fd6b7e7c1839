-- inbound_actor need not hold the state: its partial WHERE already says
-- which rows it holds, and SQLite drops a query's identical term
-- (state IN ('queued', 'in_flight')) as implied. On (actor_uri, id) the
-- look-ups by actor read no IN list (an ephemeral table each time, on
-- (actor_uri, state, id)) and come out in id order without a sort.
DROP INDEX inbound_actor;
CREATE INDEX inbound_actor ON inbound (actor_uri, id) WHERE state IN ('queued', 'in_flight');
