package ledger

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/tlog"
)

// tileServer serves a log as c2sp.org/tlog-tiles would over HTTP: any tile
// or entry bundle within the signed tree, computed from the stored hashes.
type tileServer struct {
	l        *testLog
	n        int64
	checkpt  []byte
	requests int
}

func (s *tileServer) ReadTiles(ctx context.Context, tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		s.requests++
		path := TilePath(t)
		back, err := ParseTilePath(path)
		if err != nil || back != t || !InTree(t, s.n) {
			return nil, fmt.Errorf("404 %s", path)
		}
		if t.L == -1 {
			out[i], err = EntryBundle(s.l.records[t.N<<TileHeight : t.N<<TileHeight+int64(t.W)])
		} else {
			out[i], err = TileData(t, s.l.hashes)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *tileServer) SaveTiles([]tlog.Tile, [][]byte) {}

func (s *tileServer) ReadEndpoint(ctx context.Context, path string) ([]byte, error) {
	if path == "checkpoint" {
		return s.checkpt, nil
	}
	return nil, fmt.Errorf("404 %s", path)
}

// TestTorchwoodClientReadsLog reads a served log with torchwood's tlog
// client, which authenticates every entry against the checkpoint's tree
// through the hash tiles: an existing tlog-tiles client can follow the log.
func TestTorchwoodClientReadsLog(t *testing.T) {
	k := newTestKeys(t, 1)
	n := 70000 // the tlog-tiles spec's example size: partial tiles at levels 0, 1 and 2
	if testing.Short() {
		n = 1000
	}
	l, _ := buildLog(t, n)
	srv := &tileServer{l: l, n: int64(n), checkpt: serve(t, l, k, testTime)}
	msg, err := srv.ReadEndpoint(context.Background(), "checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := OpenCheckpoint(msg, testOrigin, k.logVerifier, k.wVerifiers)
	if err != nil {
		t.Fatal(err)
	}
	c, err := torchwood.NewClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	var next int64
	for pass := 0; next < sc.N && pass < 3; pass++ {
		for i, e := range c.Entries(context.Background(), sc.Tree(), next) {
			if i != next || !bytes.Equal(e, l.records[i]) {
				t.Fatalf("entry %d (want %d) differs", i, next)
			}
			next++
		}
		if err := c.Err(); err != nil {
			t.Fatalf("after %d entries: %v", next, err)
		}
	}
	if next != sc.N {
		t.Fatalf("read %d entries of %d", next, sc.N)
	}
	// And a tampered entry bundle is caught by the client.
	l.records[n-5] = []byte(`{"tampered":true}`)
	c, _ = torchwood.NewClient(srv)
	for range c.Entries(context.Background(), sc.Tree(), int64(n-100)) {
	}
	if c.Err() == nil {
		t.Error("torchwood's client read a tampered bundle without error")
	}
}
