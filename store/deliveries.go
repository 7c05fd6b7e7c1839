package store

import (
	"context"
	"fmt"
	"time"
)

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
