package payout

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSplitRules: worked examples, computed by hand in the comments.
// Amounts are in minor units.
func TestSplitRules(t *testing.T) {
	for _, tc := range []struct {
		name        string
		round       Round
		records     []Record
		want        map[string]Amount
		unallocated Amount
	}{
		{
			// raw alice = 90 × 3000 / 60 = 4500, bob = 45 × 3000 / 60 =
			// 2250; R = 6750 <= 100000: paid as is, 93250 left.
			name:        "minutes below the budget are paid as they are, the rest unallocated",
			round:       Round{Budget: 100000, Currency: eur, Formula: Minutes, Rate: 3000},
			records:     recs(alice, 90, 0, bob, 45, 0),
			want:        map[string]Amount{alice: 4500, bob: 2250},
			unallocated: 93250,
		},
		{
			// raw 6000, 6000, 3000; R = 15000 > 10000: each × 10000/15000
			// = 4000, 4000, 2000.
			name:    "minutes above the budget are scaled down to fit it exactly",
			round:   Round{Budget: 10000, Currency: eur, Formula: Minutes, Rate: 6000},
			records: recs(alice, 60, 0, bob, 60, 0, carol, 30, 0),
			want:    map[string]Amount{alice: 4000, bob: 4000, carol: 2000},
		},
		{
			// raw 6000 each, R = 18000 > 10000: exact 10000/3 = 3333 + 1/3
			// each; floors 9999, 1 left, remainders tie: the smallest key.
			name:    "a remainder tie goes to the smaller key in byte order",
			round:   Round{Budget: 10000, Currency: eur, Formula: Minutes, Rate: 6000},
			records: recs(carol, 60, 0, bob, 60, 0, alice, 60, 0),
			want:    map[string]Amount{alice: 3334, bob: 3333, carol: 3333},
		},
		{
			// raw = 1 × 1000 / 60 = 50/3 = 16 + 2/3 each; R = 100/3, A =
			// floor(100/3) = 33; floors 32, 1 left: alice (tie, key).
			// Unallocated 10000 - 33.
			name:        "minutes below the budget allocate the floor of the raw sum",
			round:       Round{Budget: 10000, Currency: eur, Formula: Minutes, Rate: 1000},
			records:     recs(alice, 1, 0, bob, 1, 0),
			want:        map[string]Amount{alice: 17, bob: 16},
			unallocated: 9967,
		},
		{
			// alice: min(120 × 6000 / 60, 5000) = 5000, bob 30 × 6000 / 60
			// = 3000; R = 8000 <= 10000.
			name:        "the cap limits a contributor's raw amount",
			round:       Round{Budget: 10000, Currency: eur, Formula: Minutes, Rate: 6000, Cap: 5000},
			records:     recs(alice, 120, 0, bob, 30, 0),
			want:        map[string]Amount{alice: 5000, bob: 3000},
			unallocated: 2000,
		},
		{
			// raw 5000 (capped) and 3000, R = 8000 > 6000: × 6000/8000 =
			// 3750 and 2250.
			name:    "a capped amount is scaled like any other",
			round:   Round{Budget: 6000, Currency: eur, Formula: Minutes, Rate: 6000, Cap: 5000},
			records: recs(alice, 120, 0, bob, 30, 0),
			want:    map[string]Amount{alice: 3750, bob: 2250},
		},
		{
			// alice 30 + 30 + 60 = 120 minutes = 2 h × 1500 = 3000; bob 0.
			name:        "a contributor's records add up; no minutes is no pay",
			round:       Round{Budget: 100000, Currency: eur, Formula: Minutes, Rate: 1500},
			records:     recs(alice, 30, 0, alice, 30, 0, bob, 0, 5, alice, 60, 0),
			want:        map[string]Amount{alice: 3000, bob: 0},
			unallocated: 97000,
		},
		{
			name:        "nobody with minutes allocates nothing",
			round:       Round{Budget: 100000, Currency: eur, Formula: Minutes, Rate: 1500},
			records:     recs(alice, 0, 3),
			want:        map[string]Amount{alice: 0},
			unallocated: 100000,
		},
		{
			// 2000/3 = 666 + 2/3, 1000/3 = 333 + 1/3; floors 999, 1 left
			// to the larger remainder: alice.
			name:    "points split the whole budget in proportion",
			round:   Round{Budget: 1000, Currency: eur, Formula: Points},
			records: recs(alice, 0, 2, bob, 0, 1),
			want:    map[string]Amount{alice: 667, bob: 333},
		},
		{
			// alice 1000/3 = 333 + 1/3, bob 2000/3 = 666 + 2/3: bob's
			// remainder is larger, alice's key smaller; the remainder wins.
			name:    "the largest remainder comes before the key",
			round:   Round{Budget: 1000, Currency: jpy, Formula: Points},
			records: recs(alice, 0, 1, bob, 0, 2),
			want:    map[string]Amount{alice: 333, bob: 667},
		},
		{
			name:    "a contributor with no points among others gets nothing",
			round:   Round{Budget: 1000, Currency: jpy, Formula: Points},
			records: recs(alice, 600, 0, bob, 0, 1),
			want:    map[string]Amount{alice: 0, bob: 1000},
		},
		{
			// 1000 fils / 3 = 333 + 1/3; 1 left to alice.
			name:    "equal split in a three-decimal currency",
			round:   Round{Budget: 1000, Currency: bhd, Formula: Equal},
			records: recs(carol, 10, 0, alice, 0, 0, bob, 0, 1),
			want:    map[string]Amount{alice: 334, bob: 333, carol: 333},
		},
		{
			// 3 × 333 = 999 <= 1000: every share is 333 or 334.
			name:    "equal split with a floor the budget covers",
			round:   Round{Budget: 1000, Currency: bhd, Formula: Equal, Floor: 333},
			records: recs(alice, 0, 0, bob, 0, 0, carol, 0, 0),
			want:    map[string]Amount{alice: 334, bob: 333, carol: 333},
		},
		{
			name:    "equal counts contributors, not records",
			round:   Round{Budget: 100, Currency: jpy, Formula: Equal},
			records: recs(alice, 1, 0, alice, 1, 0, alice, 1, 0, bob, 1, 0),
			want:    map[string]Amount{alice: 50, bob: 50},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Split(tc.round, tc.records)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, shares(s)); diff != "" {
				t.Errorf("shares (-want +got):\n%s", diff)
			}
			if s.Unallocated != tc.unallocated || s.Total+s.Unallocated != tc.round.Budget {
				t.Errorf("total %d, unallocated %d; want unallocated %d of %d", s.Total, s.Unallocated, tc.unallocated, tc.round.Budget)
			}
		})
	}
}

