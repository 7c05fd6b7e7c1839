package coop_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
)

func TestSessions(t *testing.T) {
	s := newService(t)
	c := newClock()
	s.Clock = c.now
	ctx := coop.AsAdmin(context.Background())
	if _, err := s.EnsureCoop(ctx, "coop", "Example Co-op", ""); err != nil {
		t.Fatal(err)
	}
	_, oneTime, err := s.AddMember(ctx, coop.NewMember{Handle: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SignIn(ctx, "alice", "wrong password!"); !errors.Is(err, coop.ErrBadPassword) {
		t.Fatalf("a wrong password: %v", err)
	}
	first, sess, err := s.SignIn(ctx, "alice", oneTime)
	if err != nil || !sess.MustChange || sess.CSRF == "" || len(first) < 40 {
		t.Fatalf("%+v %v", sess, err)
	}
	if m, got, err := s.SessionMember(ctx, first); err != nil || m.Handle != "alice" || !got.MustChange {
		t.Fatalf("%+v %+v %v", m, got, err)
	}
	t.Run("a new password ends every session", func(t *testing.T) {
		if err := s.ChangePassword(ctx, "alice", oneTime, "alice-correct-horse"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionMember(ctx, first); !errors.Is(err, coop.ErrNoSession) {
			t.Fatalf("the old session still opens: %v", err)
		}
	})
	token, sess, err := s.SignIn(ctx, "alice", "alice-correct-horse")
	if err != nil || sess.MustChange {
		t.Fatalf("%+v %v", sess, err)
	}
	t.Run("a session lasts while used, not forever", func(t *testing.T) {
		c.advance(coop.SessionTTL - time.Hour)
		if _, _, err := s.SessionMember(ctx, token); err != nil {
			t.Fatal(err)
		}
		c.advance(coop.SessionTTL - time.Minute)
		if _, _, err := s.SessionMember(ctx, token); err != nil {
			t.Fatalf("a session in use expired: %v", err)
		}
		c.advance(coop.SessionTTL)
		if _, _, err := s.SessionMember(ctx, token); !errors.Is(err, coop.ErrNoSession) {
			t.Fatalf("an unused session still opens: %v", err)
		}
	})
	t.Run("sign out, and removal, end sessions", func(t *testing.T) {
		t1, _, err := s.SignIn(ctx, "alice", "alice-correct-horse")
		if err != nil {
			t.Fatal(err)
		}
		t2, _, err := s.SignIn(ctx, "alice", "alice-correct-horse")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SignOut(ctx, t1); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionMember(ctx, t1); !errors.Is(err, coop.ErrNoSession) {
			t.Fatalf("signed out, still open: %v", err)
		}
		if _, _, err := s.SessionMember(ctx, t2); err != nil {
			t.Fatalf("the other session ended: %v", err)
		}
		if err := s.RemoveMember(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionMember(ctx, t2); !errors.Is(err, coop.ErrNoSession) {
			t.Fatalf("removed, still open: %v", err)
		}
	})
}
