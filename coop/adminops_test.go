package coop_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

// TestAdminOps: the federation's members, the blocks and the delivery
// queue are for admins: a plain member, a stranger and nobody are
// refused and nothing changes; the operator and an admin member act.
func TestAdminOps(t *testing.T) {
	s := newService(t)
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s.Clock = func() time.Time { return t0 }
	op := coop.AsAdmin(context.Background())
	pub := &peerPublisher{actors: map[string]coop.Recipient{}}
	for _, h := range []string{"b", "c", "d"} {
		r := coop.Recipient{Actor: "https://" + h + ".example/users/coop", Type: "Organization", Acct: "coop@" + h + ".example",
			Inbox: "https://" + h + ".example/users/coop/inbox"}
		pub.actors["@coop@"+h+".example"], pub.actors[r.Actor] = r, r
	}
	s.Publisher = pub
	c, err := s.EnsureCoop(op, "coop", "Example Co-op", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []coop.NewMember{{Handle: "ada", Role: coop.RoleAdmin}, {Handle: "bob"}} {
		if _, _, err := s.AddMember(op, n); err != nil {
			t.Fatal(err)
		}
	}
	db := s.Store.(*store.DB)
	blocks := &coop.Blocks{Store: db, Admin: s.RequireAdmin, Clock: s.Clock}

	// Three deliveries to the peers' inboxes, killed: dead.
	if err := s.Store.Update(op, func(tx coop.Tx) error {
		for i, h := range []string{"b", "c", "d"} {
			if err := tx.EnqueueDeliveries(op, c.ID, fmt.Sprintf("https://a.example/notes/%d", i), []byte(`{}`),
				[]string{"https://" + h + ".example/users/coop/inbox"}, t0); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	claimed, err := db.ClaimDeliveries(op, t0, time.Minute, 10)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	for _, d := range claimed {
		if err := db.KillDelivery(op, d.ID, d.LeaseUntil, 410, "HTTP 410", t0); err != nil {
			t.Fatal(err)
		}
	}

	as := func(h string) context.Context {
		return coop.WithPrincipal(context.Background(), coop.Principal{ID: s.Site.ActorID(h), Channel: "web"})
	}
	refused := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"a plain member", as("bob"), coop.ErrNotAllowed},
		{"a stranger", coop.WithPrincipal(context.Background(), coop.Principal{ID: "https://elsewhere.example/users/eve", Channel: "activitypub"}), coop.ErrNotAllowed},
		{"nobody", context.Background(), coop.ErrNoPrincipal},
	}
	for _, c := range refused {
		t.Run(c.name+" is refused", func(t *testing.T) {
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, c.want) {
					t.Errorf("%s: %v, want %v", what, err, c.want)
				}
			}
			_, err := s.AddPeer(c.ctx, "@coop@b.example", "bob")
			check("AddPeer", err)
			check("RemovePeer", s.RemovePeer(c.ctx, "@coop@b.example"))
			_, err = blocks.Add(c.ctx, "bob", "bad.example", "")
			check("block", err)
			_, err = blocks.Remove(c.ctx, "bad.example")
			check("unblock", err)
			_, err = blocks.List(c.ctx)
			check("list blocks", err)
			_, err = s.DeliveryQueue(c.ctx, "", 10)
			check("DeliveryQueue", err)
			check("RetryDelivery", s.RetryDelivery(c.ctx, claimed[0].ID))
			_, err = s.RetryDeadDeliveries(c.ctx)
			check("RetryDeadDeliveries", err)
			if got := pub.take(); len(got) != 0 {
				t.Errorf("sent %q", got)
			}
		})
	}
	t.Run("nothing changed", func(t *testing.T) {
		if ps, err := s.Peers(op); err != nil || len(ps) != 0 {
			t.Errorf("peers: %v, %v", ps, err)
		}
		if bs, err := blocks.List(op); err != nil || len(bs) != 0 {
			t.Errorf("blocks: %v, %v", bs, err)
		}
		q, err := s.DeliveryQueue(op, coop.DeliveryDead, 10)
		if err != nil || q.Counts[coop.DeliveryDead] != 3 || len(q.Rows) != 3 {
			t.Errorf("queue: %+v, %v", q, err)
		}
	})

	for i, c := range []struct {
		name string
		ctx  context.Context
	}{{"the operator", op}, {"an admin member", as("ada")}} {
		t.Run(c.name+" acts", func(t *testing.T) {
			host := []string{"b", "c"}[i]
			p, err := s.AddPeer(c.ctx, "@coop@"+host+".example", "ada")
			if err != nil || p.FollowState != "pending" {
				t.Fatalf("AddPeer: %+v, %v", p, err)
			}
			if err := s.RemovePeer(c.ctx, p.Actor); err != nil {
				t.Fatalf("RemovePeer: %v", err)
			}
			pub.take()
			res, err := blocks.Add(c.ctx, "ada", host+".example", "spam")
			if err != nil || res.Block.Target != host+".example" {
				t.Fatalf("block: %+v, %v", res, err)
			}
			if bs, err := blocks.List(c.ctx); err != nil || len(bs) != 1 || bs[0].Reason != "spam" {
				t.Fatalf("list blocks: %+v, %v", bs, err)
			}
			if _, err := blocks.Remove(c.ctx, host+".example"); err != nil {
				t.Fatalf("unblock: %v", err)
			}
			if err := s.RetryDelivery(c.ctx, claimed[i].ID); err != nil {
				t.Fatalf("RetryDelivery: %v", err)
			}
			q, err := s.DeliveryQueue(c.ctx, coop.DeliveryQueued, 10)
			if err != nil || q.State != coop.DeliveryQueued || len(q.Rows) == 0 {
				t.Fatalf("DeliveryQueue: %+v, %v", q, err)
			}
		})
	}

	t.Run("the queue, by state, and the retries", func(t *testing.T) {
		ctx := as("ada")
		q, err := s.DeliveryQueue(ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if q.Counts[coop.DeliveryDead] != 1 || q.Counts[coop.DeliveryQueued] != 2 || q.Counts[coop.DeliveryDone] != 0 || len(q.Rows) != 3 ||
			q.Rows[0].ID != claimed[2].ID {
			t.Errorf("counts %v, %d rows", q.Counts, len(q.Rows))
		}
		q, err = s.DeliveryQueue(ctx, coop.DeliveryDead, 10)
		if err != nil || len(q.Rows) != 1 {
			t.Fatalf("dead: %+v, %v", q, err)
		}
		d := q.Rows[0]
		if d.ID != claimed[2].ID || d.Inbox != "https://d.example/users/coop/inbox" || d.ActivityID != "https://a.example/notes/2" ||
			d.Attempts != 1 || d.LastStatus != 410 || d.LastError != "HTTP 410" {
			t.Errorf("dead row: %+v", d)
		}
		if _, err := s.DeliveryQueue(ctx, "lost", 10); !errors.Is(err, coop.ErrInvalidInput) {
			t.Errorf("an unknown state: %v", err)
		}
		if err := s.RetryDelivery(ctx, 9999); !errors.Is(err, coop.ErrNotFound) {
			t.Errorf("an unknown delivery: %v", err)
		}
		n, err := s.RetryDeadDeliveries(ctx)
		if err != nil || n != 1 {
			t.Fatalf("RetryDeadDeliveries: %d, %v", n, err)
		}
		again, err := db.ClaimDeliveries(op, t0, time.Minute, 1)
		if err != nil || len(again) != 1 {
			t.Fatalf("claim: %v, %v", again, err)
		}
		if err := db.CompleteDelivery(op, again[0].ID, again[0].LeaseUntil, 202, t0); err != nil {
			t.Fatal(err)
		}
		if err := s.RetryDelivery(ctx, again[0].ID); !errors.Is(err, coop.ErrNotRetryable) {
			t.Errorf("retry a done delivery: %v", err)
		}
	})

	t.Run("a Blocks without the check admits the operator only", func(t *testing.T) {
		bare := &coop.Blocks{Store: db}
		if _, err := bare.List(as("ada")); !errors.Is(err, coop.ErrNotAllowed) {
			t.Errorf("an admin member: %v", err)
		}
		if _, err := bare.List(op); err != nil {
			t.Errorf("the operator: %v", err)
		}
	})
}
