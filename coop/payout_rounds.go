package coop

import (
	"context"
	"fmt"
	"time"
)

// ListPayoutRounds lists a project's payout rounds, newest first;
// members-only (pay): a member here or the operator.
func (s *Service) ListPayoutRounds(ctx context.Context, project string) ([]PayoutRound, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return nil, ErrNoPrincipal
	}
	if pr.ID != AdminPrincipal {
		if _, isMember, err := s.principalMember(ctx, s.Store, pr); err != nil || !isMember {
			if err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("coop: payout rounds: %w: pay is for members", ErrNotAllowed)
		}
	}
	p, err := s.Store.ProjectByHandle(ctx, project)
	if err != nil {
		return nil, fmt.Errorf("coop: payout rounds of %q: %w", project, err)
	}
	return s.Store.PayoutRounds(ctx, p.ID)
}

// ApprovableBy says whether actor may approve the round now, or why not
// (an error wrapping ErrNotAllowed or ErrInvalidInput): a draft, not
// created by actor, whose period is over. ApprovePayoutRound applies the
// same rules, and more (a required proposal).
func (r PayoutRound) ApprovableBy(actor string, now time.Time) error {
	switch {
	case r.State != RoundDraft:
		return fmt.Errorf("%w: round %d is already final", ErrInvalidInput, r.ID)
	case r.CreatedBy == actor:
		return fmt.Errorf("%w: the member who created a round does not approve it: a second member does", ErrNotAllowed)
	case now.Before(r.To):
		return fmt.Errorf("%w: the period ends on %s: records may still come", ErrInvalidInput, r.To.Format(time.DateOnly))
	}
	return nil
}

// CanApprovePayoutRound says whether ctx's principal may approve the
// round now, or why not (ApprovableBy, with the service's clock): for a
// page, to offer the approval or say why there is none.
func (s *Service) CanApprovePayoutRound(ctx context.Context, r PayoutRound) error {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return ErrNoPrincipal
	}
	if err := ownCredentials(pr, "approves a payout round"); err != nil {
		return err
	}
	return r.ApprovableBy(pr.ID, s.now())
}
