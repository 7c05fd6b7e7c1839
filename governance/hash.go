package governance

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"slices"
	"strings"
	"time"
)

// hashDomain starts every input encoding; a new encoding gets a new one.
const hashDomain = "coopfed governance tally v1"

// encoder writes the canonical encoding (see the package documentation):
// unsigned integers as uvarints, signed ones as zig-zag varints, strings
// as a uvarint length and their bytes, times as Unix seconds and
// nanoseconds.
type encoder struct {
	h   hash.Hash
	buf []byte
}

func (w *encoder) uint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }
func (w *encoder) int(v int64)   { w.buf = binary.AppendVarint(w.buf, v) }
func (w *encoder) str(s string) {
	w.uint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}
func (w *encoder) time(t time.Time) {
	w.int(t.Unix())
	w.uint(uint64(t.Nanosecond()))
}

func (w *encoder) flush() {
	if w.h != nil && len(w.buf) > 0 {
		w.h.Write(w.buf)
		w.buf = w.buf[:0]
	}
}

func (w *encoder) ballot(b *Ballot) {
	w.str(b.Voter)
	w.time(b.At)
	var flags uint64
	if b.Abstain {
		flags |= 1
	}
	if b.Final {
		flags |= 2
	}
	w.uint(flags)
	w.uint(uint64(len(b.Choices)))
	for _, c := range b.Choices {
		w.str(c)
	}
	w.uint(uint64(len(b.Ratings)))
	for _, r := range b.Ratings {
		w.str(r.Option)
		w.int(int64(r.Value))
	}
	w.uint(uint64(b.Stance))
}

func (w *encoder) refusal(r *Refusal) {
	w.str(r.Voter)
	w.time(r.At)
	w.str(ReasonCode(r.Reason))
	n := r.Count
	if n <= 0 {
		n = 1
	}
	w.uint(uint64(n))
}

// EncodeBallot returns the canonical encoding of one ballot, as InputHash
// reads it.
func EncodeBallot(b Ballot) []byte {
	var w encoder
	w.ballot(&b)
	return w.buf
}

// canonicalOrder returns the indexes of ballots in canonical order: by
// voter, then by At, then by encoding. It sorts only if needed.
func canonicalOrder(ballots []Ballot) []int32 {
	order := make([]int32, len(ballots))
	sorted := true
	for i := range order {
		order[i] = int32(i)
		if i > 0 && sorted && compareBallots(&ballots[i-1], &ballots[i]) > 0 {
			sorted = false
		}
	}
	if !sorted {
		slices.SortFunc(order, func(a, b int32) int { return compareBallots(&ballots[a], &ballots[b]) })
	}
	return order
}

func compareBallots(a, b *Ballot) int {
	if c := strings.Compare(a.Voter, b.Voter); c != 0 {
		return c
	}
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	return bytes.Compare(EncodeBallot(*a), EncodeBallot(*b))
}

// inputHash is the SHA-256 of the canonical encoding of the proposal's
// rules, the eligible voters (sorted), the ballots (in canonical order)
// and the refusals (sorted by their encoding).
func inputHash(p Proposal, eligible []string, ballots []Ballot, order []int32, refusals []Refusal) [32]byte {
	w := encoder{h: sha256.New(), buf: make([]byte, 0, 64<<10)}
	w.str(hashDomain)
	w.str(p.ID)
	w.str(string(p.Method))
	w.str(string(p.Threshold))
	w.str(string(p.Eligibility))
	w.int(p.Quorum.Num)
	w.int(p.Quorum.Den)
	w.int(int64(p.ScoreMin))
	w.int(int64(p.ScoreMax))
	w.time(p.OpensAt)
	w.time(p.ClosesAt)
	w.str(p.State.String())
	w.uint(uint64(len(p.Options)))
	for _, o := range p.Options {
		w.str(o.Key)
	}
	w.uint(uint64(len(eligible)))
	for _, v := range eligible {
		w.str(v)
		if len(w.buf) > 60<<10 {
			w.flush()
		}
	}
	w.uint(uint64(len(order)))
	for _, i := range order {
		w.ballot(&ballots[i])
		if len(w.buf) > 60<<10 {
			w.flush()
		}
	}
	encoded := make([][]byte, len(refusals))
	for i := range refusals {
		var r encoder
		r.refusal(&refusals[i])
		encoded[i] = r.buf
	}
	slices.SortFunc(encoded, bytes.Compare)
	w.uint(uint64(len(encoded)))
	for _, e := range encoded {
		w.uint(uint64(len(e)))
		w.buf = append(w.buf, e...)
		if len(w.buf) > 60<<10 {
			w.flush()
		}
	}
	w.flush()
	var sum [32]byte
	w.h.Sum(sum[:0])
	return sum
}
