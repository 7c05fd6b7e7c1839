package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// AccountLink implements coop.Reader.
func (r reader) AccountLink(ctx context.Context, account string) (coop.AccountLink, error) {
	ls, err := r.accountLinks(ctx, `l.account = ?`, account)
	if err != nil {
		return coop.AccountLink{}, err
	}
	if len(ls) == 0 {
		return coop.AccountLink{}, fmt.Errorf("store: link of %s: %w", account, ErrNotFound)
	}
	return ls[0], nil
}

// AccountLinks implements coop.Reader.
func (r reader) AccountLinks(ctx context.Context, memberID int64) ([]coop.AccountLink, error) {
	return r.accountLinks(ctx, `l.member_id = ?`, memberID)
}

func (r reader) accountLinks(ctx context.Context, cond string, arg any) ([]coop.AccountLink, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT l.account, l.member_id, a.handle, l.requested_at, l.confirmed_at, l.note_id
		FROM account_links l JOIN actors a ON a.id = l.member_id WHERE `+cond+` ORDER BY l.requested_at, l.account`, arg)
	if err != nil {
		return nil, fmt.Errorf("store: account links: %w", err)
	}
	defer rows.Close()
	var out []coop.AccountLink
	for rows.Next() {
		var (
			l         coop.AccountLink
			requested string
			confirmed sql.NullString
		)
		if err := rows.Scan(&l.Account, &l.MemberID, &l.Handle, &requested, &confirmed, &l.NoteID); err != nil {
			return nil, fmt.Errorf("store: account links: %w", err)
		}
		if l.Requested, err = parseTime(requested); err != nil {
			return nil, err
		}
		if l.Confirmed, err = parseNullTime(confirmed); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// PendingVotesOf implements coop.Reader.
func (r reader) PendingVotesOf(ctx context.Context, account string) ([]coop.PendingVote, error) {
	return r.pendingVotes(ctx, `account = ?`, account)
}

// PendingVotes implements coop.Reader.
func (r reader) PendingVotes(ctx context.Context, num int64) ([]coop.PendingVote, error) {
	return r.pendingVotes(ctx, `proposal_id = ?`, num)
}

func (r reader) pendingVotes(ctx context.Context, cond string, arg any) ([]coop.PendingVote, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, proposal_id, account, option, note_id, accepted_at
		FROM pending_votes WHERE `+cond+` ORDER BY accepted_at, id`, arg)
	if err != nil {
		return nil, fmt.Errorf("store: pending votes: %w", err)
	}
	defer rows.Close()
	var out []coop.PendingVote
	for rows.Next() {
		var (
			v  coop.PendingVote
			at string
		)
		if err := rows.Scan(&v.ID, &v.Proposal, &v.Account, &v.Option, &v.NoteID, &at); err != nil {
			return nil, fmt.Errorf("store: pending votes: %w", err)
		}
		if v.Accepted, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// StrangerRefusals implements coop.Reader.
func (r reader) StrangerRefusals(ctx context.Context, num int64) ([]coop.StrangerRefusal, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT reason, after_close, count FROM stranger_refusals
		WHERE proposal_id = ? ORDER BY after_close, reason`, num)
	if err != nil {
		return nil, fmt.Errorf("store: stranger refusals of %d: %w", num, err)
	}
	defer rows.Close()
	var out []coop.StrangerRefusal
	for rows.Next() {
		var (
			s     coop.StrangerRefusal
			after int
		)
		if err := rows.Scan(&s.Reason, &after, &s.Count); err != nil {
			return nil, fmt.Errorf("store: stranger refusals of %d: %w", num, err)
		}
		s.AfterClose = after != 0
		out = append(out, s)
	}
	return out, rows.Err()
}

// ProposalAudience implements coop.Reader.
func (r reader) ProposalAudience(ctx context.Context, num int64) ([]string, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT account FROM proposal_audience WHERE proposal_id = ? ORDER BY account`, num)
	if err != nil {
		return nil, fmt.Errorf("store: audience of %d: %w", num, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("store: audience of %d: %w", num, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CountsDue implements coop.Reader.
func (r reader) CountsDue(ctx context.Context, changedBefore, sentBefore time.Time) ([]int64, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id FROM proposals
		WHERE state = 'open' AND counts_changed_at IS NOT NULL AND counts_changed_at <= ?
		AND (counts_sent_at IS NULL OR counts_sent_at <= ?) ORDER BY id`, fmtTime(changedBefore), fmtTime(sentBefore))
	if err != nil {
		return nil, fmt.Errorf("store: counts due: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("store: counts due: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// UnprocessedInbound implements coop.Reader.
func (r reader) UnprocessedInbound(ctx context.Context, t time.Time) (int, error) {
	var n int
	if err := r.q.QueryRowContext(ctx, `SELECT count(*) FROM inbound
		WHERE state IN ('queued', 'in_flight') AND received_at <= ?`, fmtTime(t)).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: unprocessed inbound: %w", err)
	}
	return n, nil
}

// InsertLinkCode implements coop.Tx.
func (t *Tx) InsertLinkCode(ctx context.Context, memberID int64, hash string, created, expires time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO link_codes (member_id, code_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?)`, memberID, hash, fmtTime(created), fmtTime(expires)); err != nil {
		return fmt.Errorf("store: insert link code: %w", err)
	}
	return nil
}

// UseLinkCode implements coop.Tx.
func (t *Tx) UseLinkCode(ctx context.Context, hash string, now time.Time) (int64, error) {
	var member int64
	err := t.tx.QueryRowContext(ctx, `UPDATE link_codes SET used_at = ?
		WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING member_id`,
		fmtTime(now), hash, fmtTime(now)).Scan(&member)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: link code: %w", ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: use link code: %w", err)
	}
	return member, nil
}

// PutAccountLink implements coop.Tx.
func (t *Tx) PutAccountLink(ctx context.Context, l coop.AccountLink) error {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO account_links (account, member_id, requested_at, note_id)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (account) DO UPDATE SET member_id = excluded.member_id,
			requested_at = excluded.requested_at, note_id = excluded.note_id
		WHERE account_links.confirmed_at IS NULL`, l.Account, l.MemberID, fmtTime(l.Requested), l.NoteID)
	if err != nil {
		return fmt.Errorf("store: put account link: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: put account link: %w", err)
	} else if n == 0 {
		return fmt.Errorf("store: link of %s: %w", l.Account, coop.ErrAccountLinked)
	}
	return nil
}

// ConfirmAccountLink implements coop.Tx.
func (t *Tx) ConfirmAccountLink(ctx context.Context, account string, memberID int64, at time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE account_links SET confirmed_at = ?
		WHERE account = ? AND member_id = ? AND confirmed_at IS NULL`, fmtTime(at), account, memberID)
	if err != nil {
		return fmt.Errorf("store: confirm account link: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: confirm account link: %w", err)
	} else if n == 0 {
		return fmt.Errorf("store: pending link of %s: %w", account, ErrNotFound)
	}
	return nil
}

