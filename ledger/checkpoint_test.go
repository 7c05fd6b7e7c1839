package ledger

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// The examples of the C2SP specs, copied verbatim.
const (
	// c2sp.org/tlog-checkpoint, the first example.
	specCheckpoint = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
	specLogSig     = "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
	// c2sp.org/tlog-cosignature, the example's witness line.
	specCosig = "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
	// c2sp.org/signed-note, "Example".
	specNoteVkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
	specNote     = "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

func TestSpecSignedNote(t *testing.T) {
	v, err := note.NewVerifier(specNoteVkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open([]byte(specNote), note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	if n.Text != "This is an example message.\n" {
		t.Errorf("text %q", n.Text)
	}
}

func TestSpecCheckpoint(t *testing.T) {
	c, err := ParseCheckpoint([]byte(specCheckpoint))
	if err != nil {
		t.Fatal(err)
	}
	if c.Origin != "example.com/behind-the-sofa" || c.N != 20852163 || c.Hash.String() != "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=" {
		t.Errorf("parsed %+v", c)
	}
	if c.String() != specCheckpoint {
		t.Errorf("String() = %q", c.String())
	}
	// The spec's note, with its cosignature, splits and merges as a note.
	msg := []byte(specCheckpoint + "\n" + specLogSig + specCosig)
	text, sigs, err := splitNote(msg)
	if err != nil || string(text) != specCheckpoint || len(sigs) != 2 {
		t.Fatalf("splitNote: %q %v %v", text, sigs, err)
	}
	if sigs[1].name != "witness.example.com/w1" || sigs[1].hash != 0x8d66cf3f {
		t.Errorf("cosignature key %s %08x", sigs[1].name, sigs[1].hash)
	}
	// The cosignature's timestamp is the one in the spec's signed message.
	ts, err := torchwood.CosignatureTimestamp(note.Signature{Base64: strings.Fields(specCosig)[2]})
	if err != nil || ts != 1679315147 {
		t.Errorf("cosignature time %d, %v; want 1679315147", ts, err)
	}
	merged, err := AddCosignatures([]byte(specCheckpoint+"\n"+specLogSig), []byte(specCosig), []byte(specCosig+specLogSig))
	if err != nil || !bytes.Equal(merged, msg) {
		t.Errorf("AddCosignatures:\n%s%v", merged, err)
	}
}

func TestParseCheckpointRefuses(t *testing.T) {
	for _, text := range []string{
		"",
		"example.com/log\n1\n",
		"example.com/log\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"example.com/log\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
		"example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", // non-canonical base64
		"example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nextension\n",
		"\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"a log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
	} {
		if c, err := ParseCheckpoint([]byte(text)); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("ParseCheckpoint(%q) = %+v, %v; want ErrCheckpoint", text, c, err)
		}
	}
}

// TestGoldenCheckpoint pins the signed, cosigned checkpoint of a fixed log
// with fixed keys (Ed25519 signatures are deterministic). Regenerate with
// go test -run TestGoldenCheckpoint -update.
func TestGoldenCheckpoint(t *testing.T) {
	k := newTestKeys(t, 2)
	var l testLog
	for i := range 10 {
		l.append(t, testRecord(t, i))
	}
	c := l.checkpoint(t, testOrigin)
	signed, err := SignCheckpoint(c, k.logSigner)
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	for i, w := range k.witnesses {
		line, err := Cosign(c, w, testTime.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	served, err := AddCosignatures(signed, lines...)
	if err != nil {
		t.Fatal(err)
	}
	golden := k.logVkey + "\n" + k.wVerifiers[0].(*WitnessVerifier).String() + "\n" +
		k.wVerifiers[1].(*WitnessVerifier).String() + "\n\n" + string(served)
	const file = "testdata/checkpoint.golden"
	if *update {
		if err := os.WriteFile(file, []byte(golden), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != golden {
		t.Errorf("checkpoint differs from %s (-update to rewrite):\ngot\n%s\nwant\n%s", file, golden, want)
	}
	sc, err := OpenCheckpoint(served, testOrigin, k.logVerifier, k.wVerifiers)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Checkpoint != c || len(sc.Cosignatures) != 2 {
		t.Fatalf("opened %+v", sc)
	}
	for i, co := range sc.Cosignatures {
		if co.Name != k.witnesses[i].Name() || !co.Time.Equal(testTime.Add(time.Duration(i)*time.Minute)) {
			t.Errorf("cosignature %d: %+v", i, co)
		}
	}
	if n := CountCosignatures(served, append(k.wVerifiers, k.wVerifiers[0])); n != 2 {
		t.Errorf("CountCosignatures = %d, want 2", n)
	}
}

func TestOpenCheckpoint(t *testing.T) {
	k := newTestKeys(t, 2)
	c := Checkpoint{Origin: testOrigin, N: 3, Hash: tlog.RecordHash([]byte("x"))}
	signed, err := SignCheckpoint(c, k.logSigner)
	if err != nil {
		t.Fatal(err)
	}
	cos, err := Cosign(c, k.witnesses[0], testTime)
	if err != nil {
		t.Fatal(err)
	}
	served, err := AddCosignatures(signed, cos)
	if err != nil {
		t.Fatal(err)
	}
	// A cosignature from a witness the verifier does not know is ignored.
	if sc, err := OpenCheckpoint(served, testOrigin, k.logVerifier, k.wVerifiers[1:]); err != nil || len(sc.Cosignatures) != 0 {
		t.Errorf("unknown witness: %+v, %v", sc, err)
	}
	// Without the log's signature, cosignatures are not enough.
	onlyCos := []byte(c.String() + "\n" + string(cos))
	if _, err := OpenCheckpoint(onlyCos, testOrigin, k.logVerifier, k.wVerifiers); !errors.Is(err, ErrLogSignature) {
		t.Errorf("cosignatures only: %v, want ErrLogSignature", err)
	}
	// A bad cosignature from a known witness fails the note.
	bad := bytes.Replace(served, cos[len(cos)-6:len(cos)-1], []byte("AAAAA"), 1)
	if _, err := OpenCheckpoint(bad, testOrigin, k.logVerifier, k.wVerifiers); !errors.Is(err, ErrSignature) {
		t.Errorf("bad cosignature: %v, want ErrSignature", err)
	}
	if n := CountCosignatures(bad, k.wVerifiers); n != 0 {
		t.Errorf("bad cosignature counted: %d", n)
	}
	// Another log's checkpoint.
	if _, err := OpenCheckpoint(served, "example.org/other", k.logVerifier, nil); !errors.Is(err, ErrOrigin) {
		t.Errorf("other origin: %v, want ErrOrigin", err)
	}
	// A witness listed twice counts once.
	if sc, err := OpenCheckpoint(served, testOrigin, k.logVerifier, append(k.wVerifiers, k.wVerifiers[0])); err != nil || len(sc.Cosignatures) != 1 {
		t.Errorf("witness listed twice: %+v, %v", sc, err)
	}
	// Peeking reads the claimed checkpoint, and nothing is verified.
	if got, err := PeekCheckpoint(bad); err != nil || got != c {
		t.Errorf("PeekCheckpoint = %+v, %v", got, err)
	}
	// A log key named otherwise does not sign.
	if _, err := SignCheckpoint(Checkpoint{Origin: "example.org/other", N: 0, Hash: EmptyHash}, k.logSigner); err == nil {
		t.Error("SignCheckpoint with another origin's key: no error")
	}
	// The cosignature is a line of the tlog-witness response format.
	if !bytes.HasPrefix(cos, []byte("— witness0.example/w ")) || bytes.Count(cos, []byte("\n")) != 1 {
		t.Errorf("cosignature line %q", cos)
	}
}

// TestCosignatureInterop checks this package's cosignatures against
// torchwood's implementation of c2sp.org/tlog-cosignature, both ways.
func TestCosignatureInterop(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	tw, err := torchwood.NewCosignatureSigner("witness.example/tw", priv)
	if err != nil {
		t.Fatal(err)
	}
	c := Checkpoint{Origin: testOrigin, N: 5, Hash: tlog.RecordHash([]byte("y"))}
	// torchwood's signer, our verifier (parsed from torchwood's vkey).
	ours, err := NewWitnessVerifier(tw.Verifier().String())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: c.String()}, tw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(msg, note.VerifierList(ours)); err != nil {
		t.Errorf("our verifier rejects torchwood's cosignature: %v", err)
	}
	// Our signer (same key, as an skey), torchwood's verifier.
	skey := "PRIVATE+KEY+witness.example/tw+" + strings.Split(tw.Verifier().String(), "+")[1] + "+" +
		b64(append([]byte{0x04}, priv.Seed()...))
	s, err := NewWitnessSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	if s.Verifier().String() != tw.Verifier().String() {
		t.Fatalf("vkeys differ: %s, %s", s.Verifier(), tw.Verifier())
	}
	line, err := Cosign(c, s, testTime)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open([]byte(c.String()+"\n"+string(line)), note.VerifierList(tw.Verifier()))
	if err != nil {
		t.Fatalf("torchwood rejects our cosignature: %v", err)
	}
	if ts, _ := torchwood.CosignatureTimestamp(n.Sigs[0]); ts != testTime.Unix() {
		t.Errorf("timestamp %d, want %d", ts, testTime.Unix())
	}
}

func TestWitnessKeys(t *testing.T) {
	skey, vkey, err := GenerateWitnessKey(newSeeded("w"), "witness.example/w")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewWitnessVerifier(vkey); err != nil {
		t.Error(err)
	}
	if _, err := NewWitnessSigner(skey); err != nil {
		t.Error(err)
	}
	// A log key is not a witness key, and the other way round.
	lskey, lvkey, err := GenerateLogKey(newSeeded("l"), testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewWitnessVerifier(lvkey); !errors.Is(err, ErrKey) {
		t.Errorf("log vkey as witness vkey: %v", err)
	}
	if _, err := NewWitnessSigner(lskey); !errors.Is(err, ErrKey) {
		t.Errorf("log skey as witness skey: %v", err)
	}
	if _, err := note.NewVerifier(vkey); err == nil {
		t.Error("note.NewVerifier accepts a cosignature/v1 vkey")
	}
	// A wrong key ID.
	parts := strings.SplitN(vkey, "+", 3)
	bad := parts[0] + "+00000000+" + parts[2]
	if _, err := NewWitnessVerifier(bad); err == nil {
		t.Errorf("NewWitnessVerifier(%q): no error", bad)
	}
	for _, name := range []string{"", "a b", "a+b"} {
		if _, _, err := GenerateWitnessKey(newSeeded("w"), name); err == nil {
			t.Errorf("GenerateWitnessKey(%q): no error", name)
		}
		if _, _, err := GenerateLogKey(newSeeded("w"), name); err == nil {
			t.Errorf("GenerateLogKey(%q): no error", name)
		}
	}
}
