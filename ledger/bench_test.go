package ledger

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// benchLog is a log of a million vote-sized records, built once.
var benchLog = sync.OnceValue(func() *testLog {
	const n = 1_000_000
	l := &testLog{}
	var h Hasher
	// Real records: encode a few, then vary them, so that the bytes have
	// the size and shape of votes without a million JCS encodings.
	base := string(testRecord(&testing.B{}, 123456))
	buf := make([]byte, 0, n*(len(base)+8))
	for i := range n {
		start := len(buf)
		buf = append(buf, base...)
		// Overwrite the ballot number in place: same length, distinct bytes.
		copy(buf[start+len(base)-len(`"type":"vote.cast"}`)-12:], fmt.Sprintf("%09d", i))
		rec := buf[start:len(buf):len(buf)]
		l.records = append(l.records, rec)
		l.hashes = append(l.hashes, h.Append(rec)...)
	}
	return l
})

func (l *testLog) totalBytes() int64 {
	var n int64
	for _, r := range l.records {
		n += int64(len(r))
	}
	return n
}

// BenchmarkAppend appends records through tlog.StoredHashes with an
// in-memory HashReader, as the store does inside its transaction.
func BenchmarkAppend(b *testing.B) {
	rec := testRecord(b, 1)
	var l testLog
	b.ReportAllocs()
	stored := 0
	for i := 0; b.Loop(); i++ {
		hs, err := AppendHashes(int64(i), rec, l.hashes)
		if err != nil {
			b.Fatal(err)
		}
		stored += len(hs)
		l.hashes = append(l.hashes, hs...)
	}
	b.ReportMetric(float64(stored)/float64(b.N), "hashes/record")
}

// BenchmarkHasherAppend is BenchmarkAppend through the Hasher (no reads).
func BenchmarkHasherAppend(b *testing.B) {
	rec := testRecord(b, 1)
	var h Hasher
	b.ReportAllocs()
	for b.Loop() {
		h.Append(rec)
	}
}

// BenchmarkEncodeRecord is the cost of canonicalizing one vote record.
func BenchmarkEncodeRecord(b *testing.B) {
	r := Record{Type: "vote.cast", Time: testTime, Principal: "https://example.org/members/ana", Channel: ChannelWeb,
		Subject: "https://example.org/proposals/7", Data: map[string]any{"choice": 2, "voter": HashText("x")}, StateHash: HashText("s")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProve makes and checks inclusion and consistency proofs in a
// log of 1,000,000 records.
func BenchmarkProve(b *testing.B) {
	l := benchLog()
	n := int64(len(l.records))
	root, err := TreeHash(n, l.hashes)
	if err != nil {
		b.Fatal(err)
	}
	tree := tlog.Tree{N: n, Hash: root}
	rng := rand.New(rand.NewPCG(1, 2))
	b.Run("inclusion", func(b *testing.B) {
		size := 0
		for b.Loop() {
			i := rng.Int64N(n)
			p, err := ProveInclusion(n, i, l.hashes)
			if err != nil {
				b.Fatal(err)
			}
			if err := CheckInclusion(p, tree, i, l.records[i]); err != nil {
				b.Fatal(err)
			}
			size = len(FormatProof(p))
		}
		b.ReportMetric(float64(size), "proof-bytes")
	})
	b.Run("consistency", func(b *testing.B) {
		size := 0
		for b.Loop() {
			old := 1 + rng.Int64N(n-1)
			oh, _ := TreeHash(old, l.hashes)
			p, err := ProveConsistency(old, n, l.hashes)
			if err != nil {
				b.Fatal(err)
			}
			if err := CheckConsistency(p, tlog.Tree{N: old, Hash: oh}, tree); err != nil {
				b.Fatal(err)
			}
			size = len(FormatProof(p))
		}
		b.ReportMetric(float64(size), "proof-bytes")
	})
	b.Run("receipt", func(b *testing.B) {
		k := newTestKeys(b, 2)
		served := serve(b, l, k, testTime)
		size := 0
		for b.Loop() {
			i := rng.Int64N(n)
			p, err := ProveInclusion(n, i, l.hashes)
			if err != nil {
				b.Fatal(err)
			}
			text := Receipt{Index: i, Record: l.records[i], Proof: p, Checkpoint: served}.Marshal()
			r, err := ParseReceipt(text)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := VerifyReceipt(r, testOrigin, k.logVerifier, k.wVerifiers, 2); err != nil {
				b.Fatal(err)
			}
			size = len(text)
		}
		b.ReportMetric(float64(size), "receipt-bytes")
	})
}

// sha256Pass is the baseline: plain SHA-256 over the log's bytes.
func sha256Pass(l *testLog) [32]byte {
	h := sha256.New()
	for _, r := range l.records {
		h.Write(r)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// BenchmarkSHA256SameBytes hashes the million records' bytes as one stream.
func BenchmarkSHA256SameBytes(b *testing.B) {
	l := benchLog()
	b.SetBytes(l.totalBytes())
	for b.Loop() {
		sha256Pass(l)
	}
}

// BenchmarkVerifyLog verifies the million-record log, and reports its
// time as a multiple of BenchmarkSHA256SameBytes measured in the same run.
func BenchmarkVerifyLog(b *testing.B) {
	l := benchLog()
	n := int64(len(l.records))
	want := l.checkpoint(b, testOrigin)
	for _, tc := range []struct {
		name   string
		verify func() error
	}{
		{"records", func() error { return VerifyLog(n, l.record, want) }},
		{"records+stored", func() error { return VerifyStored(n, l.record, l.hashes, want) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(l.totalBytes())
			var base time.Duration
			for b.Loop() {
				b.StopTimer()
				t0 := time.Now()
				sha256Pass(l)
				base += time.Since(t0)
				b.StartTimer()
				if err := tc.verify(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed())/float64(base), "x-sha256")
		})
	}
}
