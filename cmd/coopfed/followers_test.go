package main

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/store"
	"github.com/coopfed/coopfed/testpeer"
)

// TestFollowersCommands runs `actor set` and `followers` in-process on a
// node that is not serving: what they queue is read from the database.
func TestFollowersCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "coopfed.toml")
	mustCLI(t, "init", "--dir", dir, "--host", "coop.example", "--name", "Example Co-op")
	db := openNodeDB(t, cfg)
	c, err := db.Coop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	remote := func(name string) string { return "https://peer.example/users/" + name }
	err = db.Write(ctx, func(tx *store.Tx) error {
		for _, f := range []struct{ name, state string }{{"ann", "pending"}, {"bob", "pending"}, {"cid", "accepted"}} {
			if err := tx.PutRemoteActor(ctx, store.RemoteActor{ID: remote(f.name), Type: "Person", PreferredUsername: f.name,
				Inbox: remote(f.name) + "/inbox", Host: "peer.example", FetchedAt: time.Now()}); err != nil {
				return err
			}
			if err := tx.AddFollower(ctx, c.ID, remote(f.name), remote(f.name)+"/follows/1", f.state, time.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// queued returns the type of each activity queued to inbox, oldest first.
	queued := func(inbox string) []string {
		ds, err := db.Deliveries(ctx, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for i := len(ds) - 1; i >= 0; i-- {
			if ds[i].Inbox != inbox {
				continue
			}
			var a struct{ Type string }
			json.Unmarshal(ds[i].Body, &a)
			types = append(types, a.Type)
		}
		return types
	}

	out := mustCLI(t, "actor", "set", "coop", "--manual-approval", "on", "--config", cfg)
	if !strings.Contains(out, "approves followers by hand") {
		t.Fatalf("actor set:\n%s", out)
	}
	if a, _ := db.Coop(ctx); !a.ManuallyApprovesFollowers || a.Revision != c.Revision+1 {
		t.Fatalf("co-op after actor set: manual %v revision %d", a.ManuallyApprovesFollowers, a.Revision)
	}
	if got := queued(remote("cid") + "/inbox"); strings.Join(got, " ") != "Update" {
		t.Fatalf("queued to the follower: %v, want the Update of the actor", got)
	}

	out = mustCLI(t, "followers", "list", "coop", "--config", cfg)
	for _, want := range []string{remote("ann") + "  pending", remote("bob") + "  pending", remote("cid") + "  accepted", "1 followers, 2 pending"} {
		if !strings.Contains(out, want) {
			t.Errorf("followers list lacks %q:\n%s", want, out)
		}
	}
	if out := mustCLI(t, "followers", "list", "--pending", "coop", "--config", cfg); out != remote("ann")+"\n"+remote("bob")+"\n" {
		t.Fatalf("followers list --pending:\n%s", out)
	}

	mustCLI(t, "followers", "approve", "coop", remote("ann"), "--config", cfg)
	mustCLI(t, "followers", "reject", "coop", remote("bob"), "--config", cfg)
	if got := queued(remote("ann") + "/inbox"); strings.Join(got, " ") != "Accept" {
		t.Fatalf("queued to ann: %v", got)
	}
	if got := queued(remote("bob") + "/inbox"); strings.Join(got, " ") != "Reject" {
		t.Fatalf("queued to bob: %v", got)
	}
	if out := mustCLI(t, "followers", "list", "--pending", "coop", "--config", cfg); out != "" {
		t.Fatalf("still pending:\n%s", out)
	}
	if n := followersOf(t, db, "coop"); n != 2 {
		t.Fatalf("followers counted: %d, want 2", n)
	}
	mustCLI(t, "member", "add", "alice", "--config", cfg)
	mustCLI(t, "actor", "set", "alice", "--manual-approval", "on", "--config", cfg)
	mustCLI(t, "actor", "set", "Alice", "--manual-approval", "off", "--config", cfg)
	if a, _ := db.ActorByHandle(ctx, "alice"); a.ManuallyApprovesFollowers || a.Revision != 3 {
		t.Fatalf("alice: manual %v revision %d", a.ManuallyApprovesFollowers, a.Revision)
	}

	for _, tt := range []struct {
		name string
		code int
		args []string
		says string
	}{
		{"unknown followers subcommand", 2, []string{"followers", "frob"}, "unknown subcommand"},
		{"list without actor", 2, []string{"followers", "list"}, "missing ACTOR"},
		{"approve without follower", 2, []string{"followers", "approve", "coop"}, "missing ACTOR and FOLLOWER_URI"},
		{"actor set with nothing to set", 2, []string{"actor", "set", "coop"}, "nothing to set"},
		{"manual approval neither on nor off", 2, []string{"actor", "set", "coop", "--manual-approval", "yes"}, "want on or off"},
		{"unknown actor subcommand", 2, []string{"actor", "frob"}, "unknown subcommand"},
		{"approve an accepted follower", 1, []string{"followers", "approve", "coop", remote("ann")}, "not waiting for approval"},
		{"approve a stranger", 1, []string{"followers", "approve", "coop", remote("zed")}, "not a follower"},
		{"reject the rejected", 1, []string{"followers", "reject", "coop", remote("bob")}, "not a follower"},
		{"list of nobody", 1, []string{"followers", "list", "nobody"}, "not found"},
		{"set nobody", 1, []string{"actor", "set", "nobody", "--manual-approval", "on"}, "not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := cli(t, append(tt.args, "--config", cfg)...)
			if code != tt.code || !strings.Contains(errs, tt.says) {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, errs)
			}
		})
	}
}

// TestFedifyFollowRequests: the co-op approves followers by hand. The
// Fedify peer reads the lock in the co-op's document; its Follow waits
// (no Accept, not counted) until `followers approve`, then an Accept it
// verifies settles it; a second user's Follow is refused with a Reject it
// verifies, and the peer marks that follow rejected.
func TestFedifyFollowRequests(t *testing.T) {
	peer := testpeer.Start(t, "peer", "other")
	n, s := startNode(t)
	cfg := n.cfg.Dir + "/" + configFile
	coopID := s.ActorID("coop")

	mustCLI(t, "actor", "set", "coop", "--manual-approval", "on", "--config", cfg)
	a, err := peer.Lookup(coopID)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Manual bool `json:"manuallyApprovesFollowers"`
	}
	if err := json.Unmarshal(a.Document, &doc); err != nil || !doc.Manual {
		t.Fatalf("the served document does not approve by hand: %v\n%s", err, a.Document)
	}

	follow := func(user string) string {
		t.Helper()
		var f struct {
			ID     string `json:"id"`
			Status int    `json:"status"`
		}
		if err := peer.Call("follow", map[string]any{"user": user, "target": coopID}, &f); err != nil {
			t.Fatal(err)
		}
		if f.Status != 202 {
			t.Fatalf("our inbox answered %s's Follow with %d", user, f.Status)
		}
		return f.ID
	}
	pending := func(actor string) func() bool {
		return func() bool {
			_, out, _ := cli(t, "followers", "list", "coop", "--pending", "--config", cfg)
			return strings.Contains(out, actor+"\n")
		}
	}
	// answer waits for the co-op's Accept or Reject at the peer, and
	// checks that the peer verified it and that it names the Follow.
	answer := func(typ, followID string) {
		t.Helper()
		rs, err := peer.Received(url.Values{"type": {typ}, "actor": {coopID}, "handled": {"true"}}, 1, 20*time.Second)
		if err != nil || len(rs) != 1 {
			t.Fatalf("%s at the peer: %v, %+v", typ, err, rs)
		}
		if !rs[0].Verified || rs[0].Status != 202 {
			t.Fatalf("the peer did not verify our %s: %+v", typ, rs[0])
		}
		var act struct {
			Object any `json:"object"`
		}
		json.Unmarshal(rs[0].Activity, &act)
		if id := idOfJSON(act.Object); id != followID {
			t.Fatalf("%s's object is %q, want the Follow %q", typ, id, followID)
		}
	}
	followState := func(user string) string {
		var actor struct {
			FollowingList []struct {
				Target string `json:"target"`
				State  string `json:"state"`
			} `json:"followingList"`
		}
		if err := peer.Call("actor?user="+user, nil, &actor); err != nil {
			t.Fatal(err)
		}
		for _, f := range actor.FollowingList {
			if f.Target == coopID {
				return f.State
			}
		}
		return ""
	}

	followID := follow("peer")
	eventually(t, 10*time.Second, "the peer's follow waits for approval", pending(peer.Actors[0]))
	if rs, _ := peer.Received(url.Values{"type": {"Accept"}, "actor": {coopID}}, 1, 2*time.Second); len(rs) != 0 {
		t.Fatalf("an Accept arrived before approval: %s", rs[0].Activity)
	}
	if got := followersOf(t, n.db, "coop"); got != 0 {
		t.Fatalf("followers counted before approval: %d", got)
	}
	if st := followState("peer"); st != "pending" {
		t.Fatalf("the peer's follow is %q, want pending", st)
	}

	mustCLI(t, "followers", "approve", "coop", peer.Actors[0], "--config", cfg)
	answer("Accept", followID)
	eventually(t, 10*time.Second, "the peer is a follower", func() bool { return followersOf(t, n.db, "coop") == 1 })
	if st := followState("peer"); st != "accepted" {
		t.Fatalf("the peer's follow is %q, want accepted", st)
	}

	otherID := follow("other")
	eventually(t, 10*time.Second, "the other follow waits for approval", pending(peer.Actors[1]))
	mustCLI(t, "followers", "reject", "coop", peer.Actors[1], "--config", cfg)
	answer("Reject", otherID)
	if st := followState("other"); st != "rejected" {
		t.Fatalf("the other follow is %q, want rejected", st)
	}
	if got := followersOf(t, n.db, "coop"); got != 1 {
		t.Fatalf("followers after the Reject: %d, want 1", got)
	}
	if out := mustCLI(t, "followers", "list", "coop", "--pending", "--config", cfg); out != "" {
		t.Fatalf("still pending:\n%s", out)
	}
}
