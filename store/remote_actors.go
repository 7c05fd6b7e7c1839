package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// RemoteActor is an actor of another server as this node last fetched it.
type RemoteActor struct {
	ID                string // the actor's URI
	Type              string // Person, Group, Organization, Service, Application
	PreferredUsername string
	Name              string
	Inbox             string
	SharedInbox       string // "" when it has none
	Followers         string
	KeyID             string // its publicKey's id
	PublicKeyPEM      string
	Host              string // the host of ID, lower case
	FetchedAt         time.Time
	GoneAt            time.Time // zero unless deleted or answering 410
}

// Gone reports whether the actor was deleted.
func (a RemoteActor) Gone() bool { return !a.GoneAt.IsZero() }

const remoteActorColumns = `uri, type, preferred_username, name, inbox, shared_inbox, followers,
	key_id, public_key_pem, host, fetched_at, gone_at`

func scanRemoteActor(s scanner) (RemoteActor, error) {
	var (
		a       RemoteActor
		fetched string
		gone    sql.NullString
	)
	if err := s.Scan(&a.ID, &a.Type, &a.PreferredUsername, &a.Name, &a.Inbox, &a.SharedInbox, &a.Followers,
		&a.KeyID, &a.PublicKeyPEM, &a.Host, &fetched, &gone); err != nil {
		return RemoteActor{}, err
	}
	var err error
	if a.FetchedAt, err = parseTime(fetched); err != nil {
		return RemoteActor{}, err
	}
	if a.GoneAt, err = parseNullTime(gone); err != nil {
		return RemoteActor{}, err
	}
	return a, nil
}

// RemoteActor returns the cached actor with the given URI.
func (r reader) RemoteActor(ctx context.Context, uri string) (RemoteActor, error) {
	a, err := scanRemoteActor(r.q.QueryRowContext(ctx, `SELECT `+remoteActorColumns+` FROM remote_actors WHERE uri = ?`, uri))
	if err != nil {
		return RemoteActor{}, notFound(err, fmt.Sprintf("remote actor %s", uri))
	}
	return a, nil
}

// RemoteActorByKeyID returns the cached actor whose key has the given id.
func (r reader) RemoteActorByKeyID(ctx context.Context, keyID string) (RemoteActor, error) {
	a, err := scanRemoteActor(r.q.QueryRowContext(ctx, `SELECT `+remoteActorColumns+`
		FROM remote_actors WHERE key_id = ? ORDER BY fetched_at DESC LIMIT 1`, keyID))
	if err != nil {
		return RemoteActor{}, notFound(err, fmt.Sprintf("remote actor with key %s", keyID))
	}
	return a, nil
}

// RemoteActorCacheTTL is the longest the DB's in-memory copy of a
// remote actor row is used: a change another process makes to the row (a
// fetch by the CLI) holds here within it. A change written through this
// DB holds at once: its commit empties the copy.
const RemoteActorCacheTTL = time.Second

// maxCachedRemoteActors bounds the copy; when full it starts again empty.
const maxCachedRemoteActors = 10000

// remoteActorCache keeps the rows RemoteActor and RemoteActorByKeyID read
// on the DB, so that every signed request does not query for its key.
type remoteActorCache struct {
	gen   atomic.Uint64 // bumped after every commit that wrote remote actors
	mu    sync.Mutex
	byURI map[string]cachedRemoteActor
	byKey map[string]cachedRemoteActor
	now   func() time.Time // nil: time.Now; tests set it
}

type cachedRemoteActor struct {
	a      RemoteActor
	gen    uint64
	loaded time.Time
}