// TestSplitLines checks a whole statement: the sums per contributor and
// the exact fractions.
func TestSplitLines(t *testing.T) {
	// 90 min × 1000/h: raw 1500; 20 min: 1000/3; R = 5500/3 > 1000:
	// exact 1500 × 1000 × 3/5500 = 9000/11 = 818 + 2/11 and 1000/3 ×
	// 1000 × 3/5500 = 2000/11 = 181 + 9/11; floors 999, 1 left to bob.
	s, err := Split(Round{Budget: 1000, Currency: eur, Formula: Minutes, Rate: 1000},
		recs(alice, 60, 1, bob, 20, 0, alice, 30, 2))
	if err != nil {
		t.Fatal(err)
	}
	want := []Line{
		{Contributor: alice, Records: 2, Minutes: 90, Points: 3, Raw: "1500", Exact: "9000/11", Share: 818},
		{Contributor: bob, Records: 1, Minutes: 20, Points: 0, Raw: "1000/3", Exact: "2000/11", Share: 182},
	}
	if diff := cmp.Diff(want, s.Lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if s.Raw != "5500/3" || s.Total != 1000 || s.Unallocated != 0 {
		t.Errorf("raw %s total %d unallocated %d; want 5500/3 1000 0", s.Raw, s.Total, s.Unallocated)
	}
}

func TestSplitRefuses(t *testing.T) {
	ok := recs(alice, 60, 1)
	minutes := Round{Budget: 1000, Currency: eur, Formula: Minutes, Rate: 100}
	with := func(f func(*Round)) Round { r := minutes; f(&r); return r }
	for _, tc := range []struct {
		name    string
		round   Round
		records []Record
		want    error
	}{
		{"no records", minutes, nil, ErrNoRecords},
		{"zero points in total", Round{Budget: 1000, Currency: eur, Formula: Points}, recs(alice, 60, 0, bob, 5, 0), ErrZeroPoints},
		{"budget below floor times contributors", Round{Budget: 1000, Currency: bhd, Formula: Equal, Floor: 334}, recs(alice, 0, 0, bob, 0, 0, carol, 0, 0), ErrBudgetBelowFloor},
		{"unknown currency code", with(func(r *Round) { r.Currency = Currency{"EUX", 2} }), ok, ErrUnknownCurrency},
		{"a known code with another exponent", with(func(r *Round) { r.Currency = Currency{"JPY", 2} }), ok, ErrUnknownCurrency},
		{"unknown formula", with(func(r *Round) { r.Formula = "hours" }), ok, ErrUnknownFormula},
		{"zero budget", with(func(r *Round) { r.Budget = 0 }), ok, ErrInvalidRound},
		{"negative budget", with(func(r *Round) { r.Budget = -1 }), ok, ErrInvalidRound},
		{"minutes without a rate", with(func(r *Round) { r.Rate = 0 }), ok, ErrInvalidRound},
		{"negative cap", with(func(r *Round) { r.Cap = -1 }), ok, ErrInvalidRound},
		{"a floor on minutes", with(func(r *Round) { r.Floor = 1 }), ok, ErrInvalidRound},
		{"a rate on points", Round{Budget: 1000, Currency: eur, Formula: Points, Rate: 1}, ok, ErrInvalidRound},
		{"a floor on points", Round{Budget: 1000, Currency: eur, Formula: Points, Floor: 1}, ok, ErrInvalidRound},
		{"a cap on equal", Round{Budget: 1000, Currency: eur, Formula: Equal, Cap: 1}, ok, ErrInvalidRound},
		{"negative minutes", minutes, recs(alice, -1, 0), ErrInvalidRecord},
		{"negative points", minutes, recs(alice, 1, -1), ErrInvalidRecord},
		{"no id", minutes, []Record{{Contributor: alice, Minutes: 1}}, ErrInvalidRecord},
		{"no contributor", minutes, []Record{{ID: "r1", Minutes: 1}}, ErrInvalidRecord},
		{"contributor not UTF-8", minutes, []Record{{ID: "r1", Contributor: "\xff", Minutes: 1}}, ErrInvalidRecord},
		{"the same record twice", minutes, append(recs(alice, 60, 0, bob, 1, 0), recs(carol, 60, 0)...), ErrDuplicateRecord},
		{"minutes beyond 2^63-1", minutes, recs(alice, math.MaxInt64, 0, alice, 1, 0), ErrOverflow},
		{"points beyond 2^63-1", Round{Budget: 1000, Currency: eur, Formula: Points}, recs(alice, 0, math.MaxInt64, bob, 0, 1), ErrOverflow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Split(tc.round, tc.records)
			if !errors.Is(err, tc.want) {
				t.Errorf("Split = %+v, %v; want %v", s, err, tc.want)
			}
		})
	}
}

// TestSplitLargeNumbers: products beyond int64 are exact.
func TestSplitLargeNumbers(t *testing.T) {
	// minutes × rate = 2^62 × 2^40 overflows int64; R far above the
	// budget, so alice gets 2/3 and bob 1/3 of it: exact (2^63-1) × 2/3
	// = 6148914691236517204 + 2/3.
	s, err := Split(Round{Budget: math.MaxInt64, Currency: eur, Formula: Minutes, Rate: 1 << 40},
		recs(alice, 1<<62, 0, bob, 1<<61, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Amount{alice: 6148914691236517205, bob: 3074457345618258602}
	if diff := cmp.Diff(want, shares(s)); diff != "" {
		t.Errorf("shares (-want +got):\n%s", diff)
	}
}
