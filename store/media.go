package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// ActorImages implements coop.Reader.
func (r reader) ActorImages(ctx context.Context, actorID int64) (coop.ActorImages, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT i.role, m.sha256, m.media_type, m.width, m.height, length(m.bytes)
		FROM actor_images i JOIN media m ON m.sha256 = i.sha256
		WHERE i.actor_id = ?`, actorID)
	if err != nil {
		return coop.ActorImages{}, fmt.Errorf("store: images of actor %d: %w", actorID, err)
	}
	defer rows.Close()
	var out coop.ActorImages
	for rows.Next() {
		var (
			role string
			img  coop.Image
		)
		if err := rows.Scan(&role, &img.SHA256, &img.MediaType, &img.Width, &img.Height, &img.Size); err != nil {
			return coop.ActorImages{}, fmt.Errorf("store: images of actor %d: %w", actorID, err)
		}
		switch coop.ImageSlot(role) {
		case coop.AvatarSlot:
			out.Avatar = &img
		case coop.HeaderSlot:
			out.Header = &img
		}
	}
	if err := rows.Err(); err != nil {
		return coop.ActorImages{}, fmt.Errorf("store: images of actor %d: %w", actorID, err)
	}
	return out, nil
}

// Media implements coop.Reader.
func (r reader) Media(ctx context.Context, sha256 string) (coop.Media, error) {
	var m coop.Media
	err := r.q.QueryRowContext(ctx, `SELECT sha256, media_type, width, height, bytes FROM media WHERE sha256 = ?`, sha256).
		Scan(&m.SHA256, &m.MediaType, &m.Width, &m.Height, &m.Bytes)
	if err != nil {
		return coop.Media{}, notFound(err, fmt.Sprintf("media %s", sha256))
	}
	m.Size = int64(len(m.Bytes))
	return m, nil
}

// PutMedia implements coop.Tx.
func (t *Tx) PutMedia(ctx context.Context, m coop.Media, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO media (sha256, media_type, width, height, bytes, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING`,
		m.SHA256, m.MediaType, m.Width, m.Height, m.Bytes, fmtTime(at))
	if err != nil {
		return fmt.Errorf("store: put media %s: %w", m.SHA256, err)
	}
	return nil
}

// SetActorImage implements coop.Tx.
func (t *Tx) SetActorImage(ctx context.Context, actorID int64, slot coop.ImageSlot, sha256 string) error {
	what := fmt.Sprintf("set %s of actor %d", slot, actorID)
	var old string
	err := t.tx.QueryRowContext(ctx, `SELECT sha256 FROM actor_images WHERE actor_id = ? AND role = ?`, actorID, string(slot)).Scan(&old)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if sha256 == "" {
		_, err = t.tx.ExecContext(ctx, `DELETE FROM actor_images WHERE actor_id = ? AND role = ?`, actorID, string(slot))
	} else {
		_, err = t.tx.ExecContext(ctx, `INSERT INTO actor_images (actor_id, role, sha256) VALUES (?, ?, ?)
			ON CONFLICT (actor_id, role) DO UPDATE SET sha256 = excluded.sha256`, actorID, string(slot), sha256)
	}
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if old != "" && old != sha256 {
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM media WHERE sha256 = ?
			AND NOT EXISTS (SELECT 1 FROM actor_images WHERE sha256 = ?)`, old, old); err != nil {
			return fmt.Errorf("store: %s: forget the old image: %w", what, err)
		}
	}
	return nil
}
