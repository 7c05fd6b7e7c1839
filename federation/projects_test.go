package federation

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

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
				"coop:repository": "javascript:alert(1)",
				"summary": `<p onclick="x()">Builds <script>alert(1)</script><a href="javascript:x">things</a>.</p>` +
					`<p>Licence: MIT</p>`,
				"attachment":       []any{map[string]any{"type": "PropertyValue", "name": "Licence", "value": "MIT"}},
				"coop:maintainers": []any{peer.actorURI("zoe"), "javascript:x", map[string]any{"id": "https://elsewhere.test/users/y"}}},
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
	// The summary is kept sanitized, less the facts paragraph that
	// repeats the attachment.
	want := []coop.RemoteProject{{URI: tool, Coop: member, Handle: "tool", Name: "Tool, renamed", Licence: "MIT",
		Summary: "<p>Builds things.</p>", SummaryText: "Builds things.",
		Tags: []string{"go"}, Needs: []string{}, Maintainers: []string{peer.actorURI("zoe"), "https://elsewhere.test/users/y"},
		UpdatedAt: t0}}
	if diff := cmp.Diff(want, stored(t)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}

// TestProjectSummary: a coopfed Group's summary is kept without the facts
// paragraph that repeats its attachment; anyone else's is kept whole,
// sanitized.
func TestProjectSummary(t *testing.T) {
	p := coop.Project{Actor: coop.Actor{Kind: coop.KindGroup, Handle: "tool", Name: "Tool",
		Summary: "Shared tooling.\n\nFor <co-ops> & friends.", CreatedAt: t0},
		Repository: "https://git.example/tool", Licence: "MIT", Tags: []string{"go"}, Needs: []string{"review"},
		Maintainers: []string{"https://coop.example/users/alice"}}
	doc, err := actorDocument(testSite, p.Actor, &p, nil)
	if err != nil {
		t.Fatal(err)
	}
	group := decode(t, doc)
	for _, tt := range []struct {
		name      string
		m         map[string]any
		html, txt string
	}{
		{"a coopfed Group's facts are cut", group,
			"<p>Shared tooling.</p><p>For &lt;co-ops&gt; &amp; friends.</p>", "Shared tooling. For <co-ops> & friends."},
		{"without attachment the summary is whole",
			map[string]any{"summary": "<p>One</p><p>Licence: MIT</p>"}, "<p>One</p><p>Licence: MIT</p>", "One Licence: MIT"},
		{"an attachment that is not the tail cuts nothing",
			map[string]any{"summary": "<p>One<br>two</p>", "attachment": []any{map[string]any{"type": "PropertyValue", "name": "A", "value": "b"}}},
			"<p>One<br>two</p>", "One two"},
		{"markup and scripts go", map[string]any{"summary": `<p style="x">Hi <img src=x onerror=y><script>evil()</script>there</p>`},
			"<p>Hi there</p>", "Hi there"},
		{"a language map is read", map[string]any{"summaryMap": map[string]any{"en": "<p>Hello</p>"}}, "<p>Hello</p>", "Hello"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := projectSummary(tt.m)
			if got != tt.html {
				t.Errorf("projectSummary = %q, want %q", got, tt.html)
			}
			if txt := summaryText(got); txt != tt.txt {
				t.Errorf("summaryText = %q, want %q", txt, tt.txt)
			}
		})
	}
}

// TestProjectRemovalDocuments pins what a project's removal sends and
// serves: the Remove from coop:projects by the co-op, the Delete of the
// Group by the Group itself (the form Mastodon's Delete handler takes for
// an account: actor == object), and the Tombstone its URL answers.
func TestProjectRemovalDocuments(t *testing.T) {
	c := coop.Actor{Kind: coop.KindOrganization, Handle: "coop"}
	p := coop.Project{Actor: coop.Actor{Kind: coop.KindGroup, Handle: "tool", Name: "Tool", CreatedAt: t0,
		RemovedAt: t0.Add(3 * time.Hour)}}
	_, remove, err := removeProjectActivity(testSite, c, p)
	if err != nil {
		t.Fatal(err)
	}
	_, del, err := deleteGroupActivity(testSite, p)
	if err != nil {
		t.Fatal(err)
	}
	tomb, err := tombstoneDocument(testSite, p.Actor)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		golden string
		doc    []byte
	}{{"project-remove.golden.json", remove}, {"project-delete.golden.json", del}, {"project-tombstone.golden.json", tomb}} {
		t.Run(tt.golden, func(t *testing.T) { checkGolden(t, tt.golden, tt.doc) })
	}
	m := decode(t, del)
	if m["actor"] != m["object"] || m["actor"] != testSite.ActorID("tool") {
		t.Errorf("the Delete's actor %v and object %v are not both the Group", m["actor"], m["object"])
	}
}

