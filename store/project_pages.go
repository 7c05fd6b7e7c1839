package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"

	"github.com/coopfed/coopfed/coop"
)

// The reads of a project's page (coop.ProjectPageReader) and the write of
// its maintainers (coop.ProjectMaintainerWriter).

func beforeCursor(before int64) int64 {
	if before <= 0 {
		return math.MaxInt64
	}
	return before
}

// OutboxPosts implements coop.ProjectPageReader: the outbox_actor index
// walks the actor's rows newest first; a Create's object type is read
// from its body.
func (r reader) OutboxPosts(ctx context.Context, actorID, before int64, limit int) ([]coop.OutboxEntry, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, activity_type, body, published_at FROM outbox
		WHERE actor_id = ? AND id < ?
		AND (activity_type = 'Announce' OR (activity_type = 'Create' AND json_valid(body) AND json_extract(body, '$.object.type') = 'Note'))
		ORDER BY id DESC LIMIT ?`, actorID, beforeCursor(before), limit)
	if err != nil {
		return nil, fmt.Errorf("store: posts of actor %d: %w", actorID, err)
	}
	defer rows.Close()
	var out []coop.OutboxEntry
	for rows.Next() {
		var (
			e        coop.OutboxEntry
			body, at string
		)
		if err := rows.Scan(&e.Cursor, &e.Type, &body, &at); err != nil {
			return nil, fmt.Errorf("store: posts of actor %d: %w", actorID, err)
		}
		e.Body = []byte(body)
		if e.Published, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// publicAudience is the public collection as a Note may name it.
const publicAudience = `('https://www.w3.org/ns/activitystreams#Public', 'as:Public', 'Public')`

// PublicNotesTo implements coop.ProjectPageReader. received_note_recipients
// is keyed by note first, so the notes are walked newest first and each
// one's recipient looked up by its key, until the page is full.
func (r reader) PublicNotesTo(ctx context.Context, actorID, before int64, limit int) ([]coop.ReceivedPost, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT n.id, n.object_id, n.actor_uri, coalesce(ra.preferred_username, ''), coalesce(ra.name, ''),
			coalesce(ra.host, ''), n.content, n.in_reply_to, n.published, n.received_at
		FROM received_notes n LEFT JOIN remote_actors ra ON ra.uri = n.actor_uri
		WHERE n.id < ? AND n.direct = 0 AND n.name = ''
		AND EXISTS (SELECT 1 FROM received_note_recipients r WHERE r.note_id = n.id AND r.actor_id = ?)
		AND json_valid(n.raw)
		AND (EXISTS (SELECT 1 FROM json_each(n.raw, '$.to') WHERE value IN `+publicAudience+`)
			OR EXISTS (SELECT 1 FROM json_each(n.raw, '$.cc') WHERE value IN `+publicAudience+`))
		ORDER BY n.id DESC LIMIT ?`, beforeCursor(before), actorID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: notes to actor %d: %w", actorID, err)
	}
	defer rows.Close()
	var out []coop.ReceivedPost
	for rows.Next() {
		var (
			p         coop.ReceivedPost
			published sql.NullString
			at        string
		)
		if err := rows.Scan(&p.Cursor, &p.ObjectID, &p.ActorURI, &p.AuthorHandle, &p.AuthorName, &p.AuthorHost, &p.Content, &p.InReplyTo, &published, &at); err != nil {
			return nil, fmt.Errorf("store: notes to actor %d: %w", actorID, err)
		}
		if p.Published, err = parseNullTime(published); err != nil {
			return nil, err
		}
		if p.Published.IsZero() {
			if p.Published, err = parseTime(at); err != nil {
				return nil, err
			}
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SetProjectMaintainers implements coop.ProjectMaintainerWriter.
func (t *Tx) SetProjectMaintainers(ctx context.Context, projectID int64, uris []string) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM project_maintainers WHERE project_id = ?`, projectID); err != nil {
		return fmt.Errorf("store: maintainers of project %d: %w", projectID, err)
	}
	for i, uri := range uris {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO project_maintainers (project_id, position, actor_uri) VALUES (?, ?, ?)`,
			projectID, i, uri); err != nil {
			return fmt.Errorf("store: maintainers of project %d: %w", projectID, err)
		}
	}
	return nil
}
