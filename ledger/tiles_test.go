package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func TestTilePathSpec(t *testing.T) {
	// c2sp.org/tlog-tiles: "index 1234067 will be encoded as x001/x234/067".
	for _, tc := range []struct {
		tile tlog.Tile
		path string
	}{
		{tlog.Tile{H: 8, L: 0, N: 1234067, W: 256}, "tile/0/x001/x234/067"},
		{tlog.Tile{H: 8, L: 2, N: 1234067, W: 17}, "tile/2/x001/x234/067.p/17"},
		{tlog.Tile{H: 8, L: -1, N: 1234067, W: 256}, "tile/entries/x001/x234/067"},
		{tlog.Tile{H: 8, L: -1, N: 0, W: 112}, "tile/entries/000.p/112"},
		{tlog.Tile{H: 8, L: 1, N: 1000, W: 256}, "tile/1/x001/000"},
	} {
		if got := TilePath(tc.tile); got != tc.path {
			t.Errorf("TilePath(%+v) = %s, want %s", tc.tile, got, tc.path)
		}
		back, err := ParseTilePath(tc.path)
		if err != nil || back != tc.tile {
			t.Errorf("ParseTilePath(%s) = %+v, %v", tc.path, back, err)
		}
	}
	if got := EntriesPath(1234067, 256); got != "tile/entries/x001/x234/067" {
		t.Errorf("EntriesPath = %s", got)
	}
	for _, bad := range []string{"tile/0/1234067", "tile/0/x001/x234/067.p/256", "tile/0/067.p/0", "tile/64/000", "tile/entries/", "checkpoint", "tile/0/-01"} {
		if _, err := ParseTilePath(bad); !errors.Is(err, ErrTile) {
			t.Errorf("ParseTilePath(%s): %v", bad, err)
		}
	}
}

func TestNewTilesSpec(t *testing.T) {
	// c2sp.org/tlog-tiles: "a tree of size 70,000 will be represented by
	// 273 full level 0 tiles, one partial level 0 tile of width 112, one
	// full level 1 tile, one partial level 1 tile of width 17, and one
	// partial level 2 tile of width 1."
	count := func(ts []tlog.Tile) string {
		m := map[string]int{}
		for _, t := range ts {
			m[fmt.Sprintf("L%d W%d", t.L, t.W)]++
		}
		return fmt.Sprint(m)
	}
	want := fmt.Sprint(map[string]int{"L-1 W256": 273, "L-1 W112": 1, "L0 W256": 273, "L0 W112": 1, "L1 W256": 1, "L1 W17": 1, "L2 W1": 1})
	if got := count(NewTiles(0, 70000)); got != want {
		t.Errorf("size 70,000: %s, want %s", got, want)
	}
	// "a tree of size 256 will be represented by a full level 0 tile and a
	// partial level 1 tile of width 1."
	want = fmt.Sprint(map[string]int{"L-1 W256": 1, "L0 W256": 1, "L1 W1": 1})
	if got := count(NewTiles(0, 256)); got != want {
		t.Errorf("size 256: %s, want %s", got, want)
	}
	for _, tl := range NewTiles(0, 70000) {
		if !InTree(tl, 70000) {
			t.Errorf("%s not in the tree of size 70000", TilePath(tl))
		}
	}
	for _, tc := range []struct {
		path string
		n    int64
		in   bool
	}{
		{"tile/0/000", 255, false},
		{"tile/0/000", 256, true},
		{"tile/0/000.p/5", 5, true},
		{"tile/0/000.p/5", 4, false},
		{"tile/1/000.p/1", 256, true},
		{"tile/1/000.p/2", 511, false},
		{"tile/entries/001.p/3", 259, true},
		{"tile/7/x999/999", 1 << 62, false},
	} {
		tl, err := ParseTilePath(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if InTree(tl, tc.n) != tc.in {
			t.Errorf("InTree(%s, %d) = %v", tc.path, tc.n, !tc.in)
		}
	}
}

func TestTileDataAndBundles(t *testing.T) {
	var l testLog
	for i := range 600 {
		l.append(t, testRecord(t, i))
	}
	root, _ := TreeHash(600, l.hashes)
	// Serve the tiles, then read the tree back through tlog's tile reader,
	// as a tlog client would.
	tiles := map[string][]byte{}
	for _, tl := range NewTiles(0, 600) {
		if tl.L == -1 {
			recs := l.records[tl.N*256 : tl.N*256+int64(tl.W)]
			b, err := EntryBundle(recs)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseEntryBundle(b)
			if err != nil || len(back) != tl.W {
				t.Fatalf("bundle %s: %d entries, %v", TilePath(tl), len(back), err)
			}
			for i := range back {
				if !bytes.Equal(back[i], recs[i]) {
					t.Fatalf("bundle %s entry %d differs", TilePath(tl), i)
				}
			}
			continue
		}
		data, err := TileData(tl, l.hashes)
		if err != nil {
			t.Fatal(err)
		}
		tiles[TilePath(tl)] = data
	}
	tr := tileReader(tiles)
	hr := tlog.TileHashReader(tlog.Tree{N: 600, Hash: root}, tr)
	p, err := ProveInclusion(600, 300, hr)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckInclusion(p, tlog.Tree{N: 600, Hash: root}, 300, l.records[300]); err != nil {
		t.Error(err)
	}
	if _, err := TileData(tlog.Tile{H: 8, L: -1, N: 0, W: 1}, l.hashes); !errors.Is(err, ErrTile) {
		t.Errorf("TileData of an entry bundle: %v", err)
	}
	for _, bad := range [][]byte{{0}, {0, 2, 1}, bytes.Repeat([]byte{0, 0}, 257)} {
		if _, err := ParseEntryBundle(bad); !errors.Is(err, ErrTile) {
			t.Errorf("ParseEntryBundle(%x): %v", bad, err)
		}
	}
	if _, err := EntryBundle([][]byte{make([]byte, 1<<16)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("EntryBundle of a 64 KiB entry: %v", err)
	}
}

type tileReader map[string][]byte

func (tr tileReader) Height() int { return TileHeight }
func (tr tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		d, ok := tr[TilePath(t)]
		if !ok {
			return nil, fmt.Errorf("no tile %s", TilePath(t))
		}
		out[i] = d
	}
	return out, nil
}
func (tr tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func TestPathLifetime(t *testing.T) {
	for path, want := range map[string]Lifetime{
		"checkpoint":             Mutable,
		"tile/0/000":             Immutable,
		"tile/entries/x001/002":  Immutable,
		"tile/0/000.p/3":         Partial,
		"tile/entries/000.p/255": Partial,
	} {
		if got, err := PathLifetime(path); err != nil || got != want {
			t.Errorf("PathLifetime(%s) = %v, %v; want %v", path, got, err, want)
		}
	}
	if _, err := PathLifetime("tile/x"); err == nil {
		t.Error("PathLifetime(tile/x): no error")
	}
}
