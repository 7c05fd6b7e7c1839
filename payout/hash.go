package payout

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// hashDomain starts every input encoding; a new encoding gets a new one.
const hashDomain = "coopfed payout split v1"

// encoder writes the canonical encoding (see the package documentation)
// to a hash, through a buffer.
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

func (w *encoder) maybeFlush() {
	if len(w.buf) > 60<<10 {
		w.h.Write(w.buf)
		w.buf = w.buf[:0]
	}
}

// inputHash is the SHA-256 of the round and of the records in canonical
// order (by ID).
func inputHash(round Round, records []Record, order []int32) [32]byte {
	w := encoder{h: sha256.New(), buf: make([]byte, 0, 64<<10)}
	w.str(hashDomain)
	w.str(round.Currency.Code)
	w.uint(uint64(round.Currency.Exponent))
	w.str(string(round.Formula))
	w.int(int64(round.Budget))
	w.int(int64(round.Rate))
	w.int(int64(round.Cap))
	w.int(int64(round.Floor))
	w.uint(uint64(len(order)))
	for _, i := range order {
		r := &records[i]
		w.str(r.ID)
		w.str(r.Contributor)
		w.int(r.Date.Unix())
		w.uint(uint64(r.Date.Nanosecond()))
		w.int(r.Minutes)
		w.int(r.Points)
		w.maybeFlush()
	}
	w.h.Write(w.buf)
	var s [32]byte
	w.h.Sum(s[:0])
	return s
}
