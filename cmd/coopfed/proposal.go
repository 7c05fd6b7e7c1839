package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
)

func runProposal(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, "proposal", args, []command{
		{"open", "open a proposal to the co-op's members or a project's maintainers", proposalOpen},
		{"list", "list the proposals", proposalList},
		{"show", "show a proposal: counts, refusals with reasons, outcome", proposalShow},
		{"withdraw", "withdraw a proposal before it closes (its proposer)", proposalWithdraw},
		{"extend", "move a proposal's deadline later (its proposer or the admin)", proposalExtend},
		{"close", "close a proposal whose deadline has passed (coopfed serve does it by itself)", proposalClose},
	})
}

// parseQuorum reads a quorum as a decimal share ("0.5", at most six
// decimals) or a fraction ("1/2"), exactly.
func parseQuorum(s string) (governance.Ratio, error) {
	bad := usagef("--quorum %q: want a share like 0.5 or 1/2", s)
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.ParseInt(num, 10, 64)
		d, err2 := strconv.ParseInt(den, 10, 64)
		if err1 != nil || err2 != nil {
			return governance.Ratio{}, bad
		}
		return governance.Ratio{Num: n, Den: d}, nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 6 || whole == "" && frac == "" {
		return governance.Ratio{}, bad
	}
	den := int64(1)
	for range frac {
		den *= 10
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n < 0 {
		return governance.Ratio{}, bad
	}
	if n == 0 {
		return governance.Ratio{}, nil
	}
	return governance.Ratio{Num: n, Den: den}, nil
}

// parseOptions reads --option KEY[=Label] flags.
func parseOptions(opts []string) []governance.Option {
	out := make([]governance.Option, 0, len(opts))
	for _, o := range opts {
		key, label, ok := strings.Cut(o, "=")
		if !ok {
			label = key
		}
		out = append(out, governance.Option{Key: strings.TrimSpace(key), Label: strings.TrimSpace(label)})
	}
	return out
}

func proposalOpen(ctx context.Context, e *env, args []string) error {
	fs := newFlags("proposal open", "proposal open --group SLUG|coop --title TEXT [--body-file F] --option KEY[=Label]... --method single|approval|irv|schulze|score|consent [--closes-in 72h] [--quorum 0.5] [--threshold majority|two-thirds|consensus] [--hide-counts] [--as NAME] [--config PATH]", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	forName := forFlag(fs)
	group := fs.String("group", "", `the group that decides: a project's slug, or "coop" for the co-op's members`)
	title := fs.String("title", "", "the proposal's title")
	bodyFile := fs.String("body-file", "", "a file holding the proposal's text (Markdown)")
	var options stringList
	fs.Var(&options, "option", "an option, KEY[=Label] (key: a-z, 0-9, - and _); repeat for each; none for consent")
	method := fs.String("method", "single", "single, approval, irv, schulze, score or consent")
	closesIn := fs.Duration("closes-in", 72*time.Hour, "how long the proposal stays open")
	quorum := fs.String("quorum", "0", "the share of the eligible voters who must cast a ballot (abstentions count), e.g. 0.5 or 1/2")
	threshold := fs.String("threshold", "", "majority, two-thirds or consensus (default: consensus for consent, else majority)")
	scoreMin := fs.Int("score-min", 0, "the lowest score (score method)")
	scoreMax := fs.Int("score-max", 5, "the highest score (score method)")
	hide := fs.Bool("hide-counts", false, "show counts only after the close")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, ""); err != nil {
		return err
	}
	if *group == "" || *title == "" {
		return usagef("--group and --title are required")
	}
	q, err := parseQuorum(*quorum)
	if err != nil {
		return err
	}
	var body []byte
	if *bodyFile != "" {
		if body, err = os.ReadFile(*bodyFile); err != nil {
			return err
		}
	}
	m := governance.Method(*method)
	th := governance.Threshold(*threshold)
	if th == "" {
		th = governance.Majority
		if m == governance.Consent {
			th = governance.Consensus
		}
	}
	np := coop.NewProposal{Group: *group, Title: *title, Body: string(body), Options: parseOptions(options),
		Method: m, ClosesIn: *closesIn, Quorum: q, Threshold: th, HideCounts: *hide}
	if m == governance.Score {
		np.ScoreMin, np.ScoreMax = *scoreMin, *scoreMax
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	useClock(e, n)
	ctx, err = actFor(ctx, e, n, *as, *forName)
	if err != nil {
		return err
	}
	p, err := n.svc.OpenProposal(ctx, np)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "opened proposal %d: %s\n", p.Num, p.Title)
	fmt.Fprintf(e.stdout, "%s; %d eligible voters; closes %s\n", describe(p), len(p.Eligible), p.ClosesAt.Format(time.RFC3339))
	fmt.Fprintf(e.stdout, "url: %s\n", n.svc.Site.ProposalURL(p.Num))
	return nil
}

// describe says how a proposal decides.
func describe(p coop.Proposal) string {
	q := "no quorum"
	if p.Quorum.Den > 0 && p.Quorum.Num > 0 {
		q = fmt.Sprintf("quorum %d/%d", p.Quorum.Num, p.Quorum.Den)
	}
	who := "the co-op's members"
	if p.GroupKind == coop.KindGroup {
		who = "the maintainers of " + p.Group
	}
	return fmt.Sprintf("%s, %s, %s, decided by %s", p.Method, p.Threshold, q, who)
}

// proposalNum reads a proposal number.
func proposalNum(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, usagef("ID must be a proposal number, not %q", s)
	}
	return n, nil
}

