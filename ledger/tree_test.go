package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func TestEmptyHash(t *testing.T) {
	// RFC 6962, 2.1: MTH({}) = SHA-256(); tlog-witness requires it at size 0.
	if EmptyHash.String() != "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" {
		t.Errorf("EmptyHash = %s", EmptyHash)
	}
	if h, err := TreeHash(0, memHashes{}); err != nil || h != EmptyHash {
		t.Errorf("TreeHash(0) = %s, %v", h, err)
	}
	var h Hasher
	if h.Root() != EmptyHash {
		t.Errorf("empty Hasher root %s", h.Root())
	}
}

// TestHasherMatchesTlog checks the fast path against tlog, size by size.
func TestHasherMatchesTlog(t *testing.T) {
	var l testLog
	var h Hasher
	for i := range 1100 {
		rec := []byte(fmt.Sprintf("record %d", i))
		want, err := tlog.StoredHashes(int64(i), rec, l.hashes)
		if err != nil {
			t.Fatal(err)
		}
		got := h.Append(rec)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("record %d: Hasher stored %v, tlog %v", i, got, want)
		}
		l.records = append(l.records, rec)
		l.hashes = append(l.hashes, want...)
		root, _ := tlog.TreeHash(int64(i+1), l.hashes)
		if h.Root() != root {
			t.Fatalf("size %d: Hasher root %s, tlog %s", i+1, h.Root(), root)
		}
		if i%97 == 0 {
			h2, err := NewHasherAt(int64(i+1), l.hashes)
			if err != nil {
				t.Fatal(err)
			}
			if h2.Root() != root || h2.N() != int64(i+1) {
				t.Fatalf("NewHasherAt(%d) root %s, want %s", i+1, h2.Root(), root)
			}
		}
	}
}

func TestProofs(t *testing.T) {
	var l testLog
	for i := range 300 {
		l.append(t, testRecord(t, i))
	}
	for _, n := range []int64{1, 2, 7, 8, 255, 256, 257, 300} {
		tree := l.checkpoint(t, testOrigin)
		tree.N = n
		tree.Hash, _ = TreeHash(n, l.hashes)
		for _, i := range []int64{0, n / 2, n - 1} {
			p, err := ProveInclusion(n, i, l.hashes)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseProof(FormatProof(p))
			if err != nil || fmt.Sprint(back) != fmt.Sprint(p) {
				t.Fatalf("proof text round trip: %v", err)
			}
			if err := CheckInclusion(back, tree.Tree(), i, l.records[i]); err != nil {
				t.Errorf("size %d, index %d: %v", n, i, err)
			}
			if err := CheckInclusion(back, tree.Tree(), i, []byte("other")); !errors.Is(err, ErrProof) {
				t.Errorf("size %d, index %d: another record passes: %v", n, i, err)
			}
		}
		for _, old := range []int64{0, 1, n / 3, n} {
			oh, _ := TreeHash(old, l.hashes)
			p, err := ProveConsistency(old, n, l.hashes)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckConsistency(p, tlog.Tree{N: old, Hash: oh}, tree.Tree()); err != nil {
				t.Errorf("%d to %d: %v", old, n, err)
			}
			if old > 0 && old < n {
				if err := CheckConsistency(p, tlog.Tree{N: old, Hash: tlog.RecordHash(nil)}, tree.Tree()); !errors.Is(err, ErrProof) {
					t.Errorf("%d to %d with a wrong old hash: %v", old, n, err)
				}
			}
		}
	}
}

func TestParseProofRefuses(t *testing.T) {
	h := tlog.RecordHash(nil).String()
	for _, text := range []string{
		h,              // no newline
		h + "\n\n",     // empty line
		h + "=\n",      // not base64
		"AAAA\n",       // short
		h[:43] + "J\n", // non-canonical base64
		string(bytes.Repeat([]byte(h+"\n"), 129)),
	} {
		if _, err := ParseProof([]byte(text)); !errors.Is(err, ErrProof) {
			t.Errorf("ParseProof(%.50q): %v", text, err)
		}
	}
	if p, err := ParseProof(nil); err != nil || len(p) != 0 {
		t.Errorf("empty proof: %v, %v", p, err)
	}
}
