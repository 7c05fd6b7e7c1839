package coop_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/store"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// remoteLog is a member's log as its node would hold it: records, hashes,
// and its signing key.
type remoteLog struct {
	origin string
	signer note.Signer
	vkey   string
	hashes memHashes
	n      int64
}

type memHashes = ledger.Hashes

func newRemoteLog(t *testing.T, origin string) *remoteLog {
	t.Helper()
	skey, vkey, err := ledger.GenerateLogKey(nil, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return &remoteLog{origin: origin, signer: s, vkey: vkey}
}

func (l *remoteLog) clone() *remoteLog {
	c := *l
	c.hashes = append(memHashes(nil), l.hashes...)
	return &c
}

func (l *remoteLog) append(t *testing.T, rec string) {
	t.Helper()
	hs, err := ledger.AppendHashes(l.n, []byte(rec), l.hashes)
	if err != nil {
		t.Fatal(err)
	}
	l.hashes = append(l.hashes, hs...)
	l.n++
}

func (l *remoteLog) signed(t *testing.T) []byte {
	t.Helper()
	h, err := ledger.TreeHash(l.n, l.hashes)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: l.origin, N: l.n, Hash: h}, l.signer)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func (l *remoteLog) proof(t *testing.T, from int64) tlog.TreeProof {
	t.Helper()
	if from == 0 || from == l.n {
		return nil
	}
	p, err := ledger.ProveConsistency(from, l.n, l.hashes)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// witnessFixture is a node witnessing the log of its federation member
// b.example.
func witnessFixture(t *testing.T) (*coop.Service, *remoteLog, *[]string) {
	t.Helper()
	ctx := coop.AsAdmin(context.Background())
	s := newService(t)
	pub := &recorder{}
	s.Publisher = pub
	if _, err := s.EnsureCoop(ctx, "coop", "A", ""); err != nil {
		t.Fatal(err)
	}
	const peer = "https://b.example/users/coop"
	db := s.Store.(*store.DB)
	if err := db.Update(ctx, func(tx coop.Tx) error {
		return tx.InsertPeer(ctx, coop.Peer{Actor: peer, AddedAt: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC), AddedBy: "admin"})
	}); err != nil {
		t.Fatal(err)
	}
	rl := newRemoteLog(t, "b.example/decision-log")
	_, wvkey, err := ledger.GenerateWitnessKey(nil, "b.example/witness")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PinWitnessedLog(ctx, peer, coop.RemoteLogInfo{Origin: rl.origin, URL: "https://b.example/log/", Key: rl.vkey, WitnessKey: wvkey}); err != nil {
		t.Fatal(err)
	}
	var evidence []string
	s.OnEvidence = func(e coop.LogEvidence) { evidence = append(evidence, e.Reason) }
	return s, rl, &evidence
}

