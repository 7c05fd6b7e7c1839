package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
)

const contributionColumns = `c.id, c.project_id, a.handle, c.contributor, c.kind, c.minutes, c.points, c.evidence, c.day,
	c.note, c.status, c.reason, c.commit_hash, c.recorded_by, c.decided_by, c.created_at, c.updated_at, c.log_index`

func (r reader) contributionsWhere(ctx context.Context, cond string, args ...any) ([]coop.Contribution, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+contributionColumns+`
		FROM contributions c JOIN actors a ON a.id = c.project_id WHERE `+cond+` ORDER BY c.day, c.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: contributions: %w", err)
	}
	defer rows.Close()
	var out []coop.Contribution
	for rows.Next() {
		var (
			c                           coop.Contribution
			evidence, day, created, upd string
			hash                        sql.NullString
		)
		if err := rows.Scan(&c.ID, &c.ProjectID, &c.Project, &c.Contributor, &c.Kind, &c.Minutes, &c.Points, &evidence, &day,
			&c.Note, &c.Status, &c.Reason, &hash, &c.RecordedBy, &c.DecidedBy, &created, &upd, &c.LogIndex); err != nil {
			return nil, fmt.Errorf("store: contributions: %w", err)
		}
		c.CommitHash = hash.String
		if err := json.Unmarshal([]byte(evidence), &c.Evidence); err != nil {
			return nil, fmt.Errorf("store: contribution %d evidence: %w", c.ID, err)
		}
		if c.Day, err = time.Parse(time.DateOnly, day); err != nil {
			return nil, fmt.Errorf("store: contribution %d day: %w", c.ID, err)
		}
		if c.Created, err = parseTime(created); err != nil {
			return nil, err
		}
		if c.Updated, err = parseTime(upd); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Contribution implements coop.Reader.
func (r reader) Contribution(ctx context.Context, id int64) (coop.Contribution, error) {
	cs, err := r.contributionsWhere(ctx, `c.id = ?`, id)
	if err != nil {
		return coop.Contribution{}, err
	}
	if len(cs) == 0 {
		return coop.Contribution{}, fmt.Errorf("store: contribution %d: %w", id, ErrNotFound)
	}
	return cs[0], nil
}

// Contributions implements coop.Reader.
func (r reader) Contributions(ctx context.Context, projectID int64, f coop.ContributionFilter) ([]coop.Contribution, error) {
	cond, args := []string{`c.project_id = ?`}, []any{projectID}
	if f.Status != "" {
		cond, args = append(cond, `c.status = ?`), append(args, f.Status)
	}
	if f.Contributor != "" {
		cond, args = append(cond, `c.contributor = ?`), append(args, f.Contributor)
	}
	if f.Kind != "" {
		cond, args = append(cond, `c.kind = ?`), append(args, f.Kind)
	}
	if !f.From.IsZero() {
		cond, args = append(cond, `c.day >= ?`), append(args, f.From.UTC().Format(time.DateOnly))
	}
	if !f.To.IsZero() {
		cond, args = append(cond, `c.day < ?`), append(args, f.To.UTC().Format(time.DateOnly))
	}
	return r.contributionsWhere(ctx, strings.Join(cond, " AND "), args...)
}

// MemberByEmail implements coop.Reader.
func (r reader) MemberByEmail(ctx context.Context, email string) (coop.Member, error) {
	row := r.q.QueryRowContext(ctx, `SELECT `+memberColumns+`
		FROM actors a JOIN members m ON m.actor_id = a.id
		WHERE a.removed_at IS NULL AND (lower(m.email) = ?1
			OR a.id IN (SELECT member_id FROM member_aliases WHERE email = ?1))
		ORDER BY a.id LIMIT 1`, strings.ToLower(email))
	m, err := scanMember(row)
	if err != nil {
		return coop.Member{}, notFound(err, fmt.Sprintf("member with address %q", email))
	}
	return m, nil
}

// ImportedCommits implements coop.Reader.
func (r reader) ImportedCommits(ctx context.Context, projectID int64, hashes []string) (map[string]bool, error) {
	out := make(map[string]bool)
	const chunk = 500
	for i := 0; i < len(hashes); i += chunk {
		part := hashes[i:min(i+chunk, len(hashes))]
		args := make([]any, 0, len(part)+1)
		args = append(args, projectID)
		for _, h := range part {
			args = append(args, h)
		}
		rows, err := r.q.QueryContext(ctx, `SELECT commit_hash FROM contributions WHERE project_id = ? AND commit_hash IN (`+
			strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: imported commits: %w", err)
		}
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: imported commits: %w", err)
			}
			out[h] = true
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// InsertContribution implements coop.Tx.
func (t *Tx) InsertContribution(ctx context.Context, c coop.Contribution) (int64, error) {
	ev, err := json.Marshal(c.Evidence)
	if err != nil {
		return 0, err
	}
	if c.Evidence == nil {
		ev = []byte("[]")
	}
	var hash any
	if c.CommitHash != "" {
		hash = c.CommitHash
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO contributions (project_id, contributor, kind, minutes, points, evidence, day,
		note, status, reason, commit_hash, recorded_by, decided_by, created_at, updated_at, log_index)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ProjectID, c.Contributor, c.Kind, c.Minutes, c.Points, string(ev), c.Day.UTC().Format(time.DateOnly),
		c.Note, c.Status, c.Reason, hash, c.RecordedBy, c.DecidedBy, fmtTime(c.Created), fmtTime(c.Updated), c.LogIndex)
	if isUniqueViolation(err) {
		return 0, fmt.Errorf("store: commit %s of the project: %w", c.CommitHash, ErrDuplicate)
	}
	if err != nil {
		return 0, fmt.Errorf("store: insert contribution: %w", err)
	}
	return res.LastInsertId()
}

// DecideContribution implements coop.Tx.
func (t *Tx) DecideContribution(ctx context.Context, c coop.Contribution) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE contributions SET status = ?, reason = ?, decided_by = ?, updated_at = ?, log_index = ?
		WHERE id = ?`, c.Status, c.Reason, c.DecidedBy, fmtTime(c.Updated), c.LogIndex, c.ID)
	if err != nil {
		return fmt.Errorf("store: decide contribution %d: %w", c.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: contribution %d: %w", c.ID, ErrNotFound)
	}
	return nil
}

// InsertAlias implements coop.Tx.
func (t *Tx) InsertAlias(ctx context.Context, memberID int64, email string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO member_aliases (email, member_id, added_at) VALUES (?, ?, ?)`,
		strings.ToLower(email), memberID, fmtTime(at))
	if isUniqueViolation(err) {
		return fmt.Errorf("%w: %s is already a member's address", coop.ErrInvalidInput, email)
	}
	if err != nil {
		return fmt.Errorf("store: insert alias: %w", err)
	}
	return nil
}
