package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coopfed/coopfed/coop"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when a row does not exist. It is coop.ErrNotFound,
// so that use cases can test for it without importing store.
var ErrNotFound = coop.ErrNotFound

// DB is coopfed's SQLite database: one writer connection, so that writes
// never wait on SQLite's lock inside the process, and a pool of read-only
// connections that WAL lets run beside it.
type DB struct {
	path   string
	write  *sql.DB
	read   *sql.DB
	reader // reads go to the pool

	blocks blockCache       // DomainBlock and AccountBlock on the DB read it
	actors remoteActorCache // RemoteActor and RemoteActorByKeyID on the DB read it

	inbound inboundGroup  // the committer of InsertInbound
	ckpt    *checkpointer // checkpoints the WAL beside the writer

	wstmts, rstmts *stmtCache // prepared statements of the writer and of the pool
}

var (
	_ coop.Store = (*DB)(nil)
	_ coop.Tx    = (*Tx)(nil)
)

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// backstopCheckpointPages is the WAL's size, in pages, at which the
// writer checkpoints at the end of a commit, should the checkpointer
// fall behind (16,000 pages, 64 MiB; SQLite's default is 1,000).
const backstopCheckpointPages = 16000

func dsn(path string, readOnly bool) string {
	q := "_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	if readOnly {
		q += "&_pragma=query_only(1)"
	} else {
		// BEGIN IMMEDIATE takes the write lock at the start of a transaction,
		// so two processes (the CLI and a running node) wait for each other
		// through busy_timeout instead of failing with SQLITE_BUSY mid-way.
		q += "&_txlock=immediate"
		// The WAL is checkpointed by the checkpointer beside the writer
		// (see checkpoint.go); the writer checkpoints itself only as a
		// backstop, when the WAL holds backstopCheckpointPages.
		q += fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", backstopCheckpointPages)
	}
	return "file:" + path + "?" + q
}

// Open opens (creating if needed) the database at path and applies every
// migration not applied yet.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("store: database path %q: must be a plain file path", path)
	}
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	// Two processes opening a new file at once (the CLI beside a node
	// starting) can meet SQLite's lock while one switches the journal to
	// WAL, which the busy timeout does not cover: try again for a while.
	if err := retryBusy(ctx, func() error { return w.PingContext(ctx) }); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := retryBusy(ctx, func() error { return migrate(ctx, w) }); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	ckpt, err := startCheckpointer(path)
	if err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	db := &DB{path: path, write: w, read: r, ckpt: ckpt, wstmts: newStmtCache(w), rstmts: newStmtCache(r)}
	db.reader = reader{q: poolConn{r, db.rstmts}}
	return db, nil
}

// Close closes every connection.
func (db *DB) Close() error {
	db.inbound.stop()
	return errors.Join(db.ckpt.close(), db.wstmts.close(), db.rstmts.close(), db.read.Close(), db.write.Close())
}

// Path is the database file's path.
func (db *DB) Path() string { return db.path }

// Update implements coop.Store: it runs fn in one write transaction.
func (db *DB) Update(ctx context.Context, fn func(coop.Tx) error) error {
	return db.Write(ctx, func(t *Tx) error { return fn(t) })
}

// Write runs fn in one write transaction (BEGIN IMMEDIATE); fn's error
// rolls it back and is returned.
func (db *DB) Write(ctx context.Context, fn func(*Tx) error) error {
	db.wstmts.prepareWanted(ctx)
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	return db.run(sqlTx, fn)
}

// run runs fn in the write transaction sqlTx and commits it, or rolls it
// back on fn's error; the caches that fn's writes outdate are dropped.
func (db *DB) run(sqlTx *sql.Tx, fn func(*Tx) error) error {
	tc := &txConn{tx: sqlTx, stmts: db.wstmts}
	t := &Tx{reader: reader{q: tc}, tx: tc}
	if err := fn(t); err != nil {
		if rbErr := sqlTx.Rollback(); rbErr != nil {
			return errors.Join(err, fmt.Errorf("store: rollback: %w", rbErr))
		}
		return err
	}
	err := sqlTx.Commit()
	// Even after a failed commit: a stale cache must not outlive a
	// change that may have landed.
	if t.blocksChanged {
		db.blocks.invalidate()
	}
	if t.actorsChanged {
		db.actors.invalidate()
	}
	if err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	db.ckpt.committed()
	return nil
}

// stmtCache keeps prepared statements of one *sql.DB by query text, so
// that a query is parsed once per connection rather than on every call
// (modernc.org/sqlite prepares each query it is given: parsing was a fifth
// of the CPU of the inbound benchmark). Queries built with a variable
// number of placeholders make a few variants each; past maxCachedStmts
// queries run unprepared.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	wanted  map[string]bool // the writer's: prepared at the start of the next Write
	nwanted atomic.Int32
}

const maxCachedStmts = 512

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmts[q]
}

// prepared returns q prepared on the pool, preparing it now if needed;
// nil when it is not cached (the caller runs q unprepared, which reports
// any error in q).
func (c *stmtCache) prepared(ctx context.Context, q string) *sql.Stmt {
	c.mu.Lock()
	s, full := c.stmts[q], len(c.stmts) >= maxCachedStmts
	c.mu.Unlock()
	if s != nil || full {
		return s
	}
	s, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.stmts[q]; old != nil {
		s.Close()
		return old
	}
	c.stmts[q] = s
	return s
}