func proposalList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("proposal list", "proposal list [--config PATH]", e.stderr)
	path := configFlag(fs)
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	ps, err := n.svc.ListProposals(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tGROUP\tMETHOD\tCLOSES\tTITLE")
	for _, p := range ps {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", p.Num, p.State, p.Group, p.Method, p.ClosesAt.Format(time.RFC3339), p.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d proposals\n", len(ps))
	return nil
}

func proposalShow(ctx context.Context, e *env, args []string) error {
	fs := newFlags("proposal show", "proposal show ID [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "ID")
	if err != nil {
		return err
	}
	defer n.Close()
	num, err := proposalNum(pos[0])
	if err != nil {
		return err
	}
	v, err := n.svc.ShowProposal(ctx, num)
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "proposal %d: %s\n", v.Num, v.Title)
	fmt.Fprintf(w, "state: %s\n", v.State)
	fmt.Fprintf(w, "%s\n", describe(v.Proposal))
	fmt.Fprintf(w, "proposer: %s\n", v.Proposer)
	fmt.Fprintf(w, "opened %s, closes %s\n", v.OpensAt.Format(time.RFC3339), v.ClosesAt.Format(time.RFC3339))
	fmt.Fprintf(w, "url: %s\n", v.URL)
	if v.Body != "" {
		fmt.Fprintf(w, "\n%s\n\n", strings.TrimRight(v.Body, "\n"))
	}
	for _, o := range v.Options {
		fmt.Fprintf(w, "option %s: %s\n", o.Key, o.Label)
	}
	fmt.Fprintf(w, "eligible voters: %d; ballots standing: %d\n", len(v.Eligible), v.Standing)
	if v.Counts == nil {
		if v.State == governance.Open {
			fmt.Fprintln(w, "counts: hidden until close")
		}
	} else {
		o := v.Counts
		if !o.Final {
			fmt.Fprintln(w, "provisional counts:")
		} else {
			fmt.Fprintln(w, "counts:")
		}
		fmt.Fprintf(w, "  cast %d (abstentions %d), replaced %d, quorum %d of %d needed\n", o.Cast, o.Abstentions, o.Replaced, o.Quorum.Have, o.Quorum.Need)
		for _, c := range o.Options {
			fmt.Fprintf(w, "  %s: %d\n", c.Option, c.Count)
		}
		if v.Method == governance.Consent {
			fmt.Fprintf(w, "  agree %d, disagree %d, block %d\n", o.Consent.Agree, o.Consent.Disagree, o.Consent.Block)
		}
	}
	if len(v.Refusals) > 0 {
		fmt.Fprintf(w, "refused votes: %d\n", len(v.Refusals))
		for _, r := range v.Refusals {
			fmt.Fprintf(w, "  %s %s: %s", r.At.Format(time.RFC3339), r.Voter, r.Reason)
			if r.Detail != "" {
				fmt.Fprintf(w, " (%s)", r.Detail)
			}
			fmt.Fprintf(w, " [log %d]\n", r.LogIndex)
		}
	}
	if v.Outcome != nil {
		o := v.Outcome.Outcome
		if o.Decided {
			fmt.Fprintf(w, "outcome: decided: %s\n", o.Winner)
		} else {
			fmt.Fprintf(w, "outcome: no decision (%s)\n", o.NoDecision)
		}
		fmt.Fprintf(w, "input hash: sha256:%x\n", o.InputHash)
		fmt.Fprintf(w, "closed %s; log record %d (coopfed log prove %d)\n", v.Outcome.Closed.Format(time.RFC3339), v.Outcome.LogIndex, v.Outcome.LogIndex)
	}
	return nil
}