func TestAddCheckpoint(t *testing.T) {
	ctx := context.Background()
	s, rl, evidence := witnessFixture(t)
	add := func(old int64, proof tlog.TreeProof, signed []byte) ([]byte, error) {
		return s.AddCheckpoint(ctx, ledger.FormatAddCheckpoint(old, proof, signed))
	}
	for i := range 5 {
		rl.append(t, fmt.Sprintf(`{"i":%d}`, i))
	}
	line, err := add(0, nil, rl.signed(t))
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.WitnessedLog(ctx, rl.origin)
	t.Run("the cosignature verifies with the node's witness key", func(t *testing.T) {
		info, _ := s.LogInfo(ctx)
		v, err := ledger.NewWitnessVerifier(info.WitnessKey)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := ledger.AddCosignatures(rl.signed(t), line)
		if err != nil {
			t.Fatal(err)
		}
		lv, _ := note.NewVerifier(rl.vkey)
		sc, err := ledger.OpenCheckpoint(msg, rl.origin, lv, []note.Verifier{v})
		if err != nil || len(sc.Cosignatures) != 1 || w.Size != 5 {
			t.Fatalf("cosigned: %+v, %v; kept size %d", sc, err, w.Size)
		}
	})
	kept := rl.clone()
	for i := 5; i < 9; i++ {
		rl.append(t, fmt.Sprintf(`{"i":%d}`, i))
	}
	var conflict *coop.SizeConflictError
	other := newRemoteLog(t, rl.origin) // same origin, another key
	other.append(t, "x")
	tests := []struct {
		name  string
		old   int64
		proof tlog.TreeProof
		msg   []byte
		check func(error) bool
	}{
		{"an old size the witness does not hold is a conflict naming its size", 2, rl.proof(t, 2), rl.signed(t),
			func(err error) bool { return errors.As(err, &conflict) && conflict.Size == 5 }},
		{"a checkpoint signed by another key", 5, nil, other.signed(t), func(err error) bool { return errors.Is(err, coop.ErrCheckpointSignature) }},
		{"an unknown log", 0, nil, newRemoteLog(t, "c.example/decision-log").signed(t), func(err error) bool { return errors.Is(err, coop.ErrUnknownLog) }},
		{"a malformed request", 0, nil, []byte("not a checkpoint"), func(err error) bool { return errors.Is(err, coop.ErrInvalidInput) }},
		{"a proof that does not hold", 5, rl.proof(t, 4), rl.signed(t), func(err error) bool { return errors.Is(err, coop.ErrBadProof) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := add(tt.old, tt.proof, tt.msg); !tt.check(err) {
				t.Fatalf("err = %v", err)
			}
			if w, _ := s.WitnessedLog(ctx, rl.origin); w.Size != 5 {
				t.Fatalf("kept size %d after a refusal", w.Size)
			}
		})
	}
	if len(*evidence) != 1 {
		t.Fatalf("evidence %v, want one (the failing proof)", *evidence)
	}
	t.Run("a consistent extension is kept", func(t *testing.T) {
		if _, err := add(5, rl.proof(t, 5), rl.signed(t)); err != nil {
			t.Fatal(err)
		}
		if w, _ := s.WitnessedLog(ctx, rl.origin); w.Size != 9 {
			t.Fatalf("kept size %d, want 9", w.Size)
		}
	})
	t.Run("a fork at the kept size is evidence", func(t *testing.T) {
		fork := kept.clone()
		for i := 5; i < 8; i++ {
			fork.append(t, fmt.Sprintf(`{"fork":%d}`, i))
		}
		fork.append(t, `{"fork":8}`)
		_, err := add(9, nil, fork.signed(t))
		if !errors.Is(err, coop.ErrBadProof) {
			t.Fatalf("err = %v", err)
		}
		es, _ := s.Evidence(ctx)
		if len(es) != 2 || es[0].Reason == "" || len(es[0].OldNote) == 0 || len(es[0].NewNote) == 0 {
			t.Fatalf("evidence: %+v", es)
		}
	})
	t.Run("a different tree served to someone else is caught by the pull check", func(t *testing.T) {
		// The node serves, to the public, a tree that forked at size 7
		// from the one it pushed to this witness.
		fork := kept.clone()
		fork.append(t, `{"i":5}`)
		fork.append(t, `{"i":6}`)
		for i := 7; i < 12; i++ {
			fork.append(t, fmt.Sprintf(`{"other":%d}`, i))
		}
		err := s.CheckServedCheckpoint(ctx, rl.origin, 9, fork.signed(t), fork.proof(t, 9))
		if !errors.Is(err, coop.ErrBadProof) {
			t.Fatalf("err = %v", err)
		}
		// The honest tree passes.
		for i := 9; i < 12; i++ {
			rl.append(t, fmt.Sprintf(`{"i":%d}`, i))
		}
		if err := s.CheckServedCheckpoint(ctx, rl.origin, 9, rl.signed(t), rl.proof(t, 9)); err != nil {
			t.Fatal(err)
		}
		es, _ := s.Evidence(ctx)
		if len(es) != 3 {
			t.Fatalf("%d pieces of evidence, want 3", len(es))
		}
	})
}
