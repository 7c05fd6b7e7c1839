package federation

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

// TestBlocks: a blocked domain (and its subdomains) and a blocked account
// get 403 before any signature work or fetch, nothing is fetched from them,
// and adding the block removes their follows and drops their deliveries.
func TestBlocks(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	key := rsaKey(t, 1)
	good := newRemote(t, "peer.test", key)
	bad := newRemote(t, "sub.bad.test", key)
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://sub.bad.test/users/eve", http.StatusFound)
	}))
	t.Cleanup(redir.Close)
	for _, name := range []string{"zoe", "mallory"} {
		good.serveActor(name, &key.PublicKey)
	}
	bad.serveActor("eve", &key.PublicKey)
	devHosts := map[string]string{"peer.test": good.addr(), "sub.bad.test": bad.addr(), "redir.test": strings.TrimPrefix(redir.URL, "http://")}
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"}, nodeOptions{devHosts: devHosts}, "alice")
	zoe, mallory, eve := good.actorURI("zoe"), good.actorURI("mallory"), bad.actorURI("eve")

	// Before the blocks: eve follows alice and alice follows her; a post
	// waits for her inbox, and one for mallory's.
	n.cacheActor(t, store.RemoteActor{ID: mallory, Type: "Person", Inbox: mallory + "/inbox", KeyID: mallory + "#main-key",
		PublicKeyPEM: publicPEM(&key.PublicKey)})
	err := n.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.AddFollower(ctx, n.ids["alice"], eve, eve+"/follows/1", "accepted", t0); err != nil {
			return err
		}
		if err := tx.AddFollower(ctx, n.ids["alice"], zoe, zoe+"/follows/1", "accepted", t0); err != nil {
			return err
		}
		if err := tx.AddFollowing(ctx, n.ids["alice"], eve, "https://coop.test/follows/1", "accepted", t0); err != nil {
			return err
		}
		return tx.EnqueueDeliveries(ctx, n.ids["alice"], "https://coop.test/notes/1", []byte(`{}`),
			[]string{eve + "/inbox", "http://SUB.bad.test./inbox", zoe + "/inbox", mallory + "/inbox"}, t0)
	})
	if err != nil {
		t.Fatal(err)
	}

	blocks := &coop.Blocks{Store: n.db, Clock: n.clock}
	t.Run("adding a domain block removes follows and drops deliveries", func(t *testing.T) {
		res, err := blocks.Add(ctx, "admin", "Bad.Test.", "spam")
		if err != nil {
			t.Fatal(err)
		}
		if res.Block.Target != "bad.test" || res.FollowsRemoved != 2 || res.DeliveriesDropped != 2 {
			t.Fatalf("result = %+v", res)
		}
		if fs, _ := n.db.Followers(ctx, n.ids["alice"]); len(fs) != 1 || fs[0].Remote != zoe {
			t.Errorf("followers = %+v, want zoe only", fs)
		}
		if fs, _ := n.db.Following(ctx, n.ids["alice"]); len(fs) != 0 {
			t.Errorf("following = %+v, want none", fs)
		}
		dead, _ := n.db.Deliveries(ctx, store.DeliveryDead, 10)
		for _, d := range dead {
			if d.LastError != coop.DeliveryBlockedReason || !strings.Contains(strings.ToLower(d.Inbox), "bad.test") {
				t.Errorf("dead delivery %+v", d)
			}
		}
		if len(dead) != 2 {
			t.Errorf("%d dead deliveries, want 2", len(dead))
		}
	})
	t.Run("adding an account block removes only its follows and deliveries", func(t *testing.T) {
		res, err := blocks.Add(ctx, "admin", mallory+"#main-key", "")
		if err != nil {
			t.Fatal(err)
		}
		if res.Block.Kind != coop.BlockAccount || res.Block.Target != mallory || res.DeliveriesDropped != 1 {
			t.Fatalf("result = %+v", res)
		}
		if _, err := blocks.Add(ctx, "admin", mallory, ""); !errors.Is(err, coop.ErrAlreadyBlocked) {
			t.Fatalf("second block: %v", err)
		}
	})

	note := func(actor, keyID string) *http.Request {
		body := mustJSON(t, map[string]any{"id": actor + "/activities/1", "type": "Create", "actor": actor,
			"object": map[string]any{"id": actor + "/notes/1", "type": "Note", "attributedTo": actor, "content": "hi"}})
		return signedPost(t, n, "/inbox", body, keyID, key)
	}
	refused := []struct {
		name, actor, keyID, reason string
	}{
		{"a blocked subdomain's actor", eve, eve + "#main-key", "domain bad.test is blocked by this node: spam"},
		{"a keyId on a blocked domain", zoe, eve + "#main-key", "bad.test"},
		{"an actor on a blocked domain with another keyId", eve, zoe + "#main-key", "bad.test"},
		{"a blocked account", mallory, mallory + "#main-key", "account " + mallory + " is blocked"},
		{"a blocked domain written in capitals with a trailing dot", "http://SUB.BAD.TEST./users/eve", "http://SUB.BAD.TEST./users/eve#main-key", "bad.test"},
		{"a blocked account written in capitals with a trailing dot", "http://PEER.test./users/mallory", "http://PEER.test./users/mallory#main-key", "account " + mallory},
	}
	for _, tc := range refused {
		t.Run("403 for "+tc.name, func(t *testing.T) {
			w := n.post(note(tc.actor, tc.keyID))
			wantError(t, w, http.StatusForbidden, tc.reason)
		})
	}
	if h := bad.hitsOf("/users/eve"); h != 0 {
		t.Errorf("%d fetches from the blocked domain, want 0", h)
	}
	if h := good.hitsOf("/users/mallory"); h != 0 {
		t.Errorf("%d fetches of the blocked account, want 0", h)
	}
	t.Run("others are still accepted", func(t *testing.T) {
		wantAccepted(t, n.post(note(zoe, zoe+"#main-key")))
	})

	t.Run("the fetcher refuses a blocked domain and a redirect to one", func(t *testing.T) {
		for _, u := range []string{eve, "https://deeper.sub.bad.test/x", mallory, "http://redir.test/users/eve"} {
			if _, _, err := n.fetcher.Get(ctx, u); !errors.Is(err, coop.ErrBlocked) {
				t.Errorf("Get(%s) = %v, want ErrBlocked", u, err)
			}
		}
		if h := bad.hitsOf("/users/eve"); h != 0 {
			t.Errorf("%d fetches from the blocked domain, want 0", h)
		}
	})
	t.Run("the resolver refuses a blocked domain", func(t *testing.T) {
		r := NewResolver(n.site, devHosts, true).RefuseBlocked(n.db)
		if _, err := r.ResolveAccount(ctx, "eve@sub.bad.test"); !errors.Is(err, coop.ErrBlocked) {
			t.Errorf("ResolveAccount = %v, want ErrBlocked", err)
		}
		if h := bad.hitsOf("/.well-known/webfinger"); h != 0 {
			t.Errorf("%d WebFinger requests to the blocked domain", h)
		}
	})
	t.Run("deliveries to a blocked inbox are refused at send time", func(t *testing.T) {
		blocked := DeliveryBlocked(n.db)
		for inbox, want := range map[string]bool{eve + "/inbox": true, "http://x.sub.bad.test/inbox": true, zoe + "/inbox": false, "http://notbad.test/inbox": false} {
			if got, err := blocked(ctx, inbox); err != nil || got != want {
				t.Errorf("blocked(%s) = %v, %v; want %v", inbox, got, err, want)
			}
		}
	})
	t.Run("after removing the block the domain is accepted again", func(t *testing.T) {
		if _, err := blocks.Remove(ctx, "bad.test"); err != nil {
			t.Fatal(err)
		}
		if _, err := blocks.Remove(ctx, "bad.test"); !errors.Is(err, coop.ErrNotFound) {
			t.Fatalf("second remove: %v", err)
		}
		wantAccepted(t, n.post(note(eve, eve+"#main-key")))
	})
}

