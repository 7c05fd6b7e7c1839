package federation

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"github.com/google/go-cmp/cmp"
)

// TestActorImages: the co-op's avatar and header are its document's
// `icon` and `image`, each one Image object with a `url` string and a
// `mediaType`: what Mastodon's ProcessAccountService reads (the first
// value of each property; a Hash's 'url') and its ActorSerializer
// writes. The change goes to the co-op's accepted followers as an
// Update{Organization} carrying the whole document as served; an image
// removed is an image left out, which is how Mastodon clears it.
func TestActorImages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	coopID := f.ids["coop"]
	followers := []store.RemoteActor{
		{ID: "https://m.example/users/ann", Type: "Person", PreferredUsername: "ann", Inbox: "https://m.example/users/ann/inbox", SharedInbox: "https://m.example/inbox", Host: "m.example"},
		{ID: "https://m.example/users/ben", Type: "Person", PreferredUsername: "ben", Inbox: "https://m.example/users/ben/inbox", SharedInbox: "https://m.example/inbox", Host: "m.example"},
		{ID: "https://solo.example/cy", Type: "Person", PreferredUsername: "cy", Inbox: "https://solo.example/cy/inbox", Host: "solo.example"},
		{ID: "https://m.example/users/pending", Type: "Person", PreferredUsername: "pending", Inbox: "https://m.example/users/pending/inbox", Host: "m.example"},
	}
	err := f.db.Write(ctx, func(tx *store.Tx) error {
		for _, a := range followers {
			a.FetchedAt = t0
			if err := tx.PutRemoteActor(ctx, a); err != nil {
				return err
			}
			state := "accepted"
			if strings.HasSuffix(a.ID, "pending") {
				state = "pending"
			}
			if err := tx.AddFollower(ctx, coopID, a.ID, "", state, t0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	svc := &coop.Service{Store: f.db, Site: testSite, Publisher: NewPublisher(testSite, nil, nil), Clock: clock}
	admin := coop.AsAdmin(ctx)
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// updates returns the Updates of the co-op queued, by inbox.
	updates := func(t *testing.T, revision int64) map[string]map[string]any {
		t.Helper()
		ds, err := f.db.Deliveries(ctx, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]any{}
		for _, d := range ds {
			if d.ActivityID == testSite.ActorID("coop")+"#updates/"+strconv.FormatInt(revision, 10) {
				out[d.Inbox] = decode(t, d.Body)
			}
		}
		return out
	}
	// served is the co-op's document as served, without its @context: the
	// object an Update carries.
	served := func(t *testing.T) (map[string]any, []byte) {
		t.Helper()
		w := f.get(t, "/users/coop", "Accept", acceptMastodon)
		wantStatus(t, w, 200)
		m := decode(t, w.Body.Bytes())
		delete(m, "@context")
		return m, w.Body.Bytes()
	}

	p, err := svc.UpdateCoopProfile(admin, coop.ProfileChange{Avatar: read("avatar.png"), Header: read("header.gif")})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the document carries icon and image", func(t *testing.T) {
		doc, body := served(t)
		checkGolden(t, "organization-images.golden.json", body)
		want := map[string]any{"type": "Image", "mediaType": "image/png", "url": "https://coop.example/media/" + p.Avatar.SHA256 + ".png"}
		if diff := cmp.Diff(want, doc["icon"]); diff != "" {
			t.Errorf("icon (-want +got):\n%s", diff)
		}
		want = map[string]any{"type": "Image", "mediaType": "image/gif", "url": "https://coop.example/media/" + p.Header.SHA256 + ".gif"}
		if diff := cmp.Diff(want, doc["image"]); diff != "" {
			t.Errorf("image (-want +got):\n%s", diff)
		}
	})
	t.Run("the Update goes to the accepted followers with the whole actor", func(t *testing.T) {
		doc, _ := served(t)
		got := updates(t, p.Revision)
		if len(got) != 2 || got["https://m.example/inbox"] == nil || got["https://solo.example/cy/inbox"] == nil {
			t.Fatalf("Update queued to %v, want the shared inbox of m.example and cy's inbox", slices.Collect(maps.Keys(got)))
		}
		u := got["https://m.example/inbox"]
		if u["type"] != "Update" || u["actor"] != testSite.ActorID("coop") {
			t.Fatalf("activity = %v", u)
		}
		if diff := cmp.Diff(doc, u["object"]); diff != "" {
			t.Errorf("the Update's object is not the document served (-served +sent):\n%s", diff)
		}
	})
	t.Run("a removed avatar is left out of the document and the Update", func(t *testing.T) {
		p, err := svc.UpdateCoopProfile(admin, coop.ProfileChange{RemoveAvatar: true})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := served(t)
		if _, ok := doc["icon"]; ok || doc["image"] == nil {
			t.Fatalf("icon %v, image %v", doc["icon"], doc["image"])
		}
		u := updates(t, p.Revision)["https://m.example/inbox"]
		obj, _ := u["object"].(map[string]any)
		if _, ok := obj["icon"]; ok || obj["image"] == nil {
			t.Fatalf("Update object: icon %v, image %v", obj["icon"], obj["image"])
		}
	})
	t.Run("without images the document is as before", func(t *testing.T) {
		if _, err := svc.UpdateCoopProfile(admin, coop.ProfileChange{RemoveHeader: true}); err != nil {
			t.Fatal(err)
		}
		_, body := served(t)
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["image"]; ok {
			t.Fatal("image left in")
		}
		// The golden Organization has the revision-free shape of a
		// co-op that never had images.
		checkGolden(t, "organization.golden.json", body)
	})
}
