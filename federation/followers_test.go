package federation

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"github.com/google/go-cmp/cmp"
)

// TestFollowRequests: a Follow of an actor that approves followers by hand
// waits; approving it queues an Accept that embeds the Follow as received,
// rejecting one a Reject; a follower already accepted who follows again
// stays accepted.
func TestFollowRequests(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	peer.serveActor("zoe", &key.PublicKey)
	peer.serveActor("ann", &key.PublicKey)
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}, manual: []string{"shy"}}, "shy")
	svc := &coop.Service{Store: n.db, Site: n.site, Publisher: NewPublisher(n.site, nil, n.fetcher), Clock: n.clock}
	shy := n.site.ActorID("shy")
	zoe, ann := peer.actorURI("zoe"), peer.actorURI("ann")
	follow := func(t *testing.T, from, id string) map[string]any {
		t.Helper()
		f := map[string]any{"@context": nsActivityStreams, "id": id, "type": "Follow", "actor": from, "object": shy,
			"to": []any{shy}, "proof": map[string]any{"type": "DataIntegrityProof"}}
		wantAccepted(t, n.post(signedPost(t, n, "/users/shy/inbox", mustJSON(t, f), from+"#main-key", key)))
		n.process(t)
		return f
	}
	// sent returns the deliveries queued since the last call, oldest first.
	seen := 0
	sent := func(t *testing.T) []store.Delivery {
		t.Helper()
		ds, err := n.db.Deliveries(ctx, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []store.Delivery
		for i := len(ds) - 1 - seen; i >= 0; i-- {
			out = append(out, ds[i])
		}
		seen = len(ds)
		return out
	}
	answer := func(t *testing.T, d store.Delivery, typ, to string, object map[string]any) {
		t.Helper()
		got := decode(t, d.Body)
		want := map[string]any{"@context": nsActivityStreams, "id": d.ActivityID, "type": typ, "actor": shy, "to": to, "object": object}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", typ, diff)
		}
		if d.Inbox != to+"/inbox" {
			t.Fatalf("%s sent to %s, want the follower's own inbox", typ, d.Inbox)
		}
	}
	asEmbedded := func(f map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range f {
			if k != "@context" && k != "proof" {
				m[k] = v
			}
		}
		return m
	}

	f1 := follow(t, zoe, zoe+"/follows/1")
	if p, err := svc.PendingFollowers(ctx, "shy"); err != nil || len(p) != 1 || p[0] != zoe {
		t.Fatalf("pending = %v, %v", p, err)
	}
	if ds := sent(t); len(ds) != 0 {
		t.Fatalf("queued before approval: %+v", ds)
	}

	t.Run("approve queues an Accept embedding the Follow as received", func(t *testing.T) {
		if err := svc.ApproveFollower(ctx, "shy", zoe); err != nil {
			t.Fatal(err)
		}
		ds := sent(t)
		if len(ds) != 1 {
			t.Fatalf("queued %d", len(ds))
		}
		answer(t, ds[0], "Accept", zoe, asEmbedded(f1))
		// The same id as an automatic Accept of that Follow would have.
		_, autoID, _ := acceptDocument(n.site, coop.Actor{Handle: "shy"}, activity{ID: zoe + "/follows/1", m: f1}, zoe)
		if ds[0].ActivityID != autoID {
			t.Fatalf("Accept id %s, want %s", ds[0].ActivityID, autoID)
		}
		if p, _ := svc.PendingFollowers(ctx, "shy"); len(p) != 0 {
			t.Fatalf("still pending: %v", p)
		}
	})
	t.Run("an accepted follower who follows again stays accepted and is answered", func(t *testing.T) {
		f2 := follow(t, zoe, zoe+"/follows/2")
		ds := sent(t)
		if len(ds) != 1 {
			t.Fatalf("queued %d", len(ds))
		}
		answer(t, ds[0], "Accept", zoe, asEmbedded(f2))
		if f, err := n.db.Follower(ctx, n.ids["shy"], zoe); err != nil || f.Pending || f.FollowID != zoe+"/follows/2" {
			t.Fatalf("follower = %+v, %v", f, err)
		}
	})
	t.Run("reject queues a Reject and removes the request", func(t *testing.T) {
		f := follow(t, ann, ann+"/follows/1")
		if err := svc.RejectFollower(ctx, "shy", ann); err != nil {
			t.Fatal(err)
		}
		ds := sent(t)
		if len(ds) != 1 {
			t.Fatalf("queued %d", len(ds))
		}
		answer(t, ds[0], "Reject", ann, asEmbedded(f))
		if !strings.Contains(ds[0].ActivityID, "#rejects/follows/") {
			t.Fatalf("Reject id %s", ds[0].ActivityID)
		}
		if _, err := n.db.Follower(ctx, n.ids["shy"], ann); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rejected follower: %v", err)
		}
	})
	t.Run("a Follow no longer kept is embedded as id, type, actor, object", func(t *testing.T) {
		if err := n.db.Write(ctx, func(tx *store.Tx) error {
			return tx.AddFollower(ctx, n.ids["shy"], ann, ann+"/follows/old", "pending", t0)
		}); err != nil {
			t.Fatal(err)
		}
		if err := svc.ApproveFollower(ctx, "shy", ann); err != nil {
			t.Fatal(err)
		}
		ds := sent(t)
		if len(ds) != 1 {
			t.Fatalf("queued %d", len(ds))
		}
		answer(t, ds[0], "Accept", ann, map[string]any{"id": ann + "/follows/old", "type": "Follow", "actor": ann, "object": shy})
	})
	t.Run("a gone follower cannot be approved; rejecting it sends nothing", func(t *testing.T) {
		gone := "https://gone.test/users/x"
		if err := n.db.Write(ctx, func(tx *store.Tx) error {
			if err := tx.MarkRemoteActorGone(ctx, gone, "", "gone.test", t0); err != nil {
				return err
			}
			return tx.AddFollower(ctx, n.ids["shy"], gone, gone+"/follows/1", "pending", t0)
		}); err != nil {
			t.Fatal(err)
		}
		if err := svc.ApproveFollower(ctx, "shy", gone); !errors.Is(err, coop.ErrGone) {
			t.Fatalf("approve: %v, want ErrGone", err)
		}
		if err := svc.RejectFollower(ctx, "shy", gone); err != nil {
			t.Fatal(err)
		}
		if ds := sent(t); len(ds) != 0 {
			t.Fatalf("queued %+v", ds)
		}
		if _, err := n.db.Follower(ctx, n.ids["shy"], gone); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("gone follower stays: %v", err)
		}
	})
}
