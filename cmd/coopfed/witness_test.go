package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/config"
	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"golang.org/x/mod/sumdb/tlog"
)

// cosignedAtSize returns the size of db's open log and the number of
// cosignatures on its latest checkpoint, if that checkpoint is of the
// log's whole size.
func cosignedAtSize(t *testing.T, db *store.DB) (size int64, cosigs int) {
	t.Helper()
	ctx := context.Background()
	l, err := db.OpenLog(ctx)
	if err != nil {
		return 0, 0
	}
	c, err := db.LatestCheckpoint(ctx, l.ID)
	if err != nil || c.Size != l.Size {
		return l.Size, 0
	}
	return l.Size, len(c.Cosignatures)
}

// initWitnessNode initializes a development node in a fresh folder with a
// one-second witness interval.
func initWitnessNode(t *testing.T, host, addr string, devHosts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if _, _, err := initNode(coop.AsAdmin(context.Background()), dir, config.Values{Mode: config.ModeDevelopment, Host: host, Listen: addr,
		CoopName: "Co-op " + host, DevHosts: devHosts}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, configFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), `interval = "1m"`, `interval = "1s"`, 1))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestWitnessingThreeNodes: alpha, beta and gamma form a federation and
// witness each other's decision logs over C2SP tlog-witness. Alpha's
// checkpoints come back cosigned by both; a receipt verifies offline with
// their keys; the log verifies from the database and over HTTP. Then the
// tampering the issue lists: alpha restored from an old backup refuses to
// append, naming the witness; alpha forced to append anyway (a fork of
// what the witnesses saw) is caught by them, kept as evidence and told to
// the federation; an edited record is named by log verify.
func TestWitnessingThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes")
	}
	ctx := context.Background()
	outer := t // nodes started in a subtest outlive it
	hosts := []string{"alpha.test", "beta.test", "gamma.test"}
	lns, devHosts := loopbackHosts(t, hosts)
	var dirs [3]string
	for i, h := range hosts {
		dirs[i] = initWitnessNode(t, h, lns[i].Addr().String(), devHosts(i))
	}
	a, stopA := serveDir(t, lns[0], dirs[0])
	b, _ := serveDir(t, lns[1], dirs[1])
	g, _ := serveDir(t, lns[2], dirs[2])
	cfg := func(i int) string { return filepath.Join(dirs[i], configFile) }
	for i := range hosts {
		for j, h := range hosts {
			if i != j {
				mustCLI(t, "peer", "add", "@coop@"+h, "--config", cfg(i))
			}
		}
	}

	eventually(t, 30*time.Second, "alpha's checkpoint of its whole log is cosigned by beta and gamma", func() bool {
		_, n := cosignedAtSize(t, a.db)
		return n == 2
	})
	mustCLI(t, "member", "add", "carol", "--config", cfg(0))
	carolIndex, _ := cosignedAtSize(t, a.db)
	carolIndex--
	eventually(t, 30*time.Second, "the record of carol's admission is cosigned by both", func() bool {
		size, n := cosignedAtSize(t, a.db)
		return size > carolIndex && n == 2
	})

	t.Run("a receipt verifies offline with two cosignatures", func(t *testing.T) {
		receipt := mustCLI(t, "log", "prove", itoa(carolIndex), "--config", cfg(0))
		file := filepath.Join(t.TempDir(), "receipt")
		if err := os.WriteFile(file, []byte(receipt), 0o600); err != nil {
			t.Fatal(err)
		}
		out := mustCLI(t, "log", "verify", "--receipt", file, "--min-cosignatures", "2", "--config", cfg(0))
		if !strings.Contains(out, "member.admitted") || !strings.Contains(out, "cosigned by 2 witnesses") {
			t.Fatalf("log verify --receipt: %s", out)
		}
		// Without the witnesses' cosignatures the same receipt falls short.
		var kept []string
		for _, line := range strings.SplitAfter(receipt, "\n") {
			if !strings.HasPrefix(line, "— beta.test") && !strings.HasPrefix(line, "— gamma.test") {
				kept = append(kept, line)
			}
		}
		stripped := strings.Join(kept, "")
		if err := os.WriteFile(file, []byte(stripped), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errs := cli(t, "log", "verify", "--receipt", file, "--config", cfg(0))
		if code != 1 || !strings.Contains(errs, "0 valid witness cosignatures, 1 needed") {
			t.Fatalf("receipt without cosignatures: exit %d\n%s%s", code, out, errs)
		}
	})
	t.Run("the log verifies from the database and over HTTP", func(t *testing.T) {
		out := mustCLI(t, "log", "verify", "--config", cfg(0))
		if !strings.HasPrefix(out, "ok: alpha.test/decision-log") {
			t.Fatalf("log verify: %s", out)
		}
		out = mustCLI(t, "log", "verify", "--url", "http://"+lns[0].Addr().String()+"/log/")
		if !strings.HasPrefix(out, "ok: alpha.test/decision-log") {
			t.Fatalf("log verify --url: %s", out)
		}
	})

	// An old backup of alpha, then one more record that the witnesses see.
	backup := filepath.Join(t.TempDir(), "alpha-backup.db")
	mustCLI(t, "backup", "--out", backup, "--config", cfg(0))
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v", fi, err)
	}
	backupSize, _ := cosignedAtSize(t, a.db)
	mustCLI(t, "member", "add", "dave", "--config", cfg(0))
	eventually(t, 30*time.Second, "dave's admission is cosigned by both", func() bool {
		size, n := cosignedAtSize(t, a.db)
		return size == backupSize+1 && n == 2
	})

	// Restored from an old backup, alpha refuses to append. (Not a
	// subtest: the restarted node must outlive it.)
	{
		addr := lns[0].Addr().String()
		stopA()
		dbPath := a.cfg.DatabasePath()
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(dbPath + suffix)
		}
		data, err := os.ReadFile(backup)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dbPath, data, 0o600); err != nil {
			t.Fatal(err)
		}
		a, stopA = serveDir(t, listenAgain(t, addr), dirs[0])
		eventually(t, 30*time.Second, "alpha learns that its witnesses hold more of its log", func() bool {
			l, err := a.db.OpenLog(ctx)
			return err == nil && l.Floor == backupSize+1
		})
		code, out, errs := cli(t, "member", "add", "erin", "--config", cfg(0))
		if code != 1 || !strings.Contains(errs, "restored from an old backup") || !strings.Contains(errs, "has seen "+itoa(backupSize+1)) {
			t.Fatalf("member add on a restored node: exit %d\n%s%s", code, out, errs)
		}
	}

	t.Run("a fork of what the witnesses saw is caught and told", func(t *testing.T) {
		// The admin forces it: with alpha stopped (it would learn the
		// witnesses' size again), lift the refusal and append anyway.
		// Record backupSize is now erin's admission, where the witnesses
		// saw dave's.
		addr := lns[0].Addr().String()
		stopA()
		sqlDB, err := sql.Open("sqlite", a.cfg.DatabasePath()+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sqlDB.Exec(`UPDATE logs SET floor = 0, floor_witness = ''`); err != nil {
			t.Fatal(err)
		}
		sqlDB.Close()
		mustCLI(t, "member", "add", "erin", "--config", cfg(0))
		a, stopA = serveDir(outer, listenAgain(t, addr), dirs[0])
		for _, w := range []*node{b, g} {
			eventually(t, 30*time.Second, w.cfg.Server.Host+" keeps evidence against alpha's log", func() bool {
				es, err := w.svc.Evidence(ctx)
				return err == nil && len(es) > 0 && es[0].Origin == "alpha.test/decision-log"
			})
		}
		out := mustCLI(t, "log", "witnesses", "--config", cfg(1))
		if !strings.Contains(out, "INCONSISTENCIES FOUND") || !strings.Contains(out, "alpha.test/decision-log") {
			t.Fatalf("beta's log witnesses:\n%s", out)
		}
		// beta tells its federation: gamma reads beta's Note.
		eventually(t, 30*time.Second, "gamma reads beta's note about alpha's log", func() bool {
			for _, n := range notesTo(t, g.db, "coop") {
				if n.ActorURI == "http://beta.test/users/coop" && strings.Contains(n.Content, "Decision log inconsistency") &&
					strings.Contains(n.Content, "alpha.test/decision-log") {
					return true
				}
			}
			return false
		})
	})

	t.Run("after a key rotation the witnesses follow the handover to the next log", func(t *testing.T) {
		out := mustCLI(t, "log", "rotate", "--config", cfg(1))
		if !strings.Contains(out, "beta.test/decision-log/2") {
			t.Fatalf("log rotate: %s", out)
		}
		mustCLI(t, "member", "add", "wendy", "--config", cfg(1))
		for _, w := range []*node{a, g} {
			eventually(t, 30*time.Second, w.cfg.Server.Host+" witnesses beta's next log", func() bool {
				l, err := w.db.WitnessedLog(ctx, "beta.test/decision-log/2")
				old, err2 := w.db.WitnessedLog(ctx, "beta.test/decision-log")
				return err == nil && err2 == nil && old.Retired && l.Size > 0
			})
		}
		eventually(t, 30*time.Second, "beta's next log is cosigned by both", func() bool {
			_, n := cosignedAtSize(t, b.db)
			return n == 2
		})
		out = mustCLI(t, "log", "verify", "--config", cfg(1))
		if !strings.Contains(out, "ok: beta.test/decision-log (closed)") || !strings.Contains(out, "ok: beta.test/decision-log/2,") {
			t.Fatalf("log verify after the rotation:\n%s", out)
		}
		// A rotation is not a fork: no evidence against beta; the fork
		// of alpha's log is kept once, however many rounds see it again.
		for _, w := range []*node{a, g} {
			es, _ := w.svc.Evidence(ctx)
			for _, e := range es {
				if e.Origin != "alpha.test/decision-log" {
					t.Errorf("%s keeps evidence against %s: %s", w.cfg.Server.Host, e.Origin, e.Reason)
				}
			}
		}
		// gamma may also have seen alpha, restored, serve its old
		// checkpoint (a shrink) before the fork: at most those two, each
		// kept once.
		es, _ := g.svc.Evidence(ctx)
		seen := map[string]bool{}
		for _, e := range es {
			k := string(e.OldNote) + "|" + string(e.NewNote)
			if seen[k] {
				t.Errorf("gamma keeps one pair twice: %s", e.Reason)
			}
			seen[k] = true
		}
		if len(es) < 1 || len(es) > 2 {
			t.Errorf("gamma keeps %d pieces of evidence against alpha, want the fork (and perhaps the shrink)", len(es))
		}
	})

	t.Run("a removed member's personal data is erased and the log still verifies", func(t *testing.T) {
		mustCLI(t, "member", "add", "zed", "--display-name", "Zed Zedson", "--config", cfg(2))
		mustCLI(t, "member", "remove", "zed", "--config", cfg(2))
		out := mustCLI(t, "member", "erase", "zed", "--config", cfg(2))
		if !strings.Contains(out, "erased 1 personal values") {
			t.Fatalf("member erase: %s", out)
		}
		if out := mustCLI(t, "log", "verify", "--config", cfg(2)); !strings.HasPrefix(out, "ok:") {
			t.Fatalf("log verify after the erasure: %s", out)
		}
		l, _ := g.db.OpenLog(ctx)
		recs, _ := g.db.LogRecords(ctx, l.ID, 0, l.Size)
		for i, r := range recs {
			if strings.Contains(string(r), "Zed Zedson") {
				t.Fatalf("record %d holds the plain name", i)
			}
		}
	})

	t.Run("deleting the last record and appending another is named by log verify", func(t *testing.T) {
		eventually(t, 30*time.Second, "beta's whole log is signed", func() bool {
			l, err := b.db.OpenLog(ctx)
			if err != nil {
				return false
			}
			c, err := b.db.LatestCheckpoint(ctx, l.ID)
			return err == nil && c.Size == l.Size
		})
		l, _ := b.db.OpenLog(ctx)
		last := l.Size - 1
		sqlDB, err := sql.Open("sqlite", b.cfg.DatabasePath()+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			query string
			args  []any
		}{
			{`DELETE FROM log_records WHERE log_id = ? AND idx = ?`, []any{l.ID, last}},
			{`DELETE FROM log_personal WHERE log_id = ? AND idx = ?`, []any{l.ID, last}},
			{`DELETE FROM log_hashes WHERE log_id = ? AND idx >= ?`, []any{l.ID, tlog.StoredHashIndex(0, last)}},
			{`UPDATE logs SET size = ? WHERE id = ?`, []any{last, l.ID}},
		} {
			if _, err := sqlDB.Exec(q.query, q.args...); err != nil {
				t.Fatal(err)
			}
		}
		sqlDB.Close()
		// Appending may be refused already, if beta's witnessing round
		// has asked its witnesses since: they hold the deleted record.
		if code, out, errs := cli(t, "member", "add", "mallory", "--config", cfg(1)); code != 0 && !strings.Contains(errs, "restored from an old backup") {
			t.Fatalf("member add after the deletion: exit %d\n%s%s", code, out, errs)
		}
		code, out, errs := cli(t, "log", "verify", "--config", cfg(1))
		// The rewritten tree no longer has the signed checkpoint's hash at
		// its size: verify names the first index of the range that
		// changed (from the last checkpoint that still matches); or, if
		// the append was refused, the records missing below the signed
		// size.
		if code != 1 || !strings.Contains(errs, "does NOT verify: first bad index") ||
			!(strings.Contains(errs, "differs from what was signed") || strings.Contains(errs, "records are missing")) {
			t.Fatalf("log verify after a rewrite of the last record: exit %d\n%s%s", code, out, errs)
		}
	})

	t.Run("an edited record is named by log verify", func(t *testing.T) {
		sqlDB, err := sql.Open("sqlite", g.cfg.DatabasePath()+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		defer sqlDB.Close()
		if _, err := sqlDB.Exec(`UPDATE log_records SET data = replace(data, 'peer.admitted', 'peer.admitteD') WHERE idx = 1`); err != nil {
			t.Fatal(err)
		}
		code, out, errs := cli(t, "log", "verify", "--config", cfg(2))
		if code != 1 || !strings.Contains(errs, "first bad index 1") {
			t.Fatalf("log verify after an edit: exit %d\n%s%s", code, out, errs)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
