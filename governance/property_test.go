package governance

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var methods = []Method{SingleChoice, Approval, InstantRunoff, Schulze, Score, Consent}

// randomBallot returns a valid ballot for p, an abstention now and then.
func randomBallot(r *rand.Rand, p Proposal, v string, at time.Time) Ballot {
	b := Ballot{Voter: v, At: at}
	if r.IntN(10) == 0 {
		b.Abstain = true
		return b
	}
	k := len(p.Options)
	switch p.Method {
	case SingleChoice:
		b.Choices = []string{p.Options[r.IntN(k)].Key}
	case Approval:
		for _, i := range r.Perm(k)[:1+r.IntN(k)] {
			b.Choices = append(b.Choices, p.Options[i].Key)
		}
	case InstantRunoff, Schulze:
		for _, i := range r.Perm(k)[:1+r.IntN(k)] {
			b.Choices = append(b.Choices, p.Options[i].Key)
		}
	case Score:
		for _, i := range r.Perm(k)[:1+r.IntN(k)] {
			b.Ratings = append(b.Ratings, Rating{p.Options[i].Key, p.ScoreMin + r.IntN(p.ScoreMax-p.ScoreMin+1)})
		}
	case Consent:
		b.Stance = Stance(1 + r.IntN(3))
	}
	return b
}

// randomInputs makes ballots with repeated voters, strangers, invalid
// ballots and refusals, so that every path of Tally is taken.
func randomInputs(r *rand.Rand, m Method) (Proposal, []Ballot, []Refusal) {
	var keys []string
	if m != Consent {
		keys = []string{"a", "b", "c", "d", "e"}[:2+r.IntN(4)]
	}
	n := 1 + r.IntN(40)
	p := proposal(m, Majority, n, keys...)
	p.Quorum = Ratio{int64(r.IntN(3)), 2}
	var bs []Ballot
	for range r.IntN(60) {
		v := voter(r.IntN(n + 3)) // a few strangers
		at := t0.Add(time.Duration(r.IntN(5)) * time.Minute)
		b := randomBallot(r, p, v, at)
		if r.IntN(20) == 0 {
			b.Choices = append(b.Choices, "nope")
		}
		bs = append(bs, b)
	}
	var rs []Refusal
	for range r.IntN(4) {
		rs = append(rs, Refusal{Voter: voter(r.IntN(n)), At: deadline, Reason: []error{ErrClosed, ErrNotEligible, ErrAlreadyVoted}[r.IntN(3)], Count: r.IntN(3)})
	}
	return p, bs, rs
}

func TestBallotOrderNeverMatters(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, m := range methods {
		for range 300 {
			p, bs, rs := randomInputs(r, m)
			before := slices.Clone(bs)
			eligible := slices.Clone(p.Eligible)
			want := Tally(p, bs, rs)
			if !cmp.Equal(before, bs) || !slices.Equal(eligible, p.Eligible) {
				t.Fatalf("%s: Tally changed its arguments", m)
			}
			r.Shuffle(len(bs), func(i, j int) { bs[i], bs[j] = bs[j], bs[i] })
			r.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
			slices.Reverse(p.Eligible)
			got := Tally(p, bs, rs)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s: outcome changed with the order of the inputs (-before +after):\n%s", m, diff)
			}
		}
	}
}

func TestInputHashCoversEveryBallot(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, m := range methods {
		var p Proposal
		if m == Consent {
			p = proposal(m, Majority, 3)
		} else {
			p = proposal(m, Majority, 3, "a", "b")
		}
		var bs []Ballot
		for i := range 3 {
			bs = append(bs, randomBallot(r, p, voter(i), t0))
		}
		h := Tally(p, bs, nil).InputHash
		for i, change := range []func([]Ballot){
			func(b []Ballot) { b[1].At = b[1].At.Add(time.Nanosecond) },
			func(b []Ballot) { b[2].Final = !b[2].Final },
			func(b []Ballot) { b[0].Voter = voter(7) },
		} {
			c := slices.Clone(bs)
			change(c)
			if Tally(p, c, nil).InputHash == h {
				t.Errorf("%s: change %d left the hash as it was", m, i)
			}
		}
		if Tally(p, bs, []Refusal{{Reason: ErrClosed}}).InputHash == h {
			t.Errorf("%s: a refusal left the hash as it was", m)
		}
		q := p
		q.Quorum = Ratio{1, 3}
		if Tally(q, bs, nil).InputHash == h {
			t.Errorf("%s: the quorum is not hashed", m)
		}
	}
}

