package coop

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Follower is a remote actor who follows a local actor, or asks to.
type Follower struct {
	Actor    string // the follower's actor URI
	FollowID string // the id of its Follow activity, as received
	// Pending is set while the follow waits for the local actor's
	// approval: the follower gets no posts and is not counted.
	Pending bool
	Since   time.Time // when its Follow was recorded
}

// Follow request errors.
var (
	ErrNotFollower = errors.New("not a follower")
	ErrNotPending  = errors.New("not waiting for approval")
)

// SetManualApproval sets whether a local actor (a member, a project or
// the co-op) approves its followers by hand. The actor's revision moves,
// so that its document shows manuallyApprovesFollowers (peers show a
// lock), and an Update of the actor goes to its followers. Turning it off
// approves the follow requests waiting, as Mastodon does when an account
// is unlocked: nobody is left waiting for an approval that is no longer
// asked for. Setting what is already set changes nothing.
func (s *Service) SetManualApproval(ctx context.Context, handle string, on bool) error {
	if s.Publisher == nil {
		return fmt.Errorf("%w: this node cannot publish", ErrInvalidInput)
	}
	err := s.Store.Update(ctx, func(tx Tx) error {
		a, err := liveActor(ctx, tx, handle)
		if err != nil {
			return err
		}
		if a.ManuallyApprovesFollowers == on {
			return nil
		}
		now := s.now()
		if err := tx.SetManualApproval(ctx, a.ID, on, now); err != nil {
			return err
		}
		if a, err = tx.ActorByHandle(ctx, a.Handle); err != nil {
			return err
		}
		if !on {
			if err := s.approveAll(ctx, tx, a, now); err != nil {
				return err
			}
		}
		return s.Publisher.PublishActorUpdate(ctx, tx, a, now)
	})
	if err != nil {
		return fmt.Errorf("coop: set manual approval of %q: %w", handle, err)
	}
	return nil
}

// approveAll accepts every pending follower of a; one whose actor is gone
// is dropped instead, as there is nobody to accept.
func (s *Service) approveAll(ctx context.Context, tx Tx, a Actor, now time.Time) error {
	fs, err := tx.FollowersOf(ctx, a.ID)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if !f.Pending {
			continue
		}
		err := s.Publisher.PublishFollowAnswer(ctx, tx, a, f, true, now)
		switch {
		case errors.Is(err, ErrGone):
			if _, err := tx.RemoveFollower(ctx, a.ID, f.Actor, f.FollowID); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}
		if err := tx.AcceptFollower(ctx, a.ID, f.Actor); err != nil {
			return err
		}
	}
	return nil
}

// Followers lists a live local actor's followers, pending ones included,
// oldest first.
func (s *Service) Followers(ctx context.Context, handle string) ([]Follower, error) {
	a, err := liveActor(ctx, s.Store, handle)
	if err != nil {
		return nil, err
	}
	fs, err := s.Store.FollowersOf(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("coop: followers of %q: %w", handle, err)
	}
	return fs, nil
}

// PendingFollowers lists the actor URIs whose follows of a local actor
// wait for its approval, oldest first.
func (s *Service) PendingFollowers(ctx context.Context, handle string) ([]string, error) {
	fs, err := s.Followers(ctx, handle)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range fs {
		if f.Pending {
			out = append(out, f.Actor)
		}
	}
	return out, nil
}

// ApproveFollower accepts a pending follow of a local actor and queues a
// signed Accept of the Follow to the follower.
func (s *Service) ApproveFollower(ctx context.Context, handle, followerURI string) error {
	if s.Publisher == nil {
		return fmt.Errorf("%w: this node cannot publish", ErrInvalidInput)
	}
	err := s.Store.Update(ctx, func(tx Tx) error {
		a, f, err := followerOf(ctx, tx, handle, followerURI)
		if err != nil {
			return err
		}
		if !f.Pending {
			return fmt.Errorf("%w: %s follows %q already", ErrNotPending, followerURI, handle)
		}
		if err := tx.AcceptFollower(ctx, a.ID, f.Actor); err != nil {
			return err
		}
		return s.Publisher.PublishFollowAnswer(ctx, tx, a, f, true, s.now())
	})
	if err != nil {
		return fmt.Errorf("coop: approve follower %s of %q: %w", followerURI, handle, err)
	}
	return nil
}

// RejectFollower refuses a follow request, or removes an accepted
// follower, and queues a signed Reject of the Follow to the follower (none
// when the follower's actor is gone).
func (s *Service) RejectFollower(ctx context.Context, handle, followerURI string) error {
	if s.Publisher == nil {
		return fmt.Errorf("%w: this node cannot publish", ErrInvalidInput)
	}
	err := s.Store.Update(ctx, func(tx Tx) error {
		a, f, err := followerOf(ctx, tx, handle, followerURI)
		if err != nil {
			return err
		}
		if _, err := tx.RemoveFollower(ctx, a.ID, f.Actor, f.FollowID); err != nil {
			return err
		}
		return s.Publisher.PublishFollowAnswer(ctx, tx, a, f, false, s.now())
	})
	if err != nil {
		return fmt.Errorf("coop: reject follower %s of %q: %w", followerURI, handle, err)
	}
	return nil
}

// followerOf finds a live local actor and its follower followerURI.
func followerOf(ctx context.Context, tx Tx, handle, followerURI string) (Actor, Follower, error) {
	a, err := liveActor(ctx, tx, handle)
	if err != nil {
		return Actor{}, Follower{}, err
	}
	f, err := tx.Follower(ctx, a.ID, followerURI)
	if isNotFound(err) {
		return Actor{}, Follower{}, fmt.Errorf("%w: %s does not follow %q nor ask to", ErrNotFollower, followerURI, handle)
	}
	if err != nil {
		return Actor{}, Follower{}, err
	}
	return a, f, nil
}
