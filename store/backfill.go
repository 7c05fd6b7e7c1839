package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// BackfillMark returns the id of the newest outbox item of peer when its
// last backfill ended; ErrNotFound before the first.
func (r reader) BackfillMark(ctx context.Context, peer string) (string, error) {
	var id string
	err := r.q.QueryRowContext(ctx, `SELECT item_id FROM backfill_marks WHERE peer_uri = ?`, peer).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("backfill mark of %s: %w", peer, ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("store: backfill mark of %s: %w", peer, err)
	}
	return id, nil
}

// SetBackfillMark records the newest outbox item of peer a backfill read.
func (db *DB) SetBackfillMark(ctx context.Context, peer, itemID string, at time.Time) error {
	return db.Write(ctx, func(t *Tx) error {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO backfill_marks (peer_uri, item_id, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (peer_uri) DO UPDATE SET item_id = excluded.item_id, updated_at = excluded.updated_at`,
			peer, itemID, fmtTime(at))
		if err != nil {
			return fmt.Errorf("store: set backfill mark of %s: %w", peer, err)
		}
		return nil
	})
}
