package ledger

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// memHashes is an in-memory hash store, what store's SQLite table is.
type memHashes = Hashes

// testLog is a log held in memory.
type testLog struct {
	records [][]byte
	hashes  memHashes
}

func (l *testLog) append(t testing.TB, rec []byte) {
	t.Helper()
	hs, err := AppendHashes(int64(len(l.records)), rec, l.hashes)
	if err != nil {
		t.Fatal(err)
	}
	l.records = append(l.records, rec)
	l.hashes = append(l.hashes, hs...)
}

func (l *testLog) record(i int64) ([]byte, error) {
	if i < 0 || i >= int64(len(l.records)) {
		return nil, fmt.Errorf("no record %d", i)
	}
	return l.records[i], nil
}

func (l *testLog) checkpoint(t testing.TB, origin string) Checkpoint {
	t.Helper()
	h, err := TreeHash(int64(len(l.records)), l.hashes)
	if err != nil {
		t.Fatal(err)
	}
	return Checkpoint{Origin: origin, N: int64(len(l.records)), Hash: h}
}

// seeded is a deterministic "random" reader for fixed test keys.
type seeded struct {
	state [32]byte
	buf   []byte
}

func newSeeded(seed string) *seeded { return &seeded{state: sha256.Sum256([]byte(seed))} }

func (s *seeded) Read(p []byte) (int, error) {
	for n := 0; n < len(p); {
		if len(s.buf) == 0 {
			s.state = sha256.Sum256(s.state[:])
			s.buf = append(s.buf[:0], s.state[:]...)
		}
		c := copy(p[n:], s.buf)
		s.buf = s.buf[c:]
		n += c
	}
	return len(p), nil
}

const testOrigin = "example.org/decision-log"

var testTime = time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)

type testKeys struct {
	logSigner   note.Signer
	logVerifier note.Verifier
	logVkey     string
	witnesses   []*WitnessSigner
	wVerifiers  []note.Verifier
}

// newTestKeys returns a log key and n witness keys made from fixed seeds.
func newTestKeys(t testing.TB, n int) testKeys {
	t.Helper()
	skey, vkey, err := GenerateLogKey(newSeeded("log"), testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	var k testKeys
	k.logVkey = vkey
	if k.logSigner, err = note.NewSigner(skey); err != nil {
		t.Fatal(err)
	}
	if k.logVerifier, err = note.NewVerifier(vkey); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("witness%d.example/w", i)
		wskey, wvkey, err := GenerateWitnessKey(newSeeded(name), name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewWitnessSigner(wskey)
		if err != nil {
			t.Fatal(err)
		}
		v, err := NewWitnessVerifier(wvkey)
		if err != nil {
			t.Fatal(err)
		}
		k.witnesses = append(k.witnesses, s)
		k.wVerifiers = append(k.wVerifiers, v)
	}
	return k
}

// testRecord returns the encoding of a small vote record.
func testRecord(t testing.TB, i int) []byte {
	t.Helper()
	b, err := Record{
		Type: "vote.cast", Time: testTime.Add(time.Duration(i) * time.Second),
		Principal: fmt.Sprintf("https://example.org/members/m%d", i%97), Channel: ChannelWeb,
		Subject:   fmt.Sprintf("https://example.org/proposals/%d", i/100),
		Data:      map[string]any{"choice": i % 3, "ballot": i},
		StateHash: HashText(fmt.Sprint("state", i)),
	}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
