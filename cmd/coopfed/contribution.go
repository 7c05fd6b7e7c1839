package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coopfed/coopfed/coop"
)

func runContribution(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, "contribution", args, []command{
		{"add", "record work for a project, pending a maintainer's approval (--as NAME)", contributionAdd},
		{"approve", "approve a pending record, as a maintainer of its project (--as NAME)", contributionApprove},
		{"reject", "reject a pending record with a reason, as a maintainer (--as NAME)", contributionReject},
		{"list", "list a project's records (members only: hours and points)", contributionList},
	})
}

// hoursToMinutes reads --hours H as whole minutes (1.5 is 90).
func hoursToMinutes(h string) (int64, error) {
	f, err := strconv.ParseFloat(h, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > float64(coop.MaxContributionMin)/60 {
		return 0, usagef("--hours %q: a number of hours, such as 1.5", h)
	}
	m := math.Round(f * 60)
	if math.Abs(f*60-m) > 1e-9 {
		return 0, usagef("--hours %q is not a whole number of minutes: use --minutes", h)
	}
	return int64(m), nil
}

func contributionAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlags("contribution add", "contribution add --project SLUG --kind code|review|docs|design|operations|care [--minutes N | --hours H] [--points P] [--evidence URL]... [--day YYYY-MM-DD] [--note TEXT] [--contributor NAME|@name@host] --as NAME [--config PATH]", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	forName := forFlag(fs)
	project := fs.String("project", "", "the project's slug")
	kind := fs.String("kind", "", "code, review, docs, design, operations or care")
	minutes := fs.Int64("minutes", 0, "minutes of work")
	hours := fs.String("hours", "", "hours of work (instead of --minutes), such as 1.5")
	points := fs.Int64("points", 0, "points")
	var evidence keyList
	fs.Var(&evidence, "evidence", "a link to the work (commit, pull request, issue); repeat for each")
	day := fs.String("day", "", "the day of the work, YYYY-MM-DD (default: today)")
	note := fs.String("note", "", "a note (members only)")
	who := fs.String("contributor", "", "who did the work, when not you: a member's NAME, or @name@host of a member of a co-op of the federation")
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	useClock(e, n)
	if *project == "" || *kind == "" {
		return usagef("--project and --kind are required")
	}
	if *hours != "" {
		if *minutes != 0 {
			return usagef("--minutes or --hours, not both")
		}
		if *minutes, err = hoursToMinutes(*hours); err != nil {
			return err
		}
	}
	nc := coop.NewContribution{Project: *project, Kind: *kind, Minutes: *minutes, Points: *points, Evidence: evidence, Note: *note, Contributor: *who}
	if *day != "" {
		if nc.Day, err = time.Parse(time.DateOnly, *day); err != nil {
			return usagef("--day %q: YYYY-MM-DD", *day)
		}
	}
	if *as == "" && *forName == "" {
		return usagef("--as NAME is required (or --for NAME, the operator acting for a member)")
	}
	if ctx, err = actFor(ctx, e, n, *as, *forName); err != nil {
		return err
	}
	c, err := n.svc.AddContribution(ctx, nc)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "recorded contribution %d (%s, %s of %s), pending a maintainer's approval; log record %d\n",
		c.ID, c.Kind, c.Day.Format(time.DateOnly), c.Project, c.LogIndex)
	return nil
}

func contributionApprove(ctx context.Context, e *env, args []string) error {
	return contributionDecide(ctx, e, args, true)
}

func contributionReject(ctx context.Context, e *env, args []string) error {
	return contributionDecide(ctx, e, args, false)
}

