package governance

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestRules(t *testing.T) {
	t.Run("tie is no decision", func(t *testing.T) {
		for _, m := range []Method{SingleChoice, Approval, InstantRunoff, Schulze} {
			p := proposal(m, Majority, 4, "yes", "no")
			o := Tally(p, ballots(group{2, one("yes")}, group{2, one("no")}), nil)
			if o.Decided || o.NoDecision != NoDecisionTie || len(o.Leaders) != 2 {
				t.Errorf("%s: decided %v %q, leaders %v, why %q; want a tie", m, o.Decided, o.Winner, o.Leaders, o.NoDecision)
			}
		}
		p := proposal(Score, Majority, 2, "yes", "no")
		o := Tally(p, ballots(
			group{1, Ballot{Ratings: []Rating{{"yes", 10}, {"no", 0}}}},
			group{1, Ballot{Ratings: []Rating{{"yes", 0}, {"no", 10}}}},
		), nil)
		if o.Decided || o.NoDecision != NoDecisionTie {
			t.Errorf("score: decided %v, why %q; want a tie", o.Decided, o.NoDecision)
		}
	})
	t.Run("tie is not broken by who voted first", func(t *testing.T) {
		p := proposal(SingleChoice, Majority, 4, "yes", "no")
		bs := ballots(group{2, one("yes")}, group{2, one("no")})
		for i := range bs { // "no" voted first
			bs[i].At = deadline.Add(-time.Duration(i+1) * time.Hour)
		}
		if o := Tally(p, bs, nil); o.Decided {
			t.Errorf("decided %q", o.Winner)
		}
	})
	t.Run("abstentions count toward quorum but not majority", func(t *testing.T) {
		// 10 eligible, quorum 1/2: 2 yes, 1 no and 2 abstentions make 5
		// ballots, a quorum; yes has 2 of the 3 voting ballots, a majority.
		p := proposal(SingleChoice, Majority, 10, "yes", "no")
		p.Quorum = Ratio{1, 2}
		o := Tally(p, ballots(group{2, one("yes")}, group{1, one("no")}, group{2, abstain()}), nil)
		if o.Quorum != (QuorumResult{Met: true, Have: 5, Need: 5}) || !o.Decided || o.Winner != "yes" {
			t.Errorf("quorum %+v decided %v %q (%s)", o.Quorum, o.Decided, o.Winner, o.NoDecision)
		}
		// Without the abstentions, no quorum.
		o = Tally(p, ballots(group{2, one("yes")}, group{1, one("no")}), nil)
		if o.Quorum.Met || o.NoDecision != NoDecisionQuorum {
			t.Errorf("quorum %+v why %q; want quorum not met", o.Quorum, o.NoDecision)
		}
		// Abstentions do not dilute a majority: 1 yes, 0 no, 5 abstain.
		p.Quorum = Ratio{}
		o = Tally(p, ballots(group{1, one("yes")}, group{5, abstain()}), nil)
		if !o.Decided || o.Winner != "yes" || o.Abstentions != 5 || o.Cast != 6 {
			t.Errorf("decided %v %q abst %d cast %d", o.Decided, o.Winner, o.Abstentions, o.Cast)
		}
	})
	t.Run("refusals do not count toward quorum", func(t *testing.T) {
		p := proposal(SingleChoice, Majority, 4, "yes", "no")
		p.Quorum = Ratio{1, 2}
		late := Refusal{Voter: voter(1), At: deadline, Reason: ErrClosed}
		o := Tally(p, ballots(group{1, one("yes")}), []Refusal{late})
		if o.Quorum.Met || o.Refused[ReasonClosed] != 1 {
			t.Errorf("quorum %+v refused %v", o.Quorum, o.Refused)
		}
	})
	t.Run("majority is more than half", func(t *testing.T) {
		p := proposal(SingleChoice, Majority, 4, "yes", "no", "maybe")
		o := Tally(p, ballots(group{2, one("yes")}, group{1, one("no")}, group{1, one("maybe")}), nil)
		if o.Decided || o.NoDecision != NoDecisionThreshold {
			t.Errorf("2 of 4 decided %v (%s); want threshold not met", o.Decided, o.NoDecision)
		}
	})
	t.Run("two-thirds exactly met", func(t *testing.T) {
		p := proposal(SingleChoice, TwoThirds, 9, "yes", "no")
		o := Tally(p, ballots(group{4, one("yes")}, group{2, one("no")}, group{3, abstain()}), nil)
		if !o.Decided || o.Winner != "yes" {
			t.Errorf("4 of 6: decided %v (%s); want yes", o.Decided, o.NoDecision)
		}
		o = Tally(p, ballots(group{5, one("yes")}, group{3, one("no")}), nil)
		if o.Decided || o.NoDecision != NoDecisionThreshold {
			t.Errorf("5 of 8: decided %v; want threshold not met", o.Decided)
		}
	})
	t.Run("quorum rounds up", func(t *testing.T) {
		p := proposal(SingleChoice, Majority, 7, "yes", "no")
		p.Quorum = Ratio{1, 2} // 3.5 -> 4
		o := Tally(p, ballots(group{3, one("yes")}), nil)
		if o.Quorum != (QuorumResult{Met: false, Have: 3, Need: 4}) {
			t.Errorf("quorum %+v; want 3 of 4", o.Quorum)
		}
	})
	t.Run("irv majority counts exhausted ballots", func(t *testing.T) {
		// a 4, b 3, c 2 (c ballots rank nothing else). c is eliminated, its
		// 2 ballots exhaust; a's 4 of 9 is not a majority; b is eliminated
		// next, its ballots exhaust; a alone, 4 of 9: no decision.
		p := proposal(InstantRunoff, Majority, 9, "a", "b", "c")
		o := Tally(p, ballots(group{4, ranked("a")}, group{3, ranked("b")}, group{2, ranked("c")}), nil)
		if o.Decided || o.NoDecision != NoDecisionThreshold || len(o.Rounds) != 3 || o.Rounds[2].Exhausted != 5 {
			t.Errorf("decided %v (%s), %d rounds %+v", o.Decided, o.NoDecision, len(o.Rounds), o.Rounds)
		}
	})
	t.Run("irv eliminates every last-placed option at once", func(t *testing.T) {
		p := proposal(InstantRunoff, Majority, 10, "a", "b", "c", "d")
		o := Tally(p, ballots(group{4, ranked("a", "b")}, group{2, ranked("b", "a")}, group{2, ranked("c", "a")}, group{2, ranked("d", "a")}), nil)
		if !o.Decided || o.Winner != "a" || len(o.Rounds) != 2 || len(o.Rounds[0].Eliminated) != 3 {
			t.Errorf("winner %q rounds %+v", o.Winner, o.Rounds)
		}
	})
	t.Run("ballot for an unknown option refused", func(t *testing.T) {
		p := proposal(SingleChoice, Majority, 3, "yes", "no")
		_, err := p.Cast(Ballot{Voter: voter(0), Choices: []string{"perhaps"}}, t0.Add(time.Hour))
		if !errors.Is(err, ErrUnknownOption) {
			t.Fatalf("Cast: %v; want ErrUnknownOption", err)
		}
		// And counted as refused by Tally, whether refused at Cast or found
		// among the ballots.
		bs := ballots(group{2, one("yes")}, group{1, one("perhaps")})
		o := Tally(p, bs[:2], []Refusal{{Voter: voter(0), Reason: err}})
		o2 := Tally(p, bs, nil)
		if o.Refused[ReasonUnknownOption] != 1 || o2.Refused[ReasonUnknownOption] != 1 || o2.Cast != 2 {
			t.Errorf("refused %v and %v", o.Refused, o2.Refused)
		}
	})
	t.Run("late ballot refused with ErrClosed and counted as refused", func(t *testing.T) {
		p := proposal(SingleChoice, Majority, 3, "yes", "no")
		b := Ballot{Voter: voter(0), Choices: []string{"yes"}}
		if _, err := p.Cast(b, deadline.Add(-time.Nanosecond)); err != nil {
			t.Fatalf("just in time: %v", err)
		}
		_, err := p.Cast(b, deadline)
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("at the deadline: %v; want ErrClosed", err)
		}
		p, _ = p.Close(deadline)
		o := Tally(p, nil, []Refusal{{Voter: b.Voter, At: deadline, Reason: err}})
		if o.Refused[ReasonClosed] != 1 || o.Cast != 0 || !o.Final {
			t.Errorf("refused %v cast %d final %v", o.Refused, o.Cast, o.Final)
		}
	})
	t.Run("TakesBallots agrees with Cast on the time window", func(t *testing.T) {
		p := proposal(SingleChoice, Majority, 3, "yes", "no")
		closed, _ := p.Close(deadline)
		for _, c := range []struct {
			p  Proposal
			at time.Time
		}{
			{p, p.OpensAt.Add(-time.Nanosecond)}, {p, p.OpensAt}, {p, deadline.Add(-time.Nanosecond)}, {p, deadline},
			{closed, deadline.Add(-time.Nanosecond)}, {Proposal{ID: "p", Method: SingleChoice}, t0},
		} {
			_, err := c.p.Cast(Ballot{Voter: voter(0), Choices: []string{"yes"}}, c.at)
			timely := !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNotOpen)
			if got := c.p.TakesBallots(c.at); got != timely {
				t.Errorf("%s at %v: TakesBallots %v, Cast %v", c.p.State, c.at, got, err)
			}
		}
	})
	t.Run("ineligible voter refused", func(t *testing.T) {
		p := proposal(SingleChoice, Majority, 3, "yes", "no")
		b := Ballot{Voter: "https://elsewhere.example/stranger", Choices: []string{"yes"}}
		if _, err := p.Cast(b, t0.Add(time.Hour)); !errors.Is(err, ErrNotEligible) {
			t.Errorf("Cast: %v; want ErrNotEligible", err)
		}
		b.At = t0
		if o := Tally(p, []Ballot{b}, nil); o.Refused[ReasonNotEligible] != 1 || o.Cast != 0 {
			t.Errorf("Tally refused %v cast %d", o.Refused, o.Cast)
		}
	})
	t.Run("a draft refuses ballots", func(t *testing.T) {
		p := Proposal{ID: "p", Title: "t", Method: SingleChoice}
		if _, err := p.Cast(Ballot{Voter: "a", Choices: []string{"x"}}, t0); !errors.Is(err, ErrNotOpen) {
			t.Errorf("Cast: %v; want ErrNotOpen", err)
		}
	})
	t.Run("a closed proposal refuses every change", func(t *testing.T) {
		p := proposal(SingleChoice, Majority, 3, "yes", "no")
		p, err := p.Close(deadline)
		if err != nil {
			t.Fatal(err)
		}
		later := deadline.Add(time.Hour)
		errs := map[string]error{}
		_, errs["Open"] = p.Open(voters(3), later)
		_, errs["SetOptions"] = p.SetOptions(nil)
		_, errs["Cast"] = p.Cast(Ballot{Voter: voter(0), Choices: []string{"yes"}}, later)
		_, errs["Recast"] = p.Recast(Ballot{Voter: voter(0)}, Ballot{Voter: voter(0), Choices: []string{"yes"}}, later)
		_, errs["Extend"] = p.Extend(later.Add(time.Hour), later)
		_, errs["Withdraw"] = p.Withdraw(later)
		_, errs["Close"] = p.Close(later)
		for name, err := range errs {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s: %v; want ErrClosed", name, err)
			}
		}
		w := proposal(SingleChoice, Majority, 3, "yes", "no")
		w, _ = w.Withdraw(t0)
		if _, err := w.Extend(deadline.Add(time.Hour), t0); !errors.Is(err, ErrClosed) {
			t.Errorf("withdrawn Extend: %v; want ErrClosed", err)
		}
		if o := Tally(w, ballots(group{3, one("yes")}), nil); o.Decided || o.NoDecision != NoDecisionWithdrawn {
			t.Errorf("withdrawn tally decided %v (%s)", o.Decided, o.NoDecision)
		}
	})
	t.Run("options are fixed once open", func(t *testing.T) {
		p := proposal(SingleChoice, Majority, 3, "yes", "no")
		if _, err := p.SetOptions([]Option{{Key: "x"}}); !errors.Is(err, ErrOptionsFixed) {
			t.Errorf("SetOptions: %v; want ErrOptionsFixed", err)
		}
	})
	t.Run("open copies what it is given", func(t *testing.T) {
		d := Proposal{ID: "p", Title: "t", Method: SingleChoice, Threshold: Majority, Eligibility: CoopMembers,
			ClosesAt: deadline, Options: []Option{{"a", "A"}, {"b", "B"}}}
		v := []string{"z", "a", "z"}
		p, err := d.Open(v, t0)
		if err != nil {
			t.Fatal(err)
		}
		v[0] = "q"
		d.Options[0].Key = "changed"
		if len(p.Eligible) != 2 || p.Eligible[0] != "a" || p.Eligible[1] != "z" || p.Options[0].Key != "a" {
			t.Errorf("eligible %v options %v", p.Eligible, p.Options)
		}
	})
	t.Run("extend only later and only while open", func(t *testing.T) {
		p := proposal(SingleChoice, Majority, 3, "yes", "no")
		if _, err := p.Extend(deadline, t0); !errors.Is(err, ErrNotLater) {
			t.Errorf("same deadline: %v; want ErrNotLater", err)
		}
		if _, err := p.Extend(deadline.Add(time.Hour), deadline); !errors.Is(err, ErrClosed) {
			t.Errorf("after the deadline: %v; want ErrClosed", err)
		}
		q, err := p.Extend(deadline.Add(time.Hour), t0)
		if err != nil || !q.ClosesAt.Equal(deadline.Add(time.Hour)) {
			t.Errorf("Extend: %v, closes %v", err, q.ClosesAt)
		}
		if _, err := q.Close(deadline); !errors.Is(err, ErrNotDue) {
			t.Errorf("Close before the new deadline: %v; want ErrNotDue", err)
		}
	})
	t.Run("a later ballot replaces the earlier one", func(t *testing.T) {
		p := proposal(SingleChoice, Majority, 3, "yes", "no")
		first, _ := p.Cast(Ballot{Voter: voter(0), Choices: []string{"yes"}}, t0.Add(time.Hour))
		second, err := p.Recast(first, Ballot{Voter: voter(0), Choices: []string{"no"}}, t0.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		o := Tally(p, []Ballot{second, first}, nil)
		if o.Replaced != 1 || o.Options[1].Count != 1 || o.Options[0].Count != 0 {
			t.Errorf("replaced %d counts %v", o.Replaced, o.Options)
		}
	})
	t.Run("a mastodon vote cannot be replaced", func(t *testing.T) {
		p := proposal(SingleChoice, Majority, 3, "yes", "no")
		first, _ := p.Cast(Ballot{Voter: voter(0), Choices: []string{"yes"}, Final: true}, t0.Add(time.Hour))
		_, err := p.Recast(first, Ballot{Voter: voter(0), Choices: []string{"no"}, Final: true}, t0.Add(2*time.Hour))
		if !errors.Is(err, ErrAlreadyVoted) {
			t.Errorf("Recast: %v; want ErrAlreadyVoted", err)
		}
	})
	t.Run("mastodon multiple choice votes add up", func(t *testing.T) {
		p := proposal(Approval, Majority, 3, "a", "b", "c")
		first, _ := p.Cast(Ballot{Voter: voter(0), Choices: []string{"c"}, Final: true}, t0.Add(time.Hour))
		b, err := p.Recast(first, Ballot{Voter: voter(0), Choices: []string{"a", "c"}, Final: true}, t0.Add(2*time.Hour))
		if err != nil || len(b.Choices) != 2 || b.Choices[0] != "a" || b.Choices[1] != "c" || !b.Final {
			t.Errorf("Recast: %+v, %v; want the union a, c", b, err)
		}
	})
	t.Run("invalid ballots say why", func(t *testing.T) {
		for _, tc := range []struct {
			m Method
			b Ballot
		}{
			{SingleChoice, Ballot{Choices: []string{"a", "b"}}},
			{SingleChoice, Ballot{}},
			{Approval, Ballot{}},
			{InstantRunoff, Ballot{Choices: []string{"a", "a"}}},
			{Schulze, Ballot{Choices: []string{"b", "a", "b"}}},
			{Score, Ballot{Ratings: []Rating{{"a", 11}}}},
			{Score, Ballot{Ratings: []Rating{{"a", 1}, {"a", 2}}}},
			{Score, Ballot{Choices: []string{"a"}}},
			{Consent, Ballot{}},
			{SingleChoice, Ballot{Abstain: true, Choices: []string{"a"}}},
			{SingleChoice, Ballot{Choices: []string{"a"}, Stance: Agree}},
		} {
			var keys []string
			if tc.m != Consent {
				keys = []string{"a", "b"}
			}
			th := Majority
			p := proposal(tc.m, th, 3, keys...)
			tc.b.Voter = voter(0)
			_, err := p.Cast(tc.b, t0)
			var be *BallotError
			if !errors.Is(err, ErrInvalidBallot) || !errors.As(err, &be) || be.Detail == "" {
				t.Errorf("%s %+v: %v; want ErrInvalidBallot with a detail", tc.m, tc.b, err)
			}
			tc.b.At = t0
			if o := Tally(p, []Ballot{tc.b}, nil); o.Refused[ReasonInvalidBallot] != 1 {
				t.Errorf("%s %+v: Tally refused %v", tc.m, tc.b, o.Refused)
			}
		}
	})
	t.Run("proposals that break a rule are refused", func(t *testing.T) {
		ok := Proposal{ID: "p", Title: "t", Method: SingleChoice, Threshold: Majority, Eligibility: CoopMembers,
			ClosesAt: deadline, Options: []Option{{"a", "A"}, {"b", "B"}}}
		if err := ok.Validate(); err != nil {
			t.Fatal(err)
		}
		for name, change := range map[string]func(*Proposal){
			"one option":            func(p *Proposal) { p.Options = p.Options[:1] },
			"repeated key":          func(p *Proposal) { p.Options[1].Key = "a" },
			"key abstain":           func(p *Proposal) { p.Options[1].Key = "abstain" },
			"key with a space":      func(p *Proposal) { p.Options[1].Key = "b c" },
			"consensus on single":   func(p *Proposal) { p.Threshold = Consensus },
			"two-thirds on schulze": func(p *Proposal) { p.Method, p.Threshold = Schulze, TwoThirds },
			"quorum above one":      func(p *Proposal) { p.Quorum = Ratio{3, 2} },
			"score range empty":     func(p *Proposal) { p.Method, p.ScoreMin, p.ScoreMax = Score, 5, 5 },
			"unknown method":        func(p *Proposal) { p.Method = "borda" },
			"no deadline":           func(p *Proposal) { p.ClosesAt = time.Time{} },
			"consent with options":  func(p *Proposal) { p.Method = Consent },
		} {
			p := ok
			p.Options = append([]Option(nil), ok.Options...)
			change(&p)
			if _, err := p.Open([]string{"v"}, t0); !errors.Is(err, ErrInvalidProposal) {
				t.Errorf("%s: Open %v; want ErrInvalidProposal", name, err)
			}
		}
		if _, err := ok.Open(nil, t0); !errors.Is(err, ErrInvalidProposal) {
			t.Errorf("no voters: %v", err)
		}
		if _, err := ok.Open([]string{"v"}, deadline); !errors.Is(err, ErrInvalidProposal) {
			t.Errorf("opening at the deadline: %v", err)
		}
	})
}

func TestTallyOfAnInvalidProposal(t *testing.T) {
	p := proposal(InstantRunoff, Majority, 2, "a", "b")
	var many []string
	for i := range 300 {
		p.Options = append(p.Options, Option{Key: fmt.Sprintf("o%d", i)})
		many = append(many, fmt.Sprintf("o%d", i))
	}
	o := Tally(p, []Ballot{{Voter: voter(0), At: t0, Choices: many}}, nil)
	if o.NoDecision != NoDecisionInvalid || o.Refused[ReasonInvalidBallot] != 1 || o.Cast != 0 {
		t.Errorf("%+v", o)
	}
}
