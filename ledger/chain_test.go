package ledger

import (
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

func TestFollowChain(t *testing.T) {
	const nextOrigin = "example.org/decision-log-2"
	nskey, nvkey, err := GenerateLogKey(newSeeded("next"), nextOrigin)
	if err != nil {
		t.Fatal(err)
	}
	// The old log ends with log.closed, naming the next log and its key.
	old, _ := buildLog(t, 30)
	closed, err := ClosedRecord(testTime, "admin", nextOrigin, nvkey).Encode()
	if err != nil {
		t.Fatal(err)
	}
	old.append(t, closed)
	final := old.checkpoint(t, testOrigin)
	proof, err := ProveInclusion(final.N, final.N-1, old.hashes)
	if err != nil {
		t.Fatal(err)
	}
	// The new log starts with log.opened, naming the old final checkpoint.
	opened, err := OpenedRecord(testTime, "admin", final).Encode()
	if err != nil {
		t.Fatal(err)
	}
	origin, key, err := FollowChain(final, closed, proof, opened)
	if err != nil {
		t.Fatal(err)
	}
	if origin != nextOrigin || key != nvkey {
		t.Errorf("FollowChain = %s, %s", origin, key)
	}
	// The key the old log vouches for verifies the new log's checkpoints.
	var next testLog
	next.append(t, opened)
	signer, _ := note.NewSigner(nskey)
	v, err := note.NewVerifier(key)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := SignCheckpoint(next.checkpoint(t, nextOrigin), signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCheckpoint(msg, origin, v, nil); err != nil {
		t.Error(err)
	}

	// A log.opened naming another checkpoint does not chain.
	earlier := final
	earlier.N--
	wrong, _ := OpenedRecord(testTime, "admin", earlier).Encode()
	if _, _, err := FollowChain(final, closed, proof, wrong); !errors.Is(err, ErrChain) {
		t.Errorf("wrong opened: %v", err)
	}
	// log.closed that is not the last record does not chain.
	old.append(t, testRecord(t, 99))
	later := old.checkpoint(t, testOrigin)
	if _, _, err := FollowChain(later, closed, proof, opened); !errors.Is(err, ErrChain) {
		t.Errorf("closed not last: %v", err)
	}
}
