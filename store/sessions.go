package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// Session implements coop.Reader.
func (r reader) Session(ctx context.Context, tokenHash string) (coop.Session, error) {
	var (
		s                      coop.Session
		must                   int
		created, seen, expires string
	)
	err := r.q.QueryRowContext(ctx, `SELECT token_hash, member_id, csrf, must_change, created_at, last_seen_at, expires_at
		FROM sessions WHERE token_hash = ?`, tokenHash).Scan(&s.TokenHash, &s.MemberID, &s.CSRF, &must, &created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return coop.Session{}, fmt.Errorf("store: session: %w", ErrNotFound)
	}
	if err != nil {
		return coop.Session{}, fmt.Errorf("store: session: %w", err)
	}
	s.MustChange = must != 0
	if s.Created, err = parseTime(created); err != nil {
		return coop.Session{}, err
	}
	if s.LastSeen, err = parseTime(seen); err != nil {
		return coop.Session{}, err
	}
	if s.Expires, err = parseTime(expires); err != nil {
		return coop.Session{}, err
	}
	return s, nil
}

// InsertSession implements coop.Tx.
func (t *Tx) InsertSession(ctx context.Context, s coop.Session) error {
	must := 0
	if s.MustChange {
		must = 1
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, member_id, csrf, must_change, created_at, last_seen_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, s.TokenHash, s.MemberID, s.CSRF, must, fmtTime(s.Created), fmtTime(s.LastSeen), fmtTime(s.Expires)); err != nil {
		return fmt.Errorf("store: insert session: %w", err)
	}
	return nil
}

// DeleteSession implements coop.Tx.
func (t *Tx) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteSessionsOf implements coop.Tx.
func (t *Tx) DeleteSessionsOf(ctx context.Context, memberID int64) (int64, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM sessions WHERE member_id = ?`, memberID)
	if err != nil {
		return 0, fmt.Errorf("store: delete sessions: %w", err)
	}
	return res.RowsAffected()
}

// TouchSession implements coop.Tx.
func (t *Tx) TouchSession(ctx context.Context, tokenHash string, seen, expires time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE token_hash = ?`,
		fmtTime(seen), fmtTime(expires), tokenHash); err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}
