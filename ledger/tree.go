package ledger

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/tlog"
)

// ErrProof is returned for a malformed proof text or a proof that fails.
var ErrProof = errors.New("ledger: invalid proof")

// AppendHashes returns the hashes to store when record (the n'th, from 0)
// is appended: tlog.StoredHashes. Store them from tlog.StoredHashIndex(0, n)
// on, in the same transaction as the record.
func AppendHashes(n int64, record []byte, r tlog.HashReader) ([]tlog.Hash, error) {
	return tlog.StoredHashes(n, record, r)
}

// TreeHash returns the root of the first n records (tlog.TreeHash); for
// n = 0 it is SHA-256 of the empty string, as RFC 6962 defines.
func TreeHash(n int64, r tlog.HashReader) (tlog.Hash, error) {
	return tlog.TreeHash(n, r)
}

// ProveInclusion returns the proof that record index is in the tree of
// size treeSize (RFC 6962 audit path, tlog.ProveRecord).
func ProveInclusion(treeSize, index int64, r tlog.HashReader) (tlog.RecordProof, error) {
	return tlog.ProveRecord(treeSize, index, r)
}

// CheckInclusion checks that record is the entry at index in tree.
func CheckInclusion(p tlog.RecordProof, tree tlog.Tree, index int64, record []byte) error {
	if err := tlog.CheckRecord(p, tree.N, tree.Hash, index, tlog.RecordHash(record)); err != nil {
		return fmt.Errorf("%w: record %d in tree of size %d: %v", ErrProof, index, tree.N, err)
	}
	return nil
}

// ProveConsistency returns the proof that the tree of size oldN is a
// prefix of the tree of size newN (tlog.ProveTree). It is empty when oldN
// is 0 or oldN = newN.
func ProveConsistency(oldN, newN int64, r tlog.HashReader) (tlog.TreeProof, error) {
	if oldN < 0 || oldN > newN {
		return nil, fmt.Errorf("ledger: no consistency proof from size %d to %d", oldN, newN)
	}
	if oldN == 0 || oldN == newN {
		return tlog.TreeProof{}, nil
	}
	return tlog.ProveTree(newN, oldN, r)
}

// EmptyHash is the root of the empty tree: SHA-256 of the empty string.
var EmptyHash = tlog.Hash(sha256.Sum256(nil))

// CheckConsistency checks that old is a prefix of new. A tree of size 0
// must have EmptyHash and an empty proof, as must two trees of one size,
// which must also have the same hash.
func CheckConsistency(p tlog.TreeProof, old, new tlog.Tree) error {
	switch {
	case old.N < 0 || old.N > new.N:
		return fmt.Errorf("%w: from size %d to %d", ErrProof, old.N, new.N)
	case old.N == 0:
		if old.Hash != EmptyHash || len(p) != 0 {
			return fmt.Errorf("%w: a tree of size 0 needs the empty hash and no proof", ErrProof)
		}
		return nil
	case old.N == new.N:
		if old.Hash != new.Hash || len(p) != 0 {
			return fmt.Errorf("%w: two trees of size %d differ", ErrProof, old.N)
		}
		return nil
	}
	if err := tlog.CheckTree(p, new.N, new.Hash, old.N, old.Hash); err != nil {
		return fmt.Errorf("%w: from size %d to %d: %v", ErrProof, old.N, new.N, err)
	}
	return nil
}

// maxProofLines bounds a proof: an inclusion proof in a tree of fewer
// than 2^63 records has at most 63 hashes, a consistency proof at most 126.
const maxProofLines = 128

