package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coopfed/coopfed/coop"
)

var (
	_ coop.BlockStore = (*DB)(nil)
	_ coop.BlockTx    = (*Tx)(nil)
)

const blockColumns = `kind, target, reason, created_by, created_at`

func scanBlock(s scanner) (coop.Block, error) {
	var (
		b        coop.Block
		kind, at string
	)
	if err := s.Scan(&kind, &b.Target, &b.Reason, &b.By, &at); err != nil {
		return coop.Block{}, err
	}
	b.Kind = coop.BlockKind(kind)
	var err error
	b.CreatedAt, err = parseTime(at)
	return b, err
}

// UpdateBlocks implements coop.BlockStore.
func (db *DB) UpdateBlocks(ctx context.Context, fn func(coop.BlockTx) error) error {
	return db.Write(ctx, func(t *Tx) error { return fn(t) })
}

// Blocks implements coop.BlockStore.
func (r reader) Blocks(ctx context.Context) ([]coop.Block, error) {
	return queryAll(ctx, r.q, "blocks", scanBlock, `SELECT `+blockColumns+` FROM blocks ORDER BY kind DESC, id`)
}

// DomainBlock finds the block of host's domain or of a domain above it
// (the longest one when several hold). host is normalized with
// coop.NormalizeDomain; one that does not normalize is an error wrapping
// coop.ErrInvalidDomain. No block is ErrNotFound. On a transaction it
// reads the table; on the DB it reads the block cache (see blockCache).
func (r reader) DomainBlock(ctx context.Context, host string) (coop.Block, error) {
	cands, err := coop.DomainCandidates(host)
	if err != nil {
		return coop.Block{}, fmt.Errorf("store: domain block of %q: %w", host, err)
	}
	args := make([]any, len(cands))
	for i, c := range cands {
		args[i] = c
	}
	b, err := scanBlock(r.q.QueryRowContext(ctx, `SELECT `+blockColumns+` FROM blocks
		WHERE kind = 'domain' AND target IN (?`+strings.Repeat(", ?", len(cands)-1)+`)
		ORDER BY length(target) DESC LIMIT 1`, args...))
	if err != nil {
		return coop.Block{}, notFound(err, "domain block of "+host)
	}
	return b, nil
}

// AccountBlock finds the block of one remote actor; none is ErrNotFound.
// On a transaction it reads the table; on the DB, the block cache.
func (r reader) AccountBlock(ctx context.Context, actorURI string) (coop.Block, error) {
	b, err := scanBlock(r.q.QueryRowContext(ctx, `SELECT `+blockColumns+` FROM blocks
		WHERE kind = 'account' AND target = ?`, actorURI))
	if err != nil {
		return coop.Block{}, notFound(err, "account block of "+actorURI)
	}
	return b, nil
}

// BlockCacheTTL is the longest a DB's cached block list is used: a block
// added or removed by another process (`coopfed block add` while serve
// runs) holds in this process within BlockCacheTTL. A block written
// through this DB holds at once: its commit empties the cache.
const BlockCacheTTL = time.Second

// blockCache is the block list in memory, so that the block checks of
// every inbox POST, fetch and delivery (federation.Blocklist) cost no
// query. A snapshot is the whole table (blocks are few: an admin's list),
// reloaded when older than BlockCacheTTL or when this process committed a
// change to the blocks (gen moved on).
type blockCache struct {
	gen      atomic.Uint64 // bumped after every commit that changed blocks
	versions atomic.Uint64 // the last snapshot's version (BlocksVersion)
	snap     atomic.Pointer[blockSnapshot]
	mu       sync.Mutex       // one reload at a time
	now      func() time.Time // nil: time.Now; tests set it
}

type blockSnapshot struct {
	gen      uint64
	version  uint64    // one more than the snapshot before
	loaded   time.Time // when the query that read it began
	domains  map[string]coop.Block
	accounts map[string]coop.Block
}

