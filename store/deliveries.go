package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// DeliveryState is where a delivery is in its life: queued, in flight
// (claimed by a worker under a lease), done, or dead (failed for good).
type DeliveryState string

// The states of a delivery, as the deliveries table spells them.
const (
	DeliveryQueued   DeliveryState = "queued"
	DeliveryInFlight DeliveryState = "in_flight"
	DeliveryDone     DeliveryState = "done"
	DeliveryDead     DeliveryState = "dead"
)

// DeliveryStates lists every state, in the order a delivery moves through
// them.
var DeliveryStates = []DeliveryState{DeliveryQueued, DeliveryInFlight, DeliveryDone, DeliveryDead}

// Valid reports whether s is one of the four states.
func (s DeliveryState) Valid() bool {
	switch s {
	case DeliveryQueued, DeliveryInFlight, DeliveryDone, DeliveryDead:
		return true
	}
	return false
}

// ErrLeaseLost is returned when a worker records the outcome of a delivery
// it no longer holds: its lease expired and another claim took the row, or
// an admin changed it. The outcome is dropped; the row's new holder decides.
var ErrLeaseLost = errors.New("delivery lease lost")

// ErrNotRetryable is returned by RetryDelivery for a delivery that is done
// or in flight; it is coop's, whose admin use cases tell it apart.
var ErrNotRetryable = coop.ErrNotRetryable

