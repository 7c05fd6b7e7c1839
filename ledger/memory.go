package ledger

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Hashes is a tree's stored hashes in memory, by tlog.StoredHashIndex: a
// tlog.HashReader for a small log, a light client that rebuilds one, or a
// test. Append a record's hashes with AppendHashes (or a Hasher).
type Hashes []tlog.Hash

var _ tlog.HashReader = Hashes(nil)

// ReadHashes implements tlog.HashReader.
func (h Hashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(h)) {
			return nil, fmt.Errorf("ledger: hash %d is not stored (%d are)", x, len(h))
		}
		out[i] = h[x]
	}
	return out, nil
}
