package federation

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/negotiate"
	"github.com/coopfed/coopfed/store"
)

// Accept headers of real clients.
const (
	acceptMastodon   = "application/activity+json, application/ld+json"
	acceptGoToSocial = `application/ld+json; profile="https://www.w3.org/ns/activitystreams",application/activity+json`
	acceptFedify     = "application/activity+json"
	acceptFirefox    = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
)

func TestActorDocuments(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		path   string
		status int
		golden string
	}{
		{"the co-op is an Organization", "/users/coop", http.StatusOK, "organization.golden.json"},
		{"a member is a Person", "/users/alice", http.StatusOK, "person.golden.json"},
		{"a project is a Group with its facts", "/users/tool", http.StatusOK, "group.golden.json"},
		{"a removed member is a Tombstone, 410", "/users/bob", http.StatusGone, "tombstone.golden.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.get(t, tt.path, "Accept", acceptMastodon)
			wantStatus(t, w, tt.status)
			wantHeader(t, w, "Content-Type", "application/activity+json; charset=utf-8")
			wantHeader(t, w, "Vary", "Accept")
			checkGolden(t, tt.golden, w.Body.Bytes())
			if strings.Contains(w.Body.String(), "PRIVATE KEY") {
				t.Error("the document holds a private key")
			}
			doc, err := f.srv.ActorJSON(context.Background(), strings.TrimPrefix(tt.path, "/users/"))
			if tt.status == http.StatusGone && !errors.Is(err, coop.ErrGone) {
				t.Errorf("ActorJSON of a removed actor: err = %v, want ErrGone", err)
			}
			if tt.status == http.StatusOK && err != nil {
				t.Errorf("ActorJSON: %v", err)
			}
			if string(doc) != w.Body.String() {
				t.Error("ActorJSON differs from the document served")
			}
		})
	}
	t.Run("the key is the actor's", func(t *testing.T) {
		m := decode(t, f.get(t, "/users/alice").Body.Bytes())
		key := m["publicKey"].(map[string]any)
		if key["publicKeyPem"] != testKey(t) || key["id"] != testSite.KeyID("alice") || key["owner"] != testSite.ActorID("alice") {
			t.Errorf("publicKey = %v", key)
		}
	})
}

func TestActorNegotiation(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		path   string
		accept []string
		json   bool
	}{
		{"id URL without Accept is JSON", "/users/alice", nil, true},
		{"id URL with */* is JSON", "/users/alice", []string{"Accept", "*/*"}, true},
		{"profile URL without Accept is the page", "/@alice", nil, false},
		{"profile URL with */* is the page", "/@alice", []string{"Accept", "*/*"}, false},
		{"a browser at the id URL gets the page", "/users/alice", []string{"Accept", acceptFirefox}, false},
		{"a browser at the profile URL gets the page", "/@alice", []string{"Accept", acceptFirefox}, false},
		{"activity+json at the profile URL is JSON", "/@alice", []string{"Accept", acceptFedify}, true},
		{"mastodon's Accept is JSON", "/@alice", []string{"Accept", acceptMastodon}, true},
		{"gotosocial's Accept is JSON", "/@alice", []string{"Accept", acceptGoToSocial}, true},
		{"ld+json with the AS profile is JSON", "/users/alice", []string{"Accept", negotiate.LDJSON}, true},
		{"plain ld+json is JSON", "/@alice", []string{"Accept", "application/ld+json"}, true},
		{"application/json is JSON", "/@alice", []string{"Accept", "application/json"}, true},
		{"ld+json of another profile is the page", "/@alice", []string{"Accept", `application/ld+json; profile="https://example.org/p"`}, false},
		{"html preferred by q is the page", "/users/alice", []string{"Accept", "application/activity+json;q=0.5, text/html"}, false},
		{"JSON preferred by q is JSON", "/@alice", []string{"Accept", "application/activity+json, text/html;q=0.5"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.get(t, tt.path, tt.accept...)
			wantStatus(t, w, http.StatusOK)
			isJSON := strings.HasPrefix(w.Header().Get("Content-Type"), "application/activity+json")
			if isJSON != tt.json {
				t.Fatalf("JSON = %v, want %v; Content-Type %q", isJSON, tt.json, w.Header().Get("Content-Type"))
			}
			if !isJSON && w.Body.String() != pageHTML {
				t.Errorf("page body = %q", w.Body)
			}
		})
	}
	t.Run("the profile URL serves the same document as the id URL", func(t *testing.T) {
		a := f.get(t, "/users/tool", "Accept", acceptMastodon).Body.String()
		b := f.get(t, "/@tool", "Accept", acceptMastodon).Body.String()
		if a != b {
			t.Error("documents differ")
		}
	})
	t.Run("handles are matched without case; the id keeps the stored case", func(t *testing.T) {
		m := decode(t, f.get(t, "/users/ALICE", "Accept", acceptMastodon).Body.Bytes())
		if m["id"] != testSite.ActorID("alice") {
			t.Errorf("id = %v", m["id"])
		}
	})
}

func TestActorErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		path   string
		status int
		reason string
	}{
		{"unknown handle is 404", "/users/nobody", http.StatusNotFound, `no actor "nobody"`},
		{"unknown handle at the profile URL is 404", "/@nobody", http.StatusNotFound, `no actor "nobody"`},
		{"a handle that cannot be is 404", "/users/no%20body", http.StatusNotFound, "no actor"},
		{"odd bytes are 404", "/users/%ff%00%c3%28", http.StatusNotFound, "no actor"},
		{"a very long handle is 404", "/users/" + strings.Repeat("a", 5000), http.StatusNotFound, "no actor"},
		{"a handle with an @ is 404", "/@alice@other.example", http.StatusNotFound, "no actor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, f.get(t, tt.path, "Accept", acceptFedify), tt.status, tt.reason)
		})
	}
	t.Run("HEAD gives the headers", func(t *testing.T) {
		w := serve(f.router, http.MethodHead, "/users/alice", "Accept", acceptFedify)
		wantStatus(t, w, http.StatusOK)
		if w.Header().Get("ETag") == "" || w.Header().Get("Content-Length") == "" {
			t.Errorf("headers = %v", w.Header())
		}
	})
	t.Run("POST is not allowed", func(t *testing.T) {
		w := serve(f.router, http.MethodPost, "/users/alice", "Accept", acceptFedify)
		wantStatus(t, w, http.StatusMethodNotAllowed)
	})
}

