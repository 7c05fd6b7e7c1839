package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/tlog"
)

type memHashes = ledger.Hashes

func createTestLog(t *testing.T, db *DB) Log {
	t.Helper()
	var l Log
	err := db.Write(context.Background(), func(tx *Tx) error {
		var err error
		l, err = tx.CreateLog(context.Background(), "example.org/decision-log", "PRIVATE+KEY+example.org/decision-log+00+x", "example.org/decision-log+00+y", t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestAppendLogMatchesTlog(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	l := createTestLog(t, db)
	var mem memHashes
	const n = 300 // more than one full tile of height 8
	for i := range n {
		rec := []byte(fmt.Sprintf(`{"i":%d}`, i))
		var idx int64
		if err := db.Write(ctx, func(tx *Tx) error {
			var err error
			idx, err = tx.AppendLog(ctx, l.ID, rec)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if idx != int64(i) {
			t.Fatalf("append %d: index %d", i, idx)
		}
		hs, err := tlog.StoredHashes(int64(i), rec, mem)
		if err != nil {
			t.Fatal(err)
		}
		mem = append(mem, hs...)
	}
	got, err := tlog.TreeHash(n, db.LogHashReader(ctx, l.ID))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := tlog.TreeHash(n, mem)
	if got != want {
		t.Fatalf("stored tree hash %v, want %v", got, want)
	}
	open, err := db.OpenLog(ctx)
	if err != nil || open.Size != n {
		t.Fatalf("open log size %d, %v; want %d", open.Size, err, n)
	}
	recs, err := db.LogRecords(ctx, l.ID, 250, 300)
	if err != nil || len(recs) != 50 || string(recs[0]) != `{"i":250}` {
		t.Fatalf("records 250-300: %d, %v", len(recs), err)
	}
	if _, err := db.LogRecords(ctx, l.ID, 250, 301); err == nil {
		t.Fatal("records past the end: no error")
	}
	// A full tile reads straight from the stored hashes.
	tile := tlog.Tile{H: 8, L: 0, N: 0, W: 256}
	data, err := tlog.ReadTileData(tile, db.LogHashReader(ctx, l.ID))
	if err != nil || len(data) != 256*tlog.HashSize {
		t.Fatalf("tile 0: %d bytes, %v", len(data), err)
	}
}

// TestAppendLogRollsBackWithItsEvent: a record and the state change it
// describes land together or not at all.
func TestAppendLogRollsBackWithItsEvent(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	l := createTestLog(t, db)
	boom := errors.New("the event failed")
	err := db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.AppendLog(ctx, l.ID, []byte(`{}`)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	open, _ := db.OpenLog(ctx)
	if open.Size != 0 {
		t.Fatalf("size %d after a rolled-back append", open.Size)
	}
	if _, err := db.LogRecord(ctx, l.ID, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("record 0 after rollback: %v", err)
	}
}

// TestTwoProcessesAppend: a CLI and a running node (two handles on one
// file) appending at once get consecutive indexes and one consistent tree.
func TestTwoProcessesAppend(t *testing.T) {
	ctx := context.Background()
	a := openTemp(t)
	l := createTestLog(t, a)
	b, err := Open(ctx, a.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const each = 100
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, db := range []*DB{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := db.Write(ctx, func(tx *Tx) error {
					_, err := tx.AppendLog(ctx, l.ID, []byte(fmt.Sprintf(`{"p":%q,"i":%d}`, db.Path(), i)))
					return err
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	recs, err := a.LogRecords(ctx, l.ID, 0, 2*each)
	if err != nil {
		t.Fatal(err)
	}
	var mem memHashes
	for i, rec := range recs {
		hs, err := tlog.StoredHashes(int64(i), rec, mem)
		if err != nil {
			t.Fatal(err)
		}
		mem = append(mem, hs...)
	}
	want, _ := tlog.TreeHash(2*each, mem)
	got, err := tlog.TreeHash(2*each, a.LogHashReader(ctx, l.ID))
	if err != nil || got != want {
		t.Fatalf("tree after concurrent appends: %v, %v; want %v", got, err, want)
	}
}

func TestLogClosedRefusesAppends(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	l := createTestLog(t, db)
	err := db.Write(ctx, func(tx *Tx) error {
		if err := tx.CloseLog(ctx, l.ID, t0); err != nil {
			return err
		}
		_, err := tx.AppendLog(ctx, l.ID, []byte(`{}`))
		return err
	})
	if !errors.Is(err, ErrLogClosed) {
		t.Fatalf("append to a closed log: %v", err)
	}
	// Only one log can be open.
	err = db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.CreateLog(ctx, "a/1", "s", "v", t0); err != nil {
			return err
		}
		_, err := tx.CreateLog(ctx, "a/2", "s", "v", t0)
		return err
	})
	if err == nil {
		t.Fatal("two open logs: no error")
	}
}

func TestPersonalErase(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	l := createTestLog(t, db)
	err := db.Write(ctx, func(tx *Tx) error {
		idx, err := tx.AppendLog(ctx, l.ID, []byte(`{"voter":"sha256:00"}`))
		if err != nil {
			return err
		}
		return tx.SavePersonal(ctx, l.ID, idx, "voter", "alice", []byte("salt"))
	})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := db.PersonalFields(ctx, l.ID, 0)
	if err != nil || len(ps) != 1 || ps[0].Value != "alice" {
		t.Fatalf("personal fields: %+v, %v", ps, err)
	}
	before, _ := tlog.TreeHash(1, db.LogHashReader(ctx, l.ID))
	if err := db.Write(ctx, func(tx *Tx) error {
		n, err := tx.ErasePersonal(ctx, l.ID, 0, "", t0)
		if n != 1 {
			return fmt.Errorf("erased %d", n)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ps, _ = db.PersonalFields(ctx, l.ID, 0)
	if len(ps) != 1 || !ps[0].Erased || ps[0].Value != "" || ps[0].Salt != nil {
		t.Fatalf("after erase: %+v", ps)
	}
	after, _ := tlog.TreeHash(1, db.LogHashReader(ctx, l.ID))
	if before != after {
		t.Fatal("erasing personal data changed the tree")
	}
}

func TestCheckpointsAndCosignatures(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	l := createTestLog(t, db)
	if _, err := db.LatestCheckpoint(ctx, l.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no checkpoint yet: %v", err)
	}
	for _, size := range []int64{1, 5} {
		if err := db.WriteDurable(ctx, func(tx *Tx) error {
			return tx.SaveCheckpoint(ctx, l.ID, size, []byte(fmt.Sprintf("note %d", size)), t0)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Write(ctx, func(tx *Tx) error {
		return tx.SaveCosignature(ctx, l.ID, 5, "w.example", "— w.example abc", t0)
	}); err != nil {
		t.Fatal(err)
	}
	c, err := db.LatestCheckpoint(ctx, l.ID)
	if err != nil || c.Size != 5 || len(c.Cosignatures) != 1 {
		t.Fatalf("latest: %+v, %v", c, err)
	}
	c, err = db.CheckpointCovering(ctx, l.ID, 3)
	if err != nil || c.Size != 5 {
		t.Fatalf("covering 3: %+v, %v", c, err)
	}
	c, err = db.CheckpointCovering(ctx, l.ID, 0)
	if err != nil || c.Size != 1 {
		t.Fatalf("covering 0: %+v, %v", c, err)
	}
	// The writer is back to synchronous=NORMAL after a durable write.
	var mode int
	if err := db.write.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&mode); err != nil || mode != 1 {
		t.Fatalf("synchronous after WriteDurable = %d, %v; want 1 (NORMAL)", mode, err)
	}
}

func TestWitnessedKeepsLargest(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	const origin = "b.example/decision-log"
	if err := db.Write(ctx, func(tx *Tx) error {
		return tx.PinWitnessed(ctx, Witnessed{Origin: origin, Peer: "https://b.example/users/coop", URL: "https://b.example/log/", VKey: "v", WitnessVKey: "w", Updated: t0})
	}); err != nil {
		t.Fatal(err)
	}
	keep := func(size int64) error {
		return db.Write(ctx, func(tx *Tx) error {
			return tx.KeepWitnessed(ctx, origin, size, [32]byte{1}, []byte("n"), t0)
		})
	}
	if err := keep(7); err != nil {
		t.Fatal(err)
	}
	if err := keep(3); err == nil {
		t.Fatal("keeping a smaller checkpoint: no error")
	}
	w, err := db.WitnessedLog(ctx, origin)
	if err != nil || w.Size != 7 || w.VKey != "v" {
		t.Fatalf("kept %+v, %v; want size 7", w, err)
	}
}
