package ledger

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// serve signs l's checkpoint and has the witnesses cosign it.
func serve(t testing.TB, l *testLog, k testKeys, now time.Time) []byte {
	t.Helper()
	c := l.checkpoint(t, testOrigin)
	signed, err := SignCheckpoint(c, k.logSigner)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	for _, w := range k.witnesses {
		line, err := Cosign(c, w, now)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	served, err := AddCosignatures(signed, lines...)
	if err != nil {
		t.Fatal(err)
	}
	return served
}

func prove(t testing.TB, l *testLog, index int64, checkpoint []byte) Receipt {
	t.Helper()
	n := int64(len(l.records))
	p, err := ProveInclusion(n, index, l.hashes)
	if err != nil {
		t.Fatal(err)
	}
	return Receipt{Index: index, Record: l.records[index], Proof: p, Checkpoint: checkpoint}
}

// TestReceiptAfterMoreAppends: a vote's receipt made at size 1,000 still
// verifies after 10,000 more appends, on its own and against the new
// checkpoint through a consistency proof.
func TestReceiptAfterMoreAppends(t *testing.T) {
	k := newTestKeys(t, 2)
	l, _ := buildLog(t, 1000)
	r := prove(t, l, 617, serve(t, l, k, testTime))
	text := r.Marshal()
	for i := 1000; i < 11000; i++ {
		l.append(t, testRecord(t, i))
	}
	later := serve(t, l, k, testTime.Add(time.Hour))

	// Later, offline, with the keys only.
	r2, err := ParseReceipt(text)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r2.Marshal(), text) {
		t.Fatalf("receipt text does not round trip")
	}
	old, err := VerifyReceipt(r2, testOrigin, k.logVerifier, k.wVerifiers, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Today's checkpoint extends the receipt's.
	now, err := OpenCheckpoint(later, testOrigin, k.logVerifier, k.wVerifiers)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ProveConsistency(old.N, now.N, l.hashes)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckAdvance(old.Checkpoint, now.Checkpoint, p); err != nil {
		t.Errorf("today's checkpoint does not extend the receipt's: %v", err)
	}
	// And a fresh receipt at today's size proves the same record.
	if _, err := VerifyReceipt(prove(t, l, 617, later), testOrigin, k.logVerifier, k.wVerifiers, 2); err != nil {
		t.Error(err)
	}
}

func TestVerifyReceiptFailures(t *testing.T) {
	k := newTestKeys(t, 2)
	l, _ := buildLog(t, 20)
	served := serve(t, l, k, testTime)
	good := prove(t, l, 3, served)
	if _, err := VerifyReceipt(good, testOrigin, k.logVerifier, k.wVerifiers, 2); err != nil {
		t.Fatal(err)
	}
	_, otherV, _ := GenerateLogKey(newSeeded("another log"), testOrigin)
	otherVerifier, _ := note.NewVerifier(otherV)
	for _, tc := range []struct {
		name      string
		edit      func(*Receipt)
		logKey    note.Verifier
		witnesses []note.Verifier
		min       int
		want      error
	}{
		{"another record", func(r *Receipt) { r.Record = l.records[4] }, k.logVerifier, k.wVerifiers, 2, ErrInclusion},
		{"another index", func(r *Receipt) { r.Index = 4 }, k.logVerifier, k.wVerifiers, 2, ErrInclusion},
		{"an index beyond the tree", func(r *Receipt) { r.Index = 20 }, k.logVerifier, k.wVerifiers, 2, ErrInclusion},
		{"a shortened proof", func(r *Receipt) { r.Proof = r.Proof[1:] }, k.logVerifier, k.wVerifiers, 2, ErrInclusion},
		{"another log key", func(*Receipt) {}, otherVerifier, k.wVerifiers, 2, ErrLogSignature},
		{"a forged size", func(r *Receipt) {
			r.Checkpoint = bytes.Replace(r.Checkpoint, []byte("\n20\n"), []byte("\n21\n"), 1)
		}, k.logVerifier, k.wVerifiers, 2, ErrSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			r.Proof = append(tlog.RecordProof(nil), good.Proof...)
			tc.edit(&r)
			if _, err := VerifyReceipt(r, testOrigin, tc.logKey, tc.witnesses, tc.min); !errors.Is(err, tc.want) {
				t.Errorf("VerifyReceipt: %v, want %v", err, tc.want)
			}
		})
	}
	// Too few cosignatures: one witness unknown to the verifier.
	_, err := VerifyReceipt(good, testOrigin, k.logVerifier, k.wVerifiers[:1], 2)
	var ce *CosignatureError
	if !errors.As(err, &ce) || ce.Have != 1 || ce.Need != 2 {
		t.Errorf("one of two cosignatures: %v", err)
	}
}

func TestReceiptText(t *testing.T) {
	k := newTestKeys(t, 1)
	l, _ := buildLog(t, 1)
	r := prove(t, l, 0, serve(t, l, k, testTime))
	text := string(r.Marshal())
	// An index-0 receipt in a tree of one record has an empty proof.
	if !strings.HasPrefix(text, "c2sp.org/tlog-proof@v1\nextra ") || !strings.Contains(text, "\nindex 0\n\nexample.org/decision-log\n1\n") {
		t.Fatalf("receipt text:\n%s", text)
	}
	back, err := ParseReceipt([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyReceipt(back, testOrigin, k.logVerifier, k.wVerifiers, 1); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{
		"",
		"c2sp.org/tlog-proof@v1\nindex 0\n\n",
		"c2sp.org/tlog-proof@v1\nextra !!\nindex 0\n\n",
		"c2sp.org/tlog-proof@v1\nextra e30=\nindex 01\n\n",
		"c2sp.org/tlog-proof@v1\nextra e30=\nindex 0\nAAAA\n\n",
		"c2sp.org/tlog-proof@v1\nextra e30=\nindex 0\n",
	} {
		if _, err := ParseReceipt([]byte(bad)); !errors.Is(err, ErrReceipt) {
			t.Errorf("ParseReceipt(%q): %v", bad, err)
		}
	}
}
