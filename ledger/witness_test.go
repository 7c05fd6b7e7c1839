package ledger

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func TestCheckAdvance(t *testing.T) {
	var l, fork testLog
	for i := range 100 {
		l.append(t, testRecord(t, i))
		if i < 90 {
			fork.append(t, testRecord(t, i))
		} else {
			fork.append(t, testRecord(t, 1000+i))
		}
	}
	at := func(l *testLog, n int64) Checkpoint {
		h, err := TreeHash(n, l.hashes)
		if err != nil {
			t.Fatal(err)
		}
		return Checkpoint{Origin: testOrigin, N: n, Hash: h}
	}
	proof := func(l *testLog, old, new int64) tlog.TreeProof {
		p, err := ProveConsistency(old, new, l.hashes)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := Checkpoint{Origin: testOrigin, N: 0, Hash: EmptyHash}
	for _, tc := range []struct {
		name       string
		prev, next Checkpoint
		proof      tlog.TreeProof
		reason     string // "" for consistent
	}{
		{"growth is consistent", at(&l, 50), at(&l, 100), proof(&l, 50, 100), ""},
		{"the same checkpoint again", at(&l, 50), at(&l, 50), nil, ""},
		{"from the empty tree", empty, at(&l, 100), nil, ""},
		{"a shrink", at(&l, 100), at(&l, 50), nil, ReasonShrink},
		{"a fork at the same size", at(&l, 100), at(&fork, 100), nil, ReasonFork},
		{"a fork that grew: the proof of the forked log fails", at(&l, 95), at(&fork, 100), proof(&fork, 95, 100), ReasonProof},
		{"a rewrite before the old size", at(&l, 91), at(&fork, 100), proof(&fork, 91, 100), ReasonProof},
		{"an empty tree with another hash", Checkpoint{Origin: testOrigin, Hash: tlog.RecordHash(nil)}, at(&l, 1), nil, ReasonEmpty},
		{"a proof where none is due", empty, at(&l, 100), proof(&l, 50, 100), ReasonProof},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckAdvance(tc.prev, tc.next, tc.proof)
			var inc *InconsistencyError
			switch {
			case tc.reason == "" && err != nil:
				t.Errorf("CheckAdvance: %v", err)
			case tc.reason != "" && !errors.As(err, &inc):
				t.Errorf("CheckAdvance: %v, want an InconsistencyError", err)
			case tc.reason != "" && (inc.Reason != tc.reason || inc.Old != tc.prev || inc.New != tc.next):
				t.Errorf("CheckAdvance: %+v, want reason %q", inc, tc.reason)
			}
		})
	}
	other := at(&l, 100)
	other.Origin = "example.org/other"
	if err := CheckAdvance(at(&l, 50), other, proof(&l, 50, 100)); !errors.Is(err, ErrOrigin) {
		t.Errorf("another origin: %v", err)
	}
}

func TestAddCheckpointSpec(t *testing.T) {
	// The request body of c2sp.org/tlog-witness, add-checkpoint.
	body := "old 20852014\n" +
		"PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n" +
		"jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n" +
		"5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n" +
		"/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n" +
		"\n" +
		"example.com/behind-the-sofa\n" +
		"20852163\n" +
		"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n" +
		"\n" +
		"— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n" +
		"— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n"
	old, p, signed, err := ParseAddCheckpoint([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if old != 20852014 || len(p) != 4 || !bytes.HasPrefix(signed, []byte("example.com/behind-the-sofa\n20852163\n")) {
		t.Fatalf("parsed %d, %d hashes, %q", old, len(p), signed)
	}
	if got := FormatAddCheckpoint(old, p, signed); string(got) != body {
		t.Errorf("FormatAddCheckpoint:\n%s", got)
	}
	if _, _, _, err := ParseAddCheckpoint([]byte("old 0\n\n" + specCheckpoint)); err != nil {
		t.Errorf("empty proof: %v", err)
	}
	for _, bad := range []string{"old 01\n\nx", "old -1\n\nx", "new 1\n\nx", "old 1\nAAAA\n\nx", "old 1\n"} {
		if _, _, _, err := ParseAddCheckpoint([]byte(bad)); !errors.Is(err, ErrAddCheckpoint) {
			t.Errorf("ParseAddCheckpoint(%q): %v", bad, err)
		}
	}
}
