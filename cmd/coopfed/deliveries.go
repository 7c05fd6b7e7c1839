package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coopfed/coopfed/coop"
)

func runDeliveries(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, "deliveries", args, []command{
		{"list", "list outbound deliveries, newest first, with counts per state", deliveriesList},
		{"retry", "queue dead (or queued) deliveries again, due now, with a fresh retry schedule", deliveriesRetry},
	})
}

func deliveriesList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("deliveries list", "deliveries list [--state queued|in_flight|done|dead] [--limit N] [--config PATH]", e.stderr)
	path := configFlag(fs)
	state := fs.String("state", "", "list only deliveries in this state: queued, in_flight, done or dead")
	limit := fs.Int("limit", 50, "list at most this many deliveries")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, ""); err != nil {
		return err
	}
	st := coop.DeliveryState(strings.ReplaceAll(*state, "-", "_"))
	if st != "" && !st.Valid() {
		fs.Usage()
		return usagef("--state %q: want queued, in_flight, done or dead", *state)
	}
	if *limit <= 0 {
		fs.Usage()
		return usagef("--limit must be more than zero")
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	q, err := n.svc.DeliveryQueue(ctx, st, *limit)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tATTEMPTS\tNEXT ATTEMPT\tLAST\tINBOX\tACTIVITY")
	for _, d := range q.Rows {
		next := "-"
		if d.State == coop.DeliveryQueued {
			next = d.NextAttemptAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\n", d.ID, d.State, d.Attempts, next, lastOutcome(d), d.Inbox, d.ActivityID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var parts []string
	total := 0
	for _, s := range coop.DeliveryStates {
		parts = append(parts, fmt.Sprintf("%d %s", q.Counts[s], s))
		total += q.Counts[s]
	}
	fmt.Fprintf(e.stdout, "%d deliveries: %s\n", total, strings.Join(parts, ", "))
	return nil
}

// lastOutcome is the LAST column: the last status and error, short.
func lastOutcome(d coop.Delivery) string {
	var s string
	if d.LastStatus != 0 {
		s = strconv.Itoa(d.LastStatus)
	}
	if d.LastError != "" {
		msg := d.LastError
		if r := []rune(msg); len(r) > 60 {
			msg = string(r[:60]) + "…"
		}
		s = strings.TrimSpace(s + " " + msg)
	}
	if s == "" {
		return "-"
	}
	return s
}

func deliveriesRetry(ctx context.Context, e *env, args []string) error {
	fs := newFlags("deliveries retry", "deliveries retry ID...|--all-dead [--config PATH]", e.stderr)
	path := configFlag(fs)
	allDead := fs.Bool("all-dead", false, "retry every dead delivery")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *allDead == (len(pos) > 0) {
		fs.Usage()
		return usagef("give delivery IDs or --all-dead, not both or neither")
	}
	ids := make([]int64, len(pos))
	for i, p := range pos {
		if ids[i], err = strconv.ParseInt(p, 10, 64); err != nil || ids[i] <= 0 {
			fs.Usage()
			return usagef("%q is not a delivery ID", p)
		}
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	if *allDead {
		k, err := n.svc.RetryDeadDeliveries(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%d dead deliveries queued again\n", k)
		return nil
	}
	var failed []error
	for _, id := range ids {
		if err := n.svc.RetryDelivery(ctx, id); err != nil {
			failed = append(failed, err)
			continue
		}
		fmt.Fprintf(e.stdout, "delivery %d queued again\n", id)
	}
	return errors.Join(failed...)
}
