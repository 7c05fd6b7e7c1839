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
		{"approve", "approve a pending record (ID, or the URL of another co-op's), as a maintainer of its project (--as NAME)", contributionApprove},
		{"reject", "reject a pending record (ID or URL) with a reason, as a maintainer (--as NAME)", contributionReject},
		{"list", "list a project's records, or (--remote) those other co-ops sent here (members only: hours and points)", contributionList},
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
	usage := "contribution approve ID|URL --as NAME [--config PATH]"
	if !approve {
		name, usage = "contribution reject", "contribution reject ID|URL --reason TEXT --as NAME [--config PATH]"
	}
	fs := newFlags(name, usage, e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	reason := fs.String("reason", "", "why it is rejected")
	pos, n, err := setup(ctx, fs, path, args, 1, "ID|URL")
	if err != nil {
		return err
	}
	defer n.Close()
	useClock(e, n)
	remote := strings.HasPrefix(pos[0], "https://") || strings.HasPrefix(pos[0], "http://")
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if !remote && (err != nil || id < 1) {
		return usagef("%q: a contribution's number, or the URL of another co-op's record", pos[0])
	}
	if *as == "" {
		return usagef("--as NAME is required: a maintainer decides with their own password")
	}
	if ctx, err = actAs(ctx, e, n, *as); err != nil {
		return err
	}
	if remote {
		// Another co-op's record: the decision goes to its project's
		// Group, whose node decides and sends the new status back.
		rc, err := n.svc.DecideRemoteContribution(ctx, pos[0], approve, *reason)
		if err != nil {
			return err
		}
		verb := "approval"
		if !approve {
			verb = "rejection"
		}
		fmt.Fprintf(e.stdout, "sent your %s of %s to %s; its node records the decision\n", verb, rc.URI, rc.Project)
		return nil
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
	fs := newFlags("contribution list", "contribution list --project SLUG | --remote [--project URL|@slug@host] [--status pending|approved|rejected] [--kind KIND] [--format table|json] [--as NAME] [--config PATH]", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	project := fs.String("project", "", "the project's slug; with --remote, its Group's URL or @slug@host")
	status := fs.String("status", "", "only records with this status")
	kind := fs.String("kind", "", "only records of this kind ("+strings.Join(coop.ContributionKinds, ", ")+")")
	format := fs.String("format", "table", "table or json")
	remote := fs.Bool("remote", false, "the records of other co-ops' projects sent to members here")
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	if *project == "" && !*remote {
		return usagef("--project is required (or --remote)")
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
	if *remote {
		return remoteContributionList(ctx, e, n, *project, *status, *format)
	}
	cs, err := n.svc.ListContributions(ctx, coop.ContributionFilter{Project: *project, Status: *status, Kind: *kind})
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

// remoteContributionJSON is a remote record as `contribution list
// --remote --format json` writes it.
type remoteContributionJSON struct {
	URL         string   `json:"url"`
	Project     string   `json:"project"`
	Number      int64    `json:"number"`
	Contributor string   `json:"contributor"`
	Kind        string   `json:"kind"`
	Minutes     int64    `json:"minutes"`
	Points      int64    `json:"points"`
	Evidence    []string `json:"evidence"`
	Day         string   `json:"day"`
	Status      string   `json:"status"`
	Reason      string   `json:"reason,omitempty"`
	LogIndex    int64    `json:"logIndex"`
	Received    string   `json:"received"`
	Sent        string   `json:"sent,omitempty"`
	SentBy      string   `json:"sentBy,omitempty"`
}

// remoteContributionList lists the records other co-ops' project Groups
// sent here; project is a Group's URL, or @slug@host of a project the
// node holds.
func remoteContributionList(ctx context.Context, e *env, n *node, project, status, format string) error {
	if project != "" && !strings.HasPrefix(project, "https://") && !strings.HasPrefix(project, "http://") {
		slug, host, ok := strings.Cut(strings.TrimPrefix(project, "@"), "@")
		if !ok {
			return usagef("--project %q: with --remote, a Group's URL or @slug@host", project)
		}
		ps, err := n.svc.Store.RemoteProjects(ctx)
		if err != nil {
			return err
		}
		project = ""
		for _, p := range ps {
			if strings.EqualFold(p.Handle, slug) && strings.EqualFold(hostOf(p.URI), host) {
				project = p.URI
			}
		}
		if project == "" {
			return fmt.Errorf("%w: no project @%s@%s from the federation's co-ops", coop.ErrNotFound, slug, host)
		}
	}
	cs, err := n.svc.RemoteContributions(ctx, coop.RemoteContributionFilter{Project: project, Status: status})
	if err != nil {
		return err
	}
	if format == "json" {
		out := make([]remoteContributionJSON, 0, len(cs))
		for _, c := range cs {
			ev := c.Evidence
			if ev == nil {
				ev = []string{}
			}
			out = append(out, remoteContributionJSON{URL: c.URI, Project: c.Project, Number: c.Number, Contributor: c.Contributor,
				Kind: c.Kind, Minutes: c.Minutes, Points: c.Points, Evidence: ev, Day: c.Day.Format(time.DateOnly), Status: c.Status,
				Reason: c.Reason, LogIndex: c.LogIndex, Received: c.Received.Format(time.RFC3339), Sent: c.Sent, SentBy: c.SentBy})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "URL\tDAY\tPROJECT\tCONTRIBUTOR\tKIND\tMINUTES\tPOINTS\tSTATUS\tEVIDENCE")
	for _, c := range cs {
		st := c.Status
		if c.Reason != "" {
			st += " (" + c.Reason + ")"
		}
		if c.Sent != "" && c.Status == coop.StatusPending {
			st += " (" + c.Sent + " sent)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", c.URI, c.Day.Format(time.DateOnly), c.Project, c.Contributor, c.Kind,
			c.Minutes, c.Points, st, strings.Join(c.Evidence, " "))
	}
	return w.Flush()
}

// hostOf is the host of a URL, or "".
func hostOf(uri string) string {
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	return host
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
