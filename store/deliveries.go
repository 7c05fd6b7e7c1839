package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
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
// or in flight.
var ErrNotRetryable = errors.New("delivery is not dead or queued")

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
func (t *Tx) EnqueueDeliveries(ctx context.Context, senderID int64, activityID string, body []byte, inboxes []string, at time.Time) error {
	now := fmtTime(at)
	for _, inbox := range inboxes {
		_, err := t.tx.ExecContext(ctx, `INSERT INTO deliveries
			(activity_id, sender_id, inbox, body, next_attempt_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (activity_id, inbox) DO NOTHING`,
			activityID, senderID, inbox, string(body), now, now, now)
		if err != nil {
			return fmt.Errorf("store: queue delivery of %s to %s: %w", activityID, inbox, err)
		}
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
			rows, err := t.tx.QueryContext(ctx, `SELECT `+deliveryColumns+`, a.handle, a.private_key_pem
				FROM deliveries d JOIN actors a ON a.id = d.sender_id
				WHERE `+q.where+` ORDER BY `+q.order+` LIMIT ?`, nowS, limit-len(out))
			if err != nil {
				return err
			}
			for rows.Next() {
				var c ClaimedDelivery
				d, err := scanDelivery(rows, &c.SenderHandle, &c.SenderKeyPEM)
				if err != nil {
					rows.Close()
					return err
				}
				c.Delivery = d
				out = append(out, c)
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return err
			}
		}
		until := now.Add(lease).UTC().Truncate(time.Microsecond)
		for i := range out {
			if _, err := t.tx.ExecContext(ctx, `UPDATE deliveries
				SET state = 'in_flight', lease_until = ?, updated_at = ? WHERE id = ?`,
				fmtTime(until), nowS, out[i].ID); err != nil {
				return err
			}
			out[i].State, out[i].LeaseUntil, out[i].UpdatedAt = DeliveryInFlight, until, now
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	return out, nil
}

// settle changes a claimed delivery, provided the claim still holds it.
func (db *DB) settle(ctx context.Context, what string, id int64, lease time.Time, set string, args ...any) error {
	args = append(args, id, fmtTime(lease))
	res, err := db.write.ExecContext(ctx, `UPDATE deliveries SET `+set+`
		WHERE id = ? AND state = 'in_flight' AND lease_until = ?`, args...)
	if err != nil {
		return fmt.Errorf("store: %s delivery %d: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s delivery %d: %w", what, id, err)
	}
	if n != 1 {
		return fmt.Errorf("store: %s delivery %d: %w", what, id, ErrLeaseLost)
	}
	return nil
}

// CompleteDelivery marks a claimed delivery done: the inbox answered
// status (2xx).
func (db *DB) CompleteDelivery(ctx context.Context, id int64, lease time.Time, status int, at time.Time) error {
	return db.settle(ctx, "complete", id, lease, `state = 'done', attempts = attempts + 1,
		lease_until = NULL, last_status = ?, last_error = '', updated_at = ?`, status, fmtTime(at))
}

// RescheduleDelivery puts a claimed delivery back in the queue after a
// failed attempt, to be tried again at next.
func (db *DB) RescheduleDelivery(ctx context.Context, id int64, lease time.Time, status int, errText string, next, at time.Time) error {
	return db.settle(ctx, "reschedule", id, lease, `state = 'queued', attempts = attempts + 1,
		lease_until = NULL, next_attempt_at = ?, last_status = ?, last_error = ?, updated_at = ?`,
		fmtTime(next), status, errText, fmtTime(at))
}

// KillDelivery ends a claimed delivery as dead, with the reason.
func (db *DB) KillDelivery(ctx context.Context, id int64, lease time.Time, status int, reason string, at time.Time) error {
	return db.settle(ctx, "kill", id, lease, `state = 'dead', attempts = attempts + 1,
		lease_until = NULL, last_status = ?, last_error = ?, updated_at = ?`, status, reason, fmtTime(at))
}

// ReleaseDelivery gives a claimed delivery back, unattempted, due at once:
// a worker that stops before an attempt finishes calls it, so that the
// delivery neither waits for its lease to expire nor counts an attempt.
func (db *DB) ReleaseDelivery(ctx context.Context, id int64, lease time.Time, at time.Time) error {
	return db.settle(ctx, "release", id, lease, `state = 'queued', lease_until = NULL,
		next_attempt_at = ?, updated_at = ?`, fmtTime(at), fmtTime(at))
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
	rows, err := r.q.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries d
		WHERE ? = '' OR d.state = ?
		ORDER BY d.id DESC LIMIT ?`, string(state), string(state), limit)
	if err != nil {
		return nil, fmt.Errorf("store: list deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list deliveries: %w", err)
	}
	return out, nil
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