func TestApprovalMonotonic(t *testing.T) {
	// Adding an approval of X to a ballot never hurts X: its count does
	// not fall, no other count changes, and a winner or leader X stays so.
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		keys := []string{"a", "b", "c", "d", "e"}[:2+r.IntN(4)]
		n := 1 + r.IntN(40)
		p := proposal(Approval, []Threshold{Majority, TwoThirds}[r.IntN(2)], n, keys...)
		p.Quorum = Ratio{int64(r.IntN(3)), 2}
		var bs []Ballot
		for v := range n {
			if r.IntN(4) != 0 {
				bs = append(bs, randomBallot(r, p, voter(v), t0))
			}
		}
		if len(bs) == 0 {
			continue
		}
		x := p.Options[r.IntN(len(p.Options))].Key
		i := r.IntN(len(bs))
		before := Tally(p, bs, nil)
		after := slices.Clone(bs)
		after[i].Abstain = false
		after[i].Choices = append(slices.Clone(after[i].Choices), x)
		o := Tally(p, after, nil)
		for j, oc := range o.Options {
			b := before.Options[j]
			if oc.Option == x && oc.Count < b.Count || oc.Option != x && oc.Count > b.Count {
				t.Fatalf("approving %s on ballot %d: %v -> %v", x, i, before.Options, o.Options)
			}
		}
		if before.Decided && before.Winner == x && (!o.Decided || o.Winner != x) {
			t.Fatalf("approving %s made it lose: %+v -> %+v", x, before, o)
		}
		if slices.Contains(before.Leaders, x) && !slices.Contains(o.Leaders, x) {
			t.Fatalf("approving %s took it out of the lead: %v -> %v", x, before.Leaders, o.Leaders)
		}
	}
}

func TestSingleChoiceIsAMapCount(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 500 {
		keys := []string{"a", "b", "c", "d"}[:2+r.IntN(3)]
		n := 1 + r.IntN(200)
		p := proposal(SingleChoice, Majority, n, keys...)
		var bs []Ballot
		plain := map[string]int64{}
		for i := range n {
			if r.IntN(3) == 0 {
				continue
			}
			b := randomBallot(r, p, voter(i), t0)
			bs = append(bs, b)
			if !b.Abstain {
				plain[b.Choices[0]]++
			}
		}
		o := Tally(p, bs, nil)
		for _, oc := range o.Options {
			if oc.Count != plain[oc.Option] {
				t.Fatalf("%s: %d; a map counts %d", oc.Option, oc.Count, plain[oc.Option])
			}
		}
		var top int64
		for _, c := range plain {
			top = max(top, c)
		}
		var lead []string
		for _, k := range keys {
			if plain[k] == top && top > 0 {
				lead = append(lead, k)
			}
		}
		if !slices.Equal(lead, o.Leaders) {
			t.Fatalf("leaders %v; a map gives %v", o.Leaders, lead)
		}
	}
}

func TestCountsAddUp(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, m := range []Method{InstantRunoff, Schulze} {
		for range 500 {
			p, bs, _ := randomInputs(r, m)
			o := Tally(p, bs, nil)
			voting := int64(o.Cast - o.Abstentions)
			for _, round := range o.Rounds {
				sum := int64(round.Exhausted)
				for _, v := range round.Votes {
					sum += v.Count
				}
				if sum != voting {
					t.Fatalf("irv round %+v adds up to %d; want %d", round, sum, voting)
				}
			}
			if s := o.Schulze; s != nil {
				for i := range s.Pairwise {
					for j := range s.Pairwise {
						if s.Pairwise[i][j]+s.Pairwise[j][i] > voting {
							t.Fatalf("pairwise %d,%d exceeds %d ballots", i, j, voting)
						}
					}
				}
			}
			if o.Decided && !o.Quorum.Met {
				t.Fatalf("decided without a quorum")
			}
		}
	}
}
