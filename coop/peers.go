package coop

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Peer is a co-op of this node's federation: the admin-curated list of
// co-ops whose nodes vote in federation proposals, witness the decision
// log and send records that coopfed stores as theirs (DESIGN.md, "Who
// acts, and who sees"). Following stays open to anyone and gives read
// access only.
type Peer struct {
	Actor   string // the peer co-op's Organization actor URI
	AddedAt time.Time
	AddedBy string // the admin principal who listed it, such as "cli"
	// FollowState is the state of this co-op's follow of the peer:
	// "pending" until its Accept arrives, "accepted", or "" when there is
	// no follow (it was undone by hand, or rejected).
	FollowState string
	// Name, Handle and Host are the co-op's, from its stored actor ("" when
	// it is not at hand).
	Name, Handle, Host string
}

// Federation membership errors.
var (
	ErrPeerExists      = errors.New("already a member of the federation")
	ErrNotPeer         = errors.New("not a member of the federation")
	ErrNotOrganization = errors.New("not a co-op (Organization) actor")
)

// PrincipalCLI is the principal of an admin acting through the coopfed
// command on the node's own machine.
const PrincipalCLI = "cli"

// AddPeer lists a remote co-op (@coop@host or its actor URL) as a member
// of this node's federation, in one transaction: the peer is stored, the
// co-op's Organization follows it, and the co-op's revision moves so that
// an Update of the Organization (whose coop:federation collection has
// changed) goes to its followers. The peer must be an Organization. by
// names the admin principal. Admins only (requireAdmin).
func (s *Service) AddPeer(ctx context.Context, target, by string) (Peer, error) {
	if s.Publisher == nil {
		return Peer{}, fmt.Errorf("%w: this node cannot publish", ErrInvalidInput)
	}
	if by == "" {
		return Peer{}, fmt.Errorf("%w: adding a peer needs an admin principal", ErrInvalidInput)
	}
	// Checked before the lookup too, so that no one else makes the node
	// fetch; and again in the transaction, which decides.
	if err := s.requireAdmin(ctx, s.Store); err != nil {
		return Peer{}, fmt.Errorf("coop: add peer %q: %w", target, err)
	}
	r, err := s.Publisher.Recipient(ctx, target)
	if err != nil {
		return Peer{}, fmt.Errorf("coop: add peer %q: %w", target, err)
	}
	if r.Type != string(KindOrganization) {
		return Peer{}, fmt.Errorf("coop: add peer %q: %w: %s is a %s; a federation member is a co-op's Organization actor (try @coop@%s)",
			target, ErrNotOrganization, r.Actor, r.Type, hostOfAcct(r.Acct))
	}
	var out Peer
	err = s.Store.Update(ctx, func(tx Tx) error {
		if err := s.requireAdmin(ctx, tx); err != nil {
			return err
		}
		c, err := tx.Coop(ctx)
		if err != nil {
			return err
		}
		if r.Actor == s.Site.ActorID(c.Handle) {
			return fmt.Errorf("%w: %s is this co-op", ErrInvalidInput, r.Actor)
		}
		_, err = tx.Peer(ctx, r.Actor)
		switch {
		case err == nil:
			return fmt.Errorf("%w: %s", ErrPeerExists, r.Actor)
		case !isNotFound(err):
			return err
		}
		now := s.now()
		if err := tx.InsertPeer(ctx, Peer{Actor: r.Actor, AddedAt: now, AddedBy: by}); err != nil {
			return err
		}
		if out, err = tx.Peer(ctx, r.Actor); err != nil {
			return err
		}
		state, err := federationState(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := s.logEvent(ctx, tx, event{Type: "peer.admitted", Subject: r.Actor, Data: map[string]any{"acct": r.Acct}, State: state}); err != nil {
			return err
		}
		// A follow accepted earlier (coopfed follow) stands; any other is
		// sent again.
		if out.FollowState != "accepted" {
			if _, err := s.Publisher.PublishFollow(ctx, tx, c, r, now); err != nil {
				return err
			}
			out.FollowState = "pending"
		}
		return s.federationChanged(ctx, tx, c, now)
	})
	if err != nil {
		return Peer{}, fmt.Errorf("coop: add peer %q: %w", target, err)
	}
	return out, nil
}

// RemovePeer takes a co-op (@coop@host or its actor URL) off the
// federation: it leaves the list, the co-op's follow of it is undone, and
// an Update of the Organization goes to its followers. A peer given by
// URL whose actor can no longer be read is removed all the same, its
// follow forgotten without an Undo. Admins only (requireAdmin).
func (s *Service) RemovePeer(ctx context.Context, target string) error {
	if s.Publisher == nil {
		return fmt.Errorf("%w: this node cannot publish", ErrInvalidInput)
	}
	if err := s.requireAdmin(ctx, s.Store); err != nil {
		return fmt.Errorf("coop: remove peer %q: %w", target, err)
	}
	uri := target
	r, rerr := s.Publisher.Recipient(ctx, target)
	switch {
	case rerr == nil:
		uri = r.Actor
	case !isURL(target):
		return fmt.Errorf("coop: remove peer %q: %w", target, rerr)
	}
	err := s.Store.Update(ctx, func(tx Tx) error {
		if err := s.requireAdmin(ctx, tx); err != nil {
			return err
		}
		c, err := tx.Coop(ctx)
		if err != nil {
			return err
		}
		p, err := tx.Peer(ctx, uri)
		if isNotFound(err) {
			return fmt.Errorf("%w: %s", ErrNotPeer, uri)
		}
		if err != nil {
			return err
		}
		if err := tx.DeletePeer(ctx, uri); err != nil {
			return err
		}
		state, err := federationState(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := s.logEvent(ctx, tx, event{Type: "peer.removed", Subject: uri, Data: map[string]any{}, State: state}); err != nil {
			return err
		}
		if err := tx.UnpinWitnessed(ctx, uri); err != nil {
			return err
		}
		now := s.now()
		switch {
		case p.FollowState == "":
		case rerr == nil:
			if err := s.Publisher.PublishUndoFollow(ctx, tx, c, r, now); err != nil {
				return err
			}
		default:
			if _, err := tx.RemoveFollowing(ctx, c.ID, uri); err != nil {
				return err
			}
		}
		return s.federationChanged(ctx, tx, c, now)
	})
	if err != nil {
		return fmt.Errorf("coop: remove peer %q: %w", target, err)
	}
	return nil
}

// federationChanged moves the co-op's revision and sends its document to
// its followers, after its federation list changed.
func (s *Service) federationChanged(ctx context.Context, tx Tx, c Actor, now time.Time) error {
	if err := tx.BumpRevision(ctx, c.ID, now); err != nil {
		return err
	}
	c, err := tx.Coop(ctx)
	if err != nil {
		return err
	}
	return s.Publisher.PublishActorUpdate(ctx, tx, c, now)
}

// Peers lists the co-ops of this node's federation, oldest first, with the
// state of the co-op's follow of each.
func (s *Service) Peers(ctx context.Context) ([]Peer, error) {
	ps, err := s.Store.Peers(ctx)
	if err != nil {
		return nil, fmt.Errorf("coop: peers: %w", err)
	}
	return ps, nil
}

// IsFederationMember reports whether actorURI speaks for a member of this
// node's federation: today, the Organization actor of a listed peer co-op.
// Only members vote in federation proposals, witness the decision log and
// send records that coopfed stores as theirs; any other follower reads
// only. (A peer's members' own actors will count once peers publish their
// member lists.)
func (s *Service) IsFederationMember(ctx context.Context, actorURI string) (bool, error) {
	_, err := s.Store.Peer(ctx, actorURI)
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("coop: is %s a federation member: %w", actorURI, err)
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// hostOfAcct returns the host of name@host.
func hostOfAcct(acct string) string {
	_, host, _ := strings.Cut(acct, "@")
	return host
}
