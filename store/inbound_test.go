package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/google/go-cmp/cmp"
)

func TestInboundQueue(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	in := func(id, actor, typ, hash string) Inbound {
		return Inbound{ActivityID: id, ContentHash: hash, ActivityType: typ, ActorURI: actor, KeyID: actor + "#k",
			Body: []byte(`{}`), ReceivedAt: t0}
	}
	insert := func(i Inbound) (int64, bool) {
		t.Helper()
		id, inserted, err := db.InsertInbound(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		return id, inserted
	}
	t.Run("an activity is stored once by id", func(t *testing.T) {
		id1, ok1 := insert(in("https://a/1", "https://a/u", "Follow", ""))
		id2, ok2 := insert(in("https://a/1", "https://a/u", "Follow", ""))
		if !ok1 || ok2 || id1 != id2 {
			t.Fatalf("ids %d %d, inserted %v %v", id1, id2, ok1, ok2)
		}
	})
	t.Run("an Update is stored once per content", func(t *testing.T) {
		_, ok1 := insert(in("https://a/u#update", "https://b/u", "Update", "h1"))
		_, ok2 := insert(in("https://a/u#update", "https://b/u", "Update", "h2"))
		_, ok3 := insert(in("https://a/u#update", "https://b/u", "Update", "h1"))
		if !ok1 || !ok2 || ok3 {
			t.Fatalf("inserted %v %v %v", ok1, ok2, ok3)
		}
	})
	t.Run("claims keep one actor's order and honour the lease", func(t *testing.T) {
		insert(in("https://a/2", "https://a/u", "Undo", ""))
		got, err := db.ClaimInbound(ctx, t0, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, g := range got {
			ids = append(ids, g.ActivityID)
		}
		// One claim takes runs of each actor's consecutive activities, in
		// order, actors by their oldest one: a/1 then a/2, and b's two
		// Updates in the order they came.
		if diff := cmp.Diff([]string{"https://a/1", "https://a/2", "https://a/u#update", "https://a/u#update"}, ids); diff != "" {
			t.Fatalf("claimed (-want +got):\n%s", diff)
		}
		if got[2].ContentHash != "h1" || got[3].ContentHash != "h2" {
			t.Fatalf("b's Updates out of order: %+v", got[2:])
		}
		if again, _ := db.ClaimInbound(ctx, t0.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
			t.Fatalf("claimed within the lease: %+v", again)
		}
		// The worker died: after the lease, the same rows come back.
		again, _ := db.ClaimInbound(ctx, t0.Add(2*time.Minute), time.Minute, 10)
		if len(again) != 4 || again[0].Attempts != 2 {
			t.Fatalf("after the lease: %+v", again)
		}
		// a/1 done; b's first Update fails for good; the rest of the runs
		// are released by the worker, their attempt not counted.
		if err := db.Write(ctx, func(tx *Tx) error { return tx.FinishInbound(ctx, again[0].ID, t0) }); err != nil {
			t.Fatal(err)
		}
		if err := db.RetryInbound(ctx, again[2].ID, "boom", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := db.ReleaseInbound(ctx, []int64{again[1].ID, again[3].ID}); err != nil {
			t.Fatal(err)
		}
		next, _ := db.ClaimInbound(ctx, t0.Add(3*time.Minute), time.Minute, 10)
		if len(next) != 2 || next[0].ContentHash != "h2" || next[1].ActivityID != "https://a/2" || next[1].Attempts != 2 {
			t.Fatalf("next = %+v", next)
		}
		// A limit smaller than a run takes its oldest part only.
		if err := db.ReleaseInbound(ctx, []int64{next[0].ID, next[1].ID}); err != nil {
			t.Fatal(err)
		}
		if one, _ := db.ClaimInbound(ctx, t0.Add(4*time.Minute), time.Minute, 1); len(one) != 1 || one[0].ContentHash != "h2" {
			t.Fatalf("limit 1 = %+v", one)
		}
		failed, _ := db.InboundByActivityID(ctx, "https://a/u#update")
		if failed[0].State != "failed" || failed[0].LastError != "boom" {
			t.Fatalf("failed = %+v", failed[0])
		}
	})
	t.Run("an activity waiting for its retry holds back its actor's later ones", func(t *testing.T) {
		insert(in("https://x/1", "https://x/u", "Create", ""))
		insert(in("https://x/2", "https://x/u", "Create", ""))
		at := t0.Add(10 * time.Minute)
		run, _ := db.ClaimInbound(ctx, at, time.Minute, 10)
		var x []Inbound
		for _, r := range run {
			if r.ActorURI == "https://x/u" {
				x = append(x, r)
			}
		}
		if len(x) != 2 {
			t.Fatalf("x's run = %+v", x)
		}
		if err := db.RetryInbound(ctx, x[0].ID, "peer down", at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := db.ReleaseInbound(ctx, []int64{x[1].ID}); err != nil {
			t.Fatal(err)
		}
		later, _ := db.ClaimInbound(ctx, at.Add(5*time.Minute), time.Minute, 10)
		for _, r := range later {
			if r.ActorURI == "https://x/u" {
				t.Fatalf("claimed %s while x/1 waits for its retry", r.ActivityID)
			}
		}
	})
}

func TestRemoteActors(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	a := RemoteActor{ID: "https://b/u/z", Type: "Person", PreferredUsername: "z", Name: "Z", Inbox: "https://b/u/z/inbox",
		SharedInbox: "https://b/inbox", Followers: "https://b/u/z/followers", KeyID: "https://b/u/z/main-key",
		PublicKeyPEM: "PEM", Host: "b", FetchedAt: t0}
	if err := db.PutRemoteActor(ctx, a); err != nil {
		t.Fatal(err)
	}
	for name, get := range map[string]func() (RemoteActor, error){
		"by uri":    func() (RemoteActor, error) { return db.RemoteActor(ctx, a.ID) },
		"by key id": func() (RemoteActor, error) { return db.RemoteActorByKeyID(ctx, a.KeyID) },
	} {
		got, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(a, got); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", name, diff)
		}
	}
	if _, err := db.RemoteActor(ctx, "https://b/u/nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if err := db.MarkRemoteActorGone(ctx, a.ID, "", "b", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ := db.RemoteActor(ctx, a.ID)
	if !got.Gone() || got.KeyID != a.KeyID || got.Inbox != a.Inbox {
		t.Fatalf("gone = %+v", got)
	}
	// An actor never cached, gone, is found by its key id.
	if err := db.MarkRemoteActorGone(ctx, "https://c/u/y", "https://c/u/y#main-key", "c", t0); err != nil {
		t.Fatal(err)
	}
	if got, err := db.RemoteActorByKeyID(ctx, "https://c/u/y#main-key"); err != nil || !got.Gone() {
		t.Fatalf("by key: %+v, %v", got, err)
	}
}

func TestFollowsAndReceivedNotes(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	var alice coop.Actor
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		if alice, err = tx.InsertActor(ctx, actor(coop.KindPerson, "alice"), "KEY"); err != nil {
			return err
		}
		if err := tx.AddFollower(ctx, alice.ID, "https://b/u/z", "https://b/f/1", "accepted", t0); err != nil {
			return err
		}
		return tx.AddFollowing(ctx, alice.ID, "https://b/u/z", "https://a/f/1", "pending", t0)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("an Undo of an older follow keeps the newer", func(t *testing.T) {
		db.Write(ctx, func(tx *Tx) error {
			if gone, err := tx.RemoveFollower(ctx, alice.ID, "https://b/u/z", "https://b/f/0"); gone || err != nil {
				t.Fatalf("removed %v, %v", gone, err)
			}
			return nil
		})
	})
	t.Run("Accept sets the state only from the follow's target", func(t *testing.T) {
		db.Write(ctx, func(tx *Tx) error {
			if ok, _ := tx.SetFollowingState(ctx, "https://a/f/1", "https://evil/u", "accepted"); ok {
				t.Fatal("another actor accepted our follow")
			}
			if ok, err := tx.SetFollowingState(ctx, "https://a/f/1", "https://b/u/z", "accepted"); !ok || err != nil {
				t.Fatalf("accept: %v, %v", ok, err)
			}
			return nil
		})
		if f, err := db.FollowingByFollowID(ctx, "https://a/f/1"); err != nil || f.State != "accepted" {
			t.Fatalf("%+v, %v", f, err)
		}
	})
	t.Run("received notes are stored once by object id", func(t *testing.T) {
		n := ReceivedNote{ActivityID: "https://b/c/1", ObjectID: "https://b/n/1", ActorURI: "https://b/u/z",
			RecipientIDs: []int64{alice.ID}, Direct: true, Content: "<p>hi</p>", InReplyTo: "https://a/q/1", Name: "yes",
			Published: t0, Raw: []byte(`{}`), ReceivedAt: t0}
		err := db.Write(ctx, func(tx *Tx) error {
			if _, err := tx.InsertReceivedNote(ctx, n); err != nil {
				return err
			}
			_, err := tx.InsertReceivedNote(ctx, n)
			if !errors.Is(err, ErrDuplicate) {
				t.Fatalf("second insert: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.ReceivedNotes(ctx, alice.ID)
		if err != nil || len(got) != 1 {
			t.Fatalf("%+v, %v", got, err)
		}
		n.ID = got[0].ID
		if diff := cmp.Diff(n, got[0]); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
	t.Run("a Delete of the remote actor removes its follows", func(t *testing.T) {
		db.Write(ctx, func(tx *Tx) error {
			if n, err := tx.RemoveFollowsOf(ctx, "https://b/u/z"); n != 2 || err != nil {
				t.Fatalf("removed %d, %v", n, err)
			}
			return nil
		})
	})
}

func TestInboundGroupCommit(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	var alice coop.Actor
	if err := db.Write(ctx, func(tx *Tx) error {
		var err error
		alice, err = tx.InsertActor(ctx, actor(coop.KindPerson, "alice"), "KEY")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	type call struct {
		name     string
		ctx      context.Context
		in       Inbound
		wantErr  bool
		inserted bool
	}
	in := func(id string, recipient int64) Inbound {
		return Inbound{ActivityID: id, ActivityType: "Create", ActorURI: "https://r.test/u/bob", KeyID: "https://r.test/u/bob#k",
			RecipientID: recipient, Body: []byte(`{}`), ReceivedAt: t0}
	}
	var calls []call
	for i := range 20 {
		calls = append(calls, call{name: fmt.Sprintf("activity %d", i), ctx: ctx, in: in(fmt.Sprintf("https://r.test/a/%d", i), alice.ID), inserted: true})
	}
	calls = append(calls,
		call{name: "a recipient that does not exist fails alone", ctx: ctx, in: in("https://r.test/a/bad", alice.ID+100), wantErr: true},
		call{name: "a caller that gave up is not written", ctx: cancelled, in: in("https://r.test/a/gaveup", 0), wantErr: true},
	)

	type result struct {
		inserted bool
		err      error
	}
	// Every insert is queued before the committer starts, as concurrent
	// handlers' inserts queue while it writes a group: it takes them all
	// in one group.
	db.inbound.init()
	reqs := make([]*inboundReq, len(calls))
	for i, c := range calls {
		reqs[i] = &inboundReq{ctx: c.ctx, in: c.in, ready: make(chan struct{})}
		db.inbound.reqs <- reqs[i]
	}
	before := db.inbound.commits.Load()
	db.inbound.start(db)
	results := make([]result, len(calls))
	for i, r := range reqs {
		<-r.ready
		results[i] = result{r.inserted, r.err}
	}
	// The failed insert is taken out and the group written again: one
	// commit.
	if got := db.inbound.commits.Load() - before; got != 1 {
		t.Errorf("%d inserts took %d commits, want 1", len(calls), got)
	}
	for i, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			r := results[i]
			if (r.err != nil) != c.wantErr || r.inserted != c.inserted {
				t.Errorf("inserted %v, err %v; want inserted %v, an error %v", r.inserted, r.err, c.inserted, c.wantErr)
			}
			stored, err := db.InboundByActivityID(ctx, c.in.ActivityID)
			if err != nil {
				t.Fatal(err)
			}
			if (len(stored) == 1) != c.inserted {
				t.Errorf("%d rows stored", len(stored))
			}
		})
	}
	t.Run("a repeat in the same group is found, not stored again", func(t *testing.T) {
		var wg sync.WaitGroup
		ids := make([]int64, 4)
		oks := make([]bool, 4)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if ids[i], oks[i], err = db.InsertInbound(ctx, in("https://r.test/a/twice", 0)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		n := 0
		for i := range ids {
			if ids[i] != ids[0] {
				t.Errorf("ids %v differ", ids)
			}
			if oks[i] {
				n++
			}
		}
		if n != 1 {
			t.Errorf("inserted %d times, want once", n)
		}
	})
}

func TestInboundAfterClose(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir()+"/coopfed.db")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.InsertInbound(ctx, Inbound{ActivityID: "https://r.test/a/1", ActivityType: "Create",
		ActorURI: "https://r.test/u/bob", Body: []byte(`{}`), ReceivedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.InsertInbound(ctx, Inbound{ActivityID: "https://r.test/a/2"}); !errors.Is(err, errClosed) {
		t.Errorf("insert after Close: %v, want errClosed", err)
	}
}

// fakeEffect writes a received note named after the activity, then fails
// if told to.
type fakeEffect struct {
	stale, fail bool
	applied     int // calls of Apply
}

func (e *fakeEffect) Current() bool { return !e.stale }

func (e *fakeEffect) Apply(ctx context.Context, t *Tx, id int64) error {
	e.applied++
	if _, err := t.InsertReceivedNote(ctx, ReceivedNote{InboundID: id, ActivityID: fmt.Sprint(id),
		ObjectID: fmt.Sprintf("note-of-%d", id), ActorURI: "x", Raw: []byte(`{}`), ReceivedAt: t0}); err != nil {
		return err
	}
	if e.fail {
		return errors.New("the effect failed after a write")
	}
	return nil
}

// TestInboundApplying: an activity is stored done with its effect, in one
// transaction, only when its effect is current and its actor has nothing
// unfinished before it; a failing effect leaves it queued and the rest of
// its group applied.
func TestInboundApplying(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	in := func(id, actor string) Inbound {
		return Inbound{ActivityID: id, ActivityType: "Create", ActorURI: actor, KeyID: actor + "#k", Body: []byte(`{}`), ReceivedAt: t0}
	}
	// One actor with an activity only queued, before the group.
	if _, _, err := db.InsertInbound(ctx, in("https://w.test/a/0", "https://w.test/u")); err != nil {
		t.Fatal(err)
	}
	if _, _, applied, err := db.InsertInboundApplying(ctx, in("https://r.test/a/0", "https://r.test/u"), &fakeEffect{}); err != nil || !applied {
		t.Fatalf("not applied: %v", err)
	}
	calls := []struct {
		name      string
		in        Inbound
		eff       *fakeEffect
		applied   bool
		wantState string
	}{
		{"a new activity is applied and stored done", in("https://a.test/a/1", "https://a.test/u"), &fakeEffect{}, true, "done"},
		{"the same actor's next in the group too", in("https://a.test/a/2", "https://a.test/u"), &fakeEffect{}, true, "done"},
		{"an effect that is not current: only queued", in("https://b.test/a/1", "https://b.test/u"), &fakeEffect{stale: true}, false, "queued"},
		{"then that actor's next waits behind it", in("https://b.test/a/2", "https://b.test/u"), &fakeEffect{}, false, "queued"},
		{"an actor with a queued activity stored before: only queued", in("https://w.test/a/1", "https://w.test/u"), &fakeEffect{}, false, "queued"},
		{"a failing effect: undone, only queued", in("https://c.test/a/1", "https://c.test/u"), &fakeEffect{fail: true}, false, "queued"},
		{"no effect: only queued", in("https://d.test/a/1", "https://d.test/u"), nil, false, "queued"},
		{"a repeat of an applied activity is not applied again", in("https://r.test/a/0", "https://r.test/u"), &fakeEffect{}, false, "done"},
		{"an activity after them is applied", in("https://e.test/a/1", "https://e.test/u"), &fakeEffect{}, true, "done"},
	}
	// Queued before the committer starts: one group.
	db.inbound.init()
	reqs := make([]*inboundReq, len(calls))
	for i, c := range calls {
		reqs[i] = &inboundReq{ctx: ctx, in: c.in, ready: make(chan struct{})}
		if c.eff != nil {
			reqs[i].eff = c.eff
		}
		db.inbound.reqs <- reqs[i]
	}
	db.inbound.start(db)
	for _, r := range reqs {
		<-r.ready
	}
	for i, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			r := reqs[i]
			if r.err != nil || r.applied != c.applied {
				t.Errorf("applied %v, %v; want applied %v", r.applied, r.err, c.applied)
			}
			stored, err := db.InboundByActivityID(ctx, c.in.ActivityID)
			if err != nil || len(stored) != 1 {
				t.Fatalf("stored %+v, %v", stored, err)
			}
			if stored[0].State != c.wantState {
				t.Errorf("state %s, want %s", stored[0].State, c.wantState)
			}
			notes, err := db.ReceivedNotes(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			has := false
			for _, n := range notes {
				has = has || n.InboundID == stored[0].ID
			}
			if has != (c.wantState == "done") {
				t.Errorf("its effect's note stored: %v", has)
			}
		})
	}
}

// TestInboundApplyingNoneUnfinished: with no activity unfinished when a
// group begins, its actors are not looked up one by one, and an actor
// given a queued activity in the group still has its next one queued
// behind it.
func TestInboundApplyingNoneUnfinished(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	in := func(id, actor string) Inbound {
		return Inbound{ActivityID: id, ActivityType: "Create", ActorURI: actor, KeyID: actor + "#k", Body: []byte(`{}`), ReceivedAt: t0}
	}
	calls := []struct {
		in        Inbound
		eff       *fakeEffect
		wantState string
	}{
		{in("https://a.test/a/1", "https://a.test/u"), &fakeEffect{}, "done"},
		{in("https://b.test/a/1", "https://b.test/u"), &fakeEffect{stale: true}, "queued"},
		{in("https://b.test/a/2", "https://b.test/u"), &fakeEffect{}, "queued"},
		{in("https://c.test/a/1", "https://c.test/u"), &fakeEffect{}, "done"},
	}
	// Queued before the committer starts: one group.
	db.inbound.init()
	reqs := make([]*inboundReq, len(calls))
	for i, c := range calls {
		reqs[i] = &inboundReq{ctx: ctx, in: c.in, eff: c.eff, ready: make(chan struct{})}
		db.inbound.reqs <- reqs[i]
	}
	db.inbound.start(db)
	for _, r := range reqs {
		<-r.ready
	}
	if g, n := db.InboundGroups(); g != 1 || n != int64(len(calls)) {
		t.Fatalf("%d groups of %d inserts, want one of %d", g, n, len(calls))
	}
	for i, c := range calls {
		stored, err := db.InboundByActivityID(ctx, c.in.ActivityID)
		if reqs[i].err != nil || err != nil || len(stored) != 1 {
			t.Fatalf("%s: stored %+v, %v, %v", c.in.ActivityID, stored, reqs[i].err, err)
		}
		if stored[0].State != c.wantState || reqs[i].applied != (c.wantState == "done") {
			t.Errorf("%s: state %s, applied %v; want %s", c.in.ActivityID, stored[0].State, reqs[i].applied, c.wantState)
		}
	}
}
