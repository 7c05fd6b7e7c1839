package payout

import (
	"bytes"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// randomRound is a round of a random formula in JPY, EUR or BHD, and up
// to 40 records of up to 8 contributors. Cap is 0 unless withCap.
func randomRound(r *rand.Rand, withCap bool) (Round, []Record) {
	c := []Currency{jpy, eur, bhd}[r.IntN(3)]
	f := []Formula{Minutes, Points, Equal}[r.IntN(3)]
	round := Round{Budget: Amount(1 + r.Int64N(1_000_000)), Currency: c, Formula: f}
	switch f {
	case Minutes:
		round.Rate = Amount(1 + r.Int64N(20_000))
		if withCap && r.IntN(2) == 0 {
			round.Cap = Amount(1 + r.Int64N(500_000))
		}
	case Equal:
		if r.IntN(2) == 0 {
			round.Floor = Amount(r.Int64N(int64(round.Budget)/4 + 1))
		}
	}
	n := 1 + r.IntN(40)
	people := 1 + r.IntN(8)
	records := make([]Record, n)
	for i := range records {
		records[i] = Record{
			ID:          fmt.Sprintf("rec-%03d", r.IntN(1000)*100+i),
			Contributor: fmt.Sprintf("https://coop.example/users/m%d", r.IntN(people)),
			Date:        day,
			Minutes:     r.Int64N(600),
			Points:      r.Int64N(20),
		}
		if r.IntN(4) == 0 {
			records[i].Points = 0
		}
	}
	return round, records
}

// reference recomputes the shares from the documentation alone, with
// big.Rat, the plain way: exact shares, the amount to allocate, then
// largest remainders by sort.
func reference(round Round, records []Record) (map[string]Amount, bool) {
	minutes, points := map[string]int64{}, map[string]int64{}
	for _, r := range records {
		minutes[r.Contributor] += r.Minutes
		points[r.Contributor] += r.Points
	}
	var keys []string
	for k := range minutes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	B := new(big.Rat).SetInt64(int64(round.Budget))
	exact := map[string]*big.Rat{}
	A := new(big.Rat).Set(B)
	switch round.Formula {
	case Minutes:
		R := new(big.Rat)
		for _, k := range keys {
			raw := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(minutes[k]), big.NewInt(int64(round.Rate))), big.NewInt(60))
			if round.Cap > 0 && raw.Cmp(new(big.Rat).SetInt64(int64(round.Cap))) > 0 {
				raw.SetInt64(int64(round.Cap))
			}
			exact[k] = raw
			R.Add(R, raw)
		}
		if R.Cmp(B) > 0 {
			for _, k := range keys {
				exact[k].Mul(exact[k], new(big.Rat).Quo(B, R))
			}
		} else {
			A.SetInt(new(big.Int).Quo(R.Num(), R.Denom()))
		}
	case Points:
		var P int64
		for _, k := range keys {
			P += points[k]
		}
		if P == 0 {
			return nil, false
		}
		for _, k := range keys {
			exact[k] = new(big.Rat).Mul(B, big.NewRat(points[k], P))
		}
	case Equal:
		need := new(big.Int).Mul(big.NewInt(int64(round.Floor)), big.NewInt(int64(len(keys))))
		if need.Cmp(big.NewInt(int64(round.Budget))) > 0 {
			return nil, false
		}
		for _, k := range keys {
			exact[k] = new(big.Rat).Quo(B, new(big.Rat).SetInt64(int64(len(keys))))
		}
	}
	out := map[string]Amount{}
	left := A.Num().Int64()
	rem := map[string]*big.Rat{}
	for _, k := range keys {
		fl := new(big.Int).Quo(exact[k].Num(), exact[k].Denom())
		out[k] = Amount(fl.Int64())
		left -= fl.Int64()
		rem[k] = new(big.Rat).Sub(exact[k], new(big.Rat).SetInt(fl))
	}
	sort.SliceStable(keys, func(i, j int) bool { return rem[keys[i]].Cmp(rem[keys[j]]) > 0 })
	for _, k := range keys[:left] {
		out[k]++
	}
	return out, true
}

