package main

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"github.com/coopfed/coopfed/testpeer"
)

// followersOf counts the accepted followers of a local actor.
func followersOf(t *testing.T, db *store.DB, handle string) int {
	t.Helper()
	a, err := db.ActorByHandle(context.Background(), handle)
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.CollectionPage(context.Background(), a.ID, coop.Followers, coop.PageRequest{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p.Total
}

// notesTo returns the notes a local actor received.
func notesTo(t *testing.T, db *store.DB, handle string) []store.ReceivedNote {
	t.Helper()
	a, err := db.ActorByHandle(context.Background(), handle)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := db.ReceivedNotes(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// TestFedifyFollowsPostsAndMessages runs a node as `coopfed serve` does and
// the Fedify peer beside it: the peer follows the co-op and verifies its
// signed Accept; `coopfed post` reaches the peer as a signed public post,
// and a direct message as one (addressed to the peer only, with a Mention);
// the peer's own direct message to the co-op is stored as one.
func TestFedifyFollowsPostsAndMessages(t *testing.T) {
	peer := testpeer.Start(t)
	n, s := startNode(t)
	cfg := n.cfg.Dir + "/" + configFile
	peerActor := peer.Actors[0]
	peerAcct := "@peer@" + strings.TrimPrefix(peer.Origin, "http://")

	var follow struct {
		ID     string `json:"id"`
		Status int    `json:"status"`
	}
	if err := peer.Call("follow", map[string]any{"user": "peer", "target": s.ActorID("coop")}, &follow); err != nil {
		t.Fatal(err)
	}
	if follow.Status != 202 {
		t.Fatalf("our inbox answered the peer's Follow with %d", follow.Status)
	}
	accepts, err := peer.Received(url.Values{"type": {"Accept"}, "actor": {s.ActorID("coop")}}, 1, 20*time.Second)
	if err != nil || len(accepts) != 1 {
		t.Fatalf("Accept at the peer: %v, %+v", err, accepts)
	}
	if !accepts[0].Verified || accepts[0].Status != 202 {
		t.Fatalf("the peer did not verify our Accept: %+v", accepts[0])
	}
	var acc struct {
		Object any `json:"object"`
	}
	json.Unmarshal(accepts[0].Activity, &acc)
	if id := idOfJSON(acc.Object); id != follow.ID {
		t.Fatalf("Accept's object is %q, want the Follow %q", id, follow.ID)
	}
	eventually(t, 10*time.Second, "the peer is a follower", func() bool { return followersOf(t, n.db, "coop") == 1 })

	mustCLI(t, "post", "--as", "coop", "Hello, fediverse & co-ops!", "--config", cfg)
	// Fedify answers 202 before its listeners run: wait for "handled",
	// which says Fedify parsed the activity and dispatched it.
	posts, err := peer.Received(url.Values{"type": {"Create"}, "actor": {s.ActorID("coop")}, "handled": {"true"}}, 1, 20*time.Second)
	if err != nil || len(posts) != 1 {
		t.Fatalf("post at the peer: %v, %d", err, len(posts))
	}
	if !posts[0].Verified || !posts[0].Handled || !strings.Contains(string(posts[0].Activity), "Hello, fediverse &amp; co-ops!") {
		t.Fatalf("post at the peer: verified %v handled %v reason %q\n%s", posts[0].Verified, posts[0].Handled, posts[0].Reason, posts[0].Activity)
	}

	mustCLI(t, "post", "--as", "coop", "--direct", "--to", peerAcct, "only for you", "--config", cfg)
	dms, err := peer.Received(url.Values{"type": {"Create"}, "actor": {s.ActorID("coop")}, "handled": {"true"}}, 2, 20*time.Second)
	if err != nil || len(dms) != 2 {
		t.Fatalf("DM at the peer: %v, %d", err, len(dms))
	}
	var dm struct {
		To     any `json:"to"`
		Object struct {
			To      any    `json:"to"`
			Content string `json:"content"`
			Tag     any    `json:"tag"`
		} `json:"object"`
	}
	json.Unmarshal(dms[1].Activity, &dm)
	if !dms[1].Verified || idOfJSON(dm.To) != peerActor || idOfJSON(dm.Object.To) != peerActor ||
		!strings.Contains(dm.Object.Content, "only for you") || !strings.Contains(string(dms[1].Activity), `"Mention"`) {
		t.Fatalf("DM at the peer: verified %v\n%s", dms[1].Verified, dms[1].Activity)
	}

	var sent struct {
		Status int `json:"status"`
	}
	if err := peer.Call("send", map[string]any{"user": "peer", "to": []string{s.ActorID("coop")},
		"note": map[string]any{"content": "hello coop, privately", "direct": true, "mention": s.ActorID("coop")}}, &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Status != 202 {
		t.Fatalf("our inbox answered the peer's DM with %d", sent.Status)
	}
	eventually(t, 10*time.Second, "the peer's DM is stored for the co-op", func() bool {
		for _, note := range notesTo(t, n.db, "coop") {
			if note.Direct && note.ActorURI == peerActor && strings.Contains(note.Content, "hello coop, privately") {
				return true
			}
		}
		return false
	})

	// The co-op follows the peer: a signed Follow, and the peer's Accept
	// recorded; then unfollows: the peer gets the Undo.
	code, _, errs := cli(t, "unfollow", "coop", peerAcct, "--config", cfg)
	if code != 1 || !strings.Contains(errs, "does not follow") {
		t.Fatalf("unfollow before following: exit %d: %s", code, errs)
	}
	mustCLI(t, "follow", "coop", peerAcct, "--config", cfg)
	c, _ := n.db.Coop(context.Background())
	eventually(t, 20*time.Second, "the peer accepts the co-op's follow", func() bool {
		fs, err := n.db.Following(context.Background(), c.ID)
		return err == nil && len(fs) == 1 && fs[0].Remote == peerActor && fs[0].State == "accepted"
	})
	mustCLI(t, "unfollow", "coop", peerAcct, "--config", cfg)
	undos, err := peer.Received(url.Values{"type": {"Undo"}, "actor": {s.ActorID("coop")}, "handled": {"true"}}, 1, 20*time.Second)
	if err != nil || len(undos) != 1 || !undos[0].Verified {
		t.Fatalf("Undo at the peer: %v, %+v", err, undos)
	}
	var actor struct {
		FollowerList []string `json:"followerList"`
	}
	if err := peer.Call("actor?user=peer", nil, &actor); err != nil {
		t.Fatal(err)
	}
	for _, f := range actor.FollowerList {
		if f == s.ActorID("coop") {
			t.Fatalf("the peer still lists the co-op as a follower: %v", actor.FollowerList)
		}
	}
}

// idOfJSON returns the id of a JSON value that is an id, an object with an
// id, or a one-element array of either.
func idOfJSON(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		id, _ := x["id"].(string)
		return id
	case []any:
		if len(x) == 1 {
			return idOfJSON(x[0])
		}
	}
	return ""
}

// TestTwoNodesFederate: two coopfed nodes in one process, each knowing the
// other's host name through [dev.hosts], follow each other's co-op and
// exchange posts.
func TestTwoNodesFederate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two nodes")
	}
	lnA, errA := net.Listen("tcp", "127.0.0.1:0")
	lnB, errB := net.Listen("tcp", "127.0.0.1:0")
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	a, _ := startNodeOn(t, lnA, "alpha.test", map[string]string{"beta.test": lnB.Addr().String()})
	b, _ := startNodeOn(t, lnB, "beta.test", map[string]string{"alpha.test": lnA.Addr().String()})
	cfgA, cfgB := a.cfg.Dir+"/"+configFile, b.cfg.Dir+"/"+configFile

	mustCLI(t, "follow", "coop", "@coop@beta.test", "--config", cfgA)
	mustCLI(t, "follow", "coop", "@coop@alpha.test", "--config", cfgB)
	accepted := func(db *store.DB) bool {
		c, _ := db.Coop(context.Background())
		fs, err := db.Following(context.Background(), c.ID)
		return err == nil && len(fs) == 1 && fs[0].State == "accepted"
	}
	eventually(t, 20*time.Second, "both follows accepted", func() bool {
		return followersOf(t, a.db, "coop") == 1 && followersOf(t, b.db, "coop") == 1 && accepted(a.db) && accepted(b.db)
	})

	mustCLI(t, "post", "--as", "coop", "news from alpha", "--config", cfgA)
	mustCLI(t, "post", "--as", "coop", "news from beta", "--config", cfgB)
	for _, tt := range []struct {
		db   *store.DB
		from string
		text string
	}{{b.db, "http://alpha.test/users/coop", "news from alpha"}, {a.db, "http://beta.test/users/coop", "news from beta"}} {
		eventually(t, 20*time.Second, tt.text+" arrives", func() bool {
			for _, note := range notesTo(t, tt.db, "coop") {
				if note.ActorURI == tt.from && strings.Contains(note.Content, tt.text) && !note.Direct {
					return true
				}
			}
			return false
		})
	}

	// A profile change goes to the followers as Update{Organization}.
	if _, err := a.svc.EnsureCoop(context.Background(), "coop", "Alpha, renamed", "We moved."); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "beta sees alpha's new name", func() bool {
		ra, err := b.db.RemoteActor(context.Background(), "http://alpha.test/users/coop")
		return err == nil && ra.Name == "Alpha, renamed"
	})
}
