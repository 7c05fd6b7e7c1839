package ledger

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// buildLog appends n test records and returns the log and the checkpoints
// at every size in sizes (as witnesses would have kept them).
func buildLog(t testing.TB, n int, sizes ...int64) (*testLog, []Checkpoint) {
	l := &testLog{}
	for i := range n {
		l.append(t, testRecord(t, i))
	}
	var cps []Checkpoint
	for _, s := range sizes {
		h, err := TreeHash(s, l.hashes)
		if err != nil {
			t.Fatal(err)
		}
		cps = append(cps, Checkpoint{Origin: testOrigin, N: s, Hash: h})
	}
	return l, cps
}

func wantBad(t *testing.T, err error, index int64, reason string) {
	t.Helper()
	var bad *BadRecordError
	if !errors.As(err, &bad) {
		t.Fatalf("got %v, want a BadRecordError at %d", err, index)
	}
	if bad.Index != index || !strings.Contains(bad.Reason, reason) {
		t.Fatalf("got %v, want index %d, reason with %q", bad, index, reason)
	}
}

func TestVerifyLogClean(t *testing.T) {
	l, cps := buildLog(t, 1000, 0, 1, 256, 999, 1000)
	if err := VerifyLog(1000, l.record, cps...); err != nil {
		t.Error(err)
	}
	if err := VerifyStored(1000, l.record, l.hashes, cps...); err != nil {
		t.Error(err)
	}
	if err := VerifyWitnessed(cps[len(cps)-1], cps, l.hashes); err != nil {
		t.Error(err)
	}
}

// TestTamperEditRecord: one byte of record 437 changes in the database
// (its row edited by hand).
func TestTamperEditRecord(t *testing.T) {
	l, cps := buildLog(t, 1000, 100, 400, 500, 1000)
	l.records[437] = bytes.Replace(l.records[437], []byte(`"vote.cast"`), []byte(`"vote.casT"`), 1)
	// With the stored hashes: the record itself is named.
	wantBad(t, VerifyStored(1000, l.record, l.hashes, cps[3]), 437, "stored leaf hash")
	// From the records and checkpoints alone: the range between the last
	// checkpoint that matched and the first that did not.
	wantBad(t, VerifyLog(1000, l.record, cps...), 400, "[400, 500)")
	wantBad(t, VerifyLog(1000, l.record, cps[3]), 0, "[0, 1000)")
}

// TestTamperEditRecordAndHashes: record 437 and its leaf hash are both
// rewritten, but not the interior hashes.
func TestTamperEditRecordAndHashes(t *testing.T) {
	l, cps := buildLog(t, 1000, 1000)
	l.records[437] = bytes.Replace(l.records[437], []byte(`"web"`), []byte(`"cli"`), 1)
	l.hashes[tlog.StoredHashIndex(0, 437)] = tlog.RecordHash(l.records[437])
	// 437 is odd: the first interior hash it completes is [436, 437].
	wantBad(t, VerifyStored(1000, l.record, l.hashes, cps...), 437, "[436, 437]")
}

// TestTamperFork: the last 5 records are deleted and others appended, so
// the log has its old size but another history.
func TestTamperFork(t *testing.T) {
	l, witnessed := buildLog(t, 1000, 10, 500, 996, 1000)
	l.records = l.records[:995]
	l.hashes = l.hashes[:tlog.StoredHashIndex(0, 995)]
	for i := 995; i < 1003; i++ {
		l.append(t, testRecord(t, 5000+i))
	}
	today := l.checkpoint(t, testOrigin)
	// The node's own log verifies against its own new checkpoint ...
	if err := VerifyStored(1003, l.record, l.hashes, today); err != nil {
		t.Fatal(err)
	}
	// ... but not against what its witnesses saw: the first checkpoint
	// that no longer holds is named, and the records in question.
	err := VerifyWitnessed(today, witnessed, l.hashes)
	var inc *InconsistencyError
	if !errors.As(err, &inc) || inc.Old != witnessed[2] || inc.Reason != ReasonProof {
		t.Fatalf("VerifyWitnessed: %v", err)
	}
	wantBad(t, VerifyLog(1003, l.record, append(witnessed, today)...), 500, "[500, 996)")
}

// TestTamperShrink: the last 3 records are deleted (restored from an old
// backup); a checkpoint was signed at the old size.
func TestTamperShrink(t *testing.T) {
	l, cps := buildLog(t, 1000, 1000)
	l.records = l.records[:997]
	l.hashes = l.hashes[:tlog.StoredHashIndex(0, 997)]
	wantBad(t, VerifyLog(997, l.record, cps...), 997, "records are missing")
	today := l.checkpoint(t, testOrigin)
	var inc *InconsistencyError
	if err := VerifyWitnessed(today, cps, l.hashes); !errors.As(err, &inc) || inc.Reason != ReasonShrink {
		t.Fatalf("VerifyWitnessed: %v", err)
	}
}

// TestErasedCommitment: a vote names its voter by a commitment; erasing
// the voter and the salt (the database's side) leaves the log verifiable,
// and the commitment can no longer be opened.
func TestErasedCommitment(t *testing.T) {
	type private struct {
		voter string
		salt  [SaltSize]byte
	}
	db := map[int64]*private{}
	var l testLog
	seed := newSeeded("salts")
	for i := range 50 {
		p := &private{voter: "https://example.org/members/m" + string(rune('a'+i%26))}
		var err error
		if p.salt, err = NewSalt(seed); err != nil {
			t.Fatal(err)
		}
		db[int64(i)] = p
		rec, err := Record{
			Type: "vote.cast", Time: testTime, Principal: "https://example.org/actor", Channel: ChannelPeer,
			Subject: "https://example.org/proposals/1",
			Data:    map[string]any{"voter": Commit("voter", p.voter, p.salt), "choice": i % 2},
		}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		l.append(t, rec)
	}
	cp := l.checkpoint(t, testOrigin)
	r, _ := ParseRecord(l.records[7])
	if !CheckCommitment(r.Data["voter"].(string), "voter", db[7].voter, db[7].salt) {
		t.Fatal("commitment does not open before erasure")
	}
	// Erase member 7's personal data.
	db[7] = &private{}
	if err := VerifyStored(50, l.record, l.hashes, cp); err != nil {
		t.Fatalf("log after erasure: %v", err)
	}
	if CheckCommitment(r.Data["voter"].(string), "voter", db[7].voter, db[7].salt) {
		t.Error("erased commitment still opens")
	}
}

func TestVerifyReadError(t *testing.T) {
	l, cps := buildLog(t, 10, 10)
	err := VerifyLog(11, l.record, cps...)
	if err == nil || !strings.Contains(err.Error(), "read record 10") {
		t.Errorf("VerifyLog past the end: %v", err)
	}
}
