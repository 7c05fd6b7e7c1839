package store

import (
	"context"
	"fmt"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// peerQuery reads peers with the state of the co-op's follow of each.
const peerQuery = `SELECT p.actor_uri, p.added_at, p.added_by, coalesce(f.state, ''),
		coalesce(ra.name, ''), coalesce(ra.preferred_username, ''), coalesce(ra.host, '')
	FROM peers p
	LEFT JOIN following f ON f.target_uri = p.actor_uri
		AND f.actor_id = (SELECT id FROM actors WHERE kind = 'Organization')
	LEFT JOIN remote_actors ra ON ra.uri = p.actor_uri`

func scanPeer(s scanner) (coop.Peer, error) {
	var (
		p  coop.Peer
		at string
	)
	if err := s.Scan(&p.Actor, &at, &p.AddedBy, &p.FollowState, &p.Name, &p.Handle, &p.Host); err != nil {
		return coop.Peer{}, err
	}
	var err error
	p.AddedAt, err = parseTime(at)
	return p, err
}

// Peers implements coop.Reader.
func (r reader) Peers(ctx context.Context) ([]coop.Peer, error) {
	return queryAll(ctx, r.q, "peers", scanPeer, peerQuery+` ORDER BY p.id`)
}

// Peer implements coop.Reader.
func (r reader) Peer(ctx context.Context, actorURI string) (coop.Peer, error) {
	p, err := scanPeer(r.q.QueryRowContext(ctx, peerQuery+` WHERE p.actor_uri = ?`, actorURI))
	if err != nil {
		return coop.Peer{}, notFound(err, fmt.Sprintf("peer %s", actorURI))
	}
	return p, nil
}

// InsertPeer implements coop.Tx.
func (t *Tx) InsertPeer(ctx context.Context, p coop.Peer) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO peers (actor_uri, added_at, added_by) VALUES (?, ?, ?)`,
		p.Actor, fmtTime(p.AddedAt), p.AddedBy)
	if isUniqueViolation(err) {
		return fmt.Errorf("store: insert peer %s: %w", p.Actor, coop.ErrPeerExists)
	}
	if err != nil {
		return fmt.Errorf("store: insert peer %s: %w", p.Actor, err)
	}
	return nil
}

// DeletePeer implements coop.Tx.
func (t *Tx) DeletePeer(ctx context.Context, actorURI string) error {
	return t.execOne(ctx, fmt.Sprintf("delete peer %s", actorURI), `DELETE FROM peers WHERE actor_uri = ?`, actorURI)
}

// BumpRevision implements coop.Tx.
func (t *Tx) BumpRevision(ctx context.Context, actorID int64, at time.Time) error {
	return t.execOne(ctx, fmt.Sprintf("bump revision of actor %d", actorID), `UPDATE actors
		SET updated_at = ?, revision = revision + 1 WHERE id = ?`, fmtTime(at), actorID)
}