func proposalWithdraw(ctx context.Context, e *env, args []string) error {
	fs := newFlags("proposal withdraw", "proposal withdraw ID --as NAME [--config PATH]", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	forName := forFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "ID")
	if err != nil {
		return err
	}
	defer n.Close()
	useClock(e, n)
	num, err := proposalNum(pos[0])
	if err != nil {
		return err
	}
	if ctx, err = actFor(ctx, e, n, *as, *forName); err != nil {
		return err
	}
	if _, err := n.svc.WithdrawProposal(ctx, num); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "withdrew proposal %d\n", num)
	return nil
}

func proposalExtend(ctx context.Context, e *env, args []string) error {
	fs := newFlags("proposal extend", "proposal extend ID --closes-in DURATION [--as NAME] [--config PATH]", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	forName := forFlag(fs)
	closesIn := fs.Duration("closes-in", 0, "the new deadline, from now; later than the current one")
	pos, n, err := setup(ctx, fs, path, args, 1, "ID")
	if err != nil {
		return err
	}
	defer n.Close()
	useClock(e, n)
	num, err := proposalNum(pos[0])
	if err != nil {
		return err
	}
	if *closesIn <= 0 {
		return usagef("--closes-in DURATION is required")
	}
	if ctx, err = actFor(ctx, e, n, *as, *forName); err != nil {
		return err
	}
	p, err := n.svc.ExtendProposal(ctx, num, *closesIn)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "proposal %d now closes %s\n", num, p.ClosesAt.Format(time.RFC3339))
	return nil
}

func proposalClose(ctx context.Context, e *env, args []string) error {
	fs := newFlags("proposal close", "proposal close ID [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "ID")
	if err != nil {
		return err
	}
	defer n.Close()
	useClock(e, n)
	num, err := proposalNum(pos[0])
	if err != nil {
		return err
	}
	o, err := n.svc.CloseProposal(ctx, num)
	if err != nil {
		return err
	}
	if o.Outcome.Decided {
		fmt.Fprintf(e.stdout, "closed proposal %d: decided: %s\n", num, o.Outcome.Winner)
	} else {
		fmt.Fprintf(e.stdout, "closed proposal %d: no decision (%s)\n", num, o.Outcome.NoDecision)
	}
	fmt.Fprintf(e.stdout, "log record %d\n", o.LogIndex)
	return nil
}

func runVote(ctx context.Context, e *env, args []string) error {
	fs := newFlags("vote", "vote ID OPTION... --as NAME [--config PATH]\n  single: one option; approval: the options approved; irv, schulze: options most preferred first;\n  score: OPTION=N...; consent: agree|disagree|block; any method: abstain", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		fs.Usage()
		return usagef("missing ID and OPTION")
	}
	num, err := proposalNum(pos[0])
	if err != nil {
		return err
	}
	if *as == "" {
		return usagef("--as NAME is required: a member votes, with their password; the node's operator does not vote for anyone")
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	useClock(e, n)
	if ctx, err = actAs(ctx, e, n, *as); err != nil {
		return err
	}
	r, err := n.svc.Vote(ctx, num, pos[1:])
	var refused *coop.RefusedError
	if errors.As(err, &refused) {
		fmt.Fprintf(e.stdout, "refused: %s; receipt of the refusal: coopfed log prove %d\n", refused.Reason, refused.LogIndex)
		return err
	}
	if err != nil {
		return err
	}
	what := "cast"
	if r.Replaced {
		what = "replaced your earlier ballot"
	}
	fmt.Fprintf(e.stdout, "ballot %s on proposal %d: %s\n", what, num, strings.Join(governance.FormatBallot(r.Ballot), " "))
	fmt.Fprintf(e.stdout, "receipt: coopfed log prove %d\n", r.LogIndex)
	return nil
}