// TestBlockedBeforeProcessing: an activity stored before its sender was
// blocked is not applied.
func TestBlockedBeforeProcessing(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	peer.serveActor("zoe", &key.PublicKey)
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}}, "alice")
	zoe := peer.actorURI("zoe")
	follow := mustJSON(t, map[string]any{"id": zoe + "/follows/1", "type": "Follow", "actor": zoe, "object": n.site.ActorID("alice")})
	wantAccepted(t, n.post(signedPost(t, n, "/inbox", follow, zoe+"#main-key", key)))
	if _, err := (&coop.Blocks{Store: n.db}).Add(ctx, "admin", "peer.test", ""); err != nil {
		t.Fatal(err)
	}
	n.process(t)
	if fs, _ := n.db.Followers(ctx, n.ids["alice"]); len(fs) != 0 {
		t.Fatalf("followers = %+v, want none", fs)
	}
}

// TestBlockMemo: the inbox's kept answers hold only while the block list
// they came from is current: a block added or removed through the DB
// holds at the next check.
func TestBlockMemo(t *testing.T) {
	ctx := coop.AsAdmin(context.Background()) // blocks are the operator's
	db := openDB(t)
	var m blockMemo
	check := func(uri string, want bool) {
		t.Helper()
		for range 2 { // answered, then kept
			if _, ok, err := m.blockOf(ctx, db, uri); err != nil || ok != want {
				t.Fatalf("blockOf(%s) = %v, %v; want %v", uri, ok, err, want)
			}
		}
	}
	eve, zoe := "https://bad.test/users/eve", "https://peer.test/users/zoe#main-key"
	check(eve, false)
	check(zoe, false)
	blocks := &coop.Blocks{Store: db, Clock: func() time.Time { return t0 }}
	if _, err := blocks.Add(ctx, "admin", "bad.test", "spam"); err != nil {
		t.Fatal(err)
	}
	check(eve, true)
	check(zoe, false)
	if _, err := blocks.Add(ctx, "admin", "https://peer.test/users/zoe", ""); err != nil {
		t.Fatal(err)
	}
	check(zoe, true)
	if _, err := blocks.Remove(ctx, "bad.test"); err != nil {
		t.Fatal(err)
	}
	check(eve, false)
	check("https://a..b/users/x", true) // a name that does not normalize
}
