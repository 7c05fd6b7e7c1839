package store

import (
	"context"

	"github.com/coopfed/coopfed/coop"
)

// DeliveryQueue implements coop.DeliveryQueueStore: Deliveries and
// DeliveryCounts in coop's terms, for the admin's pages and commands.
// (RetryDelivery and RetryDeadDeliveries serve it as they are.)
func (r reader) DeliveryQueue(ctx context.Context, state coop.DeliveryState, limit int) (coop.DeliveryQueue, error) {
	ds, err := r.Deliveries(ctx, DeliveryState(state), limit)
	if err != nil {
		return coop.DeliveryQueue{}, err
	}
	counts, err := r.DeliveryCounts(ctx)
	if err != nil {
		return coop.DeliveryQueue{}, err
	}
	q := coop.DeliveryQueue{Counts: make(map[coop.DeliveryState]int, len(counts)), State: state, Rows: make([]coop.Delivery, len(ds))}
	for s, n := range counts {
		q.Counts[coop.DeliveryState(s)] = n
	}
	for i, d := range ds {
		q.Rows[i] = coop.Delivery{ID: d.ID, ActivityID: d.ActivityID, Inbox: d.Inbox, State: coop.DeliveryState(d.State),
			Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt, LastStatus: d.LastStatus, LastError: d.LastError,
			CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	}
	return q, nil
}

var _ coop.DeliveryQueueStore = (*DB)(nil)
