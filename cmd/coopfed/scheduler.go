package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// proposalCloser is serve's scheduler: it closes proposals at their
// deadline. It closes the overdue ones first (their deadline passed while
// the node was down: they close with the ballots they had), then sleeps
// until the next deadline, and at most poll, since the CLI may open a
// proposal with an earlier deadline from another process. A late close
// changes nothing of the count: ballots accepted at or after the deadline
// are refused by their acceptance time.
//
// It also sends what goes out about open proposals: their live counts
// (at most every countsEvery, gathered for a second after a change) and
// the reminders a day before the close (checked every reminderPoll).
type proposalCloser struct {
	svc         *coop.Service
	log         *slog.Logger
	poll        time.Duration
	countsEvery time.Duration
}

// countsPoll is how often the scheduler looks for changed counts; it
// bounds the wait of a closing proposal that drains its inbound queue
// too.
const countsPoll = time.Second

// reminderPoll is how often the scheduler looks for reminders to send.
const reminderPoll = time.Minute

// Run closes due proposals until ctx ends. A failure to close is logged
// and tried again at the next wake-up: it does not stop the node.
func (c *proposalCloser) Run(ctx context.Context) error {
	now := time.Now
	if c.svc.Clock != nil {
		now = c.svc.Clock
	}
	var lastReminders time.Time
	for {
		if c.countsEvery > 0 {
			if _, err := c.svc.SendCounts(ctx, c.countsEvery); err != nil && ctx.Err() == nil {
				c.log.Error("sending proposal counts", "err", err)
			}
		}
		if now().Sub(lastReminders) >= reminderPoll {
			lastReminders = now()
			if err := c.svc.SendReminders(ctx); err != nil && ctx.Err() == nil {
				c.log.Error("sending proposal reminders", "err", err)
			}
		}
		closed, err := c.svc.CloseDue(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			c.log.Error("closing due proposals", "err", err)
		}
		for _, num := range closed {
			c.log.Info("proposal closed", "proposal_id", num)
		}
		wait := c.poll
		if next, err := c.svc.NextDeadline(ctx); err == nil {
			// An open proposal: its counts may change, and a due one may
			// be waiting for its inbound queue to drain.
			wait = min(wait, countsPoll, max(next.Sub(now()), 0)+time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
