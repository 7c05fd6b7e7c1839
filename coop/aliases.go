package coop

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A member's commit addresses (aliases): the addresses under which
// `coopfed contributions import` matches a git history's authors to the
// member. A member manages their own; an admin anyone's (the operator at
// the command line, or a member whose role is admin). An address held by
// another member, as their address or an alias, is refused.

// Alias is one of a member's commit addresses.
type Alias struct {
	Email string
	Added time.Time
}

// AliasReader reads aliases.
type AliasReader interface {
	// MemberAliases lists a member's aliases by address.
	MemberAliases(ctx context.Context, memberID int64) ([]Alias, error)
}

// AliasWriter removes aliases (InsertAlias adds one).
type AliasWriter interface {
	// DeleteAlias removes a member's alias; false when they had none so.
	DeleteAlias(ctx context.Context, memberID int64, email string) (bool, error)
}

// mayManageAliases says whether pr may manage handle's aliases: their
// own, or an admin's (requireAdmin).
func (s *Service) mayManageAliases(ctx context.Context, r Reader, pr Principal, handle string) error {
	if pr.ID == s.Site.ActorID(handle) && pr.For == "" {
		return nil
	}
	err := s.requireAdmin(ctx, r)
	if errors.Is(err, ErrNotAllowed) {
		return fmt.Errorf("%w: a member manages their own addresses (an admin anyone's)", ErrNotAllowed)
	}
	return err
}

// Aliases lists a member's commit addresses, for the member or an admin.
func (s *Service) Aliases(ctx context.Context, handle string) ([]Alias, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return nil, ErrNoPrincipal
	}
	if err := s.mayManageAliases(ctx, s.Store, pr, handle); err != nil {
		return nil, fmt.Errorf("coop: aliases of %q: %w", handle, err)
	}
	m, err := liveMember(ctx, s.Store, handle)
	if err != nil {
		return nil, fmt.Errorf("coop: aliases of %q: %w", handle, err)
	}
	as, err := s.Store.MemberAliases(ctx, m.ID)
	if err != nil {
		return nil, fmt.Errorf("coop: aliases of %q: %w", handle, err)
	}
	return as, nil
}

// RemoveAlias removes one of a member's commit addresses: the member
// themself or an admin. Records imported before keep their contributor.
func (s *Service) RemoveAlias(ctx context.Context, handle, email string) error {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return ErrNoPrincipal
	}
	email = strings.ToLower(strings.TrimSpace(email))
	err := s.Store.Update(ctx, func(tx Tx) error {
		if err := s.mayManageAliases(ctx, tx, pr, handle); err != nil {
			return err
		}
		m, err := liveMember(ctx, tx, handle)
		if err != nil {
			return err
		}
		gone, err := tx.DeleteAlias(ctx, m.ID, email)
		if err != nil {
			return err
		}
		if !gone {
			return fmt.Errorf("%w: %s is not one of %s's addresses", ErrNotFound, email, handle)
		}
		_, err = s.logEvent(ctx, tx, event{Type: "member.alias_removed", Subject: s.Site.ActorID(handle),
			Personal: map[string]string{"email": email}})
		return err
	})
	if err != nil {
		return fmt.Errorf("coop: remove alias: %w", err)
	}
	return nil
}

// aliasTaken refuses an address that is another member's: their address
// or one of their aliases.
func aliasTaken(ctx context.Context, r Reader, m Member, email string) error {
	other, err := r.MemberByEmail(ctx, email)
	switch {
	case isNotFound(err):
		return nil
	case err != nil:
		return err
	case other.ID != m.ID:
		return fmt.Errorf("%w: %s is another member's address", ErrInvalidInput, email)
	}
	return nil
}
