package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/coopfed/coopfed/coop"
)

// RemoteProjects implements coop.Reader.
func (r reader) RemoteProjects(ctx context.Context) ([]coop.RemoteProject, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT uri, coop_uri, handle, name, repository, licence, tags, needs, updated_at
		FROM remote_projects ORDER BY host, handle`)
	if err != nil {
		return nil, fmt.Errorf("store: remote projects: %w", err)
	}
	defer rows.Close()
	var out []coop.RemoteProject
	for rows.Next() {
		var (
			p               coop.RemoteProject
			tags, needs, at string
		)
		if err := rows.Scan(&p.URI, &p.Coop, &p.Handle, &p.Name, &p.Repository, &p.Licence, &tags, &needs, &at); err != nil {
			return nil, fmt.Errorf("store: remote projects: %w", err)
		}
		if err := json.Unmarshal([]byte(tags), &p.Tags); err != nil {
			return nil, fmt.Errorf("store: remote project %s tags: %w", p.URI, err)
		}
		if err := json.Unmarshal([]byte(needs), &p.Needs); err != nil {
			return nil, fmt.Errorf("store: remote project %s needs: %w", p.URI, err)
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

// PutRemoteProject stores, or replaces, a project a member co-op
// announced.
func (t *Tx) PutRemoteProject(ctx context.Context, p coop.RemoteProject) error {
	host := ""
	if u, err := url.Parse(p.URI); err == nil {
		host = strings.ToLower(u.Host)
	}
	tags, err := json.Marshal(nonNilStrings(p.Tags))
	if err != nil {
		return err
	}
	needs, err := json.Marshal(nonNilStrings(p.Needs))
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO remote_projects (uri, coop_uri, host, handle, name, repository, licence, tags, needs, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (uri) DO UPDATE SET coop_uri = excluded.coop_uri, host = excluded.host, handle = excluded.handle,
			name = excluded.name, repository = excluded.repository, licence = excluded.licence,
			tags = excluded.tags, needs = excluded.needs, updated_at = excluded.updated_at`,
		p.URI, p.Coop, host, p.Handle, p.Name, p.Repository, p.Licence, string(tags), string(needs), fmtTime(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: put remote project %s: %w", p.URI, err)
	}
	return nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
