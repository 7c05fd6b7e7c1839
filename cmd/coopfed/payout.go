package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation"
	"github.com/coopfed/coopfed/payout"
)

func runPayout(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, "payout", args, []command{
		{"create", "create a draft payout round and print its split (--as NAME)", payoutCreate},
		{"approve", "make a draft round final, as a second member (--as NAME)", payoutApprove},
		{"statement", "print a round's statement as CSV or JSON (members only)", payoutStatement},
		{"verify", "recompute a final round from the decision log and say whether it matches", payoutVerify},
	})
}

func roundID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, usagef("ROUND %q: a payout round's number", s)
	}
	return id, nil
}

// printStatement writes a statement as a table.
func printStatement(w io.Writer, st payout.Statement) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTRIBUTOR\tRECORDS\tMINUTES\tPOINTS\tSHARE")
	for _, l := range st.Lines {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", l.Contributor, l.Records, l.Minutes, l.Points, payout.FormatAmount(l.Share, st.Round.Currency))
	}
	fmt.Fprintf(tw, "total\t\t\t\t%s %s (unallocated %s)\n", payout.FormatAmount(st.Total, st.Round.Currency), st.Round.Currency.Code,
		payout.FormatAmount(st.Unallocated, st.Round.Currency))
	return tw.Flush()
}

func payoutCreate(ctx context.Context, e *env, args []string) error {
	fs := newFlags("payout create", "payout create --project SLUG --from YYYY-MM-DD --to YYYY-MM-DD --budget 1000.00 --currency EUR --formula minutes|points|equal [--rate R] [--cap C] [--floor F] [--requires-proposal ID] --as NAME [--config PATH]\n  the period is from --from (included) to --to (excluded); --rate is pay per hour (minutes); --cap the most one contributor gets (minutes); --floor the least each gets (equal)\n  a required proposal passes when consent is reached or its first option (the motion) wins", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	project := fs.String("project", "", "the project's slug")
	from := fs.String("from", "", "the period's first day, YYYY-MM-DD")
	to := fs.String("to", "", "the day after the period, YYYY-MM-DD")
	budget := fs.String("budget", "", "the budget, in the currency's units (1000.00 EUR, 1000 JPY, 1.000 BHD)")
	currency := fs.String("currency", "", "an ISO 4217 code")
	formula := fs.String("formula", "", "minutes, points or equal")
	rate := fs.String("rate", "", "pay per hour of the minutes formula")
	capFlag := fs.String("cap", "", "the most one contributor is paid (minutes formula)")
	floor := fs.String("floor", "", "the least each contributor is paid (equal formula)")
	requires := fs.Int64("requires-proposal", 0, "a proposal that must have passed before the round is final")
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	useClock(e, n)
	if *project == "" || *from == "" || *to == "" || *budget == "" || *currency == "" || *formula == "" {
		return usagef("--project, --from, --to, --budget, --currency and --formula are required")
	}
	nr := coop.NewPayoutRound{Project: *project, Budget: *budget, Currency: *currency, Formula: *formula, Rate: *rate, Cap: *capFlag, Floor: *floor, RequiresProposal: *requires}
	if nr.From, err = time.Parse(time.DateOnly, *from); err != nil {
		return usagef("--from %q: YYYY-MM-DD", *from)
	}
	if nr.To, err = time.Parse(time.DateOnly, *to); err != nil {
		return usagef("--to %q: YYYY-MM-DD", *to)
	}
	if *as == "" {
		return usagef("--as NAME is required: a member creates a round with their own password")
	}
	if ctx, err = actAs(ctx, e, n, *as); err != nil {
		return err
	}
	r, draft, err := n.svc.CreatePayoutRound(ctx, nr)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created payout round %d (draft) of %s, %s to %s, %s %s by %s; log record %d\n", r.ID, r.Project,
		r.From.Format(time.DateOnly), r.To.Format(time.DateOnly), payout.FormatAmount(r.Round.Budget, r.Round.Currency),
		r.Round.Currency.Code, r.Round.Formula, r.LogIndex)
	if draft.Why != nil {
		fmt.Fprintf(e.stdout, "no split yet: %v\n", draft.Why)
	} else {
		fmt.Fprintln(e.stdout, "draft split (the approved records of the period now):")
		if err := printStatement(e.stdout, draft.Statement); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "a second member makes it final: coopfed payout approve %d --as NAME\n", r.ID)
	return nil
}

