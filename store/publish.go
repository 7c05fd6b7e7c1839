package store

import (
	"context"
	"fmt"
)

// FollowerInboxes returns where a local actor's posts to its followers go:
// for each accepted follower, its shared inbox when it has one, else its
// own inbox, each once. Followers whose actor is gone, or was never
// fetched, are left out: there is nowhere to deliver to.
func (r reader) FollowerInboxes(ctx context.Context, actorID int64) ([]string, error) {
	inboxes, err := r.strings(ctx, `SELECT DISTINCT CASE WHEN ra.shared_inbox != '' THEN ra.shared_inbox ELSE ra.inbox END
		FROM followers f JOIN remote_actors ra ON ra.uri = f.follower_uri
		WHERE f.actor_id = ? AND f.state = 'accepted' AND ra.gone_at IS NULL
		  AND (ra.shared_inbox != '' OR ra.inbox != '')
		ORDER BY 1`, actorID)
	if err != nil {
		return nil, fmt.Errorf("store: follower inboxes of actor %d: %w", actorID, err)
	}
	return inboxes, nil
}

// RemoveFollowing forgets that a local actor follows targetURI and returns
// the id of the Follow it had sent, for the Undo. It is ErrNotFound when
// the actor does not follow the target.
func (t *Tx) RemoveFollowing(ctx context.Context, actorID int64, targetURI string) (string, error) {
	var followID string
	err := t.tx.QueryRowContext(ctx, `DELETE FROM following WHERE actor_id = ? AND target_uri = ? RETURNING follow_id`,
		actorID, targetURI).Scan(&followID)
	if err != nil {
		return "", notFound(err, fmt.Sprintf("actor %d following %s", actorID, targetURI))
	}
	return followID, nil
}

// LocalFollowersOf returns the ids of the local actors whose follow of
// targetURI was accepted: a post the target addresses to its followers is
// for them.
func (r reader) LocalFollowersOf(ctx context.Context, targetURI string) ([]int64, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT actor_id FROM following WHERE target_uri = ? AND state = 'accepted' ORDER BY actor_id`, targetURI)
	if err != nil {
		return nil, fmt.Errorf("store: local followers of %s: %w", targetURI, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: local followers of %s: %w", targetURI, err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