// Delivery is one row of the outbound queue: an activity for one inbox.
type Delivery struct {
	ID            int64
	ActivityID    string
	SenderID      int64
	Inbox         string
	Body          []byte
	State         DeliveryState
	Attempts      int // attempts made and finished (a released claim does not count)
	NextAttemptAt time.Time
	LeaseUntil    time.Time // zero unless in flight
	LastStatus    int       // HTTP status of the last attempt; 0 for none or a network error
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// ClaimedDelivery is a delivery claimed by a worker, with what it needs to
// sign the request: the sender's handle (for its key id) and private key.
type ClaimedDelivery struct {
	Delivery
	SenderHandle string
	SenderKeyPEM string // PKCS#8 PEM
}

const deliveryColumns = `d.id, d.activity_id, d.sender_id, d.inbox, d.body, d.state, d.attempts,
	d.next_attempt_at, d.lease_until, d.last_status, d.last_error, d.created_at, d.updated_at`

func scanDelivery(s scanner, extra ...any) (Delivery, error) {
	var (
		d                      Delivery
		body, state            string
		next, created, updated string
		lease                  sql.NullString
	)
	dest := append([]any{&d.ID, &d.ActivityID, &d.SenderID, &d.Inbox, &body, &state, &d.Attempts,
		&next, &lease, &d.LastStatus, &d.LastError, &created, &updated}, extra...)
	if err := s.Scan(dest...); err != nil {
		return Delivery{}, err
	}
	d.Body, d.State = []byte(body), DeliveryState(state)
	var err error
	if d.NextAttemptAt, err = parseTime(next); err != nil {
		return Delivery{}, err
	}
	if d.LeaseUntil, err = parseNullTime(lease); err != nil {
		return Delivery{}, err
	}
	if d.CreatedAt, err = parseTime(created); err != nil {
		return Delivery{}, err
	}
	if d.UpdatedAt, err = parseTime(updated); err != nil {
		return Delivery{}, err
	}
	return d, nil
}

// EnqueueDeliveries queues one delivery of an activity per inbox, signed
// later with the sender's key. An inbox that already has this activity is
// skipped, so that queuing twice delivers once. It runs inside the
// transaction that records the activity, so an activity is never recorded
// without its deliveries, nor queued without being recorded.
//
// One statement queues every inbox, given as a JSON array that SQLite's
// json_each reads: SQLite would parse an INSERT per row anew, and bind the
// body again for each, and a post to a thousand followers' servers queues
// a thousand rows.
func (t *Tx) EnqueueDeliveries(ctx context.Context, senderID int64, activityID string, body []byte, inboxes []string, at time.Time) error {
	if len(inboxes) == 0 {
		return nil
	}
	list, err := json.Marshal(inboxes)
	if err != nil {
		return fmt.Errorf("store: queue deliveries of %s: %w", activityID, err)
	}
	now := fmtTime(at)
	// "WHERE true" lets SQLite tell the upsert's ON CONFLICT from a join.
	_, err = t.tx.ExecContext(ctx, `INSERT INTO deliveries
		(activity_id, sender_id, inbox, body, next_attempt_at, created_at, updated_at)
		SELECT ?, ?, value, ?, ?, ?, ? FROM json_each(?) WHERE true
		ON CONFLICT (activity_id, inbox) DO NOTHING`,
		activityID, senderID, string(body), now, now, now, string(list))
	if err != nil {
		return fmt.Errorf("store: queue deliveries of %s to %d inboxes: %w", activityID, len(inboxes), err)
	}
	return nil
}

// ClaimDeliveries claims, in one write transaction, up to limit deliveries
// due at now: queued ones whose next attempt has come, and in-flight ones
// whose lease has expired (a crashed worker's). Each becomes in flight with
// a lease until now+lease; the claim's LeaseUntil is its token for the
// outcome calls below. Expired claims come first, then the queue in the
// order it fell due.
func (db *DB) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]ClaimedDelivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []ClaimedDelivery
	err := db.Write(ctx, func(t *Tx) error {
		nowS := fmtTime(now)
		// Two queries rather than one with OR, which would sort every due
		// row on each claim: expired leases first, found through the
		// (state, next_attempt_at) index among the few rows in flight, then
		// the queue, read from that index already in due order (checked
		// with EXPLAIN QUERY PLAN: no temporary B-tree).
		for _, q := range []struct{ where, order string }{
			{`d.state = 'in_flight' AND d.lease_until <= ?`, `d.lease_until`},
			{`d.state = 'queued' AND d.next_attempt_at <= ?`, `d.next_attempt_at`},
		} {
			if len(out) >= limit {
				break
			}
			rows, err := t.tx.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries d
				WHERE `+q.where+` ORDER BY `+q.order+` LIMIT ?`, nowS, limit-len(out))
			if err != nil {
				return err
			}
			for rows.Next() {
				d, err := scanDelivery(rows)
				if err != nil {
					rows.Close()
					return err
				}
				out = append(out, ClaimedDelivery{Delivery: d})
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return err
			}
		}
		if len(out) == 0 {
			return nil
		}
		// Each sender's handle and key, read once and shared by its rows
		// rather than copied into each (a fan-out's rows have one sender,
		// and a PEM key is ~1.7 KB).
		type sender struct{ handle, keyPEM string }
		senders := make(map[int64]sender, 1)
		for i := range out {
			id := out[i].SenderID
			s, ok := senders[id]
			if !ok {
				err := t.tx.QueryRowContext(ctx, `SELECT handle, private_key_pem FROM actors WHERE id = ?`, id).Scan(&s.handle, &s.keyPEM)
				if err != nil {
					return notFound(err, fmt.Sprintf("sender %d of delivery %d", id, out[i].ID))
				}
				senders[id] = s
			}
			out[i].SenderHandle, out[i].SenderKeyPEM = s.handle, s.keyPEM
		}
		// One UPDATE for the whole claim: SQLite parses each statement
		// text anew, and a claim of many rows would otherwise parse one
		// per row.
		until := now.Add(lease).UTC().Truncate(time.Microsecond)
		for start := 0; start < len(out); start += maxClaimUpdate {
			part := out[start:min(start+maxClaimUpdate, len(out))]
			args := make([]any, 0, len(part)+2)
			args = append(args, fmtTime(until), nowS)
			for _, c := range part {
				args = append(args, c.ID)
			}
			if _, err := t.tx.ExecContext(ctx, `UPDATE deliveries
				SET state = 'in_flight', lease_until = ?, updated_at = ?
				WHERE id IN (?`+strings.Repeat(", ?", len(part)-1)+`)`, args...); err != nil {
				return err
			}
		}
		for i := range out {
			out[i].State, out[i].LeaseUntil, out[i].UpdatedAt = DeliveryInFlight, until, now
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	return out, nil
}

// maxClaimUpdate is how many ids one claim's UPDATE names at most, well
// under SQLite's limit on bound parameters (32,766).
const maxClaimUpdate = 500

// Settlement is what an attempt at a claimed delivery came to.
type Settlement int

// The settlements of a claim, as SettleDeliveries records them.
const (
	// SettleDone: the inbox took it (2xx). The row is done.
	SettleDone Settlement = iota + 1
	// SettleRetry: the attempt failed; the row is queued again for
	// DeliveryOutcome.Next, one attempt more.
	SettleRetry
	// SettleDead: failed for good. The row is dead, one attempt more.
	SettleDead
	// SettleRelease: given back unattempted (a worker stopping); the row is
	// queued, due at once, its attempts and last outcome unchanged.
	SettleRelease
)

// DeliveryOutcome is the outcome of one claim, for SettleDeliveries.
type DeliveryOutcome struct {
	ID     int64
	Lease  time.Time // the claim's LeaseUntil: its token
	Settle Settlement
	Status int       // HTTP status of the attempt; 0 for none (ignored by SettleRelease)
	Error  string    // last_error: '' for SettleDone (ignored by SettleRelease)
	Next   time.Time // when to try again, for SettleRetry
	At     time.Time // when the outcome was known
}

// settleSQL records one outcome, provided the claim still holds the row:
// state, the attempt count to add, and the new next_attempt_at,
// last_status and last_error, each NULL to keep the stored value.
const settleSQL = `UPDATE deliveries SET state = ?, attempts = attempts + ?, lease_until = NULL,
	next_attempt_at = coalesce(?, next_attempt_at), last_status = coalesce(?, last_status),
	last_error = coalesce(?, last_error), updated_at = ?
	WHERE id = ? AND state = 'in_flight' AND lease_until = ?`

// settleArgs are settleSQL's arguments for o.
func settleArgs(o DeliveryOutcome) ([]any, error) {
	at := fmtTime(o.At)
	var (
		state    DeliveryState
		attempts = 1
		next     any
		status   any = o.Status
		errText  any = o.Error
	)
	switch o.Settle {
	case SettleDone:
		state, errText = DeliveryDone, ""
	case SettleRetry:
		state, next = DeliveryQueued, fmtTime(o.Next)
	case SettleDead:
		state = DeliveryDead
	case SettleRelease:
		state, attempts, next, status, errText = DeliveryQueued, 0, at, nil, nil
	default:
		return nil, fmt.Errorf("unknown settlement %d", o.Settle)
	}
	return []any{string(state), attempts, next, status, errText, at, o.ID, fmtTime(o.Lease)}, nil
}

// SettleDeliveries records the outcomes of many claims in one write
// transaction: one commit for the batch, not one per delivery, which is
// what lets a worker pool record a fan-out to thousands of inboxes at the
// rate it sends. Each outcome applies only while its claim still holds
// the row; lost[i] reports the ones dropped because it did not (the lease
// expired and the row was claimed again, or an admin changed it), which
// is ErrLeaseLost for a single outcome. The batch is all or nothing: on an
// error nothing is recorded and every row stays in flight until its lease
// expires, then is claimed and sent again. Since the outcomes are written
// after the requests were sent, a crash before the batch commits sends
// those deliveries a second time: delivery is at least once, and
// receivers deduplicate by activity id.
func (db *DB) SettleDeliveries(ctx context.Context, outs []DeliveryOutcome) (lost []bool, err error) {
	if len(outs) == 0 {
		return nil, nil
	}
	lost = make([]bool, len(outs))
	err = db.Write(ctx, func(t *Tx) error {
		// One statement, prepared once by the writer's statement cache.
		for i, o := range outs {
			args, err := settleArgs(o)
			if err != nil {
				return fmt.Errorf("delivery %d: %w", o.ID, err)
			}
			res, err := t.tx.ExecContext(ctx, settleSQL, args...)
			if err != nil {
				return fmt.Errorf("delivery %d: %w", o.ID, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("delivery %d: %w", o.ID, err)
			}
			lost[i] = n != 1
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: settle %d deliveries: %w", len(outs), err)
	}
	return lost, nil
}

// settleOne records a single outcome: SettleDeliveries for one, with
// ErrLeaseLost when the claim no longer holds the row.
func (db *DB) settleOne(ctx context.Context, what string, o DeliveryOutcome) error {
	lost, err := db.SettleDeliveries(ctx, []DeliveryOutcome{o})
	if err != nil {
		return err
	}
	if lost[0] {
		return fmt.Errorf("store: %s delivery %d: %w", what, o.ID, ErrLeaseLost)
	}
	return nil
}

// CompleteDelivery marks a claimed delivery done: the inbox answered
// status (2xx).
func (db *DB) CompleteDelivery(ctx context.Context, id int64, lease time.Time, status int, at time.Time) error {
	return db.settleOne(ctx, "complete", DeliveryOutcome{ID: id, Lease: lease, Settle: SettleDone, Status: status, At: at})
}

// RescheduleDelivery puts a claimed delivery back in the queue after a
// failed attempt, to be tried again at next.
func (db *DB) RescheduleDelivery(ctx context.Context, id int64, lease time.Time, status int, errText string, next, at time.Time) error {
	return db.settleOne(ctx, "reschedule", DeliveryOutcome{ID: id, Lease: lease, Settle: SettleRetry, Status: status, Error: errText, Next: next, At: at})
}

// KillDelivery ends a claimed delivery as dead, with the reason.
func (db *DB) KillDelivery(ctx context.Context, id int64, lease time.Time, status int, reason string, at time.Time) error {
	return db.settleOne(ctx, "kill", DeliveryOutcome{ID: id, Lease: lease, Settle: SettleDead, Status: status, Error: reason, At: at})
}

// ReleaseDelivery gives a claimed delivery back, unattempted, due at once:
// a worker that stops before an attempt finishes calls it, so that the
// delivery neither waits for its lease to expire nor counts an attempt.
func (db *DB) ReleaseDelivery(ctx context.Context, id int64, lease time.Time, at time.Time) error {
	return db.settleOne(ctx, "release", DeliveryOutcome{ID: id, Lease: lease, Settle: SettleRelease, At: at})
}

// RequeueInFlight gives back every in-flight delivery, leases unexpired
// included, due at once, and returns how many. Only the sole process that
// delivers from this database may call it, at start: any in-flight row is
// then a crashed run's (see delivery.Config.Exclusive).
func (db *DB) RequeueInFlight(ctx context.Context, at time.Time) (int, error) {
	res, err := db.write.ExecContext(ctx, `UPDATE deliveries
		SET state = 'queued', lease_until = NULL, next_attempt_at = ?, updated_at = ?
		WHERE state = 'in_flight'`, fmtTime(at), fmtTime(at))
	if err != nil {
		return 0, fmt.Errorf("store: requeue in-flight deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: requeue in-flight deliveries: %w", err)
	}
	return int(n), nil
}

// Deliveries lists up to limit deliveries, newest first; state "" lists
// every state.
func (r reader) Deliveries(ctx context.Context, state DeliveryState, limit int) ([]Delivery, error) {
	if state != "" && !state.Valid() {
		return nil, fmt.Errorf("store: list deliveries: unknown state %q", state)
	}
	return queryAll(ctx, r.q, "list deliveries", func(s scanner) (Delivery, error) { return scanDelivery(s) }, `SELECT `+deliveryColumns+` FROM deliveries d
		WHERE ? = '' OR d.state = ?
		ORDER BY d.id DESC LIMIT ?`, string(state), string(state), limit)
}

// Delivery returns one delivery by id.
func (r reader) Delivery(ctx context.Context, id int64) (Delivery, error) {
	d, err := scanDelivery(r.q.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries d WHERE d.id = ?`, id))
	if err != nil {
		return Delivery{}, notFound(err, fmt.Sprintf("delivery %d", id))
	}
	return d, nil
}

