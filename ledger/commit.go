package ledger

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// SaltSize is the size of a commitment's salt.
const SaltSize = 32

// commitPrefix separates commitments from every other SHA-256 in coopfed.
const commitPrefix = "coopfed commitment v1\n"

// NewSalt reads a fresh salt from rand (crypto/rand.Reader in production).
// The salt is stored beside the plain value, never in the log.
func NewSalt(rand io.Reader) ([SaltSize]byte, error) {
	var s [SaltSize]byte
	if _, err := io.ReadFull(rand, s[:]); err != nil {
		return s, fmt.Errorf("ledger: read salt: %w", err)
	}
	return s, nil
}

// Commit returns the commitment to a personal value that goes into a
// record in place of the value:
//
//	"sha256:" || hex(SHA-256("coopfed commitment v1\n" || field || "\n" || salt || value))
//
// field names what the value is ("voter", "hours", "pay"), so that a
// commitment to one field cannot be opened as another; salt is 32 random
// bytes (NewSalt), which hide the value from anyone who has only the log
// and make the encoding unambiguous (field ends at the first newline,
// salt is fixed-size, value is the rest). Erasing the value and the salt
// leaves the commitment, and so the record and the log, unchanged and
// verifiable, while nobody can tell any more what was committed.
//
// field is a constant in code; Commit panics if it is empty or contains
// a newline.
func Commit(field, value string, salt [SaltSize]byte) string {
	if field == "" || strings.Contains(field, "\n") {
		panic(fmt.Sprintf("ledger: invalid commitment field %q", field))
	}
	h := sha256.New()
	h.Write([]byte(commitPrefix))
	h.Write([]byte(field))
	h.Write([]byte{'\n'})
	h.Write(salt[:])
	h.Write([]byte(value))
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// CheckCommitment reports whether commitment is Commit(field, value, salt).
func CheckCommitment(commitment, field, value string, salt [SaltSize]byte) bool {
	if field == "" || strings.Contains(field, "\n") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(commitment), []byte(Commit(field, value, salt))) == 1
}
