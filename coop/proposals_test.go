package coop_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/store"
)

// clock is a fixed clock a test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }
func as(s *coop.Service, handle string) context.Context {
	return coop.WithPrincipal(context.Background(), coop.Principal{ID: s.Site.ActorID(handle), Channel: ledger.ChannelCLI})
}

// governanceNode is a co-op with members alice, bob and carol, and a
// project "tool" maintained by alice and a remote maintainer.
func governanceNode(t *testing.T, s *coop.Service) {
	t.Helper()
	ctx := coop.AsAdmin(context.Background())
	if _, err := s.EnsureCoop(ctx, "coop", "Example Co-op", ""); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"alice", "bob", "carol"} {
		if _, _, err := s.AddMember(ctx, coop.NewMember{Handle: h}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddProject(ctx, coop.NewProject{Slug: "tool", Name: "Tool", Maintainers: []string{"alice", "@bob@b.example"}}); err != nil {
		t.Fatal(err)
	}
}

func yesNo(group string) coop.NewProposal {
	return coop.NewProposal{
		Group: group, Title: "Adopt the AGPL", Body: "We *should*.",
		Options:  []governance.Option{{Key: "yes", Label: "Yes"}, {Key: "no", Label: "No"}},
		Method:   governance.SingleChoice,
		ClosesIn: 72 * time.Hour, Quorum: governance.Ratio{Num: 1, Den: 2}, Threshold: governance.Majority,
	}
}

func TestProposalLife(t *testing.T) {
	s := newService(t)
	c := newClock()
	s.Clock = c.now
	governanceNode(t, s)
	alice, bob, carol := as(s, "alice"), as(s, "bob"), as(s, "carol")

	p, err := s.OpenProposal(alice, yesNo("coop"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Num == 0 || p.ID != fmt.Sprint(p.Num) || p.State != governance.Open || len(p.Eligible) != 3 || p.Proposer != s.Site.ActorID("alice") {
		t.Fatalf("opened %+v", p)
	}
	t.Run("a project's voters are its maintainers who are local members", func(t *testing.T) {
		pp, err := s.OpenProposal(alice, yesNo("tool"))
		if err != nil {
			t.Fatal(err)
		}
		if pp.Eligibility != governance.ProjectMaintainers || len(pp.Eligible) != 1 || pp.Eligible[0] != s.Site.ActorID("alice") {
			t.Fatalf("project proposal %+v", pp.Proposal)
		}
		if _, err := s.OpenProposal(bob, yesNo("tool")); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("open by a non-maintainer: %v", err)
		}
		if _, err := s.OpenProposal(alice, yesNo("nope")); !errors.Is(err, coop.ErrInvalidInput) {
			t.Fatalf("open for an unknown group: %v", err)
		}
	})

	vote := func(ctx context.Context, args ...string) (coop.VoteResult, error) {
		return s.Vote(ctx, p.Num, args)
	}
	refusedFor := func(t *testing.T, err error, reason string) {
		t.Helper()
		var re *coop.RefusedError
		if !errors.As(err, &re) || re.Reason != reason || re.LogIndex == 0 {
			t.Fatalf("err %v, want a refusal for %s", err, reason)
		}
	}
	tests := []struct {
		name     string
		ctx      context.Context
		args     []string
		replaced bool
		refused  string
	}{
		{"a member's ballot is cast", alice, []string{"yes"}, false, ""},
		{"another member's ballot is cast", bob, []string{"no"}, false, ""},
		{"a later ballot replaces the earlier", bob, []string{"yes"}, true, ""},
		{"an unknown option is refused", carol, []string{"maybe"}, false, governance.ReasonUnknownOption},
		{"a malformed ballot is refused", carol, []string{"yes", "no"}, false, governance.ReasonInvalidBallot},
		{"an ineligible actor is refused", coop.WithPrincipal(context.Background(), coop.Principal{ID: "https://b.example/users/bob", Channel: ledger.ChannelRemote}), []string{"yes"}, false, governance.ReasonNotEligible},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.advance(time.Minute)
			r, err := vote(tt.ctx, tt.args...)
			if tt.refused != "" {
				refusedFor(t, err, tt.refused)
				return
			}
			if err != nil || r.Replaced != tt.replaced || r.LogIndex == 0 {
				t.Fatalf("vote %v: %+v, %v", tt.args, r, err)
			}
		})
	}
	t.Run("a replacement in the same microsecond still stands", func(t *testing.T) {
		pp, err := s.OpenProposal(alice, yesNo("coop"))
		if err != nil {
			t.Fatal(err)
		}
		for _, choice := range []string{"no", "yes", "no", "yes"} {
			if _, err := s.Vote(carol, pp.Num, []string{choice}); err != nil {
				t.Fatal(err)
			}
		}
		v, err := s.ShowProposal(context.Background(), pp.Num)
		if err != nil || v.Counts.Replaced != 3 || v.Counts.Options[0].Count != 1 || v.Counts.Options[1].Count != 0 {
			t.Fatalf("counts %+v, %v", v.Counts, err)
		}
		c.t = c.t.Add(time.Minute)
	})
	t.Run("the admin does not vote, and nothing is recorded", func(t *testing.T) {
		_, before := records(t, s)
		if _, err := vote(coop.AsAdmin(context.Background()), "yes"); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("admin vote: %v", err)
		}
		if _, after := records(t, s); len(after) != len(before) {
			t.Fatalf("admin vote logged %d records", len(after)-len(before))
		}
	})
	t.Run("provisional counts while open", func(t *testing.T) {
		v, err := s.ShowProposal(context.Background(), p.Num)
		if err != nil {
			t.Fatal(err)
		}
		if v.Counts == nil || v.Counts.Final || v.Counts.Cast != 2 || v.Counts.Replaced != 1 || v.Standing != 2 || len(v.Refusals) != 3 {
			t.Fatalf("view %+v counts %+v", v, v.Counts)
		}
	})
	t.Run("extend: proposer or admin, only later", func(t *testing.T) {
		if _, err := s.ExtendProposal(bob, p.Num, 96*time.Hour); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("extend by bob: %v", err)
		}
		if _, err := s.ExtendProposal(alice, p.Num, time.Hour); !errors.Is(err, governance.ErrNotLater) {
			t.Fatalf("extend earlier: %v", err)
		}
		was := p.ClosesAt
		got, err := s.ExtendProposal(coop.AsAdmin(context.Background()), p.Num, 96*time.Hour)
		if err != nil || !got.ClosesAt.After(was) {
			t.Fatalf("extend by the admin: %v, closes %v (was %v)", err, got.ClosesAt, was)
		}
		p = got
	})
	t.Run("close is refused before the deadline", func(t *testing.T) {
		if _, err := s.CloseProposal(coop.AsAdmin(context.Background()), p.Num); !errors.Is(err, governance.ErrNotDue) {
			t.Fatalf("early close: %v", err)
		}
		if closed, err := s.CloseDue(context.Background()); err != nil || len(closed) != 0 {
			t.Fatalf("CloseDue before the deadline: %v, %v", closed, err)
		}
	})
	c.t = p.ClosesAt
	t.Run("a ballot accepted at the deadline is late", func(t *testing.T) {
		_, err := vote(carol, "no")
		refusedFor(t, err, governance.ReasonClosed)
	})
	var out coop.StoredOutcome
	t.Run("the scheduler closes it with the ballots it has", func(t *testing.T) {
		closed, err := s.CloseDue(context.Background())
		// The other two proposals, due earlier, close too, first.
		if err != nil || len(closed) != 3 || closed[2] != p.Num {
			t.Fatalf("CloseDue: %v, %v", closed, err)
		}
		v, err := s.ShowProposal(context.Background(), p.Num)
		if err != nil {
			t.Fatal(err)
		}
		if v.State != governance.Closed || v.Outcome == nil {
			t.Fatalf("after close: %+v", v)
		}
		out = *v.Outcome
		o := out.Outcome
		want := map[string]int{governance.ReasonUnknownOption: 1, governance.ReasonInvalidBallot: 1, governance.ReasonNotEligible: 1, governance.ReasonClosed: 1}
		if !o.Final || !o.Decided || o.Winner != "yes" || o.Cast != 2 || o.Replaced != 1 || o.Eligible != 3 || !o.Quorum.Met || fmt.Sprint(o.Refused) != fmt.Sprint(want) {
			t.Fatalf("outcome %+v", o)
		}
		if _, err := vote(carol, "no"); err == nil {
			t.Fatal("a vote on a closed proposal was accepted")
		}
		if _, err := s.ExtendProposal(alice, p.Num, 200*time.Hour); !errors.Is(err, governance.ErrClosed) {
			t.Fatalf("extend a closed proposal: %v", err)
		}
	})
	t.Run("every event is a record in the log", func(t *testing.T) {
		_, recs := records(t, s)
		var types []string
		var ballot, closed ledger.Record
		for _, r := range recs {
			if !strings.HasPrefix(r.Type, "proposal.") || r.Subject != s.Site.ProposalURL(p.Num) {
				continue
			}
			types = append(types, r.Type)
			switch r.Type {
			case "proposal.ballot_cast":
				if ballot.Type == "" {
					ballot = r
				}
			case "proposal.closed":
				closed = r
			}
		}
		want := "proposal.opened proposal.ballot_cast proposal.ballot_cast proposal.ballot_replaced " +
			"proposal.ballot_refused proposal.ballot_refused proposal.ballot_refused proposal.extended " +
			"proposal.ballot_refused proposal.closed proposal.ballot_refused"
		if strings.Join(types, " ") != want {
			t.Fatalf("records\n%s\nwant\n%s", strings.Join(types, " "), want)
		}
		if ballot.Principal != s.Site.ActorID("alice") || ballot.Channel != ledger.ChannelCLI || ballot.Data["ballot"] != "yes" {
			t.Fatalf("ballot record %+v", ballot)
		}
		if v, _ := ballot.Data["voter"].(string); v == "" || strings.Contains(v, "alice") {
			t.Fatalf("the voter is not a commitment: %q", v)
		}
		if closed.Principal != "a.example" || closed.Channel != ledger.ChannelSystem ||
			closed.Data["input_hash"] != fmt.Sprintf("sha256:%x", out.Outcome.InputHash) || closed.Data["winner"] != "yes" {
			t.Fatalf("closed record %+v", closed)
		}
		if recs[out.LogIndex].Type != "proposal.closed" {
			t.Fatalf("outcome's log index %d is a %s", out.LogIndex, recs[out.LogIndex].Type)
		}
	})
}