func (c *remoteActorCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

func (c *remoteActorCache) invalidate() { c.gen.Add(1) }

func (c *remoteActorCache) get(byKey bool, k string) (RemoteActor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.byURI
	if byKey {
		m = c.byKey
	}
	e, ok := m[k]
	if !ok || e.gen != c.gen.Load() || c.clock().Sub(e.loaded) >= RemoteActorCacheTTL {
		return RemoteActor{}, false
	}
	return e.a, true
}

func (c *remoteActorCache) put(byKey bool, k string, a RemoteActor, gen uint64, loaded time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byURI == nil || len(c.byURI)+len(c.byKey) >= maxCachedRemoteActors {
		c.byURI, c.byKey = map[string]cachedRemoteActor{}, map[string]cachedRemoteActor{}
	}
	m := c.byURI
	if byKey {
		m = c.byKey
	}
	m[k] = cachedRemoteActor{a: a, gen: gen, loaded: loaded}
}

// cached reads through the cache: gen and the time are taken before the
// query, so that a write committed while it runs leaves the entry stale.
func (c *remoteActorCache) cached(byKey bool, k string, load func() (RemoteActor, error)) (RemoteActor, error) {
	if a, ok := c.get(byKey, k); ok {
		return a, nil
	}
	gen, loaded := c.gen.Load(), c.clock()
	a, err := load()
	if err == nil {
		c.put(byKey, k, a, gen, loaded)
	}
	return a, err
}

// RemoteActor is reader.RemoteActor through the DB's cache.
func (db *DB) RemoteActor(ctx context.Context, uri string) (RemoteActor, error) {
	return db.actors.cached(false, uri, func() (RemoteActor, error) { return db.reader.RemoteActor(ctx, uri) })
}

// RemoteActorByKeyID is reader.RemoteActorByKeyID through the DB's cache.
func (db *DB) RemoteActorByKeyID(ctx context.Context, keyID string) (RemoteActor, error) {
	return db.actors.cached(true, keyID, func() (RemoteActor, error) { return db.reader.RemoteActorByKeyID(ctx, keyID) })
}

// PutRemoteActor stores an actor as fetched, replacing what was cached; a
// fetched actor is not gone.
func (t *Tx) PutRemoteActor(ctx context.Context, a RemoteActor) error {
	t.actorsChanged = true
	_, err := t.tx.ExecContext(ctx, `INSERT INTO remote_actors (`+remoteActorColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (uri) DO UPDATE SET type = excluded.type, preferred_username = excluded.preferred_username,
			name = excluded.name, inbox = excluded.inbox, shared_inbox = excluded.shared_inbox,
			followers = excluded.followers, key_id = excluded.key_id, public_key_pem = excluded.public_key_pem,
			host = excluded.host, fetched_at = excluded.fetched_at, gone_at = excluded.gone_at`,
		a.ID, a.Type, a.PreferredUsername, a.Name, a.Inbox, a.SharedInbox, a.Followers,
		a.KeyID, a.PublicKeyPEM, a.Host, fmtTime(a.FetchedAt), fmtNullTime(a.GoneAt))
	if err != nil {
		return fmt.Errorf("store: put remote actor %s: %w", a.ID, err)
	}
	return nil
}

// PutRemoteActor stores an actor in its own transaction.
func (db *DB) PutRemoteActor(ctx context.Context, a RemoteActor) error {
	return db.Write(ctx, func(t *Tx) error { return t.PutRemoteActor(ctx, a) })
}

// MarkRemoteActorGone records that an actor was deleted (or answers 410),
// keeping what is known of it so that it is not fetched again. An actor
// not cached gets a row of its own, with keyID (its key's id, when known)
// so that requests signed with that key are refused without a fetch.
func (t *Tx) MarkRemoteActorGone(ctx context.Context, uri, keyID, host string, at time.Time) error {
	t.actorsChanged = true
	_, err := t.tx.ExecContext(ctx, `INSERT INTO remote_actors (uri, key_id, host, fetched_at, gone_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (uri) DO UPDATE SET gone_at = coalesce(remote_actors.gone_at, excluded.gone_at),
			key_id = CASE WHEN remote_actors.key_id = '' THEN excluded.key_id ELSE remote_actors.key_id END`,
		uri, keyID, host, fmtTime(at), fmtTime(at))
	if err != nil {
		return fmt.Errorf("store: mark remote actor %s gone: %w", uri, err)
	}
	return nil
}

// MarkRemoteActorGone marks an actor gone in its own transaction.
func (db *DB) MarkRemoteActorGone(ctx context.Context, uri, keyID, host string, at time.Time) error {
	return db.Write(ctx, func(t *Tx) error { return t.MarkRemoteActorGone(ctx, uri, keyID, host, at) })
}

// RemoveFollowsOf removes every follow between local actors and a remote
// actor (it follows them, or they follow it), for a Delete of that actor.
// It returns how many rows went.
func (t *Tx) RemoveFollowsOf(ctx context.Context, uri string) (int64, error) {
	var n int64
	for _, q := range []string{
		`DELETE FROM followers WHERE follower_uri = ?`,
		`DELETE FROM following WHERE target_uri = ?`,
	} {
		res, err := t.tx.ExecContext(ctx, q, uri)
		if err != nil {
			return n, fmt.Errorf("store: remove follows of %s: %w", uri, err)
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}