// TestReceivedProjectRemovals: a stored project is dropped only by a
// Remove from coop:projects by the federation member on the project's own
// host, or by a Delete of the Group by itself (with a member on its host)
// or by that member; a Remove or Delete from anyone else, or about a
// Group on another host, is ignored. A project removed stays removed.
func TestReceivedProjectRemovals(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	other := newRemote(t, "other.test", key)
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr(), "other.test": other.addr()}})
	member, outsider, foreign := peer.actorURI("coop"), peer.actorURI("other"), other.actorURI("coop")
	// Every Group below, and each sender, signs with the same test key.
	groups := []string{"a", "b", "c", "d", "e", "f", "g"}
	for _, uri := range append([]string{member, outsider, foreign, other.actorURI("x")}, func() []string {
		var out []string
		for _, g := range groups {
			out = append(out, peer.actorURI(g))
		}
		return out
	}()...) {
		n.cacheActor(t, store.RemoteActor{ID: uri, Type: "Organization", Inbox: uri + "/inbox", KeyID: uri + "#main-key",
			PublicKeyPEM: publicPEM(&key.PublicKey)})
	}
	// foreign is a member too, but on another host than the projects.
	if err := n.db.Write(ctx, func(tx *store.Tx) error {
		for _, p := range []string{member, foreign} {
			if err := tx.InsertPeer(ctx, coop.Peer{Actor: p, AddedAt: t0, AddedBy: "cli"}); err != nil {
				return err
			}
		}
		for _, g := range append(groups, "x") {
			uri := peer.actorURI(g)
			if g == "x" {
				uri = other.actorURI(g)
			}
			if err := tx.PutRemoteProject(ctx, coop.RemoteProject{URI: uri, Coop: member, Handle: g, Name: g, UpdatedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	serial := 0
	send := func(t *testing.T, actor, typ string, object any, target string) {
		t.Helper()
		serial++
		act := map[string]any{"id": fmt.Sprintf("%s/activities/%d", actor, serial), "type": typ, "actor": actor, "object": object}
		if target != "" {
			act["target"] = target
		}
		w := n.post(signedPost(t, n, "/inbox", mustJSON(t, act), actor+"#main-key", key))
		if w.Code != http.StatusAccepted {
			t.Fatalf("%s: %d %s", typ, w.Code, w.Body)
		}
		n.process(t)
	}
	live := func(t *testing.T, uri string) bool {
		t.Helper()
		ps, err := n.db.RemoteProjects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.URI == uri {
				return true
			}
		}
		return false
	}
	g := peer.actorURI
	for _, tt := range []struct {
		name    string
		actor   string
		typ     string
		object  any
		target  string
		project string
		dropped bool
	}{
		{"a Remove by an outsider on the project's host is ignored", outsider, "Remove", g("a"), outsider + "/projects", g("a"), false},
		{"a Remove by a member of another host is ignored", foreign, "Remove", g("a"), foreign + "/projects", g("a"), false},
		{"a member's Remove of a Group on another host is ignored", member, "Remove", other.actorURI("x"), member + "/projects", other.actorURI("x"), false},
		{"a Remove from a collection on another host is ignored", member, "Remove", g("a"), foreign + "/projects", g("a"), false},
		{"a Remove of a Note is not of a project", member, "Remove", map[string]any{"id": g("a"), "type": "Note"}, member + "/projects", g("a"), false},
		{"the member's Remove from its coop:projects drops it", member, "Remove", g("a"), member + "/projects", g("a"), true},
		{"an embedded Group is read by id", member, "Remove", map[string]any{"id": g("b"), "type": "Group"}, member + "/projects", g("b"), true},
		{"a Delete by an outsider is ignored", outsider, "Delete", g("c"), "", g("c"), false},
		{"a Delete by a member of another host is ignored", foreign, "Delete", g("c"), "", g("c"), false},
		{"the Group's Delete of itself drops it", g("c"), "Delete", g("c"), "", g("c"), true},
		{"the member's Delete of the Group drops it", member, "Delete", map[string]any{"id": g("d"), "type": "Tombstone"}, "", g("d"), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !live(t, tt.project) {
				t.Fatalf("%s is not listed before", tt.project)
			}
			send(t, tt.actor, tt.typ, tt.object, tt.target)
			if dropped := !live(t, tt.project); dropped != tt.dropped {
				t.Errorf("%s by %s: dropped %v, want %v", tt.typ, tt.actor, dropped, tt.dropped)
			}
		})
	}
	t.Run("a removed project stays removed", func(t *testing.T) {
		group := map[string]any{"id": g("a"), "type": "Group", "preferredUsername": "a", "name": "A again"}
		send(t, member, "Add", group, member+"/projects")
		send(t, member, "Update", group, "")
		if live(t, g("a")) {
			t.Error("an Add after the Remove brought the project back")
		}
	})
	t.Run("a Remove that comes before its Add wins", func(t *testing.T) {
		send(t, member, "Remove", g("new"), member+"/projects")
		send(t, member, "Add", map[string]any{"id": g("new"), "type": "Group", "preferredUsername": "new", "name": "New"}, member+"/projects")
		if live(t, g("new")) {
			t.Error("the Add after its Remove stored the project")
		}
	})
	if !live(t, g("e")) || !live(t, other.actorURI("x")) {
		t.Error("projects no Remove or Delete named were dropped")
	}
}
