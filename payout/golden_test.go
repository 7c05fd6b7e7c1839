package payout

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenRounds are one statement per formula, in currencies with 2, 0 and
// 3 decimals.
var goldenRounds = []struct {
	name    string
	round   Round
	records []Record
}{
	{
		// 90 and 20 minutes at 10.00/h: raw 15.00 and 3.33+1/3, R above
		// the 10.00 budget (TestSplitLines works it out).
		name:    "minutes-eur",
		round:   Round{Budget: 1000, Currency: eur, Formula: Minutes, Rate: 1000, Cap: 100000},
		records: recs(alice, 60, 1, bob, 20, 0, alice, 30, 2),
	},
	{
		// 1000 yen over 1, 2 and 4 points: 1000/7, 2000/7, 4000/7 =
		// 142 + 6/7, 285 + 5/7, 571 + 3/7; floors 998, 2 left: alice
		// and bob.
		name:    "points-jpy",
		round:   Round{Budget: 1000, Currency: jpy, Formula: Points},
		records: recs(carol, 0, 4, alice, 0, 1, bob, 0, 2),
	},
	{
		// 10.001 dinars over 4: 2500 + 1/4 fils each, 1 left to the
		// smallest key (the quoted one: '"' < 'h'); the floor 2.500 × 4
		// <= 10.001. The key with a quote and a comma checks CSV quoting.
		name:    "equal-bhd",
		round:   Round{Budget: 10001, Currency: bhd, Formula: Equal, Floor: 2500},
		records: recs(alice, 30, 0, bob, 0, 0, carol, 0, 1, `"quoted, key"`, 0, 0),
	},
}

// TestGolden pins CSV and JSON byte for byte; go test -update rewrites
// the files after a deliberate change.
func TestGolden(t *testing.T) {
	for _, g := range goldenRounds {
		s, err := Split(g.round, g.records)
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		for ext, got := range map[string][]byte{"csv": s.CSV(), "json": s.JSON()} {
			path := filepath.Join("testdata", g.name+"."+ext)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file:\n%s\nwant:\n%s", path, got, want)
			}
		}
	}
}