func payoutApprove(ctx context.Context, e *env, args []string) error {
	fs := newFlags("payout approve", "payout approve ROUND --as NAME [--config PATH]", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "ROUND")
	if err != nil {
		return err
	}
	defer n.Close()
	useClock(e, n)
	id, err := roundID(pos[0])
	if err != nil {
		return err
	}
	if *as == "" {
		return usagef("--as NAME is required: a second member approves with their own password")
	}
	if ctx, err = actAs(ctx, e, n, *as); err != nil {
		return err
	}
	r, st, err := n.svc.ApprovePayoutRound(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "payout round %d is final: %d records, input hash sha256:%s; log record %d\n", r.ID, len(r.Records), r.InputHash, r.FinalLogIndex)
	return printStatement(e.stdout, st)
}

func payoutStatement(ctx context.Context, e *env, args []string) error {
	fs := newFlags("payout statement", "payout statement ROUND [--format csv|json|table] [--as NAME] [--config PATH]", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	format := fs.String("format", "table", "csv, json or table")
	pos, n, err := setup(ctx, fs, path, args, 1, "ROUND")
	if err != nil {
		return err
	}
	defer n.Close()
	id, err := roundID(pos[0])
	if err != nil {
		return err
	}
	if *format != "csv" && *format != "json" && *format != "table" {
		return usagef("--format %q: csv, json or table", *format)
	}
	if ctx, err = actAs(ctx, e, n, *as); err != nil {
		return err
	}
	r, st, err := n.svc.ShowPayoutRound(ctx, id)
	if err != nil {
		return err
	}
	switch *format {
	case "csv":
		_, err = e.stdout.Write(st.CSV())
	case "json":
		if r.State == coop.RoundFinal {
			_, err = e.stdout.Write(r.Statement) // the bytes the log's statement hash covers
		} else {
			_, err = e.stdout.Write(st.JSON())
		}
	default:
		fmt.Fprintf(e.stdout, "payout round %d (%s) of %s, %s to %s\n", r.ID, r.State, r.Project, r.From.Format(time.DateOnly), r.To.Format(time.DateOnly))
		err = printStatement(e.stdout, st)
	}
	return err
}

func payoutVerify(ctx context.Context, e *env, args []string) error {
	fs := newFlags("payout verify", "payout verify ROUND [--node URL] [--as NAME] [--config PATH]\n  recomputes the round from this node's decision log, or with --node from that co-op's (a co-op of this node's federation, whose log this node witnesses); exits 1 when it does not match", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	nodeURL := fs.String("node", "", "the URL of another co-op's node whose round to check")
	pos, n, err := setup(ctx, fs, path, args, 1, "ROUND")
	if err != nil {
		return err
	}
	defer n.Close()
	id, err := roundID(pos[0])
	if err != nil {
		return err
	}
	if ctx, err = actAs(ctx, e, n, *as); err != nil {
		return err
	}
	var v coop.PayoutVerification
	if *nodeURL != "" {
		v, err = n.svc.VerifyRemotePayout(ctx, federation.Getter{F: n.fetcher}, *nodeURL, id)
	} else {
		v, err = n.svc.VerifyPayoutRound(ctx, id)
	}
	if err != nil {
		return err
	}
	if !v.OK() {
		for _, p := range v.Problems {
			fmt.Fprintf(e.stdout, "MISMATCH: %s\n", p)
		}
		return fmt.Errorf("payout round %d does not match its decision log (%d problems)", id, len(v.Problems))
	}
	fmt.Fprintf(e.stdout, "payout round %d matches its decision log: %d records recomputed from records %d and %d, input hash sha256:%x\n",
		id, v.Records, v.Round.LogIndex, v.Round.FinalLogIndex, v.Statement.InputHash)
	return nil
}
