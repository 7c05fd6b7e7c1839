package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/coopfed/coopfed/coop"
)

const actorColumns = `a.id, a.kind, a.handle, a.name, a.summary, a.public_key_pem,
	a.manually_approves_followers, a.discoverable, a.created_at, a.updated_at, a.removed_at, a.revision`

type scanner interface{ Scan(dest ...any) error }

// scanActor reads actorColumns, followed by any extra destinations.
func scanActor(s scanner, extra ...any) (coop.Actor, error) {
	var (
		a                    coop.Actor
		kind                 string
		manual, discoverable int
		created, updated     string
		removed              sql.NullString
	)
	dest := append([]any{&a.ID, &kind, &a.Handle, &a.Name, &a.Summary, &a.PublicKeyPEM,
		&manual, &discoverable, &created, &updated, &removed, &a.Revision}, extra...)
	if err := s.Scan(dest...); err != nil {
		return coop.Actor{}, err
	}
	a.Kind = coop.Kind(kind)
	a.ManuallyApprovesFollowers = manual != 0
	a.Discoverable = discoverable != 0
	var err error
	if a.CreatedAt, err = parseTime(created); err != nil {
		return coop.Actor{}, err
	}
	if a.UpdatedAt, err = parseTime(updated); err != nil {
		return coop.Actor{}, err
	}
	if a.RemovedAt, err = parseNullTime(removed); err != nil {
		return coop.Actor{}, err
	}
	return a, nil
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// ActorByHandle implements coop.Reader.
func (r reader) ActorByHandle(ctx context.Context, handle string) (coop.Actor, error) {
	row := r.q.QueryRowContext(ctx, `SELECT `+actorColumns+` FROM actors a WHERE a.handle_fold = ?`, coop.FoldHandle(handle))
	a, err := scanActor(row)
	if err != nil {
		return coop.Actor{}, notFound(err, fmt.Sprintf("actor %q", handle))
	}
	return a, nil
}

// Coop implements coop.Reader.
func (r reader) Coop(ctx context.Context) (coop.Actor, error) {
	row := r.q.QueryRowContext(ctx, `SELECT `+actorColumns+` FROM actors a WHERE a.kind = 'Organization'`)
	a, err := scanActor(row)
	if err != nil {
		return coop.Actor{}, notFound(err, "co-op actor")
	}
	return a, nil
}

const memberColumns = actorColumns + `, m.email, m.role, m.must_change_password`

func scanMember(s scanner) (coop.Member, error) {
	var (
		m          coop.Member
		role       string
		mustChange int
	)
	a, err := scanActor(s, &m.Email, &role, &mustChange)
	if err != nil {
		return coop.Member{}, err
	}
	m.Actor, m.Role, m.MustChangePassword = a, coop.Role(role), mustChange != 0
	return m, nil
}

// MemberByHandle implements coop.Reader.
func (r reader) MemberByHandle(ctx context.Context, handle string) (coop.Member, error) {
	row := r.q.QueryRowContext(ctx, `SELECT `+memberColumns+`
		FROM actors a JOIN members m ON m.actor_id = a.id
		WHERE a.handle_fold = ?`, coop.FoldHandle(handle))
	m, err := scanMember(row)
	if err != nil {
		return coop.Member{}, notFound(err, fmt.Sprintf("member %q", handle))
	}
	return m, nil
}

// Members implements coop.Reader.
func (r reader) Members(ctx context.Context) ([]coop.Member, error) {
	return queryAll(ctx, r.q, "list members", scanMember, `SELECT `+memberColumns+`
		FROM actors a JOIN members m ON m.actor_id = a.id
		WHERE a.removed_at IS NULL ORDER BY a.handle_fold`)
}

// MemberPasswordHash returns a member's argon2id password hash.
func (r reader) MemberPasswordHash(ctx context.Context, id int64) (string, error) {
	var h string
	err := r.q.QueryRowContext(ctx, `SELECT password_hash FROM members WHERE actor_id = ?`, id).Scan(&h)
	if err != nil {
		return "", notFound(err, fmt.Sprintf("password of member %d", id))
	}
	return h, nil
}

// PrivateKeyPEM returns an actor's private key (PKCS#8 PEM), for signing.
func (r reader) PrivateKeyPEM(ctx context.Context, id int64) (string, error) {
	var k string
	err := r.q.QueryRowContext(ctx, `SELECT private_key_pem FROM actors WHERE id = ?`, id).Scan(&k)
	if err != nil {
		return "", notFound(err, fmt.Sprintf("key of actor %d", id))
	}
	return k, nil
}

// Counts implements coop.Reader.
func (r reader) Counts(ctx context.Context, now time.Time) (coop.Counts, error) {
	var c coop.Counts
	month := fmtTime(now.AddDate(0, 0, -30))
	halfyear := fmtTime(now.AddDate(0, 0, -180))
	err := r.q.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM actors a JOIN members m ON m.actor_id = a.id WHERE a.removed_at IS NULL),
		(SELECT count(*) FROM actors a JOIN members m ON m.actor_id = a.id WHERE a.removed_at IS NULL AND m.last_active_at >= ?),
		(SELECT count(*) FROM actors a JOIN members m ON m.actor_id = a.id WHERE a.removed_at IS NULL AND m.last_active_at >= ?),
		(SELECT count(*) FROM actors a JOIN projects p ON p.actor_id = a.id WHERE a.removed_at IS NULL),
		(SELECT count(*) FROM outbox WHERE activity_type = 'Create')`,
		month, halfyear).Scan(&c.Members, &c.ActiveMonth, &c.ActiveHalfyear, &c.Projects, &c.LocalPosts)
	if err != nil {
		return coop.Counts{}, fmt.Errorf("store: counts: %w", err)
	}
	return c, nil
}

// InsertActor implements coop.Tx.
func (t *Tx) InsertActor(ctx context.Context, a coop.Actor, privateKeyPEM string) (coop.Actor, error) {
	if !a.Kind.Valid() {
		return coop.Actor{}, fmt.Errorf("store: insert actor %q: kind %q", a.Handle, a.Kind)
	}
	if a.Revision == 0 {
		a.Revision = 1
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO actors
		(kind, handle, handle_fold, name, summary, public_key_pem, private_key_pem,
		 manually_approves_followers, discoverable, created_at, updated_at, removed_at, revision)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(a.Kind), a.Handle, coop.FoldHandle(a.Handle), a.Name, a.Summary, a.PublicKeyPEM, privateKeyPEM,
		boolInt(a.ManuallyApprovesFollowers), boolInt(a.Discoverable), fmtTime(a.CreatedAt), fmtTime(a.UpdatedAt),
		fmtNullTime(a.RemovedAt), a.Revision)
	if isUniqueViolation(err) {
		return coop.Actor{}, fmt.Errorf("%w: %q", coop.ErrHandleTaken, a.Handle)
	}
	if err != nil {
		return coop.Actor{}, fmt.Errorf("store: insert actor %q: %w", a.Handle, err)
	}
	if a.ID, err = res.LastInsertId(); err != nil {
		return coop.Actor{}, fmt.Errorf("store: insert actor %q: %w", a.Handle, err)
	}
	return a, nil
}

// InsertMember implements coop.Tx.
func (t *Tx) InsertMember(ctx context.Context, m coop.Member, passwordHash string) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO members (actor_id, email, role, password_hash, must_change_password)
		VALUES (?, ?, ?, ?, ?)`, m.ID, m.Email, string(m.Role), passwordHash, boolInt(m.MustChangePassword))
	if err != nil {
		return fmt.Errorf("store: insert member %q: %w", m.Handle, err)
	}
	return nil
}

