package sig

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"

	"filippo.io/bigmod"
)

// PublicKey is a peer's RSA public key made ready, once, for the many
// signatures it verifies. crypto/rsa (Go 1.26) rebuilds the modulus'
// Montgomery constants from the key's big.Int on every VerifyPKCS1v15,
// and has no public way to keep them for a public key: that was a
// quarter of each verification, 9 µs of an inbox POST's ~130 (profile of
// coopbench inbox, session 5). A PublicKey keeps them, computed by
// filippo.io/bigmod, the exported copy of crypto/rsa's own
// constant-time arithmetic by the Go cryptography maintainer, and
// verifies as crypto/rsa does (see VerifySHA256).
type PublicKey struct {
	*rsa.PublicKey
	n *bigmod.Modulus
	e uint
}

// NewPublicKey prepares k. It refuses what crypto/rsa refuses to verify
// with: no modulus, an even one, one under 1,024 bits, and a public
// exponent that is even, under 3 or over 2³¹-1.
func NewPublicKey(k *rsa.PublicKey) (*PublicKey, error) {
	switch {
	case k == nil || k.N == nil:
		return nil, errors.New("rsa key: no modulus")
	case k.N.Sign() <= 0 || k.N.Bit(0) == 0:
		return nil, errors.New("rsa key: the modulus is even")
	case k.N.BitLen() < 1024:
		return nil, fmt.Errorf("rsa key: %d-bit keys are insecure", k.N.BitLen())
	case k.E < 3 || k.E&1 == 0 || k.E > 1<<31-1:
		return nil, fmt.Errorf("rsa key: public exponent %d", k.E)
	}
	n, err := bigmod.NewModulus(k.N.Bytes())
	if err != nil {
		return nil, fmt.Errorf("rsa key: %w", err)
	}
	return &PublicKey{PublicKey: k, n: n, e: uint(k.E)}, nil
}

// sha256DigestInfo is the DER prefix of a SHA-256 DigestInfo (RFC 8017,
// section 9.2, note 1).
var sha256DigestInfo = []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

// VerifySHA256 is rsa.VerifyPKCS1v15(k.PublicKey, crypto.SHA256, hashed,
// sig), step for step as crypto/internal/fips140/rsa's verifyPKCS1v15
// does it (RFC 8017, section 8.2.2): a signature of exactly the
// modulus' length and less than the modulus, raised to e, must equal
// the whole encoding EM = 0x00 01 FF..FF 00 || DigestInfo || hash,
// built here and compared, never parsed (parsing EM is how signatures
// were forged: Bleichenbacher 2006). Public values only: the
// exponentiation may take variable time. TestPublicKeyMatchesCryptoRSA
// and FuzzPublicKeyVerify hold it to crypto/rsa.
func (k *PublicKey) VerifySHA256(hashed, sig []byte) error {
	if len(hashed) != sha256.Size {
		return errors.New("crypto/rsa: input must be hashed message")
	}
	size := k.n.Size()
	if len(sig) != size {
		return rsa.ErrVerification
	}
	s, err := bigmod.NewNat().SetBytes(sig, k.n)
	if err != nil { // s ≥ n
		return rsa.ErrVerification
	}
	em := bigmod.NewNat().ExpShortVarTime(s, k.e, k.n).Bytes(k.n)
	tLen := len(sha256DigestInfo) + sha256.Size
	if size < tLen+11 {
		return rsa.ErrVerification
	}
	want := make([]byte, size)
	want[1] = 1
	for i := 2; i < size-tLen-1; i++ {
		want[i] = 0xff
	}
	copy(want[size-tLen:], sha256DigestInfo)
	copy(want[size-sha256.Size:], hashed)
	if !bytes.Equal(em, want) {
		return rsa.ErrVerification
	}
	return nil
}
