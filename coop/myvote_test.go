package coop_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// TestMyVote: where a member stands on a proposal, which proposals wait
// for their vote, and where they may open one.
func TestMyVote(t *testing.T) {
	s := newService(t)
	c := newClock()
	s.Clock = c.now
	governanceNode(t, s)
	alice, bob := as(s, "alice"), as(s, "bob")
	soon := yesNo(coop.CoopGroup)
	soon.ClosesIn = time.Hour
	p1, err := s.OpenProposal(alice, yesNo(coop.CoopGroup))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.OpenProposal(bob, soon)
	if err != nil {
		t.Fatal(err)
	}
	p3, err := s.OpenProposal(alice, yesNo("tool")) // bob is no maintainer here
	if err != nil {
		t.Fatal(err)
	}

	t.Run("needs my vote: eligible, not voted, closing soonest first", func(t *testing.T) {
		got, err := s.NeedsMyVote(bob)
		if err != nil || len(got) != 2 || got[0].Num != p2.Num || got[1].Num != p1.Num {
			t.Fatalf("%+v %v", got, err)
		}
		if _, err := s.Vote(bob, p2.Num, []string{"yes"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.NeedsMyVote(bob); len(got) != 1 || got[0].Num != p1.Num {
			t.Fatalf("after a vote: %+v", got)
		}
		if got, _ := s.NeedsMyVote(alice); len(got) != 3 {
			t.Fatalf("alice: %+v", got)
		}
	})
	t.Run("my vote: the standing ballot, my refusals, proposer", func(t *testing.T) {
		mv, err := s.MyVote(bob, p2.Num)
		if err != nil || !mv.Eligible || !mv.Proposer || mv.Ballot == nil || mv.Ballot.Choices[0] != "yes" || mv.Ballot.LogIndex == 0 {
			t.Fatalf("%+v %v", mv, err)
		}
		var refused *coop.RefusedError
		if _, err := s.Vote(bob, p3.Num, []string{"yes"}); !errors.As(err, &refused) {
			t.Fatalf("an ineligible vote: %v", err)
		}
		mv, err = s.MyVote(bob, p3.Num)
		if err != nil || mv.Eligible || mv.Proposer || mv.Ballot != nil || len(mv.Refusals) != 1 || mv.Refusals[0].Reason != "not-eligible" {
			t.Fatalf("%+v %v", mv, err)
		}
		if mv, _ := s.MyVote(alice, p3.Num); len(mv.Refusals) != 0 || !mv.Eligible {
			t.Fatalf("alice sees bob's refusal: %+v", mv)
		}
	})
	t.Run("groups: the co-op, and the projects one maintains", func(t *testing.T) {
		gs, err := s.ProposalGroups(alice)
		if err != nil || len(gs) != 2 || gs[0].Handle != "coop" || gs[1].Handle != "tool" {
			t.Fatalf("alice: %+v %v", gs, err)
		}
		if gs, _ := s.ProposalGroups(bob); len(gs) != 1 || gs[0].Handle != "coop" {
			t.Fatalf("bob: %+v", gs)
		}
		if _, err := s.NeedsMyVote(context.Background()); !errors.Is(err, coop.ErrNoPrincipal) {
			t.Fatalf("nobody: %v", err)
		}
	})
}
