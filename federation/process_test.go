package federation

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

// TestApplyGroup: a group of prepared activities is applied in one
// transaction; one whose effect fails is undone alone and retried, the
// activities of its actor after it wait, and the others are done.
func TestApplyGroup(t *testing.T) {
	ctx := context.Background()
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"}, nodeOptions{}, "alice")
	a, b := "https://a.test/u/ann", "https://b.test/u/bob"
	written := func(id string) effect {
		return func(ctx context.Context, t *store.Tx) error {
			return t.PutRemoteActor(ctx, store.RemoteActor{ID: id, Host: hostOf(id), FetchedAt: t0})
		}
	}
	failing := func(id string) effect {
		return func(ctx context.Context, t *store.Tx) error {
			if err := written(id)(ctx, t); err != nil {
				return err
			}
			return errors.New("the effect failed after a write")
		}
	}
	steps := []struct {
		name      string
		actor     string
		eff       effect
		prepErr   error
		wantState string
		wantRow   string // a row the effect writes, which must be there after
		noRow     string // one that must not
	}{
		{"ann's first is done", a, written(a + "/x/1"), nil, "done", a + "/x/1", ""},
		{"bob's first fails; its write is undone", b, failing(b + "/x/1"), nil, "queued", "", b + "/x/1"},
		{"ann's second is done", a, written(a + "/x/2"), nil, "done", a + "/x/2", ""},
		{"bob's second waits for his first", b, written(b + "/x/2"), nil, "in_flight", "", b + "/x/2"},
		{"ann's third failed to prepare: retried", a, nil, errors.New("peer down"), "queued", "", ""},
		{"ann's fourth waits for her third", a, written(a + "/x/4"), nil, "in_flight", "", a + "/x/4"},
	}
	for i, s := range steps {
		if _, _, err := n.db.InsertInbound(ctx, store.Inbound{ActivityID: s.actor + "/act/" + string(rune('a'+i)),
			ActivityType: "Create", ActorURI: s.actor, KeyID: s.actor + "#k", Body: []byte(`{}`), ReceivedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := n.db.ClaimInbound(ctx, t0, time.Minute, 10)
	if err != nil || len(claimed) != len(steps) {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	byID := map[string]store.Inbound{}
	for _, in := range claimed {
		byID[in.ActivityID] = in
	}
	var group []prepared
	for i, s := range steps {
		in := byID[s.actor+"/act/"+string(rune('a'+i))]
		group = append(group, prepared{in: in, a: activity{Type: "Create", Actor: s.actor}, eff: s.eff, prepErr: s.prepErr, err: s.prepErr})
	}
	failed := n.proc.apply(ctx, group)
	if !failed[a] || !failed[b] || len(failed) != 2 {
		t.Errorf("failed actors = %v", failed)
	}
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			ins, err := n.db.InboundByActivityID(ctx, s.actor+"/act/"+string(rune('a'+i)))
			if err != nil || len(ins) != 1 {
				t.Fatalf("inbound %v, %v", ins, err)
			}
			if ins[0].State != s.wantState {
				t.Errorf("state %s, want %s (%s)", ins[0].State, s.wantState, ins[0].LastError)
			}
			if skipped := group[i].skipped; skipped != (s.wantState == "in_flight") {
				t.Errorf("skipped = %v", skipped)
			}
			if s.wantRow != "" {
				if _, err := n.db.RemoteActor(ctx, s.wantRow); err != nil {
					t.Errorf("the effect's row: %v", err)
				}
			}
			if s.noRow != "" {
				if _, err := n.db.RemoteActor(ctx, s.noRow); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("a row the effect must not have left: %v", err)
				}
			}
		})
	}
}

// TestProcessRunWithFailure: in a run of one actor's activities processed
// together, one that fails is retried, the actor's later ones wait for it,
// other actors' are done; once it succeeds the rest follow, each applied
// once.
func TestProcessRunWithFailure(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	peer.serveActor("zoe", &key.PublicKey)
	peer.serveActor("yan", &key.PublicKey)
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}}, "alice")
	alice := n.site.ActorID("alice")
	zoe, yan := peer.actorURI("zoe"), peer.actorURI("yan")
	note := func(actor, id string) map[string]any {
		return map[string]any{"id": id, "type": "Note", "attributedTo": actor, "to": alice, "content": "hi"}
	}
	// zoe's second note is given by id only and her server fails it.
	peer.set("/users/zoe/notes/2", http.StatusInternalServerError, "")
	for _, act := range []map[string]any{
		{"id": zoe + "/create/1", "actor": zoe, "object": note(zoe, zoe+"/notes/1")},
		{"id": yan + "/create/1", "actor": yan, "object": note(yan, yan+"/notes/1")},
		{"id": zoe + "/create/2", "actor": zoe, "object": zoe + "/notes/2"},
		{"id": zoe + "/create/3", "actor": zoe, "object": note(zoe, zoe+"/notes/3")},
		{"id": yan + "/create/2", "actor": yan, "object": note(yan, yan+"/notes/2")},
	} {
		act["type"], act["to"] = "Create", alice
		keyID := act["actor"].(string) + "#main-key"
		wantAccepted(t, n.post(signedPost(t, n, "/inbox", mustJSON(t, act), keyID, key)))
	}
	stored := func() map[string]int {
		ns, err := n.db.ReceivedNotes(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, x := range ns {
			m[x.ObjectID]++
		}
		return m
	}
	state := func(id string) string {
		ins, err := n.db.InboundByActivityID(ctx, id)
		if err != nil || len(ins) != 1 {
			t.Fatalf("inbound %s: %v, %v", id, ins, err)
		}
		return ins[0].State
	}

	n.process(t)
	for _, c := range []struct {
		id, state string
		stored    bool
	}{
		{"/create/1", "done", true},
		{"/create/2", "queued", false},
		{"/create/3", "queued", false},
	} {
		if got := state(zoe + c.id); got != c.state {
			t.Errorf("zoe%s: %s, want %s", c.id, got, c.state)
		}
		if got := stored()[zoe+"/notes"+c.id[len("/create"):]] == 1; got != c.stored {
			t.Errorf("zoe's note%s stored: %v", c.id[len("/create"):], got)
		}
	}
	if s := stored(); s[yan+"/notes/1"] != 1 || s[yan+"/notes/2"] != 1 {
		t.Errorf("yan's notes: %v", s)
	}

	peer.set("/users/zoe/notes/2", http.StatusOK, string(mustJSON(t, note(zoe, zoe+"/notes/2"))))
	n.advance(time.Hour)
	n.process(t)
	n.process(t)
	want := map[string]int{zoe + "/notes/1": 1, zoe + "/notes/2": 1, zoe + "/notes/3": 1, yan + "/notes/1": 1, yan + "/notes/2": 1}
	if s := stored(); len(s) != len(want) {
		t.Errorf("stored %v, want %v", s, want)
	} else {
		for k, v := range want {
			if s[k] != v {
				t.Errorf("%s stored %d times", k, s[k])
			}
		}
	}
	for _, id := range []string{"/create/1", "/create/2", "/create/3"} {
		if got := state(zoe + id); got != "done" {
			t.Errorf("zoe%s: %s", id, got)
		}
	}
}