func TestWithdrawAndHiddenCounts(t *testing.T) {
	s := newService(t)
	c := newClock()
	s.Clock = c.now
	governanceNode(t, s)
	alice, bob := as(s, "alice"), as(s, "bob")

	n := yesNo("coop")
	n.HideCounts = true
	hidden, err := s.OpenProposal(bob, n)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.OpenProposal(alice, yesNo("coop"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("hidden counts until the close, and the ballot goes in as a commitment", func(t *testing.T) {
		r, err := s.Vote(alice, hidden.Num, []string{"no"})
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.ShowProposal(context.Background(), hidden.Num)
		if err != nil || v.Counts != nil || v.Standing != 1 {
			t.Fatalf("hidden view %+v, %v", v, err)
		}
		_, recs := records(t, s)
		if b, _ := recs[r.LogIndex].Data["ballot"].(string); b == "" || b == "no" {
			t.Fatalf("hidden ballot in clear: %q", b)
		}
	})
	t.Run("only the proposer withdraws", func(t *testing.T) {
		if _, err := s.WithdrawProposal(bob, w.Num); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("withdraw by bob: %v", err)
		}
		if _, err := s.WithdrawProposal(coop.AsAdmin(context.Background()), w.Num); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("withdraw by the admin: %v", err)
		}
		got, err := s.WithdrawProposal(alice, w.Num)
		if err != nil || got.State != governance.Withdrawn {
			t.Fatalf("withdraw: %+v, %v", got.State, err)
		}
		var re *coop.RefusedError
		if _, err := s.Vote(bob, w.Num, []string{"yes"}); !errors.As(err, &re) || re.Reason != governance.ReasonClosed {
			t.Fatalf("vote on a withdrawn proposal: %v", err)
		}
	})
	t.Run("withdraw is refused after the deadline", func(t *testing.T) {
		c.advance(73 * time.Hour)
		if _, err := s.WithdrawProposal(bob, hidden.Num); !errors.Is(err, governance.ErrClosed) {
			t.Fatalf("late withdraw: %v", err)
		}
		closed, err := s.CloseDue(context.Background())
		if err != nil || len(closed) != 1 || closed[0] != hidden.Num {
			t.Fatalf("CloseDue: %v, %v (the withdrawn one must not close)", closed, err)
		}
		v, err := s.ShowProposal(context.Background(), hidden.Num)
		if err != nil || v.Counts == nil || v.Counts.Cast != 1 || v.Outcome.Outcome.NoDecision != governance.NoDecisionQuorum {
			t.Fatalf("closed hidden view %+v, %v", v.Counts, err)
		}
	})
}

