package federation

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"github.com/google/go-cmp/cmp"
)

func TestProjectAnnouncement(t *testing.T) {
	p := coop.Project{Actor: coop.Actor{Handle: "tool", Name: "The Tool", Summary: "Builds things."},
		Repository: "https://git.example/tool", Licence: "MIT", Tags: []string{"go", "web"}, Needs: []string{"review"}}
	want := "New project: The Tool — Builds things.\n\nRepository: https://git.example/tool\nLicence: MIT\nNeeds: review\nTags: #go #web"
	if got := projectAnnouncement(p); got != want {
		t.Errorf("announcement:\n%s\nwant:\n%s", got, want)
	}
}

// TestReceivedProjects: only a federation member's Add or Update of a
// Group of its own origin is stored.
func TestReceivedProjects(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}})
	member, outsider := peer.actorURI("coop"), peer.actorURI("other")
	for _, uri := range []string{member, outsider} {
		n.cacheActor(t, store.RemoteActor{ID: uri, Type: "Organization", Inbox: uri + "/inbox", KeyID: uri + "#main-key",
			PublicKeyPEM: publicPEM(&key.PublicKey)})
	}
	if err := n.db.Write(ctx, func(tx *store.Tx) error {
		return tx.InsertPeer(ctx, coop.Peer{Actor: member, AddedAt: t0, AddedBy: "cli"})
	}); err != nil {
		t.Fatal(err)
	}
	serial := 0
	send := func(t *testing.T, actor, typ, groupID, target, name string) {
		t.Helper()
		serial++
		act := map[string]any{
			"id": actor + "/activities/" + strings.Repeat("x", serial), "type": typ, "actor": actor,
			"object": map[string]any{"id": groupID, "type": "Group", "preferredUsername": groupID[strings.LastIndex(groupID, "/")+1:],
				"name": name, "coop:licence": "MIT", "coop:tags": []any{"go", "<b>\u001b</b>", 3}, "coop:needs": []any{},
				"coop:repository": "javascript:alert(1)"},
		}
		if target != "" {
			act["target"] = target
		}
		w := n.post(signedPost(t, n, "/inbox", mustJSON(t, act), actor+"#main-key", key))
		if w.Code != http.StatusAccepted {
			t.Fatalf("%s: %d %s", typ, w.Code, w.Body)
		}
		n.process(t)
	}
	stored := func(t *testing.T) []coop.RemoteProject {
		t.Helper()
		ps, err := n.db.RemoteProjects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	projects := member + "/projects"
	tool := peer.actorURI("tool")

	send(t, outsider, "Add", peer.actorURI("spam"), outsider+"/projects", "Spam")
	send(t, member, "Add", "https://elsewhere.test/users/x", projects, "Foreign")
	send(t, member, "Add", peer.actorURI("t2"), "https://elsewhere.test/c", "Elsewhere")
	if got := stored(t); len(got) != 0 {
		t.Fatalf("stored %+v; want nothing from an outsider or another origin", got)
	}
	send(t, member, "Add", tool, projects, "Tool")
	send(t, member, "Update", tool, "", "<b>Tool,</b>\n renamed")
	send(t, outsider, "Update", tool, "", "Hijacked")
	want := []coop.RemoteProject{{URI: tool, Coop: member, Handle: "tool", Name: "Tool, renamed", Licence: "MIT",
		Tags: []string{"go"}, Needs: []string{}, UpdatedAt: t0}}
	if diff := cmp.Diff(want, stored(t)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}
