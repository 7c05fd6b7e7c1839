package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// The reports other servers sent (ActivityPub Flags about this co-op's
// actors and posts): list them, resolve one with a note.
func runReports(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, "reports", args, []command{
		{"list", "list the reports received, newest first: open ones, or --state resolved|all", reportsList},
		{"resolve", "resolve an open report: resolve ID [--note TEXT]", reportsResolve},
	})
}

func reportsList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("reports list", "reports list [--state open|resolved|all] [--config PATH]", e.stderr)
	path := configFlag(fs)
	state := fs.String("state", "open", "list the reports in this state: open, resolved or all")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, ""); err != nil {
		return err
	}
	st := coop.ReportState(*state)
	switch st {
	case coop.ReportOpen, coop.ReportResolved:
	case "all":
		st = ""
	default:
		fs.Usage()
		return usagef("--state %q: want open, resolved or all", *state)
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	rs, err := n.svc.Reports(ctx, coop.ReportQuery{State: st})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tRECEIVED\tFROM\tREPORTED\tCOMMENT")
	for _, r := range rs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.State, r.ReceivedAt.UTC().Format(time.RFC3339), r.Reporter,
			strings.Join(append(append([]string{}, r.Accounts...), r.Objects...), " "), shortLine(r.Comment, 60))
		if r.State == coop.ReportResolved {
			fmt.Fprintf(tw, "\tresolved by %s at %s: %s\t\t\t\t\n", r.ResolvedBy, r.ResolvedAt.UTC().Format(time.RFC3339), shortLine(r.Note, 60))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d reports\n", len(rs))
	return nil
}

// shortLine shows a text on one line of at most max runes.
func shortLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

func reportsResolve(ctx context.Context, e *env, args []string) error {
	fs := newFlags("reports resolve", "reports resolve ID [--note TEXT] [--config PATH]", e.stderr)
	path := configFlag(fs)
	note := fs.String("note", "", "what was done about it (kept with the report; the decision log holds only a commitment to it)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 1, "the report's ID"); err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		fs.Usage()
		return usagef("%q is not a report ID", pos[0])
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.svc.ResolveReport(ctx, id, *note); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "report %d resolved\n", id)
	return nil
}
