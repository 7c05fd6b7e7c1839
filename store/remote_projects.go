package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// RemoteProjects implements coop.Reader: the live ones (not removed).
func (r reader) RemoteProjects(ctx context.Context) ([]coop.RemoteProject, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT uri, coop_uri, handle, name, summary, summary_text, repository, licence,
			tags, needs, maintainers, updated_at
		FROM remote_projects WHERE removed_at IS NULL ORDER BY host, handle`)
	if err != nil {
		return nil, fmt.Errorf("store: remote projects: %w", err)
	}
	defer rows.Close()
	var out []coop.RemoteProject
	for rows.Next() {
		var (
			p                            coop.RemoteProject
			tags, needs, maintainers, at string
		)
		if err := rows.Scan(&p.URI, &p.Coop, &p.Handle, &p.Name, &p.Summary, &p.SummaryText, &p.Repository, &p.Licence,
			&tags, &needs, &maintainers, &at); err != nil {
			return nil, fmt.Errorf("store: remote projects: %w", err)
		}
		for _, l := range []struct {
			what string
			raw  string
			dst  *[]string
		}{{"tags", tags, &p.Tags}, {"needs", needs, &p.Needs}, {"maintainers", maintainers, &p.Maintainers}} {
			if err := json.Unmarshal([]byte(l.raw), l.dst); err != nil {
				return nil, fmt.Errorf("store: remote project %s %s: %w", p.URI, l.what, err)
			}
		}
		if p.UpdatedAt, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("store: remote project %s: %w", p.URI, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: remote projects: %w", err)
	}
	return out, nil
}

// RemoteProjectRemoved reports whether a member co-op removed the project
// with this URI; ErrNotFound when none was ever stored.
func (r reader) RemoteProjectRemoved(ctx context.Context, uri string) (bool, error) {
	var removed sql.NullString
	err := r.q.QueryRowContext(ctx, `SELECT removed_at FROM remote_projects WHERE uri = ?`, uri).Scan(&removed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("remote project %s: %w", uri, ErrNotFound)
	case err != nil:
		return false, fmt.Errorf("store: remote project %s: %w", uri, err)
	}
	return removed.Valid, nil
}

func hostOfURI(uri string) string {
	if u, err := url.Parse(uri); err == nil {
		return strings.ToLower(u.Host)
	}
	return ""
}

// PutRemoteProject stores, or replaces, a project a member co-op
// announced. A project removed before stays removed (the Add or Update
// is older than the removal, or comes back by mistake): nothing changes.
func (t *Tx) PutRemoteProject(ctx context.Context, p coop.RemoteProject) error {
	lists := make([]string, 3)
	for i, l := range [][]string{p.Tags, p.Needs, p.Maintainers} {
		b, err := json.Marshal(nonNilStrings(l))
		if err != nil {
			return err
		}
		lists[i] = string(b)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO remote_projects (uri, coop_uri, host, handle, name, summary, summary_text,
			repository, licence, tags, needs, maintainers, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (uri) DO UPDATE SET coop_uri = excluded.coop_uri, host = excluded.host, handle = excluded.handle,
			name = excluded.name, summary = excluded.summary, summary_text = excluded.summary_text,
			repository = excluded.repository, licence = excluded.licence, tags = excluded.tags,
			needs = excluded.needs, maintainers = excluded.maintainers, updated_at = excluded.updated_at
		WHERE remote_projects.removed_at IS NULL`,
		p.URI, p.Coop, hostOfURI(p.URI), p.Handle, p.Name, p.Summary, p.SummaryText, p.Repository, p.Licence,
		lists[0], lists[1], lists[2], fmtTime(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: put remote project %s: %w", p.URI, err)
	}
	return nil
}

// RemoveRemoteProject marks a member co-op's project removed, by coopURI.
// With create, a project never stored gets a removed row, so that an Add
// that arrives after its Remove is ignored; without, only a stored
// project is marked. It reports whether a live project went.
func (t *Tx) RemoveRemoteProject(ctx context.Context, uri, coopURI string, at time.Time, create bool) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE remote_projects SET removed_at = ?, updated_at = ?
		WHERE uri = ? AND removed_at IS NULL`, fmtTime(at), fmtTime(at), uri)
	if err != nil {
		return false, fmt.Errorf("store: remove remote project %s: %w", uri, err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return n > 0, err
	}
	if !create {
		return false, nil
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO remote_projects (uri, coop_uri, host, updated_at, removed_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (uri) DO NOTHING`, uri, coopURI, hostOfURI(uri), fmtTime(at), fmtTime(at))
	if err != nil {
		return false, fmt.Errorf("store: remove remote project %s: %w", uri, err)
	}
	return false, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