// invalidate makes the next look-up reload the list.
func (c *blockCache) invalidate() { c.gen.Add(1) }

func (c *blockCache) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

func (c *blockCache) fresh(s *blockSnapshot, now time.Time) bool {
	return s != nil && s.gen == c.gen.Load() && now.Sub(s.loaded) < BlockCacheTTL
}

// get returns a snapshot no older than BlockCacheTTL that reflects every
// block change this process committed.
func (c *blockCache) get(ctx context.Context, r reader) (*blockSnapshot, error) {
	if s := c.snap.Load(); c.fresh(s, c.clock()) {
		return s, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.snap.Load(); c.fresh(s, c.clock()) {
		return s, nil
	}
	// gen and the time are read before the query: a change committed
	// while it runs leaves the snapshot stale, never marked fresh.
	s := &blockSnapshot{gen: c.gen.Load(), loaded: c.clock(), version: c.versions.Add(1),
		domains: map[string]coop.Block{}, accounts: map[string]coop.Block{}}
	bs, err := r.Blocks(ctx)
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		switch b.Kind {
		case coop.BlockDomain:
			s.domains[b.Target] = b
		case coop.BlockAccount:
			s.accounts[b.Target] = b
		}
	}
	c.snap.Store(s)
	return s, nil
}

// BlocksVersion identifies the block list that DomainBlock and
// AccountBlock answer from now: it changes whenever they may answer
// differently (a block written through this DB, or the list reloaded
// after BlockCacheTTL), and never goes back. A caller may keep what it
// derived from their answers (federation memoizes its block check of a
// URI) while the version it read before asking them is still current.
func (db *DB) BlocksVersion(ctx context.Context) (uint64, error) {
	s, err := db.blocks.get(ctx, db.reader)
	if err != nil {
		return 0, err
	}
	return s.version, nil
}

// DomainBlock is reader.DomainBlock from the block cache.
func (db *DB) DomainBlock(ctx context.Context, host string) (coop.Block, error) {
	cands, err := coop.DomainCandidates(host)
	if err != nil {
		return coop.Block{}, fmt.Errorf("store: domain block of %q: %w", host, err)
	}
	s, err := db.blocks.get(ctx, db.reader)
	if err != nil {
		return coop.Block{}, err
	}
	// cands run from the host up: the first held is the longest.
	for _, c := range cands {
		if b, ok := s.domains[c]; ok {
			return b, nil
		}
	}
	// The sentinel itself: "not blocked" is the answer to nearly every
	// inbox POST and delivery, and a formatted error for it was 3 % of the
	// inbox handler's CPU.
	return coop.Block{}, ErrNotFound
}

// AccountBlock is reader.AccountBlock from the block cache.
func (db *DB) AccountBlock(ctx context.Context, actorURI string) (coop.Block, error) {
	s, err := db.blocks.get(ctx, db.reader)
	if err != nil {
		return coop.Block{}, err
	}
	if b, ok := s.accounts[actorURI]; ok {
		return b, nil
	}
	return coop.Block{}, ErrNotFound // as in DomainBlock
}

// InsertBlock implements coop.BlockTx.
func (t *Tx) InsertBlock(ctx context.Context, b coop.Block) error {
	t.blocksChanged = true
	_, err := t.tx.ExecContext(ctx, `INSERT INTO blocks (`+blockColumns+`) VALUES (?, ?, ?, ?, ?)`,
		string(b.Kind), b.Target, b.Reason, b.By, fmtTime(b.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: block %s: %w", b.Target, coop.ErrAlreadyBlocked)
	}
	if err != nil {
		return fmt.Errorf("store: block %s: %w", b.Target, err)
	}
	return nil
}

// DeleteBlock implements coop.BlockTx.
func (t *Tx) DeleteBlock(ctx context.Context, kind coop.BlockKind, target string) error {
	t.blocksChanged = true
	return t.execOne(ctx, "unblock "+target, `DELETE FROM blocks WHERE kind = ? AND target = ?`, string(kind), target)
}

// onDomain reports whether uri's host is domain or a subdomain of it.
func onDomain(uri, domain string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		return false
	}
	return coop.DomainCovers(domain, u.Host)
}

