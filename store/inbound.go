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
)

// Inbound is an activity an inbox accepted, and the state of its
// processing.
type Inbound struct {
	ID           int64
	ActivityID   string
	ContentHash  string // "" except for an Update: the SHA-256 of its body
	ActivityType string
	ActorURI     string
	KeyID        string
	RecipientID  int64 // the local actor of a personal inbox; 0 for the shared inbox
	Body         []byte
	ReceivedAt   time.Time
	State        string // queued, in_flight, done, failed
	Attempts     int
	LastError    string
}

// InsertInbound stores an accepted activity and queues its processing, in
// one statement. An activity already stored (same id, and for an Update
// the same content) is not stored again: inserted is then false and id is
// the stored row's.
func (t *Tx) InsertInbound(ctx context.Context, in Inbound) (id int64, inserted bool, err error) {
	var recipient sql.NullInt64
	if in.RecipientID != 0 {
		recipient = sql.NullInt64{Int64: in.RecipientID, Valid: true}
	}
	at := fmtTime(in.ReceivedAt)
	res, err := t.tx.ExecContext(ctx, `INSERT INTO inbound
		(activity_id, content_hash, activity_type, actor_uri, key_id, recipient_id, body, received_at, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (activity_id, content_hash) DO NOTHING`,
		in.ActivityID, in.ContentHash, in.ActivityType, in.ActorURI, in.KeyID, recipient, string(in.Body), at, at)
	if err != nil {
		return 0, false, fmt.Errorf("store: insert inbound %s: %w", in.ActivityID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		id, err := res.LastInsertId()
		return id, true, err
	}
	err = t.tx.QueryRowContext(ctx, `SELECT id FROM inbound WHERE activity_id = ? AND content_hash = ?`,
		in.ActivityID, in.ContentHash).Scan(&id)
	if err != nil {
		return 0, false, fmt.Errorf("store: find inbound %s: %w", in.ActivityID, err)
	}
	return id, false, nil
}

// InsertInbound stores an accepted activity, durably once it returns nil,
// with group commit: the inserts of concurrent callers (inbox handlers)
// are written by one committer goroutine in one transaction, one commit
// for as many as were waiting, and each caller waits for the outcome of
// its own. A caller's error is its own: a failing insert is taken out
// and the rest of its group written again without it, so that what
// commits is exactly what was answered nil. The queue is bounded
// (inboundQueue); a caller whose ctx ends before its insert began gets
// ctx's error and its activity is not written. One whose ctx ends while
// the group commits gets the error too, though its activity may be
// stored: an activity is never answered as stored and then lost, and a
// repeat of it is found as stored.
func (db *DB) InsertInbound(ctx context.Context, in Inbound) (id int64, inserted bool, err error) {
	id, inserted, _, err = db.InsertInboundApplying(ctx, in, nil)
	return id, inserted, err
}

// InboundEffect is what an accepted activity does to the database,
// prepared before it is stored (by the inbox handler, which may read and
// fetch), so that the transaction that stores the activity can apply it
// too: one commit instead of an insert, a claim and an apply. See
// InsertInboundApplying.
type InboundEffect interface {
	// Current reports whether the preparation still holds. It is called
	// inside the storing transaction, before anything of the activity is
	// written: what it reads (a generation counter of the processor, say)
	// must be changed inside the transactions that make a preparation
	// stale, so that none can commit between the call and the apply.
	Current() bool
	// Apply writes the effect, in the transaction that stores the
	// activity as row id. An error undoes the whole group's transaction,
	// which is written again with this activity queued instead.
	Apply(ctx context.Context, t *Tx, id int64) error
}

// InsertInboundApplying is InsertInbound that also applies the activity's
// effect in the same transaction, and stores it done, when it may be:
// eff is not nil and Current, the activity is new, and its actor has no
// activity stored before it still unfinished (queued, in flight), which
// must be applied first; a group's earlier inserts count, written in the
// same transaction. Otherwise the activity is queued for the processor,
// as by InsertInbound, and applied is false. Storing and applying in one
// transaction keeps both invariants of the queue through a crash at any
// point: an activity answered as stored was stored (and is either done
// with its effect, or queued), and none is applied twice (a done row is
// never taken again, and its effect committed with it).
func (db *DB) InsertInboundApplying(ctx context.Context, in Inbound, eff InboundEffect) (id int64, inserted, applied bool, err error) {
	g := &db.inbound
	g.start(db)
	r := &inboundReq{ctx: ctx, in: in, eff: eff, ready: make(chan struct{})}
	select {
	case g.reqs <- r:
	case <-ctx.Done():
		return 0, false, false, fmt.Errorf("store: insert inbound %s: %w", in.ActivityID, ctx.Err())
	case <-g.quit:
		return 0, false, false, fmt.Errorf("store: insert inbound %s: %w", in.ActivityID, errClosed)
	}
	select {
	case <-r.ready:
	case <-ctx.Done():
		return 0, false, false, fmt.Errorf("store: insert inbound %s: %w", in.ActivityID, ctx.Err())
	case <-g.done:
		select {
		case <-r.ready:
		default:
			return 0, false, false, fmt.Errorf("store: insert inbound %s: %w", in.ActivityID, errClosed)
		}
	}
	return r.id, r.inserted, r.applied, r.err
}

// insertApplying is the committer's insert of one request: applied at
// once when it may be (see InsertInboundApplying). An error of the
// effect is returned as applyErr, apart from the insert's own errors.
//
// Whether the actor has an unfinished activity stored (a group's earlier
// inserts included: the transaction sees its own writes) is asked of
// the database only when some activity may be unfinished: g.unfinished,
// which the committer learns once per transaction (one probe of the
// unfinished rows' partial index, nearly always empty) and sets when it
// queues one. Then the insert asks it itself, a probe of the partial
// index in the same statement (a separate query per actor cost more, in
// database/sql and the driver, than it saved). Otherwise the insert is a
// plain one: an INSERT ... SELECT that reads the table it writes makes
// SQLite gather its rows in a temporary table, and open a statement
// journal, first (a fifth of the insert's cost).
func (t *Tx) insertApplying(ctx context.Context, in Inbound, eff InboundEffect, g *groupState) (id int64, inserted, applied bool, applyErr, err error) {
	if eff == nil || !eff.Current() {
		id, inserted, err := t.InsertInbound(ctx, in)
		g.unfinished = g.unfinished || inserted
		return id, inserted, false, nil, err
	}
	var recipient sql.NullInt64
	if in.RecipientID != 0 {
		recipient = sql.NullInt64{Int64: in.RecipientID, Valid: true}
	}
	at := fmtTime(in.ReceivedAt)
	// Stored done, as FinishInbound leaves a row, on its first attempt,
	// unless the actor has an unfinished activity before it (or it was
	// stored before): then nothing is written here, and it is queued
	// below (or found). The term state IN ('queued', 'in_flight') is the
	// partial index inbound_actor's own, so that the probe uses it.
	var res sql.Result
	if g.unfinished {
		res, err = t.tx.ExecContext(ctx, `INSERT INTO inbound
			(activity_id, content_hash, activity_type, actor_uri, key_id, recipient_id, body, received_at, next_attempt_at,
			 state, attempts, processed_at)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, 'done', 1, ?
			WHERE NOT EXISTS (SELECT 1 FROM inbound WHERE actor_uri = ? AND state IN ('queued', 'in_flight'))
			ON CONFLICT (activity_id, content_hash) DO NOTHING`,
			in.ActivityID, in.ContentHash, in.ActivityType, in.ActorURI, in.KeyID, recipient, string(in.Body), at, at, at, in.ActorURI)
	} else {
		res, err = t.tx.ExecContext(ctx, `INSERT INTO inbound
			(activity_id, content_hash, activity_type, actor_uri, key_id, recipient_id, body, received_at, next_attempt_at,
			 state, attempts, processed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'done', 1, ?)
			ON CONFLICT (activity_id, content_hash) DO NOTHING`,
			in.ActivityID, in.ContentHash, in.ActivityType, in.ActorURI, in.KeyID, recipient, string(in.Body), at, at, at)
	}
	if err != nil {
		return 0, false, false, nil, fmt.Errorf("store: insert inbound %s: %w", in.ActivityID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		// Stored before (found, not applied again), or held back by an
		// unfinished activity of its actor (queued).
		id, inserted, err := t.InsertInbound(ctx, in)
		g.unfinished = g.unfinished || inserted
		return id, inserted, false, nil, err
	}
	if id, err = res.LastInsertId(); err != nil {
		return 0, false, false, nil, fmt.Errorf("store: insert inbound %s: %w", in.ActivityID, err)
	}
	if err := eff.Apply(ctx, t, id); err != nil {
		return id, true, false, fmt.Errorf("store: apply inbound %s: %w", in.ActivityID, err), nil
	}
	return id, true, true, nil, nil
}

// groupState is what a group's transaction knows of the inbound queue.
type groupState struct {
	// unfinished: some activity may be queued or in flight, stored
	// before the transaction or in it.
	unfinished bool
}

// newGroupState asks whether any activity is unfinished, at the start
// of a group's transaction: one probe of the partial index inbound_due.
func (t *Tx) newGroupState(ctx context.Context) (*groupState, error) {
	var any bool
	err := t.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM inbound WHERE state IN ('queued', 'in_flight'))`).Scan(&any)
	if err != nil {
		return nil, fmt.Errorf("store: unfinished inbound: %w", err)
	}
	return &groupState{unfinished: any}, nil
}

// errClosed is an insert after Close.
var errClosed = errors.New("the database is closed")

// Group commit of inserts into inbound.
const (
	// inboundQueue bounds the inserts waiting for the committer; more
	// callers wait to enqueue (or give up with their ctx).
	inboundQueue = 1024
	// inboundMaxGroup bounds one transaction.
	inboundMaxGroup = 256
	// inboundLull and inboundGather bound how long the committer waits
	// for more inserts before it writes a group (see gather).
	inboundLull   = 50 * time.Microsecond
	inboundGather = 250 * time.Microsecond
)

// inboundGroup is the committer of InsertInbound, started by the first
// insert and stopped by Close.
type inboundGroup struct {
	once    sync.Once // makes the channels
	started sync.Once
	stopped sync.Once
	reqs    chan *inboundReq
	quit    chan struct{} // closed by stop
	done    chan struct{} // closed when the committer has returned

	coming  atomic.Int64 // inserts announced by ExpectInbound, not yet sent
	commits atomic.Int64 // transactions committed, for tests
	groups  atomic.Int64 // groups written, for tests and benchmarks
	inserts atomic.Int64 // the requests of those groups
}

// InboundGroups reports how many group commits of inbound inserts were
// written, and how many inserts they held, since the database was opened:
// a benchmark's measure of how well the committer gathers.
func (db *DB) InboundGroups() (groups, inserts int64) {
	return db.inbound.groups.Load(), db.inbound.inserts.Load()
}

type inboundReq struct {
	ctx      context.Context
	in       Inbound
	eff      InboundEffect // nil: only stored
	queue    bool          // eff failed in an earlier try: only stored
	id       int64
	inserted bool
	applied  bool
	err      error
	ready    chan struct{} // closed when id, inserted, applied and err are set
}

func (g *inboundGroup) init() {
	g.once.Do(func() {
		g.reqs = make(chan *inboundReq, inboundQueue)
		g.quit = make(chan struct{})
		g.done = make(chan struct{})
	})
}

// start starts the committer, once.
func (g *inboundGroup) start(db *DB) {
	g.init()
	g.started.Do(func() { go g.run(db) })
}

// stop ends the committer, after the group it is writing; inserts still
// queued fail with errClosed. Only the first call does anything.
func (g *inboundGroup) stop() {
	g.init()
	g.stopped.Do(func() {
		close(g.quit)
		running := true
		g.started.Do(func() { running = false }) // never started: now it never will
		if running {
			<-g.done
		} else {
			close(g.done)
		}
	})
}

func (g *inboundGroup) run(db *DB) {
	defer close(g.done)
	var group []*inboundReq
	lull := time.NewTimer(time.Hour)
	lull.Stop()
	for {
		select {
		case r := <-g.reqs:
			group = append(group[:0], r)
		case <-g.quit:
			for {
				select {
				case r := <-g.reqs:
					r.err = fmt.Errorf("store: insert inbound %s: %w", r.in.ActivityID, errClosed)
					close(r.ready)
				default:
					return
				}
			}
		}
		g.gather(&group, lull)
		db.commitInbound(group)
		g.groups.Add(1)
		g.inserts.Add(int64(len(group)))
	}
}

// ExpectInbound tells the committer that an insert is on its way: an
// inbox handler calls it as a request comes in, and arrived (once, at the
// latest just before InsertInboundApplying; later calls do nothing) when
// the request is refused or about to be stored. While inserts are on
// their way, the committer waits for them to make its group bigger (see
// gather).
func (db *DB) ExpectInbound() (arrived func()) {
	g := &db.inbound
	g.coming.Add(1)
	done := false
	return func() {
		if !done {
			done = true
			g.coming.Add(-1)
		}
	}
}

// gather adds to a group the inserts that arrive while others are on
// their way (ExpectInbound) or keep arriving: until none is on its way
// and none came for inboundLull, or inboundGather passed since the
// first, or the group is full. A commit costs about as much CPU as a
// dozen inserts (mostly its WAL frames, one write each), and committing
// each insert as soon as it comes made groups of two under load (the
// handlers verify signatures while the committer waits for them); a
// fixed lull alone made groups of four to seven, since under load the
// handlers' inserts come further apart than a short lull. Waiting only
// while a handler is at work costs a lone insert no more than
// inboundLull; an insert waits at most inboundGather more.
func (g *inboundGroup) gather(group *[]*inboundReq, lull *time.Timer) {
	deadline := time.Now().Add(inboundGather)
	for len(*group) < inboundMaxGroup {
		select {
		case r := <-g.reqs:
			*group = append(*group, r)
			continue
		default:
		}
		wait := min(inboundLull, time.Until(deadline))
		if wait <= 0 {
			return
		}
		lull.Reset(wait)
		select {
		case r := <-g.reqs:
			*group = append(*group, r)
			lull.Stop()
		case <-lull.C:
			if g.coming.Load() <= 0 {
				return
			}
		case <-g.quit:
			lull.Stop()
			return
		}
	}
}

// commitInbound writes a group in one transaction and answers each of its
// callers. A caller whose ctx ended is answered without being written.
// When one insert fails, the transaction is rolled back, that caller gets
// its error, and the others are written again without it: a failed
// statement could have ended the transaction itself (SQLite rolls back on
// some errors), so nothing done before it is trusted. When an effect
// fails, the group is written again likewise, with that activity only
// queued (the processor applies it, and records its failure).
func (db *DB) commitInbound(group []*inboundReq) {
	live := make([]*inboundReq, 0, len(group))
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.err = fmt.Errorf("store: insert inbound %s: %w", r.in.ActivityID, err)
			close(r.ready)
			continue
		}
		live = append(live, r)
	}
	// The statements run under a context of their own: a caller that
	// gives up must not interrupt the others' transaction.
	ctx := context.Background()
	for len(live) > 0 {
		failed, queue := -1, -1
		err := db.Write(ctx, func(t *Tx) error {
			g, err := t.newGroupState(ctx)
			if err != nil {
				failed = 0 // a failed read fails the group's first: none is trusted
				live[0].err = err
				return err
			}
			for i, r := range live {
				eff := r.eff
				if r.queue {
					eff = nil
				}
				var applyErr error
				r.id, r.inserted, r.applied, applyErr, r.err = t.insertApplying(ctx, r.in, eff, g)
				if r.err != nil {
					failed = i
					return r.err
				}
				if applyErr != nil {
					queue = i
					return applyErr
				}
			}
			return nil
		})
		if failed >= 0 {
			close(live[failed].ready)
			live = append(live[:failed], live[failed+1:]...)
			continue
		}
		if queue >= 0 {
			live[queue].queue = true
			continue
		}
		if err == nil {
			db.inbound.commits.Add(1)
		}
		for _, r := range live {
			if err != nil {
				r.id, r.inserted, r.applied, r.err = 0, false, false, err
			}
			close(r.ready)
		}
		return
	}
}

const inboundColumns = `id, activity_id, content_hash, activity_type, actor_uri, key_id, recipient_id, body,
	received_at, state, attempts, last_error`

// scanInbound reads inboundColumns, followed by any extra destinations.
func scanInbound(s scanner, extra ...any) (Inbound, error) {
	var (
		in        Inbound
		recipient sql.NullInt64
		body, at  string
	)
	dest := append([]any{&in.ID, &in.ActivityID, &in.ContentHash, &in.ActivityType, &in.ActorURI, &in.KeyID, &recipient,
		&body, &at, &in.State, &in.Attempts, &in.LastError}, extra...)
	if err := s.Scan(dest...); err != nil {
		return Inbound{}, err
	}
	in.RecipientID, in.Body = recipient.Int64, []byte(body)
	var err error
	in.ReceivedAt, err = parseTime(at)
	return in, err
}

// ClaimInbound claims up to limit stored activities that are due (queued
// and due, or in flight with an expired lease), for one worker, under a
// lease. An actor's activities are processed in the order they came: only
// an actor whose oldest unfinished activity is due is taken, and then a
// run of its consecutive due activities, oldest first, which the worker
// processes in that order. Finding the actors' heads is one pass over the
// unfinished rows per claim, so taking runs rather than single rows keeps
// a backlog from costing a pass per activity.
func (db *DB) ClaimInbound(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Inbound, error) {
	var out []Inbound
	err := db.Write(ctx, func(t *Tx) error {
		n := fmtTime(now)
		heads, err := t.strings(ctx, `SELECT actor_uri FROM inbound
			WHERE state IN ('queued', 'in_flight')
			GROUP BY actor_uri
			HAVING min(id) IN (SELECT id FROM inbound
				WHERE state IN ('queued', 'in_flight')
				AND ((state = 'queued' AND next_attempt_at <= ?) OR (state = 'in_flight' AND lease_until <= ?)))
			ORDER BY min(id)`, n, n)
		if err != nil {
			return err
		}
		for _, actor := range heads {
			if len(out) >= limit {
				break
			}
			rows, err := t.tx.QueryContext(ctx, `SELECT `+inboundColumns+`, next_attempt_at, coalesce(lease_until, '') FROM inbound
				WHERE actor_uri = ? AND state IN ('queued', 'in_flight') ORDER BY id LIMIT ?`, actor, limit-len(out))
			if err != nil {
				return err
			}
			for rows.Next() {
				var next, leaseUntil string
				in, err := scanInbound(rows, &next, &leaseUntil)
				if err != nil {
					rows.Close()
					return err
				}
				due := (in.State == "queued" && next <= n) || (in.State == "in_flight" && leaseUntil <= n)
				if !due {
					break // later ones wait for this one
				}
				out = append(out, in)
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
		if len(out) == 0 {
			return nil
		}
		args := []any{fmtTime(now.Add(lease))}
		for i := range out {
			args = append(args, out[i].ID)
			out[i].State = "in_flight"
			out[i].Attempts++
		}
		_, err = t.tx.ExecContext(ctx, `UPDATE inbound SET state = 'in_flight', lease_until = ?, attempts = attempts + 1
			WHERE id IN (?`+strings.Repeat(", ?", len(out)-1)+`)`, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim inbound: %w", err)
	}
	return out, nil
}

// ReleaseInbound puts claimed activities back, due at once and with the
// claim's attempt not counted: a worker that stops an actor's run after a
// failure releases the rest of the run, which must wait for the failed one.
func (db *DB) ReleaseInbound(ctx context.Context, ids []int64) error {
	return db.Write(ctx, func(t *Tx) error {
		for _, id := range ids {
			if _, err := t.tx.ExecContext(ctx, `UPDATE inbound SET state = 'queued', lease_until = NULL,
				attempts = max(attempts - 1, 0) WHERE id = ? AND state = 'in_flight'`, id); err != nil {
				return fmt.Errorf("store: release inbound %d: %w", id, err)
			}
		}
		return nil
	})
}

// RequeueInFlightInbound gives back every activity left in flight, leases
// unexpired included, due at once, and returns how many. Only the sole
// process that processes this database's inbound queue may call it, at
// start: any in-flight row is then a crashed run's (see
// federation.ProcessorConfig.Exclusive). The attempt it was on counts.
func (db *DB) RequeueInFlightInbound(ctx context.Context, at time.Time) (int, error) {
	var n int64
	err := db.Write(ctx, func(t *Tx) error {
		// The IN term lets the query use the partial index (0015).
		res, err := t.tx.ExecContext(ctx, `UPDATE inbound SET state = 'queued', lease_until = NULL, next_attempt_at = ?
			WHERE state IN ('queued', 'in_flight') AND state = 'in_flight'`, fmtTime(at))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: requeue in-flight inbound: %w", err)
	}
	return int(n), nil
}

// FinishInbound marks an activity processed; it runs in the transaction
// that applies the activity's effects, so that both happen or neither.
func (t *Tx) FinishInbound(ctx context.Context, id int64, at time.Time) error {
	return t.execOne(ctx, fmt.Sprintf("finish inbound %d", id), `UPDATE inbound
		SET state = 'done', lease_until = NULL, processed_at = ?, last_error = '' WHERE id = ?`, fmtTime(at), id)
}

// RetryInbound puts an activity back in the queue until next, recording
// why it failed; with next zero it ends failed.
func (t *Tx) RetryInbound(ctx context.Context, id int64, reason string, next time.Time) error {
	if next.IsZero() {
		return t.execOne(ctx, fmt.Sprintf("fail inbound %d", id), `UPDATE inbound
			SET state = 'failed', lease_until = NULL, last_error = ? WHERE id = ?`, reason, id)
	}
	return t.execOne(ctx, fmt.Sprintf("retry inbound %d", id), `UPDATE inbound
		SET state = 'queued', lease_until = NULL, last_error = ?, next_attempt_at = ? WHERE id = ?`,
		reason, fmtTime(next), id)
}

// RetryInbound is Tx.RetryInbound in its own transaction.
func (db *DB) RetryInbound(ctx context.Context, id int64, reason string, next time.Time) error {
	return db.Write(ctx, func(t *Tx) error { return t.RetryInbound(ctx, id, reason, next) })
}

// InboundByActivityID returns the stored activities with an id (an Update
// may be stored once per content), oldest first.
func (r reader) InboundByActivityID(ctx context.Context, activityID string) ([]Inbound, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+inboundColumns+` FROM inbound WHERE activity_id = ? ORDER BY id`, activityID)
	if err != nil {
		return nil, fmt.Errorf("store: inbound %s: %w", activityID, err)
	}
	defer rows.Close()
	var out []Inbound
	for rows.Next() {
		in, err := scanInbound(rows)
		if err != nil {
			return nil, fmt.Errorf("store: inbound %s: %w", activityID, err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// CountRows counts the rows of the tables federation writes, by table: a
// test that refuses input checks that it changed none.
func (r reader) CountRows(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, table := range []string{"inbound", "received_notes", "remote_actors", "followers", "following", "deliveries", "outbox"} {
		var n int
		if err := r.q.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			return nil, fmt.Errorf("store: count %s: %w", table, err)
		}
		out[table] = n
	}
	return out, nil
}

// RemoveFollower removes followerURI from a local actor's followers (an
// Undo{Follow}). With followID set, only that follow goes, so that an old
// Undo does not end a newer follow. It reports whether a row went.
func (t *Tx) RemoveFollower(ctx context.Context, actorID int64, followerURI, followID string) (bool, error) {
	q := `DELETE FROM followers WHERE actor_id = ? AND follower_uri = ?`
	args := []any{actorID, followerURI}
	if followID != "" {
		q += ` AND (follow_id = ? OR follow_id = '')`
		args = append(args, followID)
	}
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("store: remove follower %s of actor %d: %w", followerURI, actorID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// RemoveFollowerByFollowID removes the follow with the given id, of
// followerURI, whatever local actor it follows (an Undo naming the Follow
// only by id).
func (t *Tx) RemoveFollowerByFollowID(ctx context.Context, followerURI, followID string) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM followers WHERE follower_uri = ? AND follow_id = ?`, followerURI, followID)
	if err != nil {
		return false, fmt.Errorf("store: remove follow %s: %w", followID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Follow is one row of followers or following.
type Follow struct {
	ActorID  int64  // the local actor
	Remote   string // the follower's (or followed) URI
	FollowID string
	State    string // pending or accepted
}

// FollowingByFollowID returns a local actor's follow with the given
// Follow activity id.
func (r reader) FollowingByFollowID(ctx context.Context, followID string) (Follow, error) {
	f := Follow{FollowID: followID}
	err := r.q.QueryRowContext(ctx, `SELECT actor_id, target_uri, state FROM following WHERE follow_id = ?`, followID).
		Scan(&f.ActorID, &f.Remote, &f.State)
	if err != nil {
		return Follow{}, notFound(err, fmt.Sprintf("follow %s", followID))
	}
	return f, nil
}

// SetFollowingState sets the state of a local actor's follow, found by its
// Follow activity id and its target (the Accept's sender); "removed"
// deletes it (a Reject). It reports whether a row changed.
func (t *Tx) SetFollowingState(ctx context.Context, followID, targetURI, state string) (bool, error) {
	var (
		res sql.Result
		err error
	)
	switch state {
	case "removed":
		res, err = t.tx.ExecContext(ctx, `DELETE FROM following WHERE follow_id = ? AND target_uri = ?`, followID, targetURI)
	case "accepted", "pending":
		res, err = t.tx.ExecContext(ctx, `UPDATE following SET state = ? WHERE follow_id = ? AND target_uri = ?`, state, followID, targetURI)
	default:
		return false, fmt.Errorf("store: following state %q", state)
	}
	if err != nil {
		return false, fmt.Errorf("store: set follow %s %s: %w", followID, state, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Followers returns the rows of a local actor's followers, oldest first.
func (r reader) Followers(ctx context.Context, actorID int64) ([]Follow, error) {
	return r.follows(ctx, `SELECT actor_id, follower_uri, follow_id, state FROM followers WHERE actor_id = ? ORDER BY id`, actorID)
}

// Following returns the rows of whom a local actor follows, oldest first.
func (r reader) Following(ctx context.Context, actorID int64) ([]Follow, error) {
	return r.follows(ctx, `SELECT actor_id, target_uri, follow_id, state FROM following WHERE actor_id = ? ORDER BY id`, actorID)
}

func (r reader) follows(ctx context.Context, q string, actorID int64) ([]Follow, error) {
	rows, err := r.q.QueryContext(ctx, q, actorID)
	if err != nil {
		return nil, fmt.Errorf("store: follows of actor %d: %w", actorID, err)
	}
	defer rows.Close()
	var out []Follow
	for rows.Next() {
		var f Follow
		if err := rows.Scan(&f.ActorID, &f.Remote, &f.FollowID, &f.State); err != nil {
			return nil, fmt.Errorf("store: follows of actor %d: %w", actorID, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// ReceivedNote is a Note a remote actor sent to local actors.
type ReceivedNote struct {
	ID           int64
	InboundID    int64
	ActivityID   string // the Create's id
	ObjectID     string // the Note's id
	ActorURI     string
	RecipientIDs []int64 // local actors it was addressed to
	Direct       bool    // addressed to its recipients only: not public, not to followers
	Content      string  // HTML as received, unsanitized
	InReplyTo    string
	Name         string // a poll vote's option
	Published    time.Time
	Raw          []byte // the Note's JSON as received
	ReceivedAt   time.Time
}

// ErrDuplicate is a row that exists already.
var ErrDuplicate = errors.New("already stored")

// InsertReceivedNote stores a received Note with its local recipients. A
// Note already stored (same object id) is ErrDuplicate.
func (t *Tx) InsertReceivedNote(ctx context.Context, n ReceivedNote) (int64, error) {
	var inbound sql.NullInt64
	if n.InboundID != 0 {
		inbound = sql.NullInt64{Int64: n.InboundID, Valid: true}
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO received_notes
		(inbound_id, activity_id, object_id, actor_uri, direct, content, in_reply_to, name, published, raw, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (object_id) DO NOTHING`,
		inbound, n.ActivityID, n.ObjectID, n.ActorURI, boolInt(n.Direct), n.Content, n.InReplyTo, n.Name,
		fmtNullTime(n.Published), string(n.Raw), fmtTime(n.ReceivedAt))
	if err != nil {
		return 0, fmt.Errorf("store: insert received note %s: %w", n.ObjectID, err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return 0, fmt.Errorf("received note %s: %w", n.ObjectID, ErrDuplicate)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: insert received note %s: %w", n.ObjectID, err)
	}
	for _, r := range n.RecipientIDs {
		if _, err := t.tx.ExecContext(ctx, `INSERT OR IGNORE INTO received_note_recipients (note_id, actor_id) VALUES (?, ?)`, id, r); err != nil {
			return 0, fmt.Errorf("store: insert received note %s: %w", n.ObjectID, err)
		}
	}
	return id, nil
}

// ReceivedNotes returns the received Notes addressed to a local actor (all
// of them with actorID 0), oldest first.
func (r reader) ReceivedNotes(ctx context.Context, actorID int64) ([]ReceivedNote, error) {
	q := `SELECT n.id, coalesce(n.inbound_id, 0), n.activity_id, n.object_id, n.actor_uri, n.direct, n.content,
		n.in_reply_to, n.name, n.published, n.raw, n.received_at,
		coalesce((SELECT group_concat(actor_id) FROM received_note_recipients WHERE note_id = n.id), '')
		FROM received_notes n`
	var args []any
	if actorID != 0 {
		q += ` WHERE n.id IN (SELECT note_id FROM received_note_recipients WHERE actor_id = ?)`
		args = append(args, actorID)
	}
	rows, err := r.q.QueryContext(ctx, q+` ORDER BY n.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: received notes: %w", err)
	}
	defer rows.Close()
	var out []ReceivedNote
	for rows.Next() {
		var (
			n                  ReceivedNote
			direct             int
			published          sql.NullString
			raw, at, recipient string
		)
		if err := rows.Scan(&n.ID, &n.InboundID, &n.ActivityID, &n.ObjectID, &n.ActorURI, &direct, &n.Content,
			&n.InReplyTo, &n.Name, &published, &raw, &at, &recipient); err != nil {
			return nil, fmt.Errorf("store: received notes: %w", err)
		}
		n.Direct, n.Raw = direct != 0, []byte(raw)
		if n.Published, err = parseNullTime(published); err != nil {
			return nil, err
		}
		if n.ReceivedAt, err = parseTime(at); err != nil {
			return nil, err
		}
		for _, s := range strings.Split(recipient, ",") {
			var id int64
			if _, err := fmt.Sscan(s, &id); err == nil {
				n.RecipientIDs = append(n.RecipientIDs, id)
			}
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// DeleteReceivedNote removes a received Note that its author deleted. It
// reports whether one went.
func (t *Tx) DeleteReceivedNote(ctx context.Context, objectID, actorURI string) (bool, error) {
	var id int64
	err := t.tx.QueryRowContext(ctx, `SELECT id FROM received_notes WHERE object_id = ? AND actor_uri = ?`, objectID, actorURI).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: delete received note %s: %w", objectID, err)
	}
	for _, q := range []string{`DELETE FROM received_note_recipients WHERE note_id = ?`, `DELETE FROM received_notes WHERE id = ?`} {
		if _, err := t.tx.ExecContext(ctx, q, id); err != nil {
			return false, fmt.Errorf("store: delete received note %s: %w", objectID, err)
		}
	}
	return true, nil
}
