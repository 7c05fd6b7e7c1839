package ledger

import (
	"errors"
	"fmt"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/tlog"
)

// TileHeight is the height of c2sp.org/tlog-tiles tiles: 256 hashes wide.
const TileHeight = torchwood.TileHeight

// ErrTile is returned for a malformed tile path or entry bundle.
var ErrTile = errors.New("ledger: malformed tile")

// TilePath returns t's path under the log's URL prefix:
// "tile/L/N[.p/W]" for hashes, "tile/entries/N[.p/W]" for an entry bundle
// (t.L = -1), with N in 3-digit groups ("x001/x234/067"). t.H must be
// TileHeight.
func TilePath(t tlog.Tile) string { return torchwood.TilePath(t) }

// ParseTilePath parses a TilePath path.
func ParseTilePath(path string) (tlog.Tile, error) {
	t, err := torchwood.ParseTilePath(path)
	if err != nil {
		return tlog.Tile{}, fmt.Errorf("%w: %v", ErrTile, err)
	}
	if t.L > 63 {
		return tlog.Tile{}, fmt.Errorf("%w: level %d", ErrTile, t.L)
	}
	return t, nil
}

// EntriesPath returns the path of entry bundle n of width entries
// (1 to 256; 256 is a full bundle).
func EntriesPath(n int64, width int) string {
	return TilePath(tlog.Tile{H: TileHeight, L: -1, N: n, W: width})
}

// NewTiles returns the tiles and entry bundles (L = -1) that a tree of
// size newN has and one of size oldN has not (tlog.NewTiles).
func NewTiles(oldN, newN int64) []tlog.Tile {
	ts := tlog.NewTiles(TileHeight, oldN, newN)
	var out []tlog.Tile
	for _, t := range ts {
		if t.L == 0 {
			e := t
			e.L = -1
			out = append(out, e)
		}
	}
	return append(out, ts...)
}

// InTree reports whether tile t can be served for a tree of size n: all
// of its hashes (or entries) are of complete subtrees within the first n
// records. The partial tiles of older sizes are in the tree too.
func InTree(t tlog.Tile, n int64) bool {
	if t.H != TileHeight || t.L < -1 || t.L > 63/TileHeight || t.N < 0 || t.W < 1 || t.W > 1<<TileHeight {
		return false
	}
	l := t.L
	if l < 0 {
		l = 0
	}
	shift := uint(TileHeight * l)
	end := t.N<<TileHeight + int64(t.W) // in units of 256^l records
	if end > (1<<63-1)>>shift {
		return false
	}
	return end<<shift <= n
}

// TileData returns the bytes of hash tile t (t.L ≥ 0): tlog.ReadTileData.
func TileData(t tlog.Tile, r tlog.HashReader) ([]byte, error) {
	if t.H != TileHeight || t.L < 0 {
		return nil, fmt.Errorf("%w: not a hash tile", ErrTile)
	}
	return tlog.ReadTileData(t, r)
}

// EntryBundle returns the entry bundle of records: each record prefixed
// by its length as a big-endian uint16.
func EntryBundle(records [][]byte) ([]byte, error) {
	if len(records) > 1<<TileHeight {
		return nil, fmt.Errorf("%w: %d entries in one bundle", ErrTile, len(records))
	}
	var b []byte
	var err error
	for _, r := range records {
		if b, err = torchwood.AppendTileEntry(b, r); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrTooLarge, err)
		}
	}
	return b, nil
}

// ParseEntryBundle splits an entry bundle into its records; the bundle
// must end exactly after its last entry, and hold at most 256.
func ParseEntryBundle(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(out) == 1<<TileHeight {
			return nil, fmt.Errorf("%w: more than %d entries", ErrTile, 1<<TileHeight)
		}
		e, rest, err := torchwood.ReadTileEntry(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrTile, err)
		}
		out = append(out, e)
		b = rest
	}
	return out, nil
}

// A Lifetime says how long a client may cache a served path.
type Lifetime int

const (
	// Mutable: the checkpoint, which changes with every signature; cache a
	// few seconds at most.
	Mutable Lifetime = iota
	// Partial: a partial tile or bundle ("….p/W"). Its bytes never change,
	// but it is replaced by a wider one as the log grows and may be
	// dropped once the full tile exists; cache briefly.
	Partial
	// Immutable: a full tile or bundle; cache forever.
	Immutable
)

// PathLifetime returns the Lifetime of a path under the log's prefix:
// "checkpoint" or a tile path.
func PathLifetime(path string) (Lifetime, error) {
	if path == "checkpoint" {
		return Mutable, nil
	}
	t, err := ParseTilePath(path)
	if err != nil {
		return 0, err
	}
	if t.W == 1<<TileHeight {
		return Immutable, nil
	}
	return Partial, nil
}
