package ledger

import (
	"bytes"
	"encoding/base64"
	"os"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// The fuzz targets are seeded from the golden vectors. Each parser must
// not panic, and what it accepts must be exactly what its writer writes.

func goldenNote(f *testing.F) []byte {
	b, err := os.ReadFile("testdata/checkpoint.golden")
	if err != nil {
		f.Fatal(err)
	}
	_, served, _ := bytes.Cut(b, []byte("\n\n"))
	return served
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte(specCheckpoint))
	f.Add([]byte("example.org/decision-log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"))
	f.Add([]byte(specCheckpoint + "ext\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := ParseCheckpoint(text)
		if err != nil {
			return
		}
		if c.String() != string(text) {
			t.Fatalf("accepted %q, writes %q", text, c.String())
		}
	})
}

func FuzzOpenCheckpoint(f *testing.F) {
	k := newTestKeys(f, 2)
	served := goldenNote(f)
	f.Add(served, []byte(specCosig))
	f.Add([]byte(specCheckpoint+"\n"+specLogSig+specCosig), []byte(""))
	f.Add([]byte(specNote), served[bytes.Index(served, []byte("\n\n"))+2:])
	f.Fuzz(func(t *testing.T, msg, lines []byte) {
		n := CountCosignatures(msg, k.wVerifiers)
		if n < 0 || n > len(k.wVerifiers) {
			t.Fatalf("CountCosignatures = %d", n)
		}
		sc, err := OpenCheckpoint(msg, testOrigin, k.logVerifier, k.wVerifiers)
		if err == nil {
			if !bytes.HasPrefix(msg, []byte(sc.Checkpoint.String()+"\n")) {
				t.Fatalf("opened %+v from %q", sc.Checkpoint, msg)
			}
			if peek, err := PeekCheckpoint(msg); err != nil || peek != sc.Checkpoint {
				t.Fatalf("PeekCheckpoint = %+v, %v; opened %+v", peek, err, sc.Checkpoint)
			}
			if len(sc.Cosignatures) != n {
				t.Fatalf("OpenCheckpoint found %d cosignatures, CountCosignatures %d", len(sc.Cosignatures), n)
			}
		}
		merged, err := AddCosignatures(msg, lines)
		if err != nil {
			return
		}
		// Merging never loses a verified signature.
		if sc != nil {
			sc2, err := OpenCheckpoint(merged, testOrigin, k.logVerifier, k.wVerifiers)
			if err == nil && sc2.Checkpoint != sc.Checkpoint {
				t.Fatalf("merge changed the checkpoint")
			}
			if err == nil && len(sc2.Cosignatures) < len(sc.Cosignatures) {
				t.Fatalf("merge lost cosignatures")
			}
		}
	})
}

func FuzzParseTilePath(f *testing.F) {
	for _, p := range []string{"tile/0/x001/x234/067", "tile/2/x001/x234/067.p/17", "tile/entries/000.p/112", "tile/1/x001/000", "checkpoint", "tile/64/000"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		tl, err := ParseTilePath(path)
		if err != nil {
			return
		}
		if got := TilePath(tl); got != path {
			t.Fatalf("accepted %q, writes %q", path, got)
		}
		_, _ = PathLifetime(path)
		_ = InTree(tl, 1<<40)
	})
}

func FuzzParseEntryBundle(f *testing.F) {
	b, _ := EntryBundle([][]byte{[]byte("{}"), {}, []byte("x")})
	f.Add(b)
	f.Add([]byte{0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := ParseEntryBundle(b)
		if err != nil {
			return
		}
		back, err := EntryBundle(entries)
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("accepted %x, writes %x, %v", b, back, err)
		}
	})
}

func FuzzParseProof(f *testing.F) {
	h := tlog.RecordHash(nil)
	f.Add(FormatProof([]tlog.Hash{h, EmptyHash}))
	f.Add([]byte("old 3\n" + string(FormatProof([]tlog.Hash{h})) + "\n" + specCheckpoint))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := ParseProof(b); err == nil {
			if !bytes.Equal(FormatProof(p), b) {
				t.Fatalf("accepted %q, writes %q", b, FormatProof(p))
			}
		}
		if old, p, signed, err := ParseAddCheckpoint(b); err == nil {
			if got := FormatAddCheckpoint(old, p, signed); !bytes.Equal(got, b) {
				t.Fatalf("accepted %q, writes %q", b, got)
			}
		}
	})
}

func FuzzParseReceipt(f *testing.F) {
	k := newTestKeys(f, 2)
	l, _ := buildLog(f, 5)
	served := serve(f, l, k, testTime)
	f.Add(prove(f, l, 3, served).Marshal())
	f.Add(prove(f, l, 4, goldenNote(f)).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReceipt(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Marshal(), b) {
			t.Fatalf("accepted %q, writes %q", b, r.Marshal())
		}
		_, _ = VerifyReceipt(r, testOrigin, k.logVerifier, k.wVerifiers, 1)
	})
}

func FuzzParseRecord(f *testing.F) {
	f.Add(testRecord(f, 1))
	f.Add([]byte(`{"channel":"web","data":{"a":[1,-2,{"b":null}],"é":"\u000f"},"principal":"p","state":"","subject":"s","time":"2026-11-25T14:00:00Z","type":"t"}`))
	for _, name := range []string{"values", "weird", "structures", "arrays"} {
		if b, err := os.ReadFile("testdata/rfc8785/output/" + name + ".json"); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRecord(b)
		if err != nil {
			return
		}
		back, err := r.Encode()
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("accepted %q, writes %q, %v", b, back, err)
		}
	})
}

func FuzzParseCosignature(f *testing.F) {
	k := newTestKeys(f, 1)
	w := k.witnesses[0]
	c := Checkpoint{Origin: testOrigin, N: 10, Hash: EmptyHash}
	line, err := Cosign(c, w, testTime)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(w.Verifier().String(), []byte(c.String()), line)
	f.Add("witness.example.com/w1+8d66cf3f+BAAA", []byte(specCheckpoint), []byte(specCosig))
	f.Fuzz(func(t *testing.T, vkey string, text, line []byte) {
		if v, err := NewWitnessVerifier(vkey); err == nil && v.String() != vkey {
			t.Fatalf("accepted vkey %q, writes %q", vkey, v.String())
		}
		sigs, err := parseSigLines(line)
		if err != nil {
			return
		}
		for _, s := range sigs {
			_, b64, _ := bytes.Cut([]byte(s.line[len("— "):]), []byte(" "))
			raw, err := base64.StdEncoding.DecodeString(string(b64))
			if err != nil {
				t.Fatalf("parseSigLines accepted bad base64 %q", b64)
			}
			if w.Verifier().Verify(text, raw[4:]) {
				// Only our own cosignatures of a checkpoint verify.
				if _, err := ParseCheckpoint(text); err != nil {
					t.Fatalf("a cosignature of %q verified", text)
				}
			}
		}
	})
}
