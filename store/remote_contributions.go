package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
)

const remoteContributionColumns = `object_id, project, number, contributor, kind, minutes, points, evidence, day,
	status, reason, log_index, received_at, sent, sent_by`

func (r reader) remoteContributionsWhere(ctx context.Context, cond string, args ...any) ([]coop.RemoteContribution, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+remoteContributionColumns+`
		FROM remote_contributions WHERE `+cond+` ORDER BY project, day, number`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: remote contributions: %w", err)
	}
	defer rows.Close()
	var out []coop.RemoteContribution
	for rows.Next() {
		var (
			c                       coop.RemoteContribution
			evidence, day, received string
		)
		if err := rows.Scan(&c.URI, &c.Project, &c.Number, &c.Contributor, &c.Kind, &c.Minutes, &c.Points, &evidence, &day,
			&c.Status, &c.Reason, &c.LogIndex, &received, &c.Sent, &c.SentBy); err != nil {
			return nil, fmt.Errorf("store: remote contributions: %w", err)
		}
		if err := json.Unmarshal([]byte(evidence), &c.Evidence); err != nil {
			return nil, fmt.Errorf("store: remote contribution %s evidence: %w", c.URI, err)
		}
		if c.Day, err = time.Parse(time.DateOnly, day); err != nil {
			return nil, fmt.Errorf("store: remote contribution %s day: %w", c.URI, err)
		}
		if c.Received, err = parseTime(received); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RemoteContribution implements coop.Reader.
func (r reader) RemoteContribution(ctx context.Context, uri string) (coop.RemoteContribution, error) {
	cs, err := r.remoteContributionsWhere(ctx, `object_id = ?`, uri)
	if err != nil {
		return coop.RemoteContribution{}, err
	}
	if len(cs) == 0 {
		return coop.RemoteContribution{}, fmt.Errorf("store: remote contribution %s: %w", uri, ErrNotFound)
	}
	return cs[0], nil
}

// RemoteContributions implements coop.Reader.
func (r reader) RemoteContributions(ctx context.Context, f coop.RemoteContributionFilter) ([]coop.RemoteContribution, error) {
	cond, args := []string{`1 = 1`}, []any{}
	if f.Project != "" {
		cond, args = append(cond, `project = ?`), append(args, f.Project)
	}
	if f.Status != "" {
		cond, args = append(cond, `status = ?`), append(args, f.Status)
	}
	return r.remoteContributionsWhere(ctx, strings.Join(cond, " AND "), args...)
}

// PutRemoteContribution stores a record a project's Group sent, or
// replaces the one kept under its URL with it: by the same project only,
// and never back to pending once decided (an older Create that comes after
// the Update changes nothing). The decision a member sent is kept.
func (t *Tx) PutRemoteContribution(ctx context.Context, c coop.RemoteContribution) error {
	ev, err := json.Marshal(c.Evidence)
	if err != nil {
		return err
	}
	if c.Evidence == nil {
		ev = []byte("[]")
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO remote_contributions (object_id, project, number, contributor, kind, minutes,
			points, evidence, day, status, reason, log_index, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (object_id) DO UPDATE SET number = excluded.number, contributor = excluded.contributor,
			kind = excluded.kind, minutes = excluded.minutes, points = excluded.points, evidence = excluded.evidence,
			day = excluded.day, status = excluded.status, reason = excluded.reason, log_index = excluded.log_index,
			received_at = excluded.received_at
		WHERE remote_contributions.project = excluded.project
			AND (remote_contributions.status = 'pending' OR excluded.status <> 'pending')`,
		c.URI, c.Project, c.Number, c.Contributor, c.Kind, c.Minutes, c.Points, string(ev), c.Day.UTC().Format(time.DateOnly),
		c.Status, c.Reason, c.LogIndex, fmtTime(c.Received))
	if err != nil {
		return fmt.Errorf("store: put remote contribution %s: %w", c.URI, err)
	}
	return nil
}

// SetRemoteContributionSent implements coop.Tx.
func (t *Tx) SetRemoteContributionSent(ctx context.Context, uri, decision, by string) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE remote_contributions SET sent = ?, sent_by = ? WHERE object_id = ?`, decision, by, uri)
	if err != nil {
		return fmt.Errorf("store: remote contribution %s: %w", uri, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: remote contribution %s: %w", uri, ErrNotFound)
	}
	return nil
}
