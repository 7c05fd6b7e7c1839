package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// Discussions, notification marks and member aliases (issue 9).

// Discussion implements coop.Reader: the thread under uri, walked down
// through in_reply_to (UNION drops a Note met twice, so a cycle ends).
// Only public Notes are part of it (public or unlisted: the Public
// collection among their addressees, which received_notes keeps only in
// the Note as received): not poll votes (a name and no content), direct
// messages nor followers-only posts.
func (r reader) Discussion(ctx context.Context, uri string) ([]coop.DiscussionNote, error) {
	rows, err := r.q.QueryContext(ctx, `WITH RECURSIVE thread(id) AS (
			SELECT ?1
			UNION
			SELECT n.object_id FROM received_notes n JOIN thread t ON n.in_reply_to = t.id
				WHERE `+publicNote+`
			UNION
			SELECT l.note_id FROM local_replies l JOIN thread t ON l.in_reply_to = t.id
		)
		SELECT 0, n.object_id, n.in_reply_to, n.actor_uri, coalesce(ra.preferred_username, ''), coalesce(ra.name, ''),
			coalesce(ra.host, ''), n.content, coalesce(n.published, n.received_at) AS at
		FROM received_notes n LEFT JOIN remote_actors ra ON ra.uri = n.actor_uri
		WHERE n.object_id IN (SELECT id FROM thread WHERE id <> ?1) AND `+publicNote+`
		UNION ALL
		SELECT 1, l.note_id, l.in_reply_to, '', a.handle, a.name, '', l.text, l.published AS at
		FROM local_replies l JOIN actors a ON a.id = l.author_id
		WHERE l.note_id IN (SELECT id FROM thread WHERE id <> ?1)
		ORDER BY at, 2`, uri)
	if err != nil {
		return nil, fmt.Errorf("store: discussion of %s: %w", uri, err)
	}
	defer rows.Close()
	var out []coop.DiscussionNote
	for rows.Next() {
		var (
			n       coop.DiscussionNote
			local   int
			content string
			at      string
		)
		if err := rows.Scan(&local, &n.ID, &n.InReplyTo, &n.AuthorURI, &n.AuthorHandle, &n.AuthorName, &n.AuthorHost, &content, &at); err != nil {
			return nil, fmt.Errorf("store: discussion of %s: %w", uri, err)
		}
		n.Local = local == 1
		if n.Local {
			n.Text = content
		} else {
			n.HTML = content
		}
		if n.Published, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// publicNote is the condition on received_notes n of a public Note with
// content: addressed to the Public collection (in full, or compacted as
// "as:Public" or "Public"), not direct, not a poll vote.
const publicNote = `n.direct = 0 AND NOT (n.name <> '' AND n.content = '')
	AND (instr(n.raw, 'https://www.w3.org/ns/activitystreams#Public') > 0 OR instr(n.raw, '"as:Public"') > 0
		OR instr(n.raw, '"Public"') > 0)`

// InsertLocalReply implements coop.Tx; a reply recorded already is left
// as it is.
func (t *Tx) InsertLocalReply(ctx context.Context, l coop.LocalReply) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO local_replies (note_id, in_reply_to, author_id, text, published)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (note_id) DO NOTHING`,
		l.NoteID, l.InReplyTo, l.AuthorID, l.Text, fmtTime(l.Published))
	if err != nil {
		return fmt.Errorf("store: insert local reply %s: %w", l.NoteID, err)
	}
	return nil
}

// NotificationsReadUntil implements coop.Reader.
func (r reader) NotificationsReadUntil(ctx context.Context, memberID int64) (time.Time, error) {
	var s string
	err := r.q.QueryRowContext(ctx, `SELECT read_until FROM notification_marks WHERE member_id = ?`, memberID).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: notifications read of %d: %w", memberID, err)
	}
	return parseTime(s)
}

// SetNotificationsRead implements coop.Tx.
func (t *Tx) SetNotificationsRead(ctx context.Context, memberID int64, until time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO notification_marks (member_id, read_until) VALUES (?, ?)
		ON CONFLICT (member_id) DO UPDATE SET read_until = excluded.read_until`, memberID, fmtTime(until))
	if err != nil {
		return fmt.Errorf("store: mark notifications of %d read: %w", memberID, err)
	}
	return nil
}

// MemberAliases implements coop.Reader.
func (r reader) MemberAliases(ctx context.Context, memberID int64) ([]coop.Alias, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT email, added_at FROM member_aliases WHERE member_id = ? ORDER BY email`, memberID)
	if err != nil {
		return nil, fmt.Errorf("store: aliases of %d: %w", memberID, err)
	}
	defer rows.Close()
	var out []coop.Alias
	for rows.Next() {
		var (
			a  coop.Alias
			at string
		)
		if err := rows.Scan(&a.Email, &at); err != nil {
			return nil, fmt.Errorf("store: aliases of %d: %w", memberID, err)
		}
		if a.Added, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// DeleteAlias implements coop.Tx.
func (t *Tx) DeleteAlias(ctx context.Context, memberID int64, email string) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM member_aliases WHERE member_id = ? AND email = lower(?)`, memberID, email)
	if err != nil {
		return false, fmt.Errorf("store: delete alias: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
