package store

import (
	"context"
	"fmt"
	"time"

	"github.com/coopfed/coopfed/coop"
)

const projectColumns = actorColumns + `, p.repository, p.licence`

// projectsWhere loads the projects matching a condition on a (actors) and p
// (projects), with their tags, needs and maintainers.
func (r reader) projectsWhere(ctx context.Context, cond string, args ...any) ([]coop.Project, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+projectColumns+`
		FROM actors a JOIN projects p ON p.actor_id = a.id
		WHERE `+cond+` ORDER BY a.handle_fold`, args...)
	if err != nil {
		return nil, err
	}
	var out []coop.Project
	for rows.Next() {
		var p coop.Project
		a, err := scanActor(rows, &p.Repository, &p.Licence)
		if err != nil {
			rows.Close()
			return nil, err
		}
		p.Actor = a
		out = append(out, p)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		id := out[i].ID
		if out[i].Tags, err = r.strings(ctx, `SELECT tag FROM project_tags WHERE project_id = ? ORDER BY tag`, id); err != nil {
			return nil, err
		}
		if out[i].Needs, err = r.strings(ctx, `SELECT need FROM project_needs WHERE project_id = ? ORDER BY need`, id); err != nil {
			return nil, err
		}
		if out[i].Maintainers, err = r.strings(ctx, `SELECT actor_uri FROM project_maintainers WHERE project_id = ? ORDER BY position`, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// strings runs a query of one text column.
func (r reader) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ProjectByHandle implements coop.Reader.
func (r reader) ProjectByHandle(ctx context.Context, slug string) (coop.Project, error) {
	ps, err := r.projectsWhere(ctx, `a.handle_fold = ?`, coop.FoldHandle(slug))
	if err != nil {
		return coop.Project{}, fmt.Errorf("store: project %q: %w", slug, err)
	}
	if len(ps) == 0 {
		return coop.Project{}, fmt.Errorf("project %q: %w", slug, ErrNotFound)
	}
	return ps[0], nil
}

// Projects implements coop.Reader.
func (r reader) Projects(ctx context.Context) ([]coop.Project, error) {
	ps, err := r.projectsWhere(ctx, `a.removed_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("store: list projects: %w", err)
	}
	return ps, nil
}

// InsertProject implements coop.Tx.
func (t *Tx) InsertProject(ctx context.Context, p coop.Project) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO projects (actor_id, repository, licence) VALUES (?, ?, ?)`,
		p.ID, p.Repository, p.Licence); err != nil {
		return fmt.Errorf("store: insert project %q: %w", p.Handle, err)
	}
	for _, tag := range p.Tags {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO project_tags (project_id, tag) VALUES (?, ?)`, p.ID, tag); err != nil {
			return fmt.Errorf("store: insert project %q tag %q: %w", p.Handle, tag, err)
		}
	}
	for _, need := range p.Needs {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO project_needs (project_id, need) VALUES (?, ?)`, p.ID, need); err != nil {
			return fmt.Errorf("store: insert project %q need %q: %w", p.Handle, need, err)
		}
	}
	for i, uri := range p.Maintainers {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO project_maintainers (project_id, position, actor_uri) VALUES (?, ?, ?)`,
			p.ID, i, uri); err != nil {
			return fmt.Errorf("store: insert project %q maintainer %q: %w", p.Handle, uri, err)
		}
	}
	return nil
}

// UpdateProject implements coop.Tx.
func (t *Tx) UpdateProject(ctx context.Context, p coop.Project, at time.Time) error {
	if err := t.execOne(ctx, fmt.Sprintf("update project %q", p.Handle), `UPDATE actors
		SET name = ?, summary = ?, updated_at = ?, revision = revision + 1 WHERE id = ?`,
		p.Name, p.Summary, fmtTime(at), p.ID); err != nil {
		return err
	}
	if err := t.execOne(ctx, fmt.Sprintf("update project %q", p.Handle), `UPDATE projects
		SET repository = ?, licence = ? WHERE actor_id = ?`, p.Repository, p.Licence, p.ID); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM project_tags WHERE project_id = ?`, `DELETE FROM project_needs WHERE project_id = ?`} {
		if _, err := t.tx.ExecContext(ctx, q, p.ID); err != nil {
			return fmt.Errorf("store: update project %q: %w", p.Handle, err)
		}
	}
	for _, tag := range p.Tags {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO project_tags (project_id, tag) VALUES (?, ?)`, p.ID, tag); err != nil {
			return fmt.Errorf("store: update project %q tag %q: %w", p.Handle, tag, err)
		}
	}
	for _, need := range p.Needs {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO project_needs (project_id, need) VALUES (?, ?)`, p.ID, need); err != nil {
			return fmt.Errorf("store: update project %q need %q: %w", p.Handle, need, err)
		}
	}
	return nil
}
