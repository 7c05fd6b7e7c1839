package ledger_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// hashes is an in-memory hash store; coopfed's is a SQLite table.
type hashes []tlog.Hash

func (h hashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = h[x]
	}
	return out, nil
}

func ExampleRecord_Encode() {
	salt := [ledger.SaltSize]byte{1, 2, 3} // ledger.NewSalt(rand.Reader) in real use
	b, err := ledger.Record{
		Type:      "vote.cast",
		Time:      time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC),
		Principal: "https://example.org/members/ana",
		Channel:   ledger.ChannelWeb,
		Subject:   "https://example.org/proposals/7",
		Data: map[string]any{
			"choice": 2,
			"voter":  ledger.Commit("voter", "https://example.org/members/ana", salt),
		},
	}.Encode()
	fmt.Println(string(b), err)
	// Output:
	// {"channel":"web","data":{"choice":2,"voter":"sha256:b1bbba07da08cb341175d1fd0e04ebd76d104047473faacf536a1222062b78e7"},"principal":"https://example.org/members/ana","state":"","subject":"https://example.org/proposals/7","time":"2026-11-25T14:00:00Z","type":"vote.cast"} <nil>
}

// Example shows a log's life: append records, sign a checkpoint, have a
// witness check and cosign it, and give a voter a receipt they can check
// offline.
func Example() {
	seed := bytes.NewReader(bytes.Repeat([]byte{42}, 64)) // crypto/rand.Reader in real use
	skey, vkey, _ := ledger.GenerateLogKey(seed, "example.org/decision-log")
	wskey, wvkey, _ := ledger.GenerateWitnessKey(seed, "peer.example/witness")
	logSigner, _ := note.NewSigner(skey)
	logVerifier, _ := note.NewVerifier(vkey)
	witness, _ := ledger.NewWitnessSigner(wskey)
	witnessVerifier, _ := ledger.NewWitnessVerifier(wvkey)

	// The node appends records, storing each one's hashes with it.
	var records [][]byte
	var stored hashes
	for i := range 5 {
		rec, _ := ledger.Record{Type: "vote.cast", Time: time.Unix(1764079200+int64(i), 0),
			Principal: fmt.Sprintf("member%d", i), Channel: ledger.ChannelWeb, Subject: "proposal/1"}.Encode()
		hs, _ := ledger.AppendHashes(int64(len(records)), rec, stored)
		records, stored = append(records, rec), append(stored, hs...)
	}
	root, _ := ledger.TreeHash(5, stored)
	c := ledger.Checkpoint{Origin: "example.org/decision-log", N: 5, Hash: root}
	signed, _ := ledger.SignCheckpoint(c, logSigner)

	// A witness that last saw size 2 checks the new checkpoint and cosigns.
	seen, _ := ledger.TreeHash(2, stored)
	proof, _ := ledger.ProveConsistency(2, 5, stored)
	sc, _ := ledger.OpenCheckpoint(signed, "example.org/decision-log", logVerifier, nil)
	if err := ledger.CheckAdvance(ledger.Checkpoint{Origin: c.Origin, N: 2, Hash: seen}, sc.Checkpoint, proof); err != nil {
		panic(err)
	}
	cosig, _ := ledger.Cosign(sc.Checkpoint, witness, time.Unix(1764079260, 0))
	served, _ := ledger.AddCosignatures(signed, cosig)

	// The voter of record 3 gets a receipt, and checks it later.
	p, _ := ledger.ProveInclusion(5, 3, stored)
	receipt := ledger.Receipt{Index: 3, Record: records[3], Proof: p, Checkpoint: served}.Marshal()
	r, _ := ledger.ParseReceipt(receipt)
	got, err := ledger.VerifyReceipt(r, "example.org/decision-log", logVerifier, []note.Verifier{witnessVerifier}, 1)
	fmt.Println(err, got.N, got.Cosignatures[0].Name, got.Cosignatures[0].Time.Format(time.RFC3339))
	// Output:
	// <nil> 5 peer.example/witness 2025-11-25T14:01:00Z
}
