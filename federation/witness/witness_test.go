package witness

import (
	"encoding/json"
	"testing"

	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/tlog"
)

func handoverJSON(t testing.TB, proof []tlog.Hash) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"final":             "a.example/decision-log\n3\nAAAA\n\n— a.example/decision-log AAAA\n",
		"proof":             string(ledger.FormatProof(proof)),
		"closed":            []byte(`{"type":"log.closed"}`),
		"closed_proof":      string(ledger.FormatProof(proof)),
		"opened":            []byte(`{"type":"log.opened"}`),
		"opened_checkpoint": "a.example/decision-log/2\n1\nAAAA\n",
		"opened_proof":      "",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseHandover(t *testing.T) {
	proof := []tlog.Hash{{1}, {2}}
	h, err := parseHandover(handoverJSON(t, proof))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Proof) != 2 || h.Proof[1] != proof[1] || len(h.ClosedProof) != 2 || len(h.OpenedProof) != 0 || string(h.Opened) != `{"type":"log.opened"}` {
		t.Fatalf("parsed %+v", h)
	}
	for _, bad := range []string{`{`, `{"proof":"not base64"}`, `{"closed":"%%%"}`, `[]`} {
		if _, err := parseHandover([]byte(bad)); err == nil {
			t.Errorf("parseHandover(%q): no error", bad)
		}
	}
}

// FuzzParseHandover: a member's /log/handover answer is remote input.
func FuzzParseHandover(f *testing.F) {
	f.Add(handoverJSON(f, []tlog.Hash{{1}, {2}}))
	f.Add(handoverJSON(f, nil))
	f.Add([]byte(`{"proof":"AAAA\n"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHandover(b)
		if err != nil {
			return
		}
		// Whatever parses re-encodes to proofs that parse the same.
		for _, p := range [][]tlog.Hash{h.Proof, h.ClosedProof, h.OpenedProof} {
			again, err := ledger.ParseProof(ledger.FormatProof(p))
			if err != nil || len(again) != len(p) {
				t.Fatalf("proof of %d hashes re-parses to %d, %v", len(p), len(again), err)
			}
		}
	})
}