// FormatProof writes a proof (tlog.RecordProof or tlog.TreeProof) as text:
// one base64 hash per line, each ending in a newline, as in
// c2sp.org/tlog-proof and c2sp.org/tlog-witness.
func FormatProof(p []tlog.Hash) []byte {
	var b strings.Builder
	for _, h := range p {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// ParseProof parses FormatProof's text; an empty text is an empty proof.
func ParseProof(text []byte) ([]tlog.Hash, error) {
	p := []tlog.Hash{}
	s := string(text)
	for s != "" {
		line, rest, ok := strings.Cut(s, "\n")
		if !ok {
			return nil, fmt.Errorf("%w: line without newline", ErrProof)
		}
		h, err := parseHash(line)
		if err != nil {
			return nil, err
		}
		if len(p) == maxProofLines {
			return nil, fmt.Errorf("%w: more than %d hashes", ErrProof, maxProofLines)
		}
		p = append(p, h)
		s = rest
	}
	return p, nil
}

// decodeBase64 decodes standard base64 and accepts only its canonical
// form: base64's decoder, even Strict, skips CR and LF inside the text, so
// two texts would parse to one value and re-encode to another.
func decodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	if base64.StdEncoding.EncodeToString(b) != s {
		return nil, errors.New("not canonical base64")
	}
	return b, nil
}

// parseHash parses one canonical base64 SHA-256 hash.
func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := decodeBase64(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("%w: bad hash %q", ErrProof, truncate(s))
	}
	copy(h[:], b)
	return h, nil
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// A Hasher computes the tree record by record, keeping only the right
// edge: one hash per complete subtree, at most 63. It produces the same
// stored hashes as tlog.StoredHashes without reading any, which makes it
// the fast path for appending in bulk and for verifying a whole log.
// The zero Hasher is an empty tree.
type Hasher struct {
	n      int64
	edge   []tlog.Hash // roots of the complete subtrees, largest first
	stored []tlog.Hash
	leaf   hash.Hash // reused: no copy of the record, no allocation
	sum    [sha256.Size]byte
	node   [1 + 2*tlog.HashSize]byte
}

// NewHasherAt returns a Hasher for the tree of size n whose stored hashes
// r holds, ready to append record n.
func NewHasherAt(n int64, r tlog.HashReader) (*Hasher, error) {
	if n < 0 {
		return nil, fmt.Errorf("ledger: tree size %d", n)
	}
	h := &Hasher{n: n}
	if n == 0 {
		return h, nil
	}
	idx := torchwood.RightEdge(n)
	edge, err := r.ReadHashes(idx)
	if err != nil {
		return nil, err
	}
	if len(edge) != len(idx) {
		return nil, fmt.Errorf("ledger: ReadHashes(%d indexes) = %d hashes", len(idx), len(edge))
	}
	h.edge = append(h.edge, edge...)
	return h, nil
}

// N returns the number of records appended.
func (h *Hasher) N() int64 { return h.n }

// leafPrefix is RFC 6962's domain separation byte of a leaf hash.
var leafPrefix = []byte{0}

// Append adds the next record and returns the hashes to store for it, as
// tlog.StoredHashes would. The slice is reused by the next call.
func (h *Hasher) Append(record []byte) []tlog.Hash {
	if h.leaf == nil {
		h.leaf = sha256.New()
	}
	h.leaf.Reset()
	h.leaf.Write(leafPrefix)
	h.leaf.Write(record)
	return h.appendHash(tlog.Hash(h.leaf.Sum(h.sum[:0])))
}

// AppendRecordHash is Append for a record whose hash (tlog.RecordHash) is known.
func (h *Hasher) AppendRecordHash(rh tlog.Hash) []tlog.Hash {
	return h.appendHash(rh)
}

func (h *Hasher) appendHash(x tlog.Hash) []tlog.Hash {
	h.stored = append(h.stored[:0], x)
	// Each trailing 1 bit of n completes a subtree with the edge's last root.
	for k := h.n; k&1 == 1; k >>= 1 {
		last := len(h.edge) - 1
		x = h.nodeHash(h.edge[last], x)
		h.edge = h.edge[:last]
		h.stored = append(h.stored, x)
	}
	h.edge = append(h.edge, x)
	h.n++
	return h.stored
}

// nodeHash is tlog.NodeHash without an allocation.
func (h *Hasher) nodeHash(left, right tlog.Hash) tlog.Hash {
	h.node[0] = 1
	copy(h.node[1:], left[:])
	copy(h.node[1+tlog.HashSize:], right[:])
	return sha256.Sum256(h.node[:])
}

// Root returns the tree hash of the records appended so far.
func (h *Hasher) Root() tlog.Hash {
	if len(h.edge) == 0 {
		return EmptyHash
	}
	x := h.edge[len(h.edge)-1]
	for i := len(h.edge) - 2; i >= 0; i-- {
		x = h.nodeHash(h.edge[i], x)
	}
	return x
}