// TestSchedulerAcrossRestart: a proposal whose deadline passes while the
// node is down closes on the next start with the ballots it had.
func TestSchedulerAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coopfed.db")
	ctx := context.Background()
	c := newClock()
	open := func() (*store.DB, *coop.Service) {
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		return db, &coop.Service{Store: db, Site: coop.Site{Scheme: "https", Host: "a.example"},
			Resolver: fakeResolver{"bob@b.example": "https://b.example/users/bob"}, Clock: c.now}
	}
	db, s := open()
	governanceNode(t, s)
	p, err := s.OpenProposal(as(s, "alice"), yesNo("coop"))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"alice", "bob"} {
		if _, err := s.Vote(as(s, h), p.Num, []string{"no"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	c.advance(100 * time.Hour) // the node is down past the deadline

	db, s = open()
	defer db.Close()
	next, err := s.NextDeadline(ctx)
	if err != nil || !next.Equal(p.ClosesAt) {
		t.Fatalf("next deadline %v, %v; want %v", next, err, p.ClosesAt)
	}
	closed, err := s.CloseDue(ctx)
	if err != nil || len(closed) != 1 {
		t.Fatalf("CloseDue on start: %v, %v", closed, err)
	}
	v, err := s.ShowProposal(ctx, p.Num)
	if err != nil {
		t.Fatal(err)
	}
	if o := v.Outcome.Outcome; !o.Decided || o.Winner != "no" || o.Cast != 2 || !v.Outcome.Closed.Equal(c.now()) {
		t.Fatalf("outcome after restart %+v", o)
	}
	if _, err := s.NextDeadline(ctx); !errors.Is(err, coop.ErrNotFound) {
		t.Fatalf("next deadline with none open: %v", err)
	}
}

func TestVoteEveryMethod(t *testing.T) {
	s := newService(t)
	c := newClock()
	s.Clock = c.now
	governanceNode(t, s)
	abc := []governance.Option{{Key: "a", Label: "A"}, {Key: "b", Label: "B"}, {Key: "c", Label: "C"}}
	tests := []struct {
		name   string
		method governance.Method
		opts   []governance.Option
		th     governance.Threshold
		ballot []string
		want   string // the ballot as it is stored
	}{
		{"approval: a set, in the options' order", governance.Approval, abc, governance.Majority, []string{"c", "a"}, "a c"},
		{"instant-runoff: options in order", governance.InstantRunoff, abc, governance.Majority, []string{"b", "a"}, "b a"},
		{"schulze: options in order", governance.Schulze, abc, governance.Majority, []string{"c", "b", "a"}, "c b a"},
		{"score: OPTION=N", governance.Score, abc, governance.Majority, []string{"b=1", "a=3"}, "a=3 b=1"},
		{"consent: block", governance.Consent, nil, governance.Consensus, []string{"block"}, "block"},
		{"any method: abstain", governance.InstantRunoff, abc, governance.Majority, []string{"abstain"}, "abstain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := coop.NewProposal{Group: "coop", Title: tt.name, Options: tt.opts, Method: tt.method,
				Threshold: tt.th, ClosesIn: time.Hour}
			if tt.method == governance.Score {
				n.ScoreMin, n.ScoreMax = 0, 5
			}
			p, err := s.OpenProposal(coop.AsAdmin(context.Background()), n)
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Vote(as(s, "bob"), p.Num, tt.ballot)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(governance.FormatBallot(r.Ballot), " "); got != tt.want {
				t.Fatalf("ballot %q, want %q", got, tt.want)
			}
			_, recs := records(t, s)
			if recs[r.LogIndex].Data["ballot"] != tt.want {
				t.Fatalf("record %+v", recs[r.LogIndex])
			}
		})
	}
}
