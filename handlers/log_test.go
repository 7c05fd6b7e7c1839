package handlers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"filippo.io/torchwood"
	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/store"
	"golang.org/x/mod/sumdb/note"
)

// logFixture is a node whose log holds more than one tile of records, with
// a signed checkpoint, served over loopback.
func logFixture(t *testing.T, records int) (fixture, *httptest.Server, *ledger.SignedCheckpoint, note.Verifier) {
	t.Helper()
	f := newFixture(t)
	ctx := coop.AsAdmin(context.Background())
	// Records straight into the log: members made through the use case
	// would each cost an RSA key and an argon2id hash.
	l, err := f.db.OpenLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = f.db.Write(ctx, func(tx *store.Tx) error {
		for i := range records {
			b, err := ledger.Record{Type: "test.event", Time: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), Principal: "admin",
				Channel: ledger.ChannelCLI, Subject: fmt.Sprintf("https://coop.example/test/%d", i), Data: map[string]any{"i": i}}.Encode()
			if err != nil {
				return err
			}
			if _, err := tx.AppendLog(ctx, l.ID, b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, msg, err := f.svc.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.LogVerifier(ctx)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := f.svc.LogInfo(ctx)
	sc, err := ledger.OpenCheckpoint(msg, info.Origin, v, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.handler)
	t.Cleanup(srv.Close)
	return f, srv, sc, v
}

// TestLogReadByTorchwoodClient: an existing tlog-tiles client (torchwood's,
// which checks every tile against the checkpoint's root) reads every
// record of the log over HTTP.
func TestLogReadByTorchwoodClient(t *testing.T) {
	f, srv, sc, _ := logFixture(t, 300)
	tf, err := torchwood.NewTileFetcher(srv.URL + "/log/")
	if err != nil {
		t.Fatal(err)
	}
	client, err := torchwood.NewClient(tf)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := f.db.OpenLog(context.Background())
	want, err := f.db.LogRecords(context.Background(), l.ID, 0, sc.N)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for i, e := range client.Entries(context.Background(), sc.Tree(), 0) {
		if i != n || string(e) != string(want[i]) {
			t.Fatalf("entry %d (expected %d) differs", i, n)
		}
		n++
	}
	if err := client.Err(); err != nil {
		t.Fatal(err)
	}
	// The client stops before the trailing partial bundle; what it read
	// it authenticated. Entry reads the rest one by one.
	for ; n < sc.N; n++ {
		e, _, err := client.Entry(context.Background(), sc.Tree(), n)
		if err != nil || string(e) != string(want[n]) {
			t.Fatalf("entry %d: %v", n, err)
		}
	}
}

func TestLogEndpoints(t *testing.T) {
	_, srv, sc, v := logFixture(t, 260)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	tests := []struct {
		name, path string
		status     int
		cache      string
	}{
		{"checkpoint revalidated every time", "/log/checkpoint", 200, "no-cache"},
		{"full tile cached forever", "/log/tile/0/000", 200, "public, max-age=31536000, immutable"},
		{"full entry bundle cached forever", "/log/tile/entries/000", 200, "public, max-age=31536000, immutable"},
		{"partial tile cached briefly", fmt.Sprintf("/log/tile/0/001.p/%d", sc.N-256), 200, "public, max-age=60"},
		{"tile beyond the signed tree", "/log/tile/0/002", 404, "no-store"},
		{"partial tile wider than the tree", fmt.Sprintf("/log/tile/0/001.p/%d", sc.N-255), 404, "no-store"},
		{"malformed tile path", "/log/tile/0/1", 400, "no-store"},
		{"consistency proof", fmt.Sprintf("/log/proof/consistency?old=3&new=%d", sc.N), 200, "public, max-age=31536000, immutable"},
		{"consistency proof beyond the tree", fmt.Sprintf("/log/proof/consistency?old=3&new=%d", sc.N+1), 400, "no-store"},
		{"consistency proof without sizes", "/log/proof/consistency", 400, "no-store"},
		{"receipt", "/log/receipt/5", 200, "no-cache"},
		{"receipt beyond the tree", fmt.Sprintf("/log/receipt/%d", sc.N), 404, "no-store"},
		{"log info", "/log/", 200, "no-cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(tt.path)
			if resp.StatusCode != tt.status || resp.Header.Get("Cache-Control") != tt.cache {
				t.Fatalf("%s: %d %q, want %d %q; body %q", tt.path, resp.StatusCode, resp.Header.Get("Cache-Control"), tt.status, tt.cache, body)
			}
		})
	}
	t.Run("a receipt from the node verifies offline", func(t *testing.T) {
		_, body := get("/log/receipt/1")
		r, err := ledger.ParseReceipt([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ledger.VerifyReceipt(r, sc.Origin, v, nil, 0); err != nil {
			t.Fatal(err)
		}
		rec, err := ledger.ParseRecord(r.Record)
		if err != nil || rec.Type != "member.admitted" || rec.Principal != coop.AdminPrincipal {
			t.Fatalf("record 1: %+v, %v", rec, err)
		}
	})
	t.Run("the served consistency proof checks", func(t *testing.T) {
		_, body := get(fmt.Sprintf("/log/proof/consistency?old=3&new=%d", sc.N))
		p, err := ledger.ParseProof([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		_, cp := get("/log/checkpoint")
		if !strings.HasPrefix(cp, sc.Origin+"\n") {
			t.Fatalf("checkpoint %q", cp)
		}
		// The tree of size 3, from the entries bundle.
		_, bundle := get("/log/tile/entries/000")
		recs, err := ledger.ParseEntryBundle([]byte(bundle))
		if err != nil {
			t.Fatal(err)
		}
		var mem memHashes
		for i, r := range recs[:3] {
			hs, err := ledger.AppendHashes(int64(i), r, mem)
			if err != nil {
				t.Fatal(err)
			}
			mem = append(mem, hs...)
		}
		old, _ := ledger.TreeHash(3, mem)
		if err := ledger.CheckConsistency(p, ledger.Checkpoint{N: 3, Hash: old}.Tree(), sc.Tree()); err != nil {
			t.Fatal(err)
		}
	})
}

type memHashes = ledger.Hashes
