package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// CollectionPage returns one page of a local actor's outbox, followers,
// following or (the co-op's) federation, newest first, paged by row id so
// that items added meanwhile neither repeat nor vanish across pages.
func (r reader) CollectionPage(ctx context.Context, actorID int64, c coop.Collection, req coop.PageRequest) (coop.Page, error) {
	var countQ, pageQ string
	switch c {
	case coop.Outbox:
		countQ = `SELECT count(*) FROM outbox WHERE actor_id = ?`
		pageQ = `SELECT id, activity_id, body FROM outbox WHERE actor_id = ? AND id < ? ORDER BY id DESC LIMIT ?`
	case coop.Followers:
		countQ = `SELECT count(*) FROM followers WHERE actor_id = ? AND state = 'accepted'`
		pageQ = `SELECT id, follower_uri, '' FROM followers WHERE actor_id = ? AND state = 'accepted' AND id < ? ORDER BY id DESC LIMIT ?`
	case coop.Following:
		countQ = `SELECT count(*) FROM following WHERE actor_id = ? AND state = 'accepted'`
		pageQ = `SELECT id, target_uri, '' FROM following WHERE actor_id = ? AND state = 'accepted' AND id < ? ORDER BY id DESC LIMIT ?`
	case coop.Federation:
		// The federation is the co-op's: any other actor's is empty.
		const ofCoop = `? = (SELECT id FROM actors WHERE kind = 'Organization')`
		countQ = `SELECT count(*) FROM peers WHERE ` + ofCoop
		pageQ = `SELECT id, actor_uri, '' FROM peers WHERE ` + ofCoop + ` AND id < ? ORDER BY id DESC LIMIT ?`
	default:
		return coop.Page{}, fmt.Errorf("store: unknown collection %q", c)
	}
	if req.Limit <= 0 {
		return coop.Page{}, fmt.Errorf("store: %s page: limit %d", c, req.Limit)
	}
	before := req.Before
	if before <= 0 {
		before = math.MaxInt64
	}
	var p coop.Page
	if err := r.q.QueryRowContext(ctx, countQ, actorID).Scan(&p.Total); err != nil {
		return coop.Page{}, fmt.Errorf("store: count %s of actor %d: %w", c, actorID, err)
	}
	// One more than asked tells whether an older page exists.
	rows, err := r.q.QueryContext(ctx, pageQ, actorID, before, req.Limit+1)
	if err != nil {
		return coop.Page{}, fmt.Errorf("store: %s of actor %d: %w", c, actorID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			it   coop.PageItem
			body string
		)
		if err := rows.Scan(&it.Cursor, &it.IRI, &body); err != nil {
			return coop.Page{}, fmt.Errorf("store: %s of actor %d: %w", c, actorID, err)
		}
		if body != "" {
			it.Activity = []byte(body)
		}
		p.Items = append(p.Items, it)
	}
	if err := rows.Err(); err != nil {
		return coop.Page{}, fmt.Errorf("store: %s of actor %d: %w", c, actorID, err)
	}
	if len(p.Items) > req.Limit {
		p.Items = p.Items[:req.Limit]
		p.Next = p.Items[req.Limit-1].Cursor
	}
	return p, nil
}

// AppendOutbox records an activity a local actor published.
func (t *Tx) AppendOutbox(ctx context.Context, actorID int64, activityID, activityType string, body []byte, published time.Time) (int64, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO outbox (actor_id, activity_id, activity_type, body, published_at)
		VALUES (?, ?, ?, ?, ?)`, actorID, activityID, activityType, string(body), fmtTime(published))
	if err != nil {
		return 0, fmt.Errorf("store: append outbox of actor %d: %w", actorID, err)
	}
	return res.LastInsertId()
}

// AddFollower records that followerURI follows a local actor, in the given
// state ("pending" or "accepted"); a repeated follow updates the state.
func (t *Tx) AddFollower(ctx context.Context, actorID int64, followerURI, followID, state string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO followers (actor_id, follower_uri, follow_id, state, created_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (actor_id, follower_uri) DO UPDATE SET follow_id = excluded.follow_id, state = excluded.state`,
		actorID, followerURI, followID, state, fmtTime(at))
	if err != nil {
		return fmt.Errorf("store: add follower of actor %d: %w", actorID, err)
	}
	return nil
}

// AddFollowing records that a local actor follows targetURI.
func (t *Tx) AddFollowing(ctx context.Context, actorID int64, targetURI, followID, state string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO following (actor_id, target_uri, follow_id, state, created_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (actor_id, target_uri) DO UPDATE SET follow_id = excluded.follow_id, state = excluded.state`,
		actorID, targetURI, followID, state, fmtTime(at))
	if err != nil {
		return fmt.Errorf("store: add following of actor %d: %w", actorID, err)
	}
	return nil
}