func dedupe(records []Record) []Record {
	seen := map[string]bool{}
	var out []Record
	for _, r := range records {
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	return out
}

// TestSplitProperties: on random rounds, Split agrees with reference;
// shares sum to the total exactly and total plus unallocated is the
// budget; no share is negative; every share is within one minor unit
// of its exact share; and shuffling the records changes no byte.
func TestSplitProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for i := range 5000 {
		round, records := randomRound(r, true)
		records = dedupe(records)
		s, err := Split(round, records)
		want, ok := reference(round, records)
		if !ok {
			if err == nil {
				t.Fatalf("%d: %+v: Split succeeds, the reference refuses", i, round)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d: %+v: %v", i, round, err)
		}
		var sum Amount
		for _, l := range s.Lines {
			if l.Share != want[l.Contributor] {
				t.Fatalf("%d: %+v: %s gets %d, the reference %d", i, round, l.Contributor, l.Share, want[l.Contributor])
			}
			if l.Share < 0 {
				t.Fatalf("%d: negative share %d", i, l.Share)
			}
			exact, _ := new(big.Rat).SetString(l.Exact)
			diff := new(big.Rat).Sub(exact, new(big.Rat).SetInt64(int64(l.Share)))
			if diff.Abs(diff).Cmp(big.NewRat(1, 1)) >= 0 {
				t.Fatalf("%d: share %d, exact %s", i, l.Share, l.Exact)
			}
			sum += l.Share
		}
		if sum != s.Total || s.Total+s.Unallocated != round.Budget || s.Unallocated < 0 {
			t.Fatalf("%d: shares sum to %d, total %d, unallocated %d, budget %d", i, sum, s.Total, s.Unallocated, round.Budget)
		}
		if round.Formula != Minutes && s.Unallocated != 0 {
			t.Fatalf("%d: %s leaves %d unallocated", i, round.Formula, s.Unallocated)
		}
		shuffled := slices.Clone(records)
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		again, err := Split(round, shuffled)
		if err != nil || again.InputHash != s.InputHash || !bytes.Equal(again.JSON(), s.JSON()) || !bytes.Equal(again.CSV(), s.CSV()) {
			t.Fatalf("%d: another order of the same records gives another statement (%v)", i, err)
		}
	}
}

// TestSplitMonotonic: within a round, a contributor with more minutes
// (minutes formula, no cap) or more points (points formula) is never
// paid less than one with fewer.
func TestSplitMonotonic(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for i := range 5000 {
		round, records := randomRound(r, false)
		if round.Formula == Equal {
			continue
		}
		s, err := Split(round, dedupe(records))
		if err != nil {
			continue
		}
		for _, a := range s.Lines {
			for _, b := range s.Lines {
				more := a.Minutes > b.Minutes
				if round.Formula == Points {
					more = a.Points > b.Points
				}
				if more && a.Share < b.Share {
					t.Fatalf("%d: %s: %+v paid less than %+v", i, round.Formula, a, b)
				}
			}
		}
	}
}

// TestSplitMonotonicGrowth: giving one contributor one more record
// (more minutes and points), the others' records unchanged, never lowers
// their share. (Largest remainder keeps this: their exact share grows,
// and each other contributor whose floor drops adds one minor unit to
// hand out for at most one place it can take ahead of them.)
func TestSplitMonotonicGrowth(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	for i := range 3000 {
		round, records := randomRound(r, false)
		if round.Formula == Equal {
			continue
		}
		records = dedupe(records)
		before, err := Split(round, records)
		if err != nil {
			continue
		}
		who := records[r.IntN(len(records))].Contributor
		extra := Record{ID: "zz-extra", Contributor: who, Date: day, Minutes: 1 + r.Int64N(600), Points: 1 + r.Int64N(20)}
		after, err := Split(round, append(slices.Clone(records), extra))
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		b, a := shares(before)[who], shares(after)[who]
		if a < b {
			t.Fatalf("%d: %s: %s had %d, with one more record %d", i, round.Formula, who, b, a)
		}
	}
}
