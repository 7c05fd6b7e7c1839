package federation

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

// TestBackfillPeer: a backfill queues the peer's own Creates from its
// outbox, embedded or by id, across pages, and its projects from
// coop:projects; it skips what is not the peer's (another actor, an object
// of another origin), stops at what it already has, and waits for our
// follow of the peer to be accepted.
func TestBackfillPeer(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}})
	member := peer.actorURI("coop")
	followers := member + "/followers"
	if err := n.db.Write(ctx, func(tx *store.Tx) error {
		return tx.InsertPeer(ctx, coop.Peer{Actor: member, AddedAt: t0, AddedBy: "cli"})
	}); err != nil {
		t.Fatal(err)
	}
	b := NewBackfiller(BackfillConfig{DB: n.db, Fetcher: n.fetcher, Clock: n.clock})
	if _, err := b.Peer(ctx, member); !errors.Is(err, ErrFollowNotAccepted) {
		t.Fatalf("backfill before the Accept: %v", err)
	}
	if err := n.db.Write(ctx, func(tx *store.Tx) error {
		return tx.AddFollowing(ctx, n.ids["coop"], member, "https://coop.test/follows/1", "accepted", t0)
	}); err != nil {
		t.Fatal(err)
	}

	peer.set("/users/coop", http.StatusOK, string(mustJSON(t, map[string]any{
		"id": member, "type": "Organization", "inbox": member + "/inbox", "followers": followers,
		"outbox": member + "/outbox", "coop:projects": member + "/projects",
		"publicKey": map[string]any{"id": member + "#main-key", "owner": member, "publicKeyPem": publicPEM(&key.PublicKey)},
	})))
	create := func(actor, id, noteID string) map[string]any {
		return map[string]any{"id": id, "type": "Create", "actor": actor, "to": []any{asPublic}, "cc": []any{followers},
			"object": map[string]any{"id": noteID, "type": "Note", "attributedTo": actor, "content": "note " + noteID,
				"to": []any{asPublic}, "cc": []any{followers}}}
	}
	page1 := map[string]any{"id": member + "/outbox?page=true", "type": "OrderedCollectionPage",
		"next": "http://peer.test/users/coop/outbox2",
		"orderedItems": []any{
			create(member, "http://peer.test/a/4", "http://peer.test/n/4"),
			create(member, "http://peer.test/a/x", "https://elsewhere.test/n/x"), // another origin's object
			create(peer.actorURI("other"), "http://peer.test/a/y", "http://peer.test/n/y"),
			"http://peer.test/a/3", // by id
		}}
	peer.set("/users/coop/outbox", http.StatusOK, string(mustJSON(t, map[string]any{
		"id": member + "/outbox", "type": "OrderedCollection", "totalItems": 5, "first": page1})))
	peer.set("/a/3", http.StatusOK, string(mustJSON(t, create(member, "http://peer.test/a/3", "http://peer.test/n/3"))))
	peer.set("/users/coop/outbox2", http.StatusOK, string(mustJSON(t, map[string]any{
		"id": member + "/outbox2", "type": "OrderedCollectionPage",
		"orderedItems": []any{create(member, "http://peer.test/a/2", "http://peer.test/n/2")}})))
	peer.set("/users/coop/projects", http.StatusOK, string(mustJSON(t, map[string]any{
		"id": member + "/projects", "type": "OrderedCollection", "totalItems": 2,
		"first": map[string]any{"type": "OrderedCollectionPage",
			"orderedItems": []any{peer.actorURI("tool"), "https://elsewhere.test/users/x"}}})))
	peer.set("/users/tool", http.StatusOK, string(mustJSON(t, map[string]any{
		"id": peer.actorURI("tool"), "type": "Group", "preferredUsername": "tool", "name": "Tool", "coop:licence": "MIT"})))

	r, err := b.Peer(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	if r.Queued != 4 || r.Pages != 3 {
		t.Errorf("first backfill: %+v; want 4 queued (3 Creates, 1 project) from 3 pages", r)
	}
	n.process(t)
	got := map[string]bool{}
	ns, err := n.db.ReceivedNotes(ctx, n.ids["coop"])
	if err != nil {
		t.Fatal(err)
	}
	for _, rn := range ns {
		got[rn.ObjectID] = true
	}
	if len(ns) != 3 || !got["http://peer.test/n/4"] || !got["http://peer.test/n/3"] || !got["http://peer.test/n/2"] {
		t.Errorf("notes stored: %v", got)
	}
	ps, err := n.db.RemoteProjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].URI != peer.actorURI("tool") || ps[0].Name != "Tool" || ps[0].Coop != member {
		t.Errorf("projects stored: %+v", ps)
	}
	if peer.hitsOf("/users/x") != 0 {
		t.Error("fetched a project of another origin")
	}

	// Again: nothing new; the outbox walk stops at its newest item.
	hits := peer.hitsOf("/users/coop/outbox2")
	r, err = b.Peer(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	if r.Queued != 0 || peer.hitsOf("/users/coop/outbox2") != hits {
		t.Errorf("second backfill: %+v; read the second outbox page again: %v", r, peer.hitsOf("/users/coop/outbox2") != hits)
	}
}