// matchingIDs returns the ids of query's rows (id, uri) whose uri is on
// domain. The match is done here, not in SQL, so that it goes through
// the one normalization of coop.DomainCovers.
func (t *Tx) matchingIDs(ctx context.Context, domain, query string, args ...any) ([]int64, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var (
			id  int64
			uri string
		)
		if err := rows.Scan(&id, &uri); err != nil {
			return nil, err
		}
		if onDomain(uri, domain) {
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}

// RemoveFollowsOnDomain implements coop.BlockTx.
func (t *Tx) RemoveFollowsOnDomain(ctx context.Context, domain string) (int64, error) {
	var n int64
	for _, table := range []struct{ name, uri string }{{"followers", "follower_uri"}, {"following", "target_uri"}} {
		ids, err := t.matchingIDs(ctx, domain, `SELECT id, `+table.uri+` FROM `+table.name)
		if err != nil {
			return n, fmt.Errorf("store: remove follows on %s: %w", domain, err)
		}
		for _, id := range ids {
			if _, err := t.tx.ExecContext(ctx, `DELETE FROM `+table.name+` WHERE id = ?`, id); err != nil {
				return n, fmt.Errorf("store: remove follows on %s: %w", domain, err)
			}
			n++
		}
	}
	return n, nil
}

// killQueued marks the queued deliveries ids dead with reason.
func (t *Tx) killQueued(ctx context.Context, ids []int64, reason string, at time.Time) (int64, error) {
	var n int64
	for _, id := range ids {
		res, err := t.tx.ExecContext(ctx, `UPDATE deliveries SET state = 'dead', lease_until = NULL,
			last_error = ?, updated_at = ? WHERE id = ? AND state = 'queued'`, reason, fmtTime(at), id)
		if err != nil {
			return n, err
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}

// KillDeliveriesToDomain implements coop.BlockTx. Deliveries in flight
// are left to their worker, which checks blocks before it sends.
func (t *Tx) KillDeliveriesToDomain(ctx context.Context, domain, reason string, at time.Time) (int64, error) {
	ids, err := t.matchingIDs(ctx, domain, `SELECT id, inbox FROM deliveries WHERE state = 'queued'`)
	if err != nil {
		return 0, fmt.Errorf("store: drop deliveries to %s: %w", domain, err)
	}
	n, err := t.killQueued(ctx, ids, reason, at)
	if err != nil {
		return n, fmt.Errorf("store: drop deliveries to %s: %w", domain, err)
	}
	return n, nil
}

// KillDeliveriesToActor implements coop.BlockTx. Only the actor's own
// inbox is dropped: its shared inbox serves others on its server.
func (t *Tx) KillDeliveriesToActor(ctx context.Context, uri, reason string, at time.Time) (int64, error) {
	var inbox string
	err := t.tx.QueryRowContext(ctx, `SELECT inbox FROM remote_actors WHERE uri = ?`, uri).Scan(&inbox)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil // never fetched: nothing was queued to its inbox
		}
		return 0, fmt.Errorf("store: drop deliveries to %s: %w", uri, err)
	}
	if inbox == "" {
		return 0, nil
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT id FROM deliveries WHERE state = 'queued' AND inbox = ?`, inbox)
	if err != nil {
		return 0, fmt.Errorf("store: drop deliveries to %s: %w", uri, err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: drop deliveries to %s: %w", uri, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: drop deliveries to %s: %w", uri, err)
	}
	n, err := t.killQueued(ctx, ids, reason, at)
	if err != nil {
		return n, fmt.Errorf("store: drop deliveries to %s: %w", uri, err)
	}
	return n, nil
}
