package store

import (
	"context"
	"errors"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/google/go-cmp/cmp"
)

// TestActorImages: images are stored once by hash; an actor's avatar and
// header point at them; an image no actor shows any more is deleted, one
// still shown by another actor stays.
func TestActorImages(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	img := func(sum, typ string) coop.Media {
		return coop.Media{Image: coop.Image{SHA256: sum, MediaType: typ, Width: 2, Height: 1}, Bytes: []byte("bytes of " + sum)}
	}
	a, b := img("aa", "image/png"), img("bb", "image/gif")
	var c, alice coop.Actor
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		if c, err = tx.InsertActor(ctx, actor(coop.KindOrganization, "coop"), "PRIV"); err != nil {
			return err
		}
		if alice, err = tx.InsertActor(ctx, actor(coop.KindPerson, "alice"), "PRIV"); err != nil {
			return err
		}
		for _, m := range []coop.Media{a, b, a} { // a twice: stored once
			if err := tx.PutMedia(ctx, m, t0); err != nil {
				return err
			}
		}
		if err := tx.SetActorImage(ctx, c.ID, coop.AvatarSlot, "aa"); err != nil {
			return err
		}
		if err := tx.SetActorImage(ctx, c.ID, coop.HeaderSlot, "bb"); err != nil {
			return err
		}
		return tx.SetActorImage(ctx, alice.ID, coop.AvatarSlot, "aa")
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.ActorImages(ctx, c.ID)
	want := coop.ActorImages{Avatar: &coop.Image{SHA256: "aa", MediaType: "image/png", Width: 2, Height: 1, Size: int64(len(a.Bytes))},
		Header: &coop.Image{SHA256: "bb", MediaType: "image/gif", Width: 2, Height: 1, Size: int64(len(b.Bytes))}}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("images (-want +got):\n%s", diff)
	}
	if m, err := db.Media(ctx, "aa"); err != nil || string(m.Bytes) != "bytes of aa" || m.Size != int64(len(a.Bytes)) {
		t.Fatalf("Media = %+v, %v", m, err)
	}
	err = db.Write(ctx, func(tx *Tx) error {
		if err := tx.SetActorImage(ctx, c.ID, coop.AvatarSlot, ""); err != nil {
			return err
		}
		return tx.SetActorImage(ctx, c.ID, coop.HeaderSlot, "")
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.ActorImages(ctx, c.ID); err != nil || got.Avatar != nil || got.Header != nil {
		t.Fatalf("after removal: %+v, %v", got, err)
	}
	if _, err := db.Media(ctx, "aa"); err != nil {
		t.Errorf("alice's avatar went with the co-op's: %v", err)
	}
	if _, err := db.Media(ctx, "bb"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an image no one shows stayed: %v", err)
	}
}