func contributionDecide(ctx context.Context, e *env, args []string, approve bool) error {
	name := "contribution approve"
	usage := "contribution approve ID --as NAME [--config PATH]"
	if !approve {
		name, usage = "contribution reject", "contribution reject ID --reason TEXT --as NAME [--config PATH]"
	}
	fs := newFlags(name, usage, e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	reason := fs.String("reason", "", "why it is rejected")
	pos, n, err := setup(ctx, fs, path, args, 1, "ID")
	if err != nil {
		return err
	}
	defer n.Close()
	useClock(e, n)
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id < 1 {
		return usagef("ID %q: a contribution's number", pos[0])
	}
	if *as == "" {
		return usagef("--as NAME is required: a maintainer decides with their own password")
	}
	if ctx, err = actAs(ctx, e, n, *as); err != nil {
		return err
	}
	c, err := n.svc.DecideContribution(ctx, id, approve, *reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "contribution %d %s; log record %d\n", c.ID, c.Status, c.LogIndex)
	return nil
}

// contributionJSON is a record as `contribution list --format json`
// writes it.
type contributionJSON struct {
	ID          int64    `json:"id"`
	Project     string   `json:"project"`
	Contributor string   `json:"contributor"`
	Kind        string   `json:"kind"`
	Minutes     int64    `json:"minutes"`
	Points      int64    `json:"points"`
	Evidence    []string `json:"evidence"`
	Day         string   `json:"day"`
	Note        string   `json:"note,omitempty"`
	Status      string   `json:"status"`
	Reason      string   `json:"reason,omitempty"`
	Commit      string   `json:"commit,omitempty"`
	RecordedBy  string   `json:"recordedBy"`
	DecidedBy   string   `json:"decidedBy,omitempty"`
	LogIndex    int64    `json:"logIndex"`
}

func contributionList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("contribution list", "contribution list --project SLUG [--status pending|approved|rejected] [--format table|json] [--as NAME] [--config PATH]", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	project := fs.String("project", "", "the project's slug")
	status := fs.String("status", "", "only records with this status")
	format := fs.String("format", "table", "table or json")
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	if *project == "" {
		return usagef("--project is required")
	}
	switch *status {
	case "", coop.StatusPending, coop.StatusApproved, coop.StatusRejected:
	default:
		return usagef("--status %q: pending, approved or rejected", *status)
	}
	if *format != "table" && *format != "json" {
		return usagef("--format %q: table or json", *format)
	}
	if ctx, err = actAs(ctx, e, n, *as); err != nil {
		return err
	}
	cs, err := n.svc.ListContributions(ctx, coop.ContributionFilter{Project: *project, Status: *status})
	if err != nil {
		return err
	}
	if *format == "json" {
		out := make([]contributionJSON, 0, len(cs))
		for _, c := range cs {
			ev := c.Evidence
			if ev == nil {
				ev = []string{}
			}
			out = append(out, contributionJSON{ID: c.ID, Project: c.Project, Contributor: c.Contributor, Kind: c.Kind,
				Minutes: c.Minutes, Points: c.Points, Evidence: ev, Day: c.Day.Format(time.DateOnly), Note: c.Note,
				Status: c.Status, Reason: c.Reason, Commit: c.CommitHash, RecordedBy: c.RecordedBy, DecidedBy: c.DecidedBy, LogIndex: c.LogIndex})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tDAY\tCONTRIBUTOR\tKIND\tMINUTES\tPOINTS\tSTATUS\tEVIDENCE")
	for _, c := range cs {
		st := c.Status
		if c.Reason != "" {
			st += " (" + c.Reason + ")"
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", c.ID, c.Day.Format(time.DateOnly), c.Contributor, c.Kind,
			c.Minutes, c.Points, st, strings.Join(c.Evidence, " "))
	}
	return w.Flush()
}

// memberAlias adds an address under which a member's commits are
// matched.
func memberAlias(ctx context.Context, e *env, args []string) error {
	fs := newFlags("member alias", "member alias NAME EMAIL [--as NAME] [--config PATH]", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 2, "NAME EMAIL")
	if err != nil {
		return err
	}
	defer n.Close()
	if ctx, err = actAs(ctx, e, n, *as); err != nil {
		return err
	}
	if err := n.svc.AddAlias(ctx, pos[0], pos[1]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "commits by %s now count as %s's\n", strings.ToLower(pos[1]), pos[0])
	return nil
}
