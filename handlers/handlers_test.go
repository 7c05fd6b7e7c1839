package handlers

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"github.com/gorilla/mux"
)

var update = flag.Bool("update", false, "rewrite the golden pages in testdata/")

// fakeAP stands in for package federation: it claims requests that ask for
// JSON, as the real one does, so the tests check the order of routes
// without building go-fed's streams.
type fakeAP struct{}

func (fakeAP) Routes(r *mux.Router) {
	r.HandleFunc("/users/{handle}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/activity+json")
		w.Write([]byte(`{"type":"Person"}`))
	}).MatcherFunc(func(r *http.Request, _ *mux.RouteMatch) bool {
		return strings.Contains(r.Header.Get("Accept"), "activity+json")
	})
}

type fixture struct {
	db      *store.DB
	svc     *coop.Service
	handler http.Handler
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	return newFixtureAt(t, coop.Site{Scheme: "https", Host: "coop.example"})
}

// newFixtureAt is newFixture for a node whose URL is site's.
func newFixtureAt(t *testing.T, site coop.Site) fixture {
	t.Helper()
	ctx := coop.AsAdmin(context.Background())
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "coopfed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	svc := &coop.Service{Store: db, Site: site, Clock: clock}
	if _, err := svc.EnsureCoop(ctx, "coop", "Example Co-op", "We build tools.\n\nTogether & <fairly>."); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"alice", "gone"} {
		if _, _, err := svc.AddMember(ctx, coop.NewMember{Handle: h, DisplayName: strings.ToUpper(h[:1]) + h[1:]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.RemoveMember(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddProject(ctx, coop.NewProject{Slug: "tool", Name: "The Tool", Repository: "https://git.example/tool",
		Licence: "AGPL-3.0-or-later", Tags: []string{"go"}, Needs: []string{"review"},
		Maintainers: []string{"alice", "https://other.example/users/bob"}}); err != nil {
		t.Fatal(err)
	}
	h, err := New(Deps{Service: svc, Site: site, Version: "test", Before: []Routes{fakeAP{}},
		Blocks: &coop.Blocks{Store: db, Admin: svc.RequireAdmin, Clock: clock}})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{db: db, svc: svc, handler: h}
}

func TestPages(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, method, path, accept string
		status                     int
		contains                   []string
		golden                     string
	}{
		{"home lists members and projects", "GET", "/", "text/html", 200,
			[]string{"Example Co-op", "@coop@coop.example", "/@alice", "/@tool", "&lt;fairly&gt;"}, "home"},
		{"member page", "GET", "/@alice", "text/html", 200, []string{"@alice@coop.example", "Member since 25 November 2026"}, "member"},
		{"project page shows facts and maintainers", "GET", "/@tool", "text/html", 200,
			[]string{"https://git.example/tool", "AGPL-3.0-or-later", "#go", "review", "/@alice", "https://other.example/users/bob"}, "project"},
		{"actor id serves the page to browsers", "GET", "/users/alice", "text/html,application/xhtml+xml", 200, []string{"@alice@coop.example"}, ""},
		{"handles compared without case", "GET", "/@ALICE", "text/html", 200, []string{"@alice@coop.example"}, ""},
		{"JSON goes to the ActivityPub routes first", "GET", "/users/alice", "application/activity+json", 200, []string{`{"type":"Person"}`}, ""},
		{"unknown actor", "GET", "/@nobody", "text/html", 404, []string{"Nothing by that name"}, ""},
		{"malformed handle", "GET", "/@a%20b", "text/html", 404, []string{"Nothing by that name"}, ""},
		{"removed member is gone", "GET", "/@gone", "text/html", 410, []string{"removed"}, "gone"},
		{"unknown path", "GET", "/nope/nope", "", 404, []string{"no page at this address"}, ""},
		{"wrong method", "POST", "/", "", 405, []string{"does not take POST"}, ""},
		{"health", "GET", "/healthz", "", 200, []string{`"status":"ok"`}, ""},
		{"stylesheet", "GET", "/static/style.css", "", 200, []string{"--accent"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			rec := httptest.NewRecorder()
			f.handler.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body:\n%s", rec.Code, tt.status, rec.Body)
			}
			body := rec.Body.String()
			for _, s := range tt.contains {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q:\n%s", s, body)
				}
			}
			if tt.golden != "" {
				golden(t, tt.golden, body)
			}
		})
	}
}

func TestHeadHasNoBody(t *testing.T) {
	f := newFixture(t)
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, httptest.NewRequest("HEAD", "/@alice", nil))
	if rec.Code != 200 || rec.Body.Len() != 0 {
		t.Fatalf("HEAD: %d with %d bytes", rec.Code, rec.Body.Len())
	}
}

func TestHealthWithoutDatabase(t *testing.T) {
	f := newFixture(t)
	f.db.Close()
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", rec.Code)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.html")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("page differs from %s (run go test -update and review the diff):\n%s", path, got)
	}
}
