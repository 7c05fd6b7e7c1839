package store

import (
	"context"
	"errors"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/google/go-cmp/cmp"
)

func TestPeersAndRemoteProjects(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	var c, alice coop.Actor
	const beta = "https://b.example/users/coop"
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		if c, err = tx.InsertActor(ctx, actor(coop.KindOrganization, "coop"), "PRIV"); err != nil {
			return err
		}
		if alice, err = tx.InsertActor(ctx, actor(coop.KindPerson, "alice"), "PRIV"); err != nil {
			return err
		}
		if err := tx.InsertPeer(ctx, coop.Peer{Actor: beta, AddedAt: t0, AddedBy: "cli"}); err != nil {
			return err
		}
		// Alice's follow of the peer is hers, not the co-op's.
		return tx.AddFollowing(ctx, alice.ID, beta, "https://a.example/f/1", "accepted", t0)
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a peer listed twice is ErrPeerExists", func(t *testing.T) {
		err := db.Write(ctx, func(tx *Tx) error {
			return tx.InsertPeer(ctx, coop.Peer{Actor: beta, AddedAt: t0, AddedBy: "cli"})
		})
		if !errors.Is(err, coop.ErrPeerExists) {
			t.Errorf("InsertPeer twice = %v", err)
		}
	})
	t.Run("the follow state is the co-op's", func(t *testing.T) {
		p, err := db.Peer(ctx, beta)
		if err != nil || p.FollowState != "" {
			t.Errorf("Peer = %+v, %v; want no follow", p, err)
		}
		if _, err := db.Peer(ctx, "https://c.example/users/coop"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown peer: %v", err)
		}
	})
	t.Run("only the co-op has a federation collection", func(t *testing.T) {
		for _, tt := range []struct {
			id   int64
			want int
		}{{c.ID, 1}, {alice.ID, 0}} {
			p, err := db.CollectionPage(ctx, tt.id, coop.Federation, coop.PageRequest{Limit: 10})
			if err != nil || p.Total != tt.want || len(p.Items) != tt.want {
				t.Errorf("federation of actor %d = %+v, %v; want %d", tt.id, p, err, tt.want)
			}
		}
	})
	t.Run("a remote project is replaced by a later announcement", func(t *testing.T) {
		rp := coop.RemoteProject{URI: "https://B.example/users/tool", Coop: beta, Handle: "tool", Name: "Tool",
			Tags: []string{"go"}, UpdatedAt: t0}
		for _, name := range []string{"Tool", "Tool 2"} {
			rp.Name = name
			if err := db.Write(ctx, func(tx *Tx) error { return tx.PutRemoteProject(ctx, rp) }); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.RemoteProjects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rp.Needs, rp.Maintainers = []string{}, []string{}
		if diff := cmp.Diff([]coop.RemoteProject{rp}, got); diff != "" {
			t.Errorf("RemoteProjects (-want +got):\n%s", diff)
		}
	})
	t.Run("removing a peer that is not listed is ErrNotFound", func(t *testing.T) {
		err := db.Write(ctx, func(tx *Tx) error { return tx.DeletePeer(ctx, "https://c.example/users/coop") })
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("DeletePeer = %v", err)
		}
	})
}
