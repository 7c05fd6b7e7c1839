package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// Signature type bytes of c2sp.org/signed-note.
const (
	algEd25519       = 0x01 // a log's own signature
	algCosignatureV1 = 0x04 // a witness's timestamped cosignature
)

// ErrKey is returned for a malformed or mismatched key string.
var ErrKey = errors.New("ledger: malformed key")

// validName reports whether name can be a key name or an origin:
// non-empty UTF-8 without Unicode spaces or '+' (c2sp.org/signed-note).
func validName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 && !strings.Contains(name, "+")
}

func keyHash(name string, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// GenerateLogKey makes the Ed25519 key that signs the log's checkpoints,
// named for the log's origin (for example "example.org/decision-log"), as
// note.GenerateKey does: skey is for note.NewSigner, vkey (published on
// the Organization actor) for note.NewVerifier.
func GenerateLogKey(rand io.Reader, origin string) (skey, vkey string, err error) {
	if !validName(origin) {
		return "", "", fmt.Errorf("ledger: invalid origin %q", origin)
	}
	return note.GenerateKey(rand, origin)
}

// GenerateWitnessKey makes an Ed25519 witness key for c2sp.org/tlog-cosignature
// (cosignature/v1), distinct from the log key. vkey is the signed-note
// verifier key with signature type 0x04:
//
//	name+hex(key ID)+base64(0x04 || 32-byte public key)
//
// and skey, which no spec defines, follows note's private key format with
// the same type byte: PRIVATE+KEY+name+hex(key ID)+base64(0x04 || 32-byte seed).
func GenerateWitnessKey(rand io.Reader, name string) (skey, vkey string, err error) {
	if !validName(name) {
		return "", "", fmt.Errorf("ledger: invalid witness name %q", name)
	}
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return "", "", fmt.Errorf("ledger: generate witness key: %w", err)
	}
	pk := append([]byte{algCosignatureV1}, pub...)
	h := keyHash(name, pk)
	skey = fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, h, base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, priv.Seed()...)))
	vkey = fmt.Sprintf("%s+%08x+%s", name, h, base64.StdEncoding.EncodeToString(pk))
	return skey, vkey, nil
}

// A WitnessSigner makes cosignature/v1 cosignatures. It is not a
// note.Signer because a cosignature carries a time and this package does
// not read the clock: use Cosign, or At for a note.Signer at a given time.
type WitnessSigner struct {
	v    WitnessVerifier
	priv ed25519.PrivateKey
}

// NewWitnessSigner parses a witness skey from GenerateWitnessKey.
func NewWitnessSigner(skey string) (*WitnessSigner, error) {
	rest, ok := strings.CutPrefix(skey, "PRIVATE+KEY+")
	if !ok {
		return nil, ErrKey
	}
	name, hash, key, err := splitKey(rest)
	if err != nil {
		return nil, err
	}
	if len(key) != 1+ed25519.SeedSize || key[0] != algCosignatureV1 {
		return nil, fmt.Errorf("%w: not a cosignature/v1 private key", ErrKey)
	}
	priv := ed25519.NewKeyFromSeed(key[1:])
	pub := priv.Public().(ed25519.PublicKey)
	if keyHash(name, append([]byte{algCosignatureV1}, pub...)) != hash {
		return nil, fmt.Errorf("%w: key ID does not match", ErrKey)
	}
	return &WitnessSigner{v: WitnessVerifier{name: name, hash: hash, pub: pub}, priv: priv}, nil
}

// splitKey parses "name+hex8+base64".
func splitKey(s string) (name string, hash uint32, key []byte, err error) {
	// The base64 key may itself contain '+'.
	parts := strings.SplitN(s, "+", 3)
	if len(parts) != 3 || !validName(parts[0]) || len(parts[1]) != 8 {
		return "", 0, nil, ErrKey
	}
	h, err := strconv.ParseUint(parts[1], 16, 32)
	if err != nil || fmt.Sprintf("%08x", h) != parts[1] {
		return "", 0, nil, ErrKey
	}
	key, err = decodeBase64(parts[2])
	if err != nil || len(key) == 0 {
		return "", 0, nil, ErrKey
	}
	return parts[0], uint32(h), key, nil
}

// Name returns the witness's key name.
func (s *WitnessSigner) Name() string { return s.v.name }

// KeyHash returns the witness's key ID.
func (s *WitnessSigner) KeyHash() uint32 { return s.v.hash }

// Verifier returns the verifier of s's cosignatures.
func (s *WitnessSigner) Verifier() *WitnessVerifier { return &s.v }

// At returns a note.Signer that cosigns as of t (POSIX seconds).
func (s *WitnessSigner) At(t time.Time) note.Signer { return timedSigner{s, t} }

type timedSigner struct {
	s *WitnessSigner
	t time.Time
}

func (ts timedSigner) Name() string    { return ts.s.v.name }
func (ts timedSigner) KeyHash() uint32 { return ts.s.v.hash }
func (ts timedSigner) Sign(msg []byte) ([]byte, error) {
	if ts.t.Unix() < 0 {
		return nil, errors.New("ledger: cosignature time before 1970")
	}
	t := uint64(ts.t.Unix())
	m, err := cosignedMessage(t, msg)
	if err != nil {
		return nil, err
	}
	sig := binary.BigEndian.AppendUint64(make([]byte, 0, 8+ed25519.SignatureSize), t)
	return append(sig, ed25519.Sign(ts.s.priv, m)...), nil
}

// cosignedMessage is the cosignature/v1 signed message: the header line,
// the time line and the checkpoint, which must be one this package writes
// (no extension lines).
func cosignedMessage(t uint64, text []byte) ([]byte, error) {
	if _, err := ParseCheckpoint(text); err != nil {
		return nil, err
	}
	m := make([]byte, 0, 40+len(text))
	m = append(m, "cosignature/v1\ntime "...)
	m = strconv.AppendUint(m, t, 10)
	m = append(m, '\n')
	return append(m, text...), nil
}

// A WitnessVerifier is the note.Verifier of a witness's cosignatures.
type WitnessVerifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

var _ note.Verifier = (*WitnessVerifier)(nil)

// NewWitnessVerifier parses a witness vkey (signature type 0x04).
func NewWitnessVerifier(vkey string) (*WitnessVerifier, error) {
	name, hash, key, err := splitKey(vkey)
	if err != nil {
		return nil, err
	}
	if len(key) != 1+ed25519.PublicKeySize || key[0] != algCosignatureV1 {
		return nil, fmt.Errorf("%w: not a cosignature/v1 verifier key", ErrKey)
	}
	if keyHash(name, key) != hash {
		return nil, fmt.Errorf("%w: key ID does not match", ErrKey)
	}
	return &WitnessVerifier{name: name, hash: hash, pub: ed25519.PublicKey(key[1:])}, nil
}

// Name returns the witness's key name.
func (v *WitnessVerifier) Name() string { return v.name }

// KeyHash returns the witness's key ID.
func (v *WitnessVerifier) KeyHash() uint32 { return v.hash }

// Verify reports whether sig (timestamp || Ed25519 signature) is a
// cosignature of the checkpoint text msg.
func (v *WitnessVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t > 1<<63-1 {
		return false
	}
	m, err := cosignedMessage(t, msg)
	if err != nil {
		return false
	}
	return ed25519.Verify(v.pub, m, sig[8:])
}

// String returns v's vkey.
func (v *WitnessVerifier) String() string {
	return fmt.Sprintf("%s+%08x+%s", v.name, v.hash, base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, v.pub...)))
}
