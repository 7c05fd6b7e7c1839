package governance

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
	"time"
)

// hashDomain starts every input encoding; a new encoding gets a new one.
const hashDomain = "coopfed governance tally v2"

// chunkSize is how many eligible voters, and how many ballots, one chunk
// of the input encoding holds: each chunk is hashed on its own (on any
// core), and the chunks' digests in order make the list's digest. It is
// part of the encoding: changing it changes every InputHash.
const chunkSize = 4096

// encoder writes the canonical encoding (see the package documentation):
// unsigned integers as uvarints, signed ones as zig-zag varints, strings
// as a uvarint length and their bytes, times as Unix seconds and
// nanoseconds.
type encoder struct {
	buf []byte
}

func (w *encoder) uint(v uint64) {
	if v < 0x80 {
		w.buf = append(w.buf, byte(v))
		return
	}
	w.long(v)
}

// long is uint for values of more than one byte, kept apart so that uint
// is inlined.
func (w *encoder) long(v uint64) {
	b := slices.Grow(w.buf, binary.MaxVarintLen64)
	i := len(b)
	b = b[:i+binary.MaxVarintLen64]
	for v >= 0x80 {
		b[i] = byte(v) | 0x80
		v >>= 7
		i++
	}
	b[i] = byte(v)
	w.buf = b[:i+1]
}
func (w *encoder) int(v int64) { w.uint(uint64(v<<1) ^ uint64(v>>63)) }
func (w *encoder) str(s string) {
	w.uint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}
func (w *encoder) time(t time.Time) {
	w.int(t.Unix())
	w.uint(uint64(t.Nanosecond()))
}

func (w *encoder) ballot(b *Ballot) {
	w.str(b.Voter)
	w.time(b.At)
	w.uint(flags(b))
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

func flags(b *Ballot) uint64 {
	var f uint64
	if b.Abstain {
		f |= 1
	}
	if b.Final {
		f |= 2
	}
	return f
}

// option writes an option key as 1 + i, its index among the proposal's
// options, or as 0 and the key when i < 0.
func (w *encoder) option(i int, key string) {
	if i >= 0 {
		w.uint(uint64(i) + 1)
		return
	}
	w.uint(0)
	w.str(key)
}

// indexed writes a ballot as InputHash reads it: the voter as 1 + e
// (its index among the eligible voters) or 0 and its name when e < 0,
// options by index. It returns opt with the index of each choice, then
// of each rating's option, appended, as counter.add takes them.
func (w *encoder) indexed(opts *optionTable, b *Ballot, e int, opt []int) []int {
	if e >= 0 {
		w.uint(uint64(e) + 1)
	} else {
		w.uint(0)
		w.str(b.Voter)
	}
	w.time(b.At)
	w.uint(flags(b))
	w.uint(uint64(len(b.Choices)))
	for _, c := range b.Choices {
		i := opts.index(c)
		opt = append(opt, i)
		w.option(i, c)
	}
	w.uint(uint64(len(b.Ratings)))
	for _, r := range b.Ratings {
		i := opts.index(r.Option)
		opt = append(opt, i)
		w.option(i, r.Option)
		w.int(int64(r.Value))
	}
	w.uint(uint64(b.Stance))
	return opt
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

// EncodeBallot returns the encoding of one ballot with its voter and
// option keys written out as strings: the last key of the canonical order
// of ballots (see the package documentation).
func EncodeBallot(b Ballot) []byte {
	var w encoder
	w.ballot(&b)
	return w.buf
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

// commonPrefix returns the length of the longest common prefix of a and
// b, comparing eight bytes at a time.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		x := binary.LittleEndian.Uint64([]byte(a[i:i+8])) ^ binary.LittleEndian.Uint64([]byte(b[i:i+8]))
		if x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// chunks returns how many chunks a list of n items takes.
func chunks(n int) int { return (n + chunkSize - 1) / chunkSize }

// listDigest is the SHA-256 of a list's length and its chunks' digests.
func listDigest(n int, sums [][32]byte) [32]byte {
	w := encoder{buf: make([]byte, 0, 10+32*len(sums))}
	w.uint(uint64(n))
	for i := range sums {
		w.buf = append(w.buf, sums[i][:]...)
	}
	return sha256.Sum256(w.buf)
}

// inputHash is the SHA-256 of the rules, the refusals (sorted by their
// encoding) and the digests of the eligible voters and of the ballots.
func inputHash(p Proposal, refusals []Refusal, voters, votes [32]byte) [32]byte {
	var w encoder
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
	}
	w.buf = append(w.buf, voters[:]...)
	w.buf = append(w.buf, votes[:]...)
	return sha256.Sum256(w.buf)
}