// want notes a query a transaction ran unprepared. It cannot be prepared
// there: the writer's only connection is the transaction's, and
// PrepareContext would wait for it.
func (c *stmtCache) want(q string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.stmts)+len(c.wanted) < maxCachedStmts {
		c.wanted[q] = true
		c.nwanted.Store(int32(len(c.wanted)))
	}
}

// prepareWanted prepares the queries transactions wanted, before the
// next transaction takes the connection.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	if c.nwanted.Load() == 0 {
		return
	}
	c.mu.Lock()
	var qs []string
	for q := range c.wanted {
		qs = append(qs, q)
	}
	clear(c.wanted)
	c.nwanted.Store(0)
	c.mu.Unlock()
	for _, q := range qs {
		if c.lookup(q) != nil {
			continue
		}
		s, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue // it runs unprepared, and reports its error there
		}
		c.mu.Lock()
		c.stmts[q] = s
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, s := range c.stmts {
		errs = append(errs, s.Close())
		delete(c.stmts, q)
	}
	return errors.Join(errs...)
}

// poolConn is the read pool, through its prepared statements.
type poolConn struct {
	db    *sql.DB
	stmts *stmtCache
}

func (c poolConn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s := c.stmts.prepared(ctx, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, q, args...)
}

func (c poolConn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if s := c.stmts.prepared(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, q, args...)
}

func (c poolConn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if s := c.stmts.prepared(ctx, q); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return c.db.ExecContext(ctx, q, args...)
}

// txConn is a write transaction, through the writer's prepared
// statements.
type txConn struct {
	tx    *sql.Tx
	stmts *stmtCache
	bound map[*sql.Stmt]*sql.Stmt // the cache's statements made the transaction's, once each
}

// stmt is the cached statement s for the transaction: database/sql's
// Tx.StmtContext makes a new one at each call, and the inbox's group
// commit runs the same three statements for each of its activities.
func (c *txConn) stmt(ctx context.Context, s *sql.Stmt) *sql.Stmt {
	if b, ok := c.bound[s]; ok {
		return b
	}
	b := c.tx.StmtContext(ctx, s)
	if c.bound == nil {
		c.bound = make(map[*sql.Stmt]*sql.Stmt, 4)
	}
	c.bound[s] = b
	return b
}

func (c *txConn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s := c.stmts.lookup(q); s != nil {
		return c.stmt(ctx, s).QueryContext(ctx, args...)
	}
	c.stmts.want(q)
	return c.tx.QueryContext(ctx, q, args...)
}

func (c *txConn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if s := c.stmts.lookup(q); s != nil {
		return c.stmt(ctx, s).QueryRowContext(ctx, args...)
	}
	c.stmts.want(q)
	return c.tx.QueryRowContext(ctx, q, args...)
}

func (c *txConn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if s := c.stmts.lookup(q); s != nil {
		return c.stmt(ctx, s).ExecContext(ctx, args...)
	}
	c.stmts.want(q)
	return c.tx.ExecContext(ctx, q, args...)
}

// ErrSavepoint is a savepoint that could not be set, rolled back to or
// released: the transaction around it is no longer to be trusted.
var ErrSavepoint = errors.New("savepoint failed")

// Savepoint runs fn inside a savepoint of the transaction: fn's error
// undoes what fn wrote, and only that, and is returned as it is; the
// transaction goes on. An error of the savepoint itself wraps
// ErrSavepoint: the caller must then give the whole transaction up.
func (t *Tx) Savepoint(ctx context.Context, fn func() error) error {
	if _, err := t.tx.ExecContext(ctx, `SAVEPOINT sp`); err != nil {
		return fmt.Errorf("store: %w: %v", ErrSavepoint, err)
	}
	ferr := fn()
	if ferr != nil {
		if _, err := t.tx.ExecContext(ctx, `ROLLBACK TO sp`); err != nil {
			return fmt.Errorf("store: %w: rollback after %v: %v", ErrSavepoint, ferr, err)
		}
	}
	if _, err := t.tx.ExecContext(ctx, `RELEASE sp`); err != nil {
		return fmt.Errorf("store: %w: release: %v", ErrSavepoint, err)
	}
	return ferr
}

// reader implements coop.Reader on a pool or a transaction.
type reader struct{ q querier }

// queryAll runs query and reads each row with scan; what names the list
// in its errors ("store: what: ...").
func queryAll[T any](ctx context.Context, q querier, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// Tx is a write transaction; it implements coop.Tx, and adds the writes
// that only store's direct callers (federation, tests) use.
type Tx struct {
	reader
	tx *txConn

	blocksChanged bool // InsertBlock or DeleteBlock ran: the commit empties the block cache
	actorsChanged bool // a remote actor was written: the commit empties the remote actor cache
}

// timeLayout is how times are stored: UTC, fixed width, so that text order
// is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func fmtNullTime(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: fmtTime(t), Valid: true}
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}

func parseNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// retryBusy runs fn again while it fails with SQLITE_BUSY, for up to five
// seconds, as the busy timeout would.
func retryBusy(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(5 * time.Second)
	for wait := 5 * time.Millisecond; ; wait *= 2 {
		err := fn()
		if err == nil || !strings.Contains(err.Error(), "SQLITE_BUSY") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(min(wait, 200*time.Millisecond)):
		}
	}
}

// isUniqueViolation reports whether err is SQLite's UNIQUE constraint error.
func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
