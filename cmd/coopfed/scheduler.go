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
type proposalCloser struct {
	svc  *coop.Service
	log  *slog.Logger
	poll time.Duration
}

// Run closes due proposals until ctx ends. A failure to close is logged
// and tried again at the next wake-up: it does not stop the node.
func (c *proposalCloser) Run(ctx context.Context) error {
	now := time.Now
	if c.svc.Clock != nil {
		now = c.svc.Clock
	}
	for {
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
			wait = min(wait, max(next.Sub(now()), 0)+time.Millisecond)
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
