package store

import (
	"context"
	"fmt"
	"time"

	"github.com/coopfed/coopfed/coop"
)

const followerColumns = `follower_uri, follow_id, state, created_at`

func scanFollower(s scanner) (coop.Follower, error) {
	var (
		f         coop.Follower
		state, at string
	)
	if err := s.Scan(&f.Actor, &f.FollowID, &state, &at); err != nil {
		return coop.Follower{}, err
	}
	f.Pending = state == "pending"
	var err error
	f.Since, err = parseTime(at)
	return f, err
}

// Follower implements coop.Reader.
func (r reader) Follower(ctx context.Context, actorID int64, followerURI string) (coop.Follower, error) {
	f, err := scanFollower(r.q.QueryRowContext(ctx, `SELECT `+followerColumns+` FROM followers
		WHERE actor_id = ? AND follower_uri = ?`, actorID, followerURI))
	if err != nil {
		return coop.Follower{}, notFound(err, fmt.Sprintf("follower %s of actor %d", followerURI, actorID))
	}
	return f, nil
}

// FollowersOf implements coop.Reader. (Followers returns the same rows in
// the shape federation's tests compare.)
func (r reader) FollowersOf(ctx context.Context, actorID int64) ([]coop.Follower, error) {
	return queryAll(ctx, r.q, fmt.Sprintf("followers of actor %d", actorID), scanFollower,
		`SELECT `+followerColumns+` FROM followers WHERE actor_id = ? ORDER BY id`, actorID)
}

// AcceptFollower implements coop.Tx.
func (t *Tx) AcceptFollower(ctx context.Context, actorID int64, followerURI string) error {
	return t.execOne(ctx, fmt.Sprintf("accept follower %s of actor %d", followerURI, actorID), `UPDATE followers
		SET state = 'accepted' WHERE actor_id = ? AND follower_uri = ? AND state = 'pending'`, actorID, followerURI)
}

// SetManualApproval implements coop.Tx.
func (t *Tx) SetManualApproval(ctx context.Context, id int64, on bool, at time.Time) error {
	return t.execOne(ctx, fmt.Sprintf("set manual approval of actor %d", id), `UPDATE actors
		SET manually_approves_followers = ?, updated_at = ?, revision = revision + 1 WHERE id = ?`,
		boolInt(on), fmtTime(at), id)
}
