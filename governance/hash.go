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
	w.body(b)
}

// body is a ballot without its voter.
func (w *encoder) body(b *Ballot) {
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
// voter, then by At, then by encoding. It sorts only if needed, and then
// by an 8-byte key taken just after the voters' common prefix, so that
// most comparisons touch neither the ballots nor their strings.
func canonicalOrder(ballots []Ballot) []int32 {
	order := make([]int32, len(ballots))
	sorted := true
	for i := range order {
		order[i] = int32(i)
		if i > 0 && sorted && compareBallots(&ballots[i-1], &ballots[i]) > 0 {
			sorted = false
		}
	}
	if sorted {
		return order
	}
	lcp := ballots[0].Voter
	for i := range ballots {
		v := ballots[i].Voter
		n := min(len(lcp), len(v))
		if v[:n] == lcp[:n] {
			lcp = lcp[:n]
			continue
		}
		j := 0
		for j < n && v[j] == lcp[j] {
			j++
		}
		lcp = lcp[:j]
	}
	type keyed struct {
		key uint64
		i   int32
	}
	keys := make([]keyed, len(ballots))
	for i := range ballots {
		var k [8]byte
		copy(k[:], ballots[i].Voter[len(lcp):])
		keys[i] = keyed{binary.BigEndian.Uint64(k[:]), int32(i)}
	}
	slices.SortFunc(keys, func(a, b keyed) int {
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		return compareBallots(&ballots[a.i], &ballots[b.i])
	})
	for n, k := range keys {
		order[n] = k.i
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
// rules, the digest of the eligible voters (sorted), the digest of the
// ballots (in canonical order) and the refusals (sorted by their
// encoding). The two digests are computed at the same time.
func inputHash(p Proposal, eligible []string, ballots []Ballot, order []int32, refusals []Refusal) [32]byte {
	var voters [32]byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		w := newEncoder()
		w.uint(uint64(len(eligible)))
		for _, v := range eligible {
			w.str(v)
			w.maybeFlush()
		}
		voters = w.sum()
	}()
	// A ballot's voter is written as 1 + its index among the eligible
	// voters, already hashed, or as 0 and the voter's name.
	bw := newEncoder()
	bw.uint(uint64(len(order)))
	e := 0
	for _, i := range order {
		b := &ballots[i]
		c := -1
		for e < len(eligible) {
			if c = strings.Compare(eligible[e], b.Voter); c >= 0 {
				break
			}
			e++
		}
		if c == 0 {
			bw.uint(uint64(e) + 1)
		} else {
			bw.uint(0)
			bw.str(b.Voter)
		}
		bw.body(b)
		bw.maybeFlush()
	}
	votes := bw.sum()

	w := newEncoder()
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
		w.maybeFlush()
	}
	<-done
	w.buf = append(w.buf, voters[:]...)
	w.buf = append(w.buf, votes[:]...)
	return w.sum()
}

func newEncoder() *encoder {
	return &encoder{h: sha256.New(), buf: make([]byte, 0, 64<<10)}
}

func (w *encoder) maybeFlush() {
	if len(w.buf) > 60<<10 {
		w.flush()
	}
}

func (w *encoder) sum() [32]byte {
	w.flush()
	var s [32]byte
	w.h.Sum(s[:0])
	return s
}
