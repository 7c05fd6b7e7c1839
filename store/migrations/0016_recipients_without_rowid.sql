-- A received Note's recipients are found by their primary key only: as a
-- WITHOUT ROWID table the key is the table, one b-tree instead of a rowid
-- table and its key's index, so each stored Note writes one b-tree less
-- in the inbox's group commit.
CREATE TABLE received_note_recipients_new (
    note_id  INTEGER NOT NULL REFERENCES received_notes (id),
    actor_id INTEGER NOT NULL REFERENCES actors (id),
    PRIMARY KEY (note_id, actor_id)
) WITHOUT ROWID;
INSERT INTO received_note_recipients_new (note_id, actor_id)
    SELECT note_id, actor_id FROM received_note_recipients;
DROP TABLE received_note_recipients;
ALTER TABLE received_note_recipients_new RENAME TO received_note_recipients;
