package payout

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
)

// FuzzSplit builds a round and records from the fuzzer's bytes (any
// integers, negative and huge ones included): no input panics; a refusal
// is one of the named errors; a statement keeps the invariants of
// TestSplitProperties, and the records reversed give the same bytes.
func FuzzSplit(f *testing.F) {
	f.Add(uint8(0), int64(100000), int64(3000), int64(0), []byte("\x00\x5a\x00\x01\x2d\x00"))
	f.Add(uint8(1), int64(1000), int64(0), int64(0), []byte("\x00\x00\x02\x01\x00\x01\x02\x00\x04"))
	f.Add(uint8(2), int64(10001), int64(0), int64(2500), []byte("\x00\x01\x00\x01\x00\x00\x02\x00\x00\x03\x00\x00"))
	f.Add(uint8(0), int64(1<<62), int64(1<<40), int64(1<<50), []byte("\x00\xff\xff\xff\xff\xff\xff\xff\x7f\x00"))
	f.Fuzz(func(t *testing.T, kind uint8, budget, param, floor int64, data []byte) {
		c := []Currency{jpy, eur, bhd}[kind%3]
		round := Round{Budget: Amount(budget), Currency: c, Formula: []Formula{Minutes, Points, Equal, "other"}[kind/3%4]}
		switch round.Formula {
		case Minutes:
			round.Rate, round.Cap = Amount(param), Amount(floor)
		default:
			round.Floor = Amount(floor)
		}
		var records []Record
		for i := 0; len(data) > 0 && i < 64; i++ {
			who := data[0] % 5
			data = data[1:]
			m, n := binary.Varint(data)
			if n <= 0 {
				break
			}
			data = data[n:]
			p, n := binary.Varint(data)
			if n <= 0 {
				break
			}
			data = data[n:]
			records = append(records, Record{ID: fmt.Sprintf("r%d", i), Contributor: fmt.Sprintf("m%d", who), Date: day, Minutes: m, Points: p})
		}
		s, err := Split(round, records)
		if err != nil {
			for _, named := range []error{ErrInvalidRound, ErrUnknownFormula, ErrInvalidRecord, ErrNoRecords, ErrZeroPoints, ErrBudgetBelowFloor, ErrOverflow} {
				if errors.Is(err, named) {
					return
				}
			}
			t.Fatalf("%+v: %v is not a named error", round, err)
		}
		var sum Amount
		for _, l := range s.Lines {
			if l.Share < 0 {
				t.Fatalf("%+v: negative share %+v", round, l)
			}
			sum += l.Share
		}
		if sum != s.Total || s.Total+s.Unallocated != round.Budget || s.Unallocated < 0 {
			t.Fatalf("%+v: shares %d, total %d, unallocated %d", round, sum, s.Total, s.Unallocated)
		}
		if want, ok := reference(round, records); !ok || !maps.Equal(want, shares(s)) {
			t.Fatalf("%+v: %v; reference %v (%v)", round, shares(s), want, ok)
		}
		slices.Reverse(records)
		again, err := Split(round, records)
		if err != nil || !bytes.Equal(again.JSON(), s.JSON()) {
			t.Fatalf("%+v: the records reversed give another statement (%v)", round, err)
		}
	})
}
