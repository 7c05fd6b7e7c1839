package payout

import (
	"crypto/sha256"
	"testing"
	"time"
)

// TestInputHashEncoding spells out the encoding of the package
// documentation byte by byte, for one round of two records, as another
// implementation would write it.
func TestInputHashEncoding(t *testing.T) {
	round := Round{Budget: 1000, Currency: eur, Formula: Points}
	records := []Record{
		{ID: "r2", Contributor: "b", Date: time.Unix(-1, 5), Minutes: 0, Points: 2},
		{ID: "r1", Contributor: "a", Date: time.Unix(64, 0), Minutes: 90, Points: 1},
	}
	var enc []byte
	enc = append(enc, 23)
	enc = append(enc, "coopfed payout split v1"...)
	enc = append(enc, 3, 'E', 'U', 'R') // currency code
	enc = append(enc, 2)                // exponent
	enc = append(enc, 6)                // "points"
	enc = append(enc, "points"...)
	enc = append(enc, 0xd0, 0x0f) // budget 1000, zig-zag 2000 = 0x7d0
	enc = append(enc, 0, 0, 0)    // rate, cap, floor
	enc = append(enc, 2)          // two records, by ID: r1 then r2
	enc = append(enc, 2, 'r', '1', 1, 'a')
	enc = append(enc, 0x80, 0x01, 0) // date 64 s (zig-zag 128), 0 ns
	enc = append(enc, 0xb4, 0x01, 2) // minutes 90 (zig-zag 180), points 1
	enc = append(enc, 2, 'r', '2', 1, 'b')
	enc = append(enc, 1, 5) // date -1 s (zig-zag 1), 5 ns
	enc = append(enc, 0, 4) // minutes 0, points 2
	s, err := Split(round, records)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(enc); s.InputHash != want {
		t.Errorf("InputHash %x; want SHA-256 of the documented encoding %x", s.InputHash, want)
	}
}
