package ledger

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"filippo.io/torchwood"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Errors of checkpoints and their signatures.
var (
	ErrCheckpoint   = errors.New("ledger: malformed checkpoint")
	ErrOrigin       = errors.New("ledger: checkpoint is for another log")
	ErrLogSignature = errors.New("ledger: checkpoint not signed by the log key")
	ErrSignature    = errors.New("ledger: a signature from a known key does not verify")
	ErrNote         = errors.New("ledger: malformed signed note")
)

// A Checkpoint is a log's tree head, written per c2sp.org/tlog-checkpoint:
//
//	example.org/decision-log
//	4711
//	nND/nri/U0xuHUrYSy0HtMeal2vzD9V4k/BO79C+QeI=
//
// coopfed writes no extension lines and refuses checkpoints that have them
// (the spec does not recommend them: monitors cannot audit them).
type Checkpoint struct {
	Origin string    // the log's identity, its key name: "HOST/decision-log"
	N      int64     // number of records
	Hash   tlog.Hash // RFC 6962 root of the first N records
}

// Tree returns c's size and hash as a tlog.Tree.
func (c Checkpoint) Tree() tlog.Tree { return tlog.Tree{N: c.N, Hash: c.Hash} }

// String returns the checkpoint text: origin, size and base64 root hash,
// each followed by a newline. This is the note text that logs sign and
// witnesses cosign.
func (c Checkpoint) String() string {
	return torchwood.Checkpoint{Origin: c.Origin, Tree: c.Tree()}.String()
}

// ParseCheckpoint parses checkpoint text (the note text, without the
// signatures). It accepts only what String writes.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	tc, err := torchwood.ParseCheckpoint(string(text))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %v", ErrCheckpoint, err)
	}
	if tc.Extension != "" {
		return Checkpoint{}, fmt.Errorf("%w: extension lines", ErrCheckpoint)
	}
	if !validName(tc.Origin) {
		return Checkpoint{}, fmt.Errorf("%w: invalid origin %q", ErrCheckpoint, tc.Origin)
	}
	c := Checkpoint{Origin: tc.Origin, N: tc.N, Hash: tc.Hash}
	if c.String() != string(text) {
		return Checkpoint{}, fmt.Errorf("%w: not in canonical form", ErrCheckpoint)
	}
	return c, nil
}

// PeekCheckpoint returns the checkpoint of a signed note without
// verifying any signature: only to pick the keys to open it with (a
// witness learns which log a submitted checkpoint claims to be from).
func PeekCheckpoint(msg []byte) (Checkpoint, error) {
	text, _, err := splitNote(msg)
	if err != nil {
		return Checkpoint{}, err
	}
	return ParseCheckpoint(text)
}

// SignCheckpoint returns c as a signed note, signed by the log key, whose
// name must be c's origin. Sign only a size that is durably stored.
func SignCheckpoint(c Checkpoint, signer note.Signer) ([]byte, error) {
	if signer.Name() != c.Origin {
		return nil, fmt.Errorf("ledger: signing key %q is not the key of origin %q", signer.Name(), c.Origin)
	}
	if !validName(c.Origin) || c.N < 0 {
		return nil, ErrCheckpoint
	}
	return note.Sign(&note.Note{Text: c.String()}, signer)
}

// A Cosignature is a witness's verified cosignature of a checkpoint.
type Cosignature struct {
	Name    string    // the witness's key name
	KeyHash uint32    // the witness's key ID
	Time    time.Time // when the witness cosigned (UTC); zero if the verifier was not a cosignature/v1 key
}

// A SignedCheckpoint is a checkpoint whose log signature verified.
type SignedCheckpoint struct {
	Checkpoint
	Note         *note.Note    // the opened note; Sigs are the verified signatures
	Signed       []byte        // the note as it was given
	Cosignatures []Cosignature // the known witnesses whose cosignatures verified, in note order
}

// OpenCheckpoint verifies a signed checkpoint of the log named origin. The
// log's signature must verify (ErrLogSignature); witnesses are the
// verifiers of the witnesses whose cosignatures count (WitnessVerifier, or
// any note.Verifier), and their verified cosignatures are reported.
// Signatures from unknown keys are ignored, as c2sp.org/signed-note
// requires; a signature from a known key that fails to verify fails the
// whole note (ErrSignature), as it recommends.
func OpenCheckpoint(msg []byte, origin string, logVerifier note.Verifier, witnesses []note.Verifier) (*SignedCheckpoint, error) {
	// A witness listed twice would make note.VerifierList ambiguous.
	type key struct {
		name string
		hash uint32
	}
	seen := map[key]bool{{logVerifier.Name(), logVerifier.KeyHash()}: true}
	vs := []note.Verifier{logVerifier}
	for _, w := range witnesses {
		if k := (key{w.Name(), w.KeyHash()}); !seen[k] {
			seen[k] = true
			vs = append(vs, w)
		}
	}
	// note.Open accepts a signature line in non-canonical base64 (padding
	// bits set); coopfed's own parsing (PeekCheckpoint, AddCosignatures)
	// does not. Refuse it here too, so that every parser agrees on what a
	// signed note is.
	if _, _, err := splitNote(msg); err != nil {
		return nil, err
	}
	n, err := note.Open(msg, note.VerifierList(vs...))
	if err != nil {
		var inv *note.InvalidSignatureError
		var unv *note.UnverifiedNoteError
		switch {
		case errors.As(err, &inv):
			return nil, fmt.Errorf("%w: %s+%08x", ErrSignature, inv.Name, inv.Hash)
		case errors.As(err, &unv):
			return nil, ErrLogSignature
		}
		return nil, fmt.Errorf("%w: %v", ErrNote, err)
	}
	signed := false
	var cos []Cosignature
	for _, s := range n.Sigs {
		if s.Name == logVerifier.Name() && s.Hash == logVerifier.KeyHash() {
			signed = true
			continue
		}
		c := Cosignature{Name: s.Name, KeyHash: s.Hash}
		if raw, err := base64.StdEncoding.DecodeString(s.Base64); err == nil && len(raw) == 4+8+64 {
			if t, err := torchwood.CosignatureTimestamp(s); err == nil {
				c.Time = time.Unix(t, 0).UTC()
			}
		}
		cos = append(cos, c)
	}
	if !signed {
		return nil, ErrLogSignature
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return nil, err
	}
	if c.Origin != origin {
		return nil, fmt.Errorf("%w: origin %q, want %q", ErrOrigin, c.Origin, origin)
	}
	return &SignedCheckpoint{Checkpoint: c, Note: n, Signed: msg, Cosignatures: cos}, nil
}

