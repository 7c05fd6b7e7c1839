package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/store"
	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/mux"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// *store.DB is the Store the node runs with.
var _ Store = (*store.DB)(nil)

var (
	t0       = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	testSite = coop.Site{Scheme: "https", Host: "coop.example"}
	clock    = func() time.Time { return t0.Add(24 * time.Hour) }
)

// testKey is a fixed public key, so that documents are the same on every
// run (coop.Service makes a fresh key for each actor). No private key is
// committed: serving documents needs none.
func testKey(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "test-actor-public.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fixture is a node with a co-op, members and a project, stored with fixed
// keys and times so that its documents can be compared with golden files.
type fixture struct {
	db     *store.DB
	srv    *Server
	router *mux.Router
	ids    map[string]int64
}

// pageHTML is what the stand-in for package handlers answers.
const pageHTML = "<!doctype html><p>a page</p>"

func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "coopfed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newRouter registers s's routes, then stand-ins for the web pages that
// package handlers registers after them.
func newRouter(s *Server) *mux.Router {
	r := mux.NewRouter()
	s.Routes(r)
	page := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(pageHTML))
	}
	r.HandleFunc("/users/{handle}", page).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/@{handle}", page).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/proposals/{num:[0-9]+}", page).Methods(http.MethodGet, http.MethodHead)
	return r
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	db := openDB(t)
	key := testKey(t)
	ids := map[string]int64{}
	actor := func(kind coop.Kind, handle, name, summary string) coop.Actor {
		return coop.Actor{Kind: kind, Handle: handle, Name: name, Summary: summary, PublicKeyPEM: key,
			Discoverable: true, CreatedAt: t0, UpdatedAt: t0, Revision: 1}
	}
	err := db.Write(ctx, func(tx *store.Tx) error {
		insert := func(a coop.Actor) (coop.Actor, error) {
			a, err := tx.InsertActor(ctx, a, "TEST: no private key")
			ids[a.Handle] = a.ID
			return a, err
		}
		if _, err := insert(actor(coop.KindOrganization, "coop", "Example Co-op",
			"We build tools.\n\nTogether & <fairly>.\nOne line more.")); err != nil {
			return err
		}
		// The decision log, with keys from a fixed seed, so that the
		// Organization's coop:decisionLog is the same in every run.
		seed := bytes.NewReader(bytes.Repeat([]byte{7}, 64))
		skey, vkey, err := ledger.GenerateLogKey(seed, "coop.example/decision-log")
		if err != nil {
			return err
		}
		if _, err := tx.CreateLog(ctx, "coop.example/decision-log", skey, vkey, t0); err != nil {
			return err
		}
		wskey, wvkey, err := ledger.GenerateWitnessKey(bytes.NewReader(bytes.Repeat([]byte{9}, 32)), "coop.example/witness")
		if err != nil {
			return err
		}
		if err := tx.SetWitnessKey(ctx, coop.WitnessKey{Name: "coop.example/witness", SKey: wskey, VKey: wvkey}, t0); err != nil {
			return err
		}
		for _, m := range []coop.Actor{
			actor(coop.KindPerson, "alice", "Alice Liddell", "Maintains things.\nLikes <tea>."),
			actor(coop.KindPerson, "bob", "Bob", ""),
		} {
			a, err := insert(m)
			if err != nil {
				return err
			}
			if err := tx.InsertMember(ctx, coop.Member{Actor: a, Role: coop.RoleMember}, "HASH"); err != nil {
				return err
			}
		}
		if err := tx.RemoveActor(ctx, ids["bob"], t0.Add(2*time.Hour)); err != nil {
			return err
		}
		g, err := insert(actor(coop.KindGroup, "tool", "Tool", "Shared tooling for co-ops."))
		if err != nil {
			return err
		}
		if err := tx.InsertProject(ctx, coop.Project{Actor: g, Repository: "https://git.example/coop/tool",
			Licence: "AGPL-3.0-or-later", Tags: []string{"go", "web"}, Needs: []string{"design", "review"},
			Maintainers: []string{"https://coop.example/users/alice", "https://peer.example/users/zoe"}}); err != nil {
			return err
		}
		for _, f := range []string{"f1", "f2", "f3", "f4", "f5"} {
			if err := tx.AddFollower(ctx, ids["alice"], "https://peer.example/users/"+f, "", "accepted", t0); err != nil {
				return err
			}
		}
		if err := tx.AddFollower(ctx, ids["alice"], "https://peer.example/users/pending", "", "pending", t0); err != nil {
			return err
		}
		if err := tx.AddFollowing(ctx, ids["alice"], "https://peer.example/users/zoe", "", "accepted", t0); err != nil {
			return err
		}
		for i, typ := range []string{"Create", "Announce", "Create"} {
			id := testSite.ActorID("tool") + "/activities/" + string(rune('1'+i))
			body := `{"@context":"https://www.w3.org/ns/activitystreams","id":"` + id + `","type":"` + typ +
				`","actor":"https://coop.example/users/tool","object":{"type":"Note","content":"<p>post ` + string(rune('1'+i)) + `</p>"}}`
			if _, err := tx.AppendOutbox(ctx, ids["tool"], id, typ, []byte(body), t0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(Config{Site: testSite, Store: db, Version: "0.1.0-test", Clock: clock})
	return &fixture{db: db, srv: s, router: newRouter(s), ids: ids}
}

// get serves a request; header holds name, value pairs.
func (f *fixture) get(t testing.TB, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	return serve(f.router, http.MethodGet, target, header...)
}

func serve(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// checkGolden compares got with testdata/name, or rewrites the file with
// -update. JSON is compared indented, so that the files read well and a
// difference shows by line.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	if strings.HasSuffix(name, ".json") {
		var b bytes.Buffer
		if err := json.Indent(&b, got, "", "  "); err != nil {
			t.Fatalf("%s: not JSON: %v\n%s", name, err, got)
		}
		b.WriteByte('\n')
		got = b.Bytes()
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", name, diff)
	}
}

// decode parses a JSON object.
func decode(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, body)
	}
	return m
}

func wantStatus(t testing.TB, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body:\n%s", w.Code, status, w.Body)
	}
}

func wantHeader(t testing.TB, w *httptest.ResponseRecorder, name, value string) {
	t.Helper()
	if got := w.Header().Get(name); got != value {
		t.Errorf("%s = %q, want %q", name, got, value)
	}
}

// wantError checks a JSON error response: the status, and a reason that
// says something.
func wantError(t testing.TB, w *httptest.ResponseRecorder, status int, reasonHas string) {
	t.Helper()
	wantStatus(t, w, status)
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var e struct{ Error string }
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
		t.Fatalf("body is not {\"error\": reason}: %s", w.Body)
	}
	if !strings.Contains(e.Error, reasonHas) {
		t.Errorf("reason %q does not say %q", e.Error, reasonHas)
	}
}
