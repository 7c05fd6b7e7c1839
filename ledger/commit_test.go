package ledger

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
)

func TestCommitment(t *testing.T) {
	salt, err := NewSalt(bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	c := Commit("voter", "https://example.org/members/ana", salt)
	// Pinned: the exact construction is documented on Commit.
	if want := "sha256:" + sha256hex("coopfed commitment v1\nvoter\n"+string(bytes.Repeat([]byte{7}, 32))+"https://example.org/members/ana"); c != want {
		t.Fatalf("Commit = %s, want %s", c, want)
	}
	if !CheckCommitment(c, "voter", "https://example.org/members/ana", salt) {
		t.Error("commitment does not open")
	}
	other := salt
	other[0] ^= 1
	for name, ok := range map[string]bool{
		"another value": CheckCommitment(c, "voter", "https://example.org/members/bob", salt),
		"another field": CheckCommitment(c, "approver", "https://example.org/members/ana", salt),
		"another salt":  CheckCommitment(c, "voter", "https://example.org/members/ana", other),
		"a bad field":   CheckCommitment(c, "voter\n", "https://example.org/members/ana", salt),
	} {
		if ok {
			t.Errorf("%s opens the commitment", name)
		}
	}
	if _, err := NewSalt(bytes.NewReader(make([]byte, 31))); err == nil {
		t.Error("NewSalt with a short reader: no error")
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("%x", sum)
}
