package federation

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"github.com/google/go-cmp/cmp"
)

func TestCollections(t *testing.T) {
	f := newFixture(t)
	f.srv.pageSize = 2
	followers := testSite.Followers("alice")

	t.Run("a collection has its size and first page, no items", func(t *testing.T) {
		w := f.get(t, "/users/alice/followers", "Accept", acceptMastodon)
		wantStatus(t, w, http.StatusOK)
		wantHeader(t, w, "Content-Type", "application/activity+json; charset=utf-8")
		checkGolden(t, "followers.golden.json", w.Body.Bytes())
	})
	t.Run("a page links to the next older one", func(t *testing.T) {
		w := f.get(t, "/users/alice/followers?page=true")
		wantStatus(t, w, http.StatusOK)
		checkGolden(t, "followers-page.golden.json", w.Body.Bytes())
	})
	t.Run("following every next link visits each item once, newest first", func(t *testing.T) {
		var got []any
		next, pages := followers+"?page=true", 0
		for next != "" {
			pages++
			if pages > 10 {
				t.Fatal("pages never end")
			}
			m := decode(t, f.get(t, strings.TrimPrefix(next, testSite.Base())).Body.Bytes())
			if m["type"] != "OrderedCollectionPage" || m["partOf"] != followers || m["totalItems"] != 5.0 {
				t.Fatalf("page = %v", m)
			}
			if m["id"] != next {
				t.Errorf("id = %v, want %s", m["id"], next)
			}
			got = append(got, m["orderedItems"].([]any)...)
			next, _ = m["next"].(string)
		}
		want := []any{"https://peer.example/users/f5", "https://peer.example/users/f4", "https://peer.example/users/f3",
			"https://peer.example/users/f2", "https://peer.example/users/f1"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("items (-want +got):\n%s", diff)
		}
		if pages != 3 {
			t.Errorf("pages = %d, want 3", pages)
		}
	})
	t.Run("the outbox serves the stored activities", func(t *testing.T) {
		f.srv.pageSize = 20
		defer func() { f.srv.pageSize = 2 }()
		w := f.get(t, "/users/tool/outbox?page=true")
		wantStatus(t, w, http.StatusOK)
		checkGolden(t, "outbox-page.golden.json", w.Body.Bytes())
	})
	t.Run("one item is still a list", func(t *testing.T) {
		m := decode(t, f.get(t, "/users/alice/following?page=true").Body.Bytes())
		if !equalJSON(m["orderedItems"], []any{"https://peer.example/users/zoe"}) {
			t.Errorf("orderedItems = %#v", m["orderedItems"])
		}
	})
	t.Run("an empty collection has an empty list", func(t *testing.T) {
		m := decode(t, f.get(t, "/users/coop/outbox?page=true").Body.Bytes())
		if !equalJSON(m["orderedItems"], []any{}) || m["totalItems"] != 0.0 || m["next"] != nil {
			t.Errorf("page = %v", m)
		}
	})
	t.Run("the co-op lists its live members", func(t *testing.T) {
		m := decode(t, f.get(t, "/users/coop/members?page=true").Body.Bytes())
		if !equalJSON(m["orderedItems"], []any{testSite.ActorID("alice")}) || m["totalItems"] != 1.0 {
			t.Errorf("page = %v", m)
		}
		m = decode(t, f.get(t, "/users/coop/members").Body.Bytes())
		if m["first"] != testSite.ActorID("coop")+"/members?page=true" || m["totalItems"] != 1.0 {
			t.Errorf("collection = %v", m)
		}
	})
	t.Run("the co-op lists the co-ops of its federation", func(t *testing.T) {
		ctx := context.Background()
		err := f.db.Write(ctx, func(tx *store.Tx) error {
			for _, uri := range []string{"https://b.example/users/coop", "https://c.example/users/coop"} {
				if err := tx.InsertPeer(ctx, coop.Peer{Actor: uri, AddedAt: t0, AddedBy: "cli"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		m := decode(t, f.get(t, "/users/coop/federation?page=true").Body.Bytes())
		want := []any{"https://c.example/users/coop", "https://b.example/users/coop"}
		if !equalJSON(m["orderedItems"], want) || m["totalItems"] != 2.0 || m["partOf"] != testSite.Federation("coop") {
			t.Errorf("page = %v", m)
		}
		m = decode(t, f.get(t, "/users/coop/federation").Body.Bytes())
		if m["first"] != testSite.Federation("coop")+"?page=true" || m["totalItems"] != 2.0 {
			t.Errorf("collection = %v", m)
		}
	})
	t.Run("the co-op lists its live projects", func(t *testing.T) {
		m := decode(t, f.get(t, "/users/coop/projects?page=true").Body.Bytes())
		if !equalJSON(m["orderedItems"], []any{testSite.ActorID("tool")}) || m["totalItems"] != 1.0 {
			t.Errorf("page = %v", m)
		}
	})
	t.Run("page=false is the collection", func(t *testing.T) {
		m := decode(t, f.get(t, "/users/alice/followers?page=false").Body.Bytes())
		if m["type"] != "OrderedCollection" {
			t.Errorf("type = %v", m["type"])
		}
	})

	errs := []struct {
		name   string
		path   string
		status int
		reason string
	}{
		{"max_id that is not a number is 400", "/users/alice/followers?page=true&max_id=abc", http.StatusBadRequest, "max_id"},
		{"negative max_id is 400", "/users/alice/followers?page=true&max_id=-3", http.StatusBadRequest, "max_id"},
		{"zero max_id is 400", "/users/alice/followers?max_id=0", http.StatusBadRequest, "max_id"},
		{"huge max_id is 400", "/users/alice/followers?page=true&max_id=99999999999999999999999", http.StatusBadRequest, "max_id"},
		{"a page that is not true or false is 400", "/users/alice/followers?page=yes%20please", http.StatusBadRequest, "page"},
		{"unknown actor is 404", "/users/nobody/followers", http.StatusNotFound, `"nobody"`},
		{"a handle that cannot be is 404", "/users/%00/outbox", http.StatusNotFound, "no actor"},
		{"removed actor is 410", "/users/bob/outbox", http.StatusGone, "removed"},
		{"only the co-op has members", "/users/alice/members", http.StatusNotFound, "only the co-op"},
		{"only the co-op has a federation", "/users/alice/federation", http.StatusNotFound, "only the co-op"},
		{"only the co-op lists projects", "/users/tool/projects", http.StatusNotFound, "only the co-op"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, f.get(t, tt.path, "Accept", acceptMastodon), tt.status, tt.reason)
		})
	}
	t.Run("an unknown collection is no route", func(t *testing.T) {
		wantStatus(t, f.get(t, "/users/alice/liked"), http.StatusNotFound)
	})
	t.Run("a max_id past the end is an empty last page", func(t *testing.T) {
		m := decode(t, f.get(t, "/users/alice/followers?page=true&max_id=1").Body.Bytes())
		if !equalJSON(m["orderedItems"], []any{}) || m["next"] != nil {
			t.Errorf("page = %v", m)
		}
	})
}