// UpdateActorProfile implements coop.Tx.
func (t *Tx) UpdateActorProfile(ctx context.Context, id int64, name, summary string, at time.Time) error {
	return t.execOne(ctx, fmt.Sprintf("update actor %d", id), `UPDATE actors
		SET name = ?, summary = ?, updated_at = ?, revision = revision + 1 WHERE id = ?`,
		name, summary, fmtTime(at), id)
}

// RemoveActor implements coop.Tx.
func (t *Tx) RemoveActor(ctx context.Context, id int64, at time.Time) error {
	return t.execOne(ctx, fmt.Sprintf("remove actor %d", id), `UPDATE actors
		SET removed_at = ?, updated_at = ?, revision = revision + 1 WHERE id = ? AND removed_at IS NULL`,
		fmtTime(at), fmtTime(at), id)
}

// SetPassword implements coop.Tx.
func (t *Tx) SetPassword(ctx context.Context, id int64, passwordHash string, mustChange bool) error {
	return t.execOne(ctx, fmt.Sprintf("set password of member %d", id), `UPDATE members
		SET password_hash = ?, must_change_password = ? WHERE actor_id = ?`,
		passwordHash, boolInt(mustChange), id)
}

// SetMemberRole implements coop.Tx.
func (t *Tx) SetMemberRole(ctx context.Context, id int64, role coop.Role) error {
	return t.execOne(ctx, fmt.Sprintf("set role of member %d", id), `UPDATE members SET role = ? WHERE actor_id = ?`, string(role), id)
}

// execOne runs a statement that must change exactly one row.
func (t *Tx) execOne(ctx context.Context, what, query string, args ...any) error {
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n != 1 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}
