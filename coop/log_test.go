package coop_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/store"
	"golang.org/x/mod/sumdb/note"
)

// records returns the open log's records, parsed.
func records(t *testing.T, s *coop.Service) (store.Log, []ledger.Record) {
	t.Helper()
	ctx := context.Background()
	db := s.Store.(*store.DB)
	l, err := db.OpenLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := db.LogRecords(ctx, l.ID, 0, l.Size)
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.Record
	for i, b := range raw {
		r, err := ledger.ParseRecord(b)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		out = append(out, r)
	}
	return l, out
}

func TestEventsAreLogged(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	s := newService(t)
	if _, err := s.EnsureCoop(ctx, "coop", "Example Co-op", ""); err != nil {
		t.Fatal(err)
	}
	l, recs := records(t, s)
	if l.Origin != "a.example/decision-log" || len(recs) != 1 || recs[0].Type != "log.opened" || recs[0].Channel != ledger.ChannelSystem {
		t.Fatalf("new log %+v: %+v", l, recs)
	}
	if _, _, err := s.AddMember(ctx, coop.NewMember{Handle: "alice", DisplayName: "Alice A.", Email: "alice@a.example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddProject(ctx, coop.NewProject{Slug: "tool", Name: "Tool", Licence: "MIT", Maintainers: []string{"alice"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	l, recs = records(t, s)
	var types []string
	for _, r := range recs {
		types = append(types, r.Type)
	}
	want := []string{"log.opened", "member.admitted", "project.created", "member.removed"}
	if len(types) != len(want) {
		t.Fatalf("records %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("records %v, want %v", types, want)
		}
	}
	admitted := recs[1]
	if admitted.Principal != coop.AdminPrincipal || admitted.Channel != ledger.ChannelCLI || admitted.Subject != "https://a.example/users/alice" {
		t.Fatalf("member.admitted: %+v", admitted)
	}
	t.Run("the record carries the hash of the member list it leaves", func(t *testing.T) {
		sum := sha256.Sum256([]byte(`{"members":["https://a.example/users/alice"]}`))
		if want := "sha256:" + hex.EncodeToString(sum[:]); admitted.StateHash != want {
			t.Fatalf("state hash %q, want %q", admitted.StateHash, want)
		}
		if removed := recs[3]; removed.StateHash != "sha256:"+hex.EncodeToString(func() []byte { s := sha256.Sum256([]byte(`{"members":[]}`)); return s[:] }()) {
			t.Fatalf("member.removed state hash %q", removed.StateHash)
		}
	})
	t.Run("the display name goes in as a commitment, erasable", func(t *testing.T) {
		name, _ := admitted.Data["name"].(string)
		if name == "" || name == "Alice A." {
			t.Fatalf("name in the record = %q, want a commitment", name)
		}
		db := s.Store.(*store.DB)
		ps, err := db.PersonalFields(ctx, l.ID, 1)
		if err != nil || len(ps) != 1 {
			t.Fatalf("personal fields %+v, %v", ps, err)
		}
		var salt [ledger.SaltSize]byte
		copy(salt[:], ps[0].Salt)
		if !ledger.CheckCommitment(name, "name", "Alice A.", salt) {
			t.Fatal("stored value and salt do not open the commitment")
		}
	})
	t.Run("an action without a principal is refused and changes nothing", func(t *testing.T) {
		_, _, err := s.AddMember(context.Background(), coop.NewMember{Handle: "bob"})
		if !errors.Is(err, coop.ErrNoPrincipal) {
			t.Fatalf("err = %v, want ErrNoPrincipal", err)
		}
		if _, err := s.Member(ctx, "bob"); !errors.Is(err, coop.ErrNotFound) {
			t.Fatalf("bob exists after a refused add: %v", err)
		}
		if l2, _ := records(t, s); l2.Size != l.Size {
			t.Fatalf("log grew from %d to %d", l.Size, l2.Size)
		}
	})
	t.Run("an admin acting for a member is recorded as such", func(t *testing.T) {
		actx := coop.WithPrincipal(context.Background(), coop.Principal{ID: coop.AdminPrincipal, Channel: ledger.ChannelCLI, For: "https://a.example/users/carol"})
		if _, _, err := s.AddMember(actx, coop.NewMember{Handle: "dave"}); err != nil {
			t.Fatal(err)
		}
		_, recs := records(t, s)
		last := recs[len(recs)-1]
		if last.Principal != coop.AdminPrincipal || last.Data["on_behalf_of"] != "https://a.example/users/carol" {
			t.Fatalf("record %+v", last)
		}
	})
	t.Run("checkpoints are signed by the published key", func(t *testing.T) {
		c, msg, err := s.SignCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		l, _ := records(t, s)
		if c.N != l.Size {
			t.Fatalf("checkpoint size %d, log %d", c.N, l.Size)
		}
		v, err := note.NewVerifier(l.VKey)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := ledger.OpenCheckpoint(msg, l.Origin, v, nil)
		if err != nil || sc.N != l.Size {
			t.Fatalf("open: %+v, %v", sc, err)
		}
		// Signing again without appends returns the same note.
		_, again, err := s.SignCheckpoint(ctx)
		if err != nil || string(again) != string(msg) {
			t.Fatalf("second signing: %v, same=%v", err, string(again) == string(msg))
		}
	})
}

func TestAppendBelowWitnessRefused(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	s := newService(t)
	l, err := s.EnsureLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db := s.Store.(*store.DB)
	if err := db.Write(ctx, func(tx *store.Tx) error { return tx.SetLogFloor(ctx, l.ID, 40, "b.example/witness") }); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.AddMember(ctx, coop.NewMember{Handle: "alice"})
	var behind *coop.BehindWitnessError
	if !errors.As(err, &behind) || behind.Floor != 40 || behind.Witness != "b.example/witness" {
		t.Fatalf("err = %v, want a BehindWitnessError naming the witness and size 40", err)
	}
	if _, err := s.Member(ctx, "alice"); !errors.Is(err, coop.ErrNotFound) {
		t.Fatalf("alice added below the witness's size: %v", err)
	}
}

func TestRotateLog(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	s := newService(t)
	c, err := s.EnsureCoop(ctx, "coop", "Example Co-op", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddMember(ctx, coop.NewMember{Handle: "alice"}); err != nil {
		t.Fatal(err)
	}
	old, _ := records(t, s)
	next, err := s.RotateLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if next.Origin != "a.example/decision-log/2" || next.Size != 1 {
		t.Fatalf("next log %+v", next)
	}
	if _, _, err := s.AddMember(ctx, coop.NewMember{Handle: "bob"}); err != nil {
		t.Fatal(err)
	}
	l, recs := records(t, s)
	if l.Origin != next.Origin || len(recs) != 2 || recs[0].Type != ledger.TypeLogOpened || recs[1].Type != "member.admitted" {
		t.Fatalf("the new log: %+v, %+v", l, recs)
	}
	if c2, _ := s.Coop(ctx); c2.Revision <= c.Revision {
		t.Fatal("the co-op's revision did not move: its actor still publishes the old key")
	}
	reps, err := s.VerifyChain(ctx)
	if err != nil || len(reps) != 2 || reps[0].Records != old.Size+1 {
		t.Fatalf("verify chain: %+v, %v", reps, err)
	}
	t.Run("a closed log takes no more records", func(t *testing.T) {
		db := s.Store.(*store.DB)
		err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.AppendLog(ctx, old.ID, []byte(`{}`))
			return err
		})
		if !errors.Is(err, store.ErrLogClosed) {
			t.Fatalf("append to the closed log: %v", err)
		}
	})
	t.Run("a new log whose first record names another final checkpoint breaks the chain", func(t *testing.T) {
		db := s.Store.(*store.DB)
		sqlTamper(t, db.Path(), `UPDATE log_records SET data = replace(data, '"prev_size":`+fmt.Sprint(old.Size+1)+`', '"prev_size":1') WHERE log_id = ? AND idx = 0`, next.ID)
		// The link is checked before the new log's own records.
		_, err := s.VerifyChain(ctx)
		if !errors.Is(err, ledger.ErrChain) || !strings.Contains(err.Error(), next.Origin) {
			t.Fatalf("a tampered chain: %v", err)
		}
	})
}

// sqlTamper edits the database behind the node's back, as an attacker
// with the file would.
func sqlTamper(t *testing.T, path, query string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("tamper: %d rows changed", n)
	}
}