func TestActorCache(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	f := newFixture(t)
	first := f.get(t, "/users/coop", "Accept", acceptFedify)
	wantStatus(t, first, http.StatusOK)
	etag := first.Header().Get("ETag")

	t.Run("a matching ETag is 304", func(t *testing.T) {
		w := f.get(t, "/users/coop", "Accept", acceptFedify, "If-None-Match", etag)
		wantStatus(t, w, http.StatusNotModified)
		w = f.get(t, "/users/coop", "Accept", acceptFedify, "If-None-Match", `"other", W/`+etag)
		wantStatus(t, w, http.StatusNotModified)
	})
	t.Run("an unchanged actor is not rendered again", func(t *testing.T) {
		if f.srv.revisions() == nil {
			t.Fatal("*store.DB's prepared revision read is not used")
		}
		a, _ := f.srv.actorDocument(ctx, "coop")
		b, _ := f.srv.actorDocument(ctx, "COOP")
		if a != b {
			t.Error("rendered twice at the same revision")
		}
	})
	t.Run("a change in the store is served at once", func(t *testing.T) {
		svc := &coop.Service{Store: f.db, Site: testSite, Clock: clock}
		if _, err := svc.EnsureCoop(ctx, "coop", "Example Co-op", "A new summary."); err != nil {
			t.Fatal(err)
		}
		w := f.get(t, "/users/coop", "Accept", acceptFedify, "If-None-Match", etag)
		wantStatus(t, w, http.StatusOK)
		if w.Header().Get("ETag") == etag {
			t.Error("ETag did not change")
		}
		if m := decode(t, w.Body.Bytes()); m["summary"] != "<p>A new summary.</p>" {
			t.Errorf("summary = %v", m["summary"])
		}
	})
	t.Run("a removal is served at once", func(t *testing.T) {
		if _, err := f.srv.ActorJSON(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		err := f.db.Write(ctx, func(tx *store.Tx) error { return tx.RemoveActor(ctx, f.ids["alice"], t0.Add(time.Hour)) })
		if err != nil {
			t.Fatal(err)
		}
		w := f.get(t, "/users/alice", "Accept", acceptFedify)
		wantStatus(t, w, http.StatusGone)
		if m := decode(t, w.Body.Bytes()); m["type"] != "Tombstone" {
			t.Errorf("type = %v", m["type"])
		}
	})
}

// TestServiceActors serves actors made by coop's use cases, with their
// real keys, as the node does.
func TestServiceActors(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	db := openDB(t)
	svc := &coop.Service{Store: db, Site: testSite, Clock: clock}
	co, err := svc.EnsureCoop(ctx, "coop", "Example Co-op", "We build tools.")
	if err != nil {
		t.Fatal(err)
	}
	alice, _, err := svc.AddMember(ctx, coop.NewMember{Handle: "Alice", DisplayName: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.AddMember(ctx, coop.NewMember{Handle: "gone"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveMember(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	p, err := svc.AddProject(ctx, coop.NewProject{Slug: "tool", Name: "Tool", Repository: "https://git.example/tool",
		Licence: "MIT", Tags: []string{"#Web", "go"}, Maintainers: []string{"alice", "https://peer.example/users/zoe"}})
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(Config{Site: testSite, Store: db, Clock: clock})
	r := newRouter(s)

	t.Run("each actor publishes its own key", func(t *testing.T) {
		for _, a := range []coop.Actor{co, alice.Actor, p.Actor} {
			m := decode(t, serve(r, http.MethodGet, "/users/"+a.Handle).Body.Bytes())
			if got := m["publicKey"].(map[string]any)["publicKeyPem"]; got != a.PublicKeyPEM {
				t.Errorf("%s: publicKeyPem = %v", a.Handle, got)
			}
		}
	})
	t.Run("a project's maintainers are actor ids", func(t *testing.T) {
		m := decode(t, serve(r, http.MethodGet, "/users/tool").Body.Bytes())
		want := []any{testSite.ActorID("Alice"), "https://peer.example/users/zoe"}
		if got := m["coop:maintainers"]; !equalJSON(got, want) {
			t.Errorf("coop:maintainers = %v, want %v", got, want)
		}
		if got := m["coop:tags"]; !equalJSON(got, []any{"go", "web"}) {
			t.Errorf("coop:tags = %v", got)
		}
	})
	t.Run("a member removed by the use case is gone", func(t *testing.T) {
		wantStatus(t, serve(r, http.MethodGet, "/users/gone"), http.StatusGone)
	})
	t.Run("the members collection lists live members", func(t *testing.T) {
		m := decode(t, serve(r, http.MethodGet, "/users/coop/members?page=true").Body.Bytes())
		if got := m["orderedItems"]; !equalJSON(got, []any{testSite.ActorID("Alice")}) {
			t.Errorf("orderedItems = %v", got)
		}
	})
}

// plainStore hides *store.DB's prepared revision read, as another Store
// implementation would lack it.
type plainStore struct{ Store }

func TestActorCacheWithoutPreparedRead(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	f := newFixture(t)
	s := NewServer(Config{Site: testSite, Store: plainStore{f.db}, Clock: clock})
	r := newRouter(s)
	a := serve(r, http.MethodGet, "/users/coop")
	wantStatus(t, a, http.StatusOK)
	if s.revisions() != nil {
		t.Fatal("a store without PrepareActorRevision got a prepared read")
	}
	d1, _ := s.actorDocument(ctx, "coop")
	d2, _ := s.actorDocument(ctx, "coop")
	if d1 != d2 {
		t.Error("rendered twice at the same revision")
	}
	svc := &coop.Service{Store: f.db, Site: testSite, Clock: clock}
	if _, err := svc.EnsureCoop(ctx, "coop", "Renamed Co-op", ""); err != nil {
		t.Fatal(err)
	}
	m := decode(t, serve(r, http.MethodGet, "/users/coop").Body.Bytes())
	if m["name"] != "Renamed Co-op" {
		t.Errorf("name = %v", m["name"])
	}
	if _, ok := m["summary"]; ok {
		t.Errorf("an empty summary is served: %v", m["summary"])
	}
}
