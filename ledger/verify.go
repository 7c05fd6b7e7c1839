package ledger

import (
	"fmt"
	"sort"

	"golang.org/x/mod/sumdb/tlog"
)

// A BadRecordError names the first record at which a log stops matching
// what was signed or stored.
type BadRecordError struct {
	Index  int64
	Reason string
}

func (e *BadRecordError) Error() string {
	return fmt.Sprintf("ledger: record %d: %s", e.Index, e.Reason)
}

// VerifyLog recomputes the tree of the log's n records, record(0) to
// record(n-1), and checks it against want: for each checkpoint (the
// latest signed one, and any older ones the witnesses hold), the tree of
// its size must have its hash. The first failure is a *BadRecordError:
//
//   - a checkpoint larger than n: Index n, records are missing;
//   - a hash that differs at size S: Index is the size of the largest
//     earlier checkpoint that matched (0 if none), since the change lies
//     among records Index to S-1. More checkpoints narrow it down; the
//     stored hashes (VerifyStored) name the record itself.
//
// Origins are not compared: open the checkpoints first. Records are
// hashed, not parsed; parse them in record if their content matters.
func VerifyLog(n int64, record func(i int64) ([]byte, error), want ...Checkpoint) error {
	return verify(n, record, nil, want)
}

// VerifyStored is VerifyLog that also compares every stored hash (leaf
// and interior) with the one recomputed from the records, naming the
// first record whose hashes differ: an edited record, or edited hashes.
func VerifyStored(n int64, record func(i int64) ([]byte, error), stored tlog.HashReader, want ...Checkpoint) error {
	return verify(n, record, stored, want)
}

// storedBatch is how many records' stored hashes VerifyStored reads at once.
const storedBatch = 4096

func verify(n int64, record func(i int64) ([]byte, error), stored tlog.HashReader, want []Checkpoint) error {
	if n < 0 {
		return fmt.Errorf("ledger: log size %d", n)
	}
	cps := append([]Checkpoint(nil), want...)
	sort.SliceStable(cps, func(i, j int) bool { return cps[i].N < cps[j].N })
	var good int64 // size of the largest checkpoint that matched
	check := func(h *Hasher) error {
		for len(cps) > 0 && cps[0].N == h.N() {
			if root := h.Root(); root != cps[0].Hash {
				return &BadRecordError{Index: good, Reason: fmt.Sprintf(
					"tree of size %d has hash %s, checkpoint says %s: a record in [%d, %d) differs from what was signed",
					h.N(), root, cps[0].Hash, good, h.N())}
			}
			good = h.N()
			cps = cps[1:]
		}
		return nil
	}
	for _, c := range cps {
		if c.N < 0 {
			return fmt.Errorf("ledger: checkpoint size %d", c.N)
		}
	}
	if len(cps) > 0 && cps[len(cps)-1].N > n {
		return &BadRecordError{Index: n, Reason: fmt.Sprintf(
			"the log has %d records, a checkpoint was signed at size %d: records are missing", n, cps[len(cps)-1].N)}
	}
	var h Hasher
	if err := check(&h); err != nil {
		return err
	}
	var batch []tlog.Hash
	var indexes []int64
	for i := int64(0); i < n; i++ {
		if stored != nil && len(batch) == 0 {
			end := min(i+storedBatch, n)
			indexes = indexes[:0]
			for x := tlog.StoredHashIndex(0, i); x < tlog.StoredHashIndex(0, end-1)+int64(1+trailingOnes(end-1)); x++ {
				indexes = append(indexes, x)
			}
			var err error
			batch, err = stored.ReadHashes(indexes)
			if err != nil {
				return fmt.Errorf("ledger: read stored hashes of records %d to %d: %w", i, end-1, err)
			}
			if len(batch) != len(indexes) {
				return fmt.Errorf("ledger: ReadHashes(%d indexes) = %d hashes", len(indexes), len(batch))
			}
		}
		rec, err := record(i)
		if err != nil {
			return fmt.Errorf("ledger: read record %d: %w", i, err)
		}
		hs := h.Append(rec)
		if stored != nil {
			for j, x := range hs {
				if batch[j] != x {
					if j == 0 {
						return &BadRecordError{Index: i, Reason: "the record does not hash to its stored leaf hash"}
					}
					return &BadRecordError{Index: i, Reason: fmt.Sprintf(
						"stored hash of records [%d, %d] is wrong", i+1-int64(1)<<j, i)}
				}
			}
			batch = batch[len(hs):]
		}
		if err := check(&h); err != nil {
			return err
		}
	}
	return nil
}

func trailingOnes(n int64) int {
	k := 0
	for ; n&1 == 1; n >>= 1 {
		k++
	}
	return k
}
