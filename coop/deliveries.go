package coop

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The delivery queue, as an admin reads and mends it: each activity the
// node sends goes to each inbox as one delivery, tried again with a
// growing backoff until it is taken, or dead (failed for good, or
// dropped by a block). An admin sees how many are in each state, reads
// the rows of one state, and queues a dead one again, or every dead one
// (once the peer is back). Package federation's workers do the sending;
// package store keeps the rows.

// DeliveryState is where a delivery is in its life.
type DeliveryState string

// The states of a delivery, as package store spells them.
const (
	// DeliveryQueued waits for its next attempt; one with attempts made
	// is failing and backing off.
	DeliveryQueued   DeliveryState = "queued"
	DeliveryInFlight DeliveryState = "in_flight" // a worker is sending it
	DeliveryDone     DeliveryState = "done"      // the inbox took it
	DeliveryDead     DeliveryState = "dead"      // failed for good, or dropped by a block
)

// DeliveryStates lists every state, in the order a delivery moves
// through them.
var DeliveryStates = []DeliveryState{DeliveryQueued, DeliveryInFlight, DeliveryDone, DeliveryDead}

// Valid reports whether s is one of DeliveryStates.
func (s DeliveryState) Valid() bool {
	for _, v := range DeliveryStates {
		if s == v {
			return true
		}
	}
	return false
}

// ErrNotRetryable is a retry of a delivery that is done or in flight.
var ErrNotRetryable = errors.New("delivery is not dead or queued")

// Delivery is one row of the outbound queue as an admin reads it: the
// activity for one inbox, without its body.
type Delivery struct {
	ID            int64
	ActivityID    string
	Inbox         string
	State         DeliveryState
	Attempts      int       // attempts made and finished
	NextAttemptAt time.Time // when a queued delivery is due
	LastStatus    int       // HTTP status of the last attempt; 0 for none or a network error
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// DeliveryQueue is the queue at a glance: the count of deliveries in each
// state (every state has an entry) and the newest rows of one state.
type DeliveryQueue struct {
	Counts map[DeliveryState]int
	State  DeliveryState // the state of Rows; "" for every state
	Rows   []Delivery    // newest first
}

// DeliveryQueueStore reads and mends the queue; package store implements
// it. Its writes are transactions of their own.
type DeliveryQueueStore interface {
	// DeliveryQueue returns the counts per state and up to limit rows in
	// state, newest first; state "" lists every state.
	DeliveryQueue(ctx context.Context, state DeliveryState, limit int) (DeliveryQueue, error)
	// RetryDelivery puts a dead or queued delivery back in the queue, due
	// at, its attempts reset to zero; one done or in flight is
	// ErrNotRetryable, an unknown id ErrNotFound.
	RetryDelivery(ctx context.Context, id int64, at time.Time) error
	// RetryDeadDeliveries does so for every dead delivery and returns how
	// many.
	RetryDeadDeliveries(ctx context.Context, at time.Time) (int, error)
}

// DeliveryQueue returns the counts of deliveries per state and up to
// limit of the newest in state ("" for every state). Admins only.
func (s *Service) DeliveryQueue(ctx context.Context, state DeliveryState, limit int) (DeliveryQueue, error) {
	if state != "" && !state.Valid() {
		return DeliveryQueue{}, fmt.Errorf("%w: no delivery state %q (queued, in_flight, done or dead)", ErrInvalidInput, state)
	}
	if limit <= 0 {
		return DeliveryQueue{}, fmt.Errorf("%w: a delivery list holds at least one row", ErrInvalidInput)
	}
	if err := s.requireAdmin(ctx, s.Store); err != nil {
		return DeliveryQueue{}, fmt.Errorf("coop: delivery queue: %w", err)
	}
	q, err := s.Store.DeliveryQueue(ctx, state, limit)
	if err != nil {
		return DeliveryQueue{}, fmt.Errorf("coop: delivery queue: %w", err)
	}
	return q, nil
}

// RetryDelivery queues a dead (or queued) delivery again, due now, with
// a fresh backoff schedule; its last outcome stays, as its history.
// Admins only.
//
// The admin check reads outside the store's write, which is its own
// transaction: a role taken away in between lets one retry through, which
// only sends again what the co-op sent before.
func (s *Service) RetryDelivery(ctx context.Context, id int64) error {
	if err := s.requireAdmin(ctx, s.Store); err != nil {
		return fmt.Errorf("coop: retry delivery %d: %w", id, err)
	}
	if err := s.Store.RetryDelivery(ctx, id, s.now()); err != nil {
		return fmt.Errorf("coop: retry delivery %d: %w", id, err)
	}
	return nil
}

// RetryDeadDeliveries queues every dead delivery again, as RetryDelivery
// does, and returns how many. Admins only.
func (s *Service) RetryDeadDeliveries(ctx context.Context) (int, error) {
	if err := s.requireAdmin(ctx, s.Store); err != nil {
		return 0, fmt.Errorf("coop: retry dead deliveries: %w", err)
	}
	n, err := s.Store.RetryDeadDeliveries(ctx, s.now())
	if err != nil {
		return 0, fmt.Errorf("coop: retry dead deliveries: %w", err)
	}
	return n, nil
}
