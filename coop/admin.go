package coop

import (
	"context"
	"errors"
	"fmt"
)

// Admin actions (adding and removing members, their roles and passwords,
// the federation's members, blocks, the delivery queue, the co-op's
// profile) are taken by the node's operator at the command line
// (AdminPrincipal) or by a live member whose role is admin, from the web.
// The rule lives here, once, so that no page can skip it.

// requireAdmin returns an ErrNotAllowed error unless the context's
// principal is the operator or a live admin member; ErrNoPrincipal when
// there is no principal.
func (s *Service) requireAdmin(ctx context.Context, r Reader) error {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return ErrNoPrincipal
	}
	if pr.ID == AdminPrincipal {
		return nil
	}
	m, ok, err := s.principalMember(ctx, r, Principal{ID: pr.ID})
	if errors.Is(err, ErrNotMember) || errors.Is(err, ErrGone) || errors.Is(err, ErrNotFound) {
		ok, err = false, nil
	}
	if err != nil {
		return err
	}
	if !ok || !m.Admin() {
		return fmt.Errorf("%w: only an admin of the co-op may do this", ErrNotAllowed)
	}
	return nil
}

// IsAdmin reports whether the context's principal may take admin actions
// (for pages, to show the admin's links; the use cases check again).
func (s *Service) IsAdmin(ctx context.Context) (bool, error) {
	err := s.requireAdmin(ctx, s.Store)
	if errors.Is(err, ErrNotAllowed) || errors.Is(err, ErrNoPrincipal) {
		return false, nil
	}
	return err == nil, err
}
