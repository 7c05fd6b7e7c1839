package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"
)

// An InconsistencyError says that two checkpoints of one log cannot both
// be true: the log shrank, forked, or rewrote its history. With both
// checkpoints signed, it is evidence.
type InconsistencyError struct {
	Old, New Checkpoint
	Reason   string // "shrink", "fork at same size", "consistency proof fails"
}

func (e *InconsistencyError) Error() string {
	return fmt.Sprintf("ledger: %s: checkpoint of size %d (%s) and checkpoint of size %d (%s) are inconsistent: %s",
		e.Old.Origin, e.Old.N, e.Old.Hash, e.New.N, e.New.Hash, e.Reason)
}

// Reasons of an InconsistencyError.
const (
	ReasonShrink = "shrink"
	ReasonFork   = "fork at same size"
	ReasonProof  = "consistency proof fails"
	ReasonEmpty  = "size 0 without the empty tree's hash"
)

// CheckAdvance checks that next may follow prev, a checkpoint of the same
// log seen before: same origin (ErrOrigin), no smaller, the same hash at
// the same size, and proof a valid consistency proof from prev to next
// (empty if prev.N is 0 or the sizes are equal). Anything else is an
// *InconsistencyError. A witness keeps next, and cosigns it, only if
// CheckAdvance returns nil.
func CheckAdvance(prev, next Checkpoint, proof tlog.TreeProof) error {
	if prev.Origin != next.Origin {
		return fmt.Errorf("%w: %q then %q", ErrOrigin, prev.Origin, next.Origin)
	}
	inc := func(reason string) error { return &InconsistencyError{Old: prev, New: next, Reason: reason} }
	switch {
	case next.N < prev.N:
		return inc(ReasonShrink)
	case prev.N == 0 && prev.Hash != EmptyHash:
		return inc(ReasonEmpty)
	case next.N == 0 && next.Hash != EmptyHash:
		return inc(ReasonEmpty)
	case next.N == prev.N && next.Hash != prev.Hash:
		return inc(ReasonFork)
	}
	if err := CheckConsistency(proof, prev.Tree(), next.Tree()); err != nil {
		return inc(ReasonProof)
	}
	return nil
}

// VerifyWitnessed checks that every checkpoint in old (those the node's
// witnesses hold) is consistent with cur, today's tree, whose stored
// hashes r holds. It names the first inconsistent one, by size, as an
// *InconsistencyError.
func VerifyWitnessed(cur Checkpoint, old []Checkpoint, r tlog.HashReader) error {
	sorted := append([]Checkpoint(nil), old...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].N < sorted[j].N })
	for _, o := range sorted {
		if o.Origin != cur.Origin {
			return fmt.Errorf("%w: %q, want %q", ErrOrigin, o.Origin, cur.Origin)
		}
		var p tlog.TreeProof
		if o.N > 0 && o.N < cur.N {
			var err error
			if p, err = ProveConsistency(o.N, cur.N, r); err != nil {
				return fmt.Errorf("ledger: prove size %d in size %d: %w", o.N, cur.N, err)
			}
		}
		if err := CheckAdvance(o, cur, p); err != nil {
			return err
		}
	}
	return nil
}

// ErrAddCheckpoint is returned for a malformed add-checkpoint request.
var ErrAddCheckpoint = errors.New("ledger: malformed add-checkpoint request")

// maxAddCheckpointProof is tlog-witness's limit on consistency proof lines.
const maxAddCheckpointProof = 63

// FormatAddCheckpoint writes the body of a c2sp.org/tlog-witness
// add-checkpoint request: "old N", the consistency proof from size oldN,
// an empty line, and the signed checkpoint.
func FormatAddCheckpoint(oldN int64, proof tlog.TreeProof, signed []byte) []byte {
	var b bytes.Buffer
	b.WriteString("old ")
	b.WriteString(strconv.FormatInt(oldN, 10))
	b.WriteByte('\n')
	b.Write(FormatProof(proof))
	b.WriteByte('\n')
	b.Write(signed)
	return b.Bytes()
}

// ParseAddCheckpoint parses FormatAddCheckpoint's body. It does not open
// the checkpoint.
func ParseAddCheckpoint(body []byte) (oldN int64, proof tlog.TreeProof, signed []byte, err error) {
	head, signed, ok := bytes.Cut(body, []byte("\n\n"))
	if !ok {
		return 0, nil, nil, ErrAddCheckpoint
	}
	first, rest, _ := bytes.Cut(append(head[:len(head):len(head)], '\n'), []byte("\n"))
	s, ok := bytes.CutPrefix(first, []byte("old "))
	if !ok {
		return 0, nil, nil, ErrAddCheckpoint
	}
	oldN, err = strconv.ParseInt(string(s), 10, 64)
	if err != nil || oldN < 0 || strconv.FormatInt(oldN, 10) != string(s) {
		return 0, nil, nil, ErrAddCheckpoint
	}
	p, err := ParseProof(rest)
	if err != nil || len(p) > maxAddCheckpointProof {
		return 0, nil, nil, ErrAddCheckpoint
	}
	return oldN, p, signed, nil
}
