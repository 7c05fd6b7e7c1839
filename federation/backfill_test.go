package federation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

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

// TestBackfillFindsGaps: an activity missed behind newer ones that were
// delivered is found. Before the peer's first backfill, the walk stops at
// a page of activities all stored; after it, it reads back to the newest
// item of the last backfill (its mark) past whole pages of stored ones,
// and no further (an activity missed before the first backfill, behind a
// page of stored ones, stays missed: the price of a bounded walk). What
// it finds is queued oldest first, so that a Remove is applied after the
// Add it follows.
func TestBackfillFindsGaps(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}})
	member := peer.actorURI("coop")
	followers := member + "/followers"
	if err := n.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.InsertPeer(ctx, coop.Peer{Actor: member, AddedAt: t0, AddedBy: "cli"}); err != nil {
			return err
		}
		return tx.AddFollowing(ctx, n.ids["coop"], member, "https://coop.test/follows/1", "accepted", t0)
	}); err != nil {
		t.Fatal(err)
	}
	peer.set("/users/coop", http.StatusOK, string(mustJSON(t, map[string]any{
		"id": member, "type": "Organization", "inbox": member + "/inbox", "followers": followers, "outbox": member + "/outbox",
		"publicKey": map[string]any{"id": member + "#main-key", "owner": member, "publicKeyPem": publicPEM(&key.PublicKey)},
	})))
	tool := peer.actorURI("tool")
	activities := map[string]map[string]any{}
	note := func(i string) map[string]any {
		id := "http://peer.test/a/" + i
		activities[id] = map[string]any{"id": id, "type": "Create", "actor": member, "to": []any{asPublic}, "cc": []any{followers},
			"object": map[string]any{"id": "http://peer.test/n/" + i, "type": "Note", "attributedTo": member,
				"content": "note " + i, "to": []any{asPublic}, "cc": []any{followers}}}
		return activities[id]
	}
	add := map[string]any{"id": tool + "#add", "type": "Add", "actor": member, "target": member + "/projects",
		"object": map[string]any{"id": tool, "type": "Group", "preferredUsername": "tool", "name": "Tool"}}
	remove := map[string]any{"id": tool + "#remove", "type": "Remove", "actor": member, "target": member + "/projects", "object": tool}
	activities[tool+"#add"], activities[tool+"#remove"] = add, remove
	// publish serves the outbox, newest first, two items a page.
	publish := func(items ...map[string]any) {
		var pages []map[string]any
		for i := 0; i < len(items); i += 2 {
			page := map[string]any{"id": fmt.Sprintf("%s/outbox/%d", member, len(pages)), "type": "OrderedCollectionPage",
				"orderedItems": []any{}}
			for _, it := range items[i:min(i+2, len(items))] {
				page["orderedItems"] = append(page["orderedItems"].([]any), it)
			}
			pages = append(pages, page)
		}
		for i, page := range pages {
			if i+1 < len(pages) {
				page["next"] = pages[i+1]["id"]
			}
			peer.set(fmt.Sprintf("/users/coop/outbox/%d", i), http.StatusOK, string(mustJSON(t, page)))
		}
		peer.set("/users/coop/outbox", http.StatusOK, string(mustJSON(t, map[string]any{
			"id": member + "/outbox", "type": "OrderedCollection", "totalItems": len(items), "first": member + "/outbox/0"})))
	}
	// deliver stores activities as an inbox would have.
	deliver := func(ids ...string) {
		for _, id := range ids {
			body := mustJSON(t, activities[id])
			if _, _, err := n.db.InsertInbound(ctx, store.Inbound{ActivityID: id, ActivityType: str(activities[id], "type"),
				ActorURI: member, KeyID: member + "#main-key", Body: body, ReceivedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
		n.process(t)
	}
	notes := func() map[string]bool {
		ns, err := n.db.ReceivedNotes(ctx, n.ids["coop"])
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, rn := range ns {
			got[strings.TrimPrefix(rn.ObjectID, "http://peer.test/n/")] = true
		}
		return got
	}
	b := NewBackfiller(BackfillConfig{DB: n.db, Fetcher: n.fetcher, Clock: n.clock})
	a := func(i string) string { return "http://peer.test/a/" + i }

	for _, step := range []struct {
		name      string
		delivered []string         // before the backfill
		outbox    []map[string]any // newest first
		queued    int
		unread    []int // outbox pages the walk must not read
		notes     string
	}{
		{
			// No mark yet: page 0 holds 2 (stored) and 1 (missed), page 1
			// 0 and x, both stored: the walk stops there, before y.
			name:      "the first backfill finds a gap behind a newer delivered activity",
			delivered: []string{a("2"), a("0"), a("x")},
			outbox:    []map[string]any{note("2"), note("1"), note("0"), note("x"), note("y")},
			queued:    1,
			unread:    []int{2},
			notes:     "0 1 2 x",
		},
		{
			// Marked at 2: 3 was missed behind 4..7, two whole pages of
			// stored activities; the walk goes on to the mark and stops.
			name:      "a later backfill reads back to its mark past pages of stored activities",
			delivered: []string{a("7"), a("6"), a("5"), a("4")},
			outbox:    []map[string]any{note("7"), note("6"), note("5"), note("4"), note("3"), note("2"), note("1"), note("0"), note("x"), note("y")},
			queued:    1,
			unread:    []int{3, 4},
			notes:     "0 1 2 3 4 5 6 7 x",
		},
		{
			name: "a project added and removed while away is applied in order, and stays removed",
			outbox: []map[string]any{remove, add, note("8"), note("7"), note("6"), note("5"), note("4"), note("3"), note("2"),
				note("1"), note("0"), note("x"), note("y")},
			queued: 3,
			unread: []int{2, 3, 4, 5, 6},
			notes:  "0 1 2 3 4 5 6 7 8 x",
		},
		{
			name: "nothing new reads the first page only",
			outbox: []map[string]any{remove, add, note("8"), note("7"), note("6"), note("5"), note("4"), note("3"), note("2"),
				note("1"), note("0"), note("x"), note("y")},
			unread: []int{1, 2, 3, 4, 5, 6},
			notes:  "0 1 2 3 4 5 6 7 8 x",
		},
	} {
		t.Run(step.name, func(t *testing.T) {
			publish(step.outbox...)
			deliver(step.delivered...)
			hits := map[int]int{}
			for _, p := range step.unread {
				hits[p] = peer.hitsOf(fmt.Sprintf("/users/coop/outbox/%d", p))
			}
			r, err := b.Peer(ctx, member)
			if err != nil {
				t.Fatal(err)
			}
			if r.Queued != step.queued {
				t.Errorf("queued %d, want %d (%+v)", r.Queued, step.queued, r)
			}
			for _, p := range step.unread {
				if peer.hitsOf(fmt.Sprintf("/users/coop/outbox/%d", p)) != hits[p] {
					t.Errorf("read outbox page %d, past the mark", p)
				}
			}
			n.process(t)
			var got []string
			for k := range notes() {
				got = append(got, k)
			}
			sort.Strings(got)
			if strings.Join(got, " ") != step.notes {
				t.Errorf("notes %q, want %q", strings.Join(got, " "), step.notes)
			}
			ps, err := n.db.RemoteProjects(ctx)
			if err != nil || len(ps) != 0 {
				t.Errorf("remote projects %+v, %v; want none (tool was removed)", ps, err)
			}
		})
	}
	ins, err := n.db.InboundByActivityID(ctx, tool+"#remove")
	if err != nil || len(ins) != 1 || ins[0].State != "done" {
		t.Fatalf("the Remove: %+v, %v", ins, err)
	}
	if added, err := n.db.InboundByActivityID(ctx, tool+"#add"); err != nil || len(added) != 1 || added[0].ID > ins[0].ID {
		t.Errorf("the Add %+v, %v was queued after its Remove %+v", added, err, ins[0])
	}
	if removed, err := n.db.RemoteProjectRemoved(ctx, tool); !removed || err != nil {
		t.Errorf("tool removed = %v, %v; want a removed row", removed, err)
	}
}

// TestBackfillDropsUnlisted: a project a peer announced that its
// coop:projects, read whole, no longer lists was removed while this node
// was away: a Remove of it is queued as the peer would send it. Not when
// the collection was read only in part, nor for another co-op's project,
// nor for one stored after the walk began.
func TestBackfillDropsUnlisted(t *testing.T) {
	for _, tt := range []struct {
		name     string
		maxItems int
		dropped  []string
	}{
		{"the collection read whole", 0, []string{"gone"}},
		{"the collection read in part", 1, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			key := rsaKey(t, 1)
			peer := newRemote(t, "peer.test", key)
			n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
				nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}})
			member, otherCoop := peer.actorURI("coop"), "http://else.test/users/coop"
			g := peer.actorURI
			if err := n.db.Write(ctx, func(tx *store.Tx) error {
				for _, p := range []string{member, otherCoop} {
					if err := tx.InsertPeer(ctx, coop.Peer{Actor: p, AddedAt: t0, AddedBy: "cli"}); err != nil {
						return err
					}
				}
				if err := tx.AddFollowing(ctx, n.ids["coop"], member, "https://coop.test/follows/1", "accepted", t0); err != nil {
					return err
				}
				for _, p := range []coop.RemoteProject{
					{URI: g("tool"), Coop: member, Handle: "tool", UpdatedAt: t0},
					{URI: g("gone"), Coop: member, Handle: "gone", UpdatedAt: t0},
					{URI: "http://else.test/users/theirs", Coop: otherCoop, Handle: "theirs", UpdatedAt: t0},
					// Stored after the walk begins (the clock is moved on below).
					{URI: g("fresh"), Coop: member, Handle: "fresh", UpdatedAt: t0.Add(2 * time.Hour)},
				} {
					if err := tx.PutRemoteProject(ctx, p); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			n.advance(time.Hour)
			peer.set("/users/coop", http.StatusOK, string(mustJSON(t, map[string]any{
				"id": member, "type": "Organization", "inbox": member + "/inbox", "coop:projects": member + "/projects",
				"publicKey": map[string]any{"id": member + "#main-key", "owner": member, "publicKeyPem": publicPEM(&key.PublicKey)},
			})))
			peer.set("/users/coop/projects", http.StatusOK, string(mustJSON(t, map[string]any{
				"id": member + "/projects", "type": "OrderedCollection", "totalItems": 2, "first": member + "/projects/1"})))
			peer.set("/users/coop/projects/1", http.StatusOK, string(mustJSON(t, map[string]any{
				"id": member + "/projects/1", "type": "OrderedCollectionPage", "orderedItems": []any{g("tool")},
				"next": member + "/projects/2"})))
			peer.set("/users/coop/projects/2", http.StatusOK, string(mustJSON(t, map[string]any{
				"id": member + "/projects/2", "type": "OrderedCollectionPage", "orderedItems": []any{g("other")}})))
			for _, h := range []string{"tool", "other"} {
				peer.set("/users/"+h, http.StatusOK, string(mustJSON(t, map[string]any{
					"id": g(h), "type": "Group", "preferredUsername": h, "name": h})))
			}
			b := NewBackfiller(BackfillConfig{DB: n.db, Fetcher: n.fetcher, Clock: n.clock, MaxItems: tt.maxItems})
			if _, err := b.Peer(ctx, member); err != nil {
				t.Fatal(err)
			}
			n.process(t)
			var dropped []string
			for _, h := range []string{"tool", "gone", "fresh"} {
				if removed, err := n.db.RemoteProjectRemoved(ctx, g(h)); err != nil || removed {
					dropped = append(dropped, h)
				}
			}
			if removed, err := n.db.RemoteProjectRemoved(ctx, "http://else.test/users/theirs"); err != nil || removed {
				dropped = append(dropped, "theirs")
			}
			if fmt.Sprint(dropped) != fmt.Sprint(tt.dropped) {
				t.Errorf("dropped %v, want %v", dropped, tt.dropped)
			}
		})
	}
}