// Cosign returns w's cosignature of c as of now: one signature line
// ("— name base64(key ID || timestamp || signature)\n"), the body of a
// c2sp.org/tlog-witness add-checkpoint response. Cosign only a checkpoint
// whose log signature verified (OpenCheckpoint) and that is consistent
// with every checkpoint w saw before (CheckAdvance).
func Cosign(c Checkpoint, w *WitnessSigner, now time.Time) ([]byte, error) {
	sig, err := w.At(now).Sign([]byte(c.String()))
	if err != nil {
		return nil, err
	}
	return sigLine(w.Name(), w.KeyHash(), sig), nil
}

func sigLine(name string, hash uint32, sig []byte) []byte {
	raw := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(sig)), hash)
	raw = append(raw, sig...)
	return []byte("— " + name + " " + base64.StdEncoding.EncodeToString(raw) + "\n")
}

// maxSignatures is note.Open's limit on signature lines.
const maxSignatures = 100

type sigEntry struct {
	name string
	hash uint32
	line string // without the newline
}

// splitNote splits a signed note into its text (with the final newline)
// and its signature lines.
func splitNote(msg []byte) (text []byte, sigs []sigEntry, err error) {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return nil, nil, ErrNote
	}
	text = msg[:i+1]
	sigs, err = parseSigLines(msg[i+2:])
	if err != nil {
		return nil, nil, err
	}
	return text, sigs, nil
}

// parseSigLines parses newline-terminated note signature lines.
func parseSigLines(b []byte) ([]sigEntry, error) {
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return nil, ErrNote
	}
	var out []sigEntry
	for _, line := range strings.SplitAfter(string(b[:len(b)-1]), "\n") {
		line = strings.TrimSuffix(line, "\n")
		rest, ok := strings.CutPrefix(line, "— ")
		if !ok {
			return nil, ErrNote
		}
		name, b64, ok := strings.Cut(rest, " ")
		raw, err := decodeBase64(b64)
		if !ok || err != nil || !validName(name) || len(raw) < 5 {
			return nil, ErrNote
		}
		out = append(out, sigEntry{name: name, hash: binary.BigEndian.Uint32(raw), line: line})
		if len(out) > maxSignatures {
			return nil, fmt.Errorf("%w: more than %d signatures", ErrNote, maxSignatures)
		}
	}
	return out, nil
}

// AddCosignatures merges signature lines (Cosign's output, or a
// tlog-witness add-checkpoint response, one or more lines each) into the
// signed note msg, for serving the checkpoint with its cosignatures. A
// line from a key (name and key ID) that already signed is dropped: the
// note's own lines win, so a bad line cannot displace the log's signature.
// AddCosignatures does not verify: open the result (OpenCheckpoint) with
// the witnesses' verifiers before serving it.
func AddCosignatures(msg []byte, lines ...[]byte) ([]byte, error) {
	text, sigs, err := splitNote(msg)
	if err != nil {
		return nil, err
	}
	type key struct {
		name string
		hash uint32
	}
	have := make(map[key]bool)
	var out bytes.Buffer
	out.Write(text)
	out.WriteByte('\n')
	count := 0
	add := func(s sigEntry) {
		k := key{s.name, s.hash}
		if have[k] {
			return
		}
		have[k] = true
		count++
		out.WriteString(s.line)
		out.WriteByte('\n')
	}
	for _, s := range sigs {
		add(s)
	}
	for _, l := range lines {
		more, err := parseSigLines(l)
		if err != nil {
			return nil, err
		}
		for _, s := range more {
			add(s)
		}
	}
	if count > maxSignatures {
		return nil, fmt.Errorf("%w: more than %d signatures", ErrNote, maxSignatures)
	}
	return out.Bytes(), nil
}

// CountCosignatures returns how many of witnesses have a valid cosignature
// on the signed note msg; a line that fails to verify does not count (use
// OpenCheckpoint to reject such a note).
func CountCosignatures(msg []byte, witnesses []note.Verifier) int {
	text, sigs, err := splitNote(msg)
	if err != nil {
		return 0
	}
	type key struct {
		name string
		hash uint32
	}
	seen := make(map[key]bool)
	n := 0
	for _, w := range witnesses {
		if seen[key{w.Name(), w.KeyHash()}] {
			continue
		}
		seen[key{w.Name(), w.KeyHash()}] = true
		for _, s := range sigs {
			if s.name != w.Name() || s.hash != w.KeyHash() {
				continue
			}
			_, b64, _ := strings.Cut(strings.TrimPrefix(s.line, "— "), " ")
			raw, err := decodeBase64(b64)
			if err == nil && len(raw) > 4 && w.Verify(text, raw[4:]) {
				n++
				break
			}
		}
	}
	return n
}
