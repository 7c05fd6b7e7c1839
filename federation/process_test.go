package federation

import (
	"context"
	"errors"
	"fmt"
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

// TestInline: which activities an inbox applies in the transaction that
// stores them, and which it leaves queued for the processor, in the
// order they came.
func TestInline(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	peer.serveActor("zoe", &key.PublicKey)
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}}, "alice")
	zoe, alice := peer.actorURI("zoe"), n.site.ActorID("alice")
	note := func(id string) map[string]any {
		return map[string]any{"id": id, "type": "Note", "attributedTo": zoe, "to": []any{alice}, "content": "hi"}
	}
	peer.set("/users/zoe/notes/fetched", 200, string(mustJSON(t, note(zoe+"/notes/fetched"))))
	state := func(t *testing.T, id string) string {
		t.Helper()
		ins, err := n.db.InboundByActivityID(ctx, id)
		if err != nil || len(ins) != 1 {
			t.Fatalf("inbound %s: %+v, %v", id, ins, err)
		}
		return ins[0].State
	}
	notes := func(t *testing.T) int {
		t.Helper()
		ns, err := n.db.ReceivedNotes(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(ns)
	}
	// Each step posts its activities in order, checks their states before
	// any processing, then processes and checks that all are done.
	steps := []struct {
		name       string
		activities []map[string]any
		states     []string // before processing
		notes      int      // received notes before processing, in all
	}{
		{"a Create that needs no fetch is applied as it is stored",
			[]map[string]any{{"id": zoe + "/c/1", "type": "Create", "object": note(zoe + "/notes/1")}},
			[]string{"done"}, 1},
		{"a Like is stored done: it does nothing now",
			[]map[string]any{{"id": zoe + "/l/1", "type": "Like", "object": zoe + "/notes/1"}},
			[]string{"done"}, 1},
		{"a Create whose object is fetched waits for the processor",
			[]map[string]any{{"id": zoe + "/c/2", "type": "Create", "object": zoe + "/notes/fetched"}},
			[]string{"queued"}, 1},
		{"an Accept waits for the processor, and the actor's next activities behind it",
			[]map[string]any{
				{"id": zoe + "/a/1", "type": "Accept", "object": alice + "/follows/none"},
				{"id": zoe + "/c/3", "type": "Create", "object": note(zoe + "/notes/3")},
			},
			[]string{"queued", "queued"}, 2},
		{"once they are processed, the next is applied at once again",
			[]map[string]any{{"id": zoe + "/c/4", "type": "Create", "object": note(zoe + "/notes/4")}},
			[]string{"done"}, 4},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			for _, a := range s.activities {
				a["actor"] = zoe
				wantAccepted(t, n.post(signedPost(t, n, "/inbox", mustJSON(t, a), zoe+"#main-key", key)))
			}
			for i, a := range s.activities {
				if got := state(t, a["id"].(string)); got != s.states[i] {
					t.Errorf("%s: %s before processing, want %s", a["id"], got, s.states[i])
				}
			}
			if got := notes(t); got != s.notes {
				t.Errorf("%d notes before processing, want %d", got, s.notes)
			}
			n.process(t)
			for _, a := range s.activities {
				if got := state(t, a["id"].(string)); got != "done" {
					t.Errorf("%s: %s after processing", a["id"], got)
				}
			}
		})
	}
	// Another actor whose generation is not zoe's.
	other := "https://other.test/u/0"
	for i := 1; n.proc.generation(other) == n.proc.generation(zoe); i++ {
		other = fmt.Sprintf("https://other.test/u/%d", i)
	}
	stale := []struct {
		name    string
		applied string // the actor of an activity the processor applied meanwhile
		want    string
	}{
		{"a preparation made before the processor applied another actor's activity is applied", other, "done"},
		{"one made before it applied one of the same actor's is only stored", zoe, "queued"},
	}
	for i, s := range stale {
		t.Run(s.name, func(t *testing.T) {
			a, err := activityFromJSON(map[string]any{"id": fmt.Sprintf("%s/c/s%d", zoe, i), "type": "Create", "actor": zoe,
				"object": note(fmt.Sprintf("%s/notes/s%d", zoe, i))})
			if err != nil {
				t.Fatal(err)
			}
			in := store.Inbound{ActivityID: a.ID, ActivityType: a.Type, ActorURI: zoe, KeyID: zoe + "#main-key", Body: []byte(`{}`), ReceivedAt: t0}
			eff := n.proc.inline(ctx, a, in)
			if eff == nil {
				t.Fatal("not prepared")
			}
			// What an apply transaction of the processor does.
			n.proc.applying([]prepared{{in: store.Inbound{ActorURI: s.applied}}})
			_, inserted, applied, err := n.db.InsertInboundApplying(ctx, in, eff)
			if err != nil || !inserted || applied != (s.want == "done") {
				t.Fatalf("inserted %v, applied %v, %v", inserted, applied, err)
			}
			if got := state(t, a.ID); got != s.want {
				t.Errorf("state %s, want %s", got, s.want)
			}
			n.process(t)
		})
	}
}
