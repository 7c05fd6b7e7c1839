package ledger

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Record types of key rotation.
const (
	TypeLogClosed = "log.closed"
	TypeLogOpened = "log.opened"
)

// ErrChain is returned when a closed log and a new one do not link up.
var ErrChain = errors.New("ledger: logs do not chain")

// ClosedRecord returns the last record of a log whose key is retired:
// it names the origin and verifier key of the log that continues it, so
// that the old key vouches for the new one. After it the old log takes
// no more records; its final checkpoint (size = index of this record + 1,
// signed by the old key) is the one the new log's OpenedRecord names.
func ClosedRecord(now time.Time, principal, nextOrigin, nextKey string) Record {
	return Record{
		Type: TypeLogClosed, Time: now, Principal: principal, Channel: ChannelSystem,
		Subject: nextOrigin,
		Data:    map[string]any{"next_origin": nextOrigin, "next_key": nextKey},
	}
}

// OpenedRecord returns record 0 of a log that continues the closed one
// whose final checkpoint is prev.
func OpenedRecord(now time.Time, principal string, prev Checkpoint) Record {
	return Record{
		Type: TypeLogOpened, Time: now, Principal: principal, Channel: ChannelSystem,
		Subject: prev.Origin,
		Data: map[string]any{
			"prev_origin": prev.Origin,
			"prev_size":   prev.N,
			"prev_hash":   prev.Hash.String(),
		},
	}
}

// FollowChain checks the link from a closed log to the next one. final is
// the old log's final checkpoint (opened with the old key); closed is its
// last record (index final.N-1), with its inclusion proof in final;
// opened is record 0 of the new log. It returns the next log's origin and
// verifier key as the closed record names them: verify the new log's
// checkpoints with that key, and check that opened is its record 0.
func FollowChain(final Checkpoint, closed []byte, proof tlog.RecordProof, opened []byte) (nextOrigin, nextKey string, err error) {
	if final.N < 1 {
		return "", "", fmt.Errorf("%w: the final checkpoint is empty", ErrChain)
	}
	if err := CheckInclusion(proof, final.Tree(), final.N-1, closed); err != nil {
		return "", "", fmt.Errorf("%w: the closing record is not the last of the final checkpoint: %v", ErrChain, err)
	}
	c, err := ParseRecord(closed)
	if err != nil || c.Type != TypeLogClosed {
		return "", "", fmt.Errorf("%w: the last record is not %s", ErrChain, TypeLogClosed)
	}
	nextOrigin, _ = c.Data["next_origin"].(string)
	nextKey, _ = c.Data["next_key"].(string)
	if nextOrigin == "" || nextKey == "" {
		return "", "", fmt.Errorf("%w: %s names no next origin and key", ErrChain, TypeLogClosed)
	}
	o, err := ParseRecord(opened)
	if err != nil || o.Type != TypeLogOpened {
		return "", "", fmt.Errorf("%w: the new log's first record is not %s", ErrChain, TypeLogOpened)
	}
	size, _ := o.Data["prev_size"].(int64)
	origin, _ := o.Data["prev_origin"].(string)
	hash, _ := o.Data["prev_hash"].(string)
	if origin != final.Origin || size != final.N || hash != final.Hash.String() {
		return "", "", fmt.Errorf("%w: %s names %s at size %d (%s), the final checkpoint is %s at size %d (%s)",
			ErrChain, TypeLogOpened, origin, size, hash, final.Origin, final.N, final.Hash)
	}
	return nextOrigin, nextKey, nil
}
