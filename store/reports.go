package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// Reports received (migration 0018): a row per Flag, and the local
// accounts and objects it names in report_targets.

const reportColumns = `id, flag_id, reporter_uri, comment, received_at, state, resolved_by, resolved_at, note`

func scanReport(s scanner) (coop.Report, error) {
	var (
		r               coop.Report
		received, state string
		resolved        sql.NullString
		err             error
	)
	if err := s.Scan(&r.ID, &r.FlagID, &r.Reporter, &r.Comment, &received, &state, &r.ResolvedBy, &resolved, &r.Note); err != nil {
		return coop.Report{}, err
	}
	r.State = coop.ReportState(state)
	if r.ReceivedAt, err = parseTime(received); err != nil {
		return coop.Report{}, err
	}
	if r.ResolvedAt, err = parseNullTime(resolved); err != nil {
		return coop.Report{}, err
	}
	return r, nil
}

// InsertReport implements coop.ReportWriter.
func (t *Tx) InsertReport(ctx context.Context, r coop.Report) (int64, bool, error) {
	var id int64
	err := t.tx.QueryRowContext(ctx, `INSERT INTO reports (flag_id, reporter_uri, comment, received_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (flag_id) DO NOTHING RETURNING id`,
		r.FlagID, r.Reporter, r.Comment, fmtTime(r.ReceivedAt)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil // stored before
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: insert report %s: %w", r.FlagID, err)
	}
	pos := 0
	for _, set := range []struct {
		kind string
		uris []string
	}{{"account", r.Accounts}, {"object", r.Objects}} {
		for _, uri := range set.uris {
			if _, err := t.tx.ExecContext(ctx, `INSERT INTO report_targets (report_id, position, kind, uri) VALUES (?, ?, ?, ?)`,
				id, pos, set.kind, uri); err != nil {
				return 0, false, fmt.Errorf("store: insert report %s: %w", r.FlagID, err)
			}
			pos++
		}
	}
	return id, true, nil
}

// ResolveReport implements coop.ReportWriter.
func (t *Tx) ResolveReport(ctx context.Context, id int64, by, note string, at time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE reports SET state = 'resolved', resolved_by = ?, resolved_at = ?, note = ?
		WHERE id = ? AND state = 'open'`, by, fmtTime(at), note, id)
	if err != nil {
		return fmt.Errorf("store: resolve report %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: resolve report %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("open report %d: %w", id, ErrNotFound)
	}
	return nil
}

// Report implements coop.ReportReader.
func (r reader) Report(ctx context.Context, id int64) (coop.Report, error) {
	rep, err := scanReport(r.q.QueryRowContext(ctx, `SELECT `+reportColumns+` FROM reports WHERE id = ?`, id))
	if err != nil {
		return coop.Report{}, notFound(err, fmt.Sprintf("report %d", id))
	}
	reps := []coop.Report{rep}
	if err := r.reportTargets(ctx, reps); err != nil {
		return coop.Report{}, err
	}
	return reps[0], nil
}

// Reports implements coop.ReportReader.
func (r reader) Reports(ctx context.Context, q coop.ReportQuery) ([]coop.Report, error) {
	before := q.Before
	if before <= 0 {
		before = math.MaxInt64
	}
	limit := int64(q.Limit)
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	out, err := queryAll(ctx, r.q, "reports", scanReport,
		`SELECT `+reportColumns+` FROM reports WHERE (?1 = '' OR state = ?1) AND id < ?2 ORDER BY id DESC LIMIT ?3`, string(q.State), before, limit)
	if err != nil || len(out) == 0 {
		return out, err
	}
	return out, r.reportTargets(ctx, out)
}

// reportTargets fills in the accounts and objects of reps, in one query.
func (r reader) reportTargets(ctx context.Context, reps []coop.Report) error {
	if len(reps) == 0 {
		return nil
	}
	at := make(map[int64]int, len(reps))
	marks, args := make([]string, len(reps)), make([]any, len(reps))
	for i, rep := range reps {
		at[rep.ID], marks[i], args[i] = i, "?", rep.ID
	}
	rows, err := r.q.QueryContext(ctx, `SELECT report_id, kind, uri FROM report_targets
		WHERE report_id IN (`+strings.Join(marks, ",")+`) ORDER BY report_id, position`, args...)
	if err != nil {
		return fmt.Errorf("store: report targets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind, uri string
		if err := rows.Scan(&id, &kind, &uri); err != nil {
			return fmt.Errorf("store: report targets: %w", err)
		}
		i := at[id]
		if kind == "account" {
			reps[i].Accounts = append(reps[i].Accounts, uri)
		} else {
			reps[i].Objects = append(reps[i].Objects, uri)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: report targets: %w", err)
	}
	return nil
}

// Published reports whether this node sent the activity with the given
// id: it is in an outbox (public posts), or was queued for delivery (a
// direct message, which no outbox holds).
func (r reader) Published(ctx context.Context, activityID string) (bool, error) {
	var one int
	err := r.q.QueryRowContext(ctx, `SELECT 1 FROM outbox WHERE activity_id = ?
		UNION ALL SELECT 1 FROM deliveries WHERE activity_id = ? LIMIT 1`, activityID, activityID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: published %s: %w", activityID, err)
	}
	return true, nil
}
