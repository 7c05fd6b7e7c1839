package coop

import (
	"context"
	"fmt"
	"slices"

	"github.com/coopfed/coopfed/governance"
)

// MyVote is where the principal stands on one proposal: whether they may
// vote on it, their standing ballot (whose LogIndex is their receipt),
// and their own refused votes with the reasons.
type MyVote struct {
	Eligible bool
	Ballot   *StoredBallot
	Refusals []StoredRefusal
	// Proposer is true when the principal opened the proposal: they may
	// withdraw or extend it while it is open.
	Proposer bool
}

// MyVote returns the principal's standing on proposal num.
func (s *Service) MyVote(ctx context.Context, num int64) (MyVote, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return MyVote{}, ErrNoPrincipal
	}
	p, err := s.Store.Proposal(ctx, num)
	if err != nil {
		return MyVote{}, fmt.Errorf("coop: my vote on %d: %w", num, err)
	}
	mv := MyVote{Eligible: p.IsEligible(pr.ID), Proposer: p.Proposer == pr.ID}
	b, err := s.Store.StandingBallot(ctx, num, pr.ID)
	switch {
	case err == nil:
		mv.Ballot = &b
	case !isNotFound(err):
		return MyVote{}, fmt.Errorf("coop: my vote on %d: %w", num, err)
	}
	rs, err := s.Store.Refusals(ctx, num)
	if err != nil {
		return MyVote{}, fmt.Errorf("coop: my vote on %d: %w", num, err)
	}
	for _, r := range rs {
		if r.Voter == pr.ID {
			mv.Refusals = append(mv.Refusals, r)
		}
	}
	return mv, nil
}

// NeedsMyVote lists the open proposals, deadline not passed, that the
// principal may vote on and has not: the first ones closing first.
func (s *Service) NeedsMyVote(ctx context.Context) ([]Proposal, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return nil, ErrNoPrincipal
	}
	ps, err := s.Store.Proposals(ctx)
	if err != nil {
		return nil, fmt.Errorf("coop: needs my vote: %w", err)
	}
	now := s.now()
	var out []Proposal
	for _, p := range ps {
		if p.State != governance.Open || !now.Before(p.ClosesAt) || !p.IsEligible(pr.ID) {
			continue
		}
		_, err := s.Store.StandingBallot(ctx, p.Num, pr.ID)
		if err == nil {
			continue
		}
		if !isNotFound(err) {
			return nil, fmt.Errorf("coop: needs my vote: %w", err)
		}
		out = append(out, p)
	}
	// Closing soonest first: the most urgent on top.
	slices.SortStableFunc(out, func(a, b Proposal) int { return a.ClosesAt.Compare(b.ClosesAt) })
	return out, nil
}

// ProposalGroups lists the groups the principal may open a proposal
// for, as OpenProposal decides it: the co-op for any member, and each
// live project the member maintains; the admin opens for every group.
func (s *Service) ProposalGroups(ctx context.Context) ([]Actor, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return nil, ErrNoPrincipal
	}
	c, err := s.Store.Coop(ctx)
	if err != nil {
		return nil, fmt.Errorf("coop: proposal groups: %w", err)
	}
	if pr.ID != AdminPrincipal {
		if _, isMember, err := s.principalMember(ctx, s.Store, pr); err != nil {
			return nil, fmt.Errorf("coop: proposal groups: %w", err)
		} else if !isMember {
			return nil, nil
		}
	}
	out := []Actor{c}
	ps, err := s.Store.Projects(ctx)
	if err != nil {
		return nil, fmt.Errorf("coop: proposal groups: %w", err)
	}
	for _, p := range ps {
		if p.Removed() {
			continue
		}
		if pr.ID == AdminPrincipal || contains(p.Maintainers, pr.ID) {
			out = append(out, p.Actor)
		}
	}
	return out, nil
}
