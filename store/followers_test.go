package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/google/go-cmp/cmp"
)

func TestFollowRequests(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	var a coop.Actor
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		if a, err = tx.InsertActor(ctx, actor(coop.KindOrganization, "coop"), "KEY"); err != nil {
			return err
		}
		if err := tx.AddFollower(ctx, a.ID, "https://p.test/u/ann", "https://p.test/f/1", "accepted", t0); err != nil {
			return err
		}
		return tx.AddFollower(ctx, a.ID, "https://p.test/u/bob", "https://p.test/f/2", "pending", t0.Add(1e9))
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("followers listed with their state, oldest first", func(t *testing.T) {
		fs, err := db.FollowersOf(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []coop.Follower{
			{Actor: "https://p.test/u/ann", FollowID: "https://p.test/f/1", Since: t0},
			{Actor: "https://p.test/u/bob", FollowID: "https://p.test/f/2", Pending: true, Since: t0.Add(1e9)},
		}
		if diff := cmp.Diff(want, fs); diff != "" {
			t.Fatalf("followers (-want +got):\n%s", diff)
		}
		if f, err := db.Follower(ctx, a.ID, "https://p.test/u/bob"); err != nil || f != want[1] {
			t.Fatalf("Follower = %+v, %v", f, err)
		}
		if _, err := db.Follower(ctx, a.ID, "https://p.test/u/nobody"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown follower: %v, want ErrNotFound", err)
		}
	})
	t.Run("a pending follower is accepted once; an accepted one is not pending", func(t *testing.T) {
		accept := func(uri string) error {
			return db.Write(ctx, func(tx *Tx) error { return tx.AcceptFollower(ctx, a.ID, uri) })
		}
		if err := accept("https://p.test/u/bob"); err != nil {
			t.Fatal(err)
		}
		if f, _ := db.Follower(ctx, a.ID, "https://p.test/u/bob"); f.Pending {
			t.Fatalf("still pending: %+v", f)
		}
		for _, uri := range []string{"https://p.test/u/bob", "https://p.test/u/ann", "https://p.test/u/nobody"} {
			if err := accept(uri); !errors.Is(err, ErrNotFound) {
				t.Errorf("accept %s: %v, want ErrNotFound", uri, err)
			}
		}
	})
	t.Run("manual approval is stored and moves the revision", func(t *testing.T) {
		for i, on := range []bool{true, false} {
			at := t0.Add(time.Duration(i+1) * time.Hour)
			if err := db.Write(ctx, func(tx *Tx) error { return tx.SetManualApproval(ctx, a.ID, on, at) }); err != nil {
				t.Fatal(err)
			}
			got, err := db.Coop(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got.ManuallyApprovesFollowers != on || got.Revision != a.Revision+int64(i)+1 || !got.UpdatedAt.Equal(at) {
				t.Fatalf("after %v: manual %v revision %d updated %v", on, got.ManuallyApprovesFollowers, got.Revision, got.UpdatedAt)
			}
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.SetManualApproval(ctx, 999, true, t0) }); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown actor: %v", err)
		}
	})
}