// DeliveryCounts counts the deliveries in each state; every state has an
// entry, zero included.
func (r reader) DeliveryCounts(ctx context.Context) (map[DeliveryState]int, error) {
	out := make(map[DeliveryState]int, len(DeliveryStates))
	for _, s := range DeliveryStates {
		out[s] = 0
	}
	rows, err := r.q.QueryContext(ctx, `SELECT state, count(*) FROM deliveries GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("store: count deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			s string
			n int
		)
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("store: count deliveries: %w", err)
		}
		out[DeliveryState(s)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count deliveries: %w", err)
	}
	return out, nil
}

// retrySet is what a retry does: a fresh schedule, due at once. Attempts
// restart from zero, so a retried delivery gets the whole backoff schedule
// again; last_status and last_error stay, as the history an admin reads.
const retrySet = `state = 'queued', attempts = 0, lease_until = NULL, next_attempt_at = ?, updated_at = ?`

// RetryDelivery puts a dead or queued delivery back in the queue, due at
// once, with its attempts reset to zero. A delivery done or in flight is
// ErrNotRetryable; an unknown id is ErrNotFound.
func (db *DB) RetryDelivery(ctx context.Context, id int64, at time.Time) error {
	return db.Write(ctx, func(t *Tx) error {
		var state string
		err := t.tx.QueryRowContext(ctx, `SELECT state FROM deliveries WHERE id = ?`, id).Scan(&state)
		if err != nil {
			return notFound(err, fmt.Sprintf("delivery %d", id))
		}
		if state != string(DeliveryDead) && state != string(DeliveryQueued) {
			return fmt.Errorf("delivery %d is %s: %w", id, strings.ReplaceAll(state, "_", " "), ErrNotRetryable)
		}
		_, err = t.tx.ExecContext(ctx, `UPDATE deliveries SET `+retrySet+` WHERE id = ?`, fmtTime(at), fmtTime(at), id)
		if err != nil {
			return fmt.Errorf("store: retry delivery %d: %w", id, err)
		}
		return nil
	})
}

// RetryDeadDeliveries puts every dead delivery back in the queue as
// RetryDelivery does, and returns how many.
func (db *DB) RetryDeadDeliveries(ctx context.Context, at time.Time) (int, error) {
	res, err := db.write.ExecContext(ctx, `UPDATE deliveries SET `+retrySet+` WHERE state = 'dead'`, fmtTime(at), fmtTime(at))
	if err != nil {
		return 0, fmt.Errorf("store: retry dead deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: retry dead deliveries: %w", err)
	}
	return int(n), nil
}