// InsertPendingVote implements coop.Tx.
func (t *Tx) InsertPendingVote(ctx context.Context, v coop.PendingVote) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO pending_votes (proposal_id, account, option, note_id, accepted_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, v.Proposal, v.Account, v.Option, v.NoteID, fmtTime(v.Accepted))
	if err != nil {
		return false, fmt.Errorf("store: insert pending vote: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeletePendingVote implements coop.Tx.
func (t *Tx) DeletePendingVote(ctx context.Context, id int64) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM pending_votes WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: delete pending vote: %w", err)
	}
	return nil
}

// MarkLinkHint implements coop.Tx.
func (t *Tx) MarkLinkHint(ctx context.Context, account string, at time.Time) (bool, error) {
	return t.insertOnce(ctx, `INSERT INTO link_hints (account, sent_at) VALUES (?, ?) ON CONFLICT DO NOTHING`, account, fmtTime(at))
}

// insertOnce runs an INSERT ... ON CONFLICT DO NOTHING and reports whether
// it inserted.
func (t *Tx) insertOnce(ctx context.Context, query string, args ...any) (bool, error) {
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// AddStrangerRefusals implements coop.Tx.
func (t *Tx) AddStrangerRefusals(ctx context.Context, num int64, reason string, afterClose bool, n int) error {
	after := 0
	if afterClose {
		after = 1
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO stranger_refusals (proposal_id, reason, after_close, count)
		VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET count = count + excluded.count`, num, reason, after, n); err != nil {
		return fmt.Errorf("store: count stranger refusals: %w", err)
	}
	return nil
}

// AddProposalAudience implements coop.Tx.
func (t *Tx) AddProposalAudience(ctx context.Context, num int64, account string) error {
	_, err := t.insertOnce(ctx, `INSERT INTO proposal_audience (proposal_id, account) VALUES (?, ?) ON CONFLICT DO NOTHING`, num, account)
	return err
}

// SetCountsChanged implements coop.Tx.
func (t *Tx) SetCountsChanged(ctx context.Context, num int64, at time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE proposals SET counts_changed_at = coalesce(counts_changed_at, ?) WHERE id = ?`,
		fmtTime(at), num); err != nil {
		return fmt.Errorf("store: counts changed: %w", err)
	}
	return nil
}

// SetCountsSent implements coop.Tx.
func (t *Tx) SetCountsSent(ctx context.Context, num int64, at time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE proposals SET counts_changed_at = NULL, counts_sent_at = ? WHERE id = ?`,
		fmtTime(at), num); err != nil {
		return fmt.Errorf("store: counts sent: %w", err)
	}
	return nil
}

// MarkNotice implements coop.Tx.
func (t *Tx) MarkNotice(ctx context.Context, num, memberID int64, kind string, at time.Time) (bool, error) {
	return t.insertOnce(ctx, `INSERT INTO proposal_notices (proposal_id, member_id, kind, sent_at)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, num, memberID, kind, fmtTime(at))
}
