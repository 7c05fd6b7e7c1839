package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/store"
)

// benchLog measures the decision log on SQLite: appends (one per
// transaction, and batched) against plain inserts of the same bytes into
// a table with no tree, in a database with the same settings; then, on a
// log of -records records, inclusion proofs (time and size) and a whole
// `log verify` against SHA-256 over the same bytes, both read from the
// database and in memory.
func benchLog(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("log", flag.ContinueOnError)
	rounds := fs.Int("rounds", 5, "rounds of the append measurements")
	n := fs.Int("n", 2000, "appends per measurement")
	batch := fs.Int("batch", 1000, "appends per transaction, batched")
	records := fs.Int64("records", 1_000_000, "records in the log for proofs and verify")
	size := fs.Int("size", 300, "bytes per record")
	verifyRounds := fs.Int("verify-rounds", 3, "rounds of the verify measurement")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "coopbench-log-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Printf("# coopbench log: %d rounds of %d appends of %d-byte records (one per transaction; batches of %d), against plain INSERTs of the same bytes in a table with no tree (same SQLite settings: WAL, synchronous=NORMAL); then %d records: inclusion proofs and a whole log verify\n",
		*rounds, *n, *size, *batch, *records)
	fmt.Printf("# machine: %s\n", machine())

	record := func(i int64) []byte {
		head := fmt.Sprintf(`{"channel":"cli","data":{"i":%d,"pad":"`, i)
		tail := `"},"principal":"admin","state":"","subject":"https://bench.example/users/coop","time":"2026-11-25T12:00:00Z","type":"bench.event"}`
		pad := max(0, *size-len(head)-len(tail))
		return []byte(head + strings.Repeat("x", pad) + tail)
	}

	// The appends.
	type row struct{ plain1, log1, plainB, logB float64 }
	var rows []row
	for r := 0; r < *rounds; r++ {
		db, svc, err := benchLogDB(ctx, filepath.Join(dir, fmt.Sprintf("log-%d.db", r)))
		if err != nil {
			return err
		}
		plain, err := plainDB(filepath.Join(dir, fmt.Sprintf("plain-%d.db", r)))
		if err != nil {
			db.Close()
			return err
		}
		l, err := svc.EnsureLog(ctx)
		if err != nil {
			return err
		}
		next := l.Size
		appendN := func(count, per int) (float64, error) {
			start := time.Now()
			for done := 0; done < count; done += per {
				err := db.Write(ctx, func(tx *store.Tx) error {
					if per == 1 {
						_, err := tx.AppendLog(ctx, l.ID, record(next))
						next++
						return err
					}
					recs := make([][]byte, 0, per)
					for j := 0; j < per && done+j < count; j++ {
						recs = append(recs, record(next+int64(j)))
					}
					_, err := tx.AppendLogBatch(ctx, l.ID, recs)
					next += int64(len(recs))
					return err
				})
				if err != nil {
					return 0, err
				}
			}
			return float64(count) / time.Since(start).Seconds(), nil
		}
		var pi int64
		insertN := func(count, per int) (float64, error) {
			start := time.Now()
			for done := 0; done < count; done += per {
				tx, err := plain.BeginTx(ctx, nil)
				if err != nil {
					return 0, err
				}
				for j := 0; j < per && done+j < count; j++ {
					if _, err := tx.ExecContext(ctx, `INSERT INTO plain (idx, data) VALUES (?, ?)`, pi, record(pi)); err != nil {
						tx.Rollback()
						return 0, err
					}
					pi++
				}
				if err := tx.Commit(); err != nil {
					return 0, err
				}
			}
			return float64(count) / time.Since(start).Seconds(), nil
		}
		var x row
		if x.plain1, err = insertN(*n, 1); err == nil {
			if x.log1, err = appendN(*n, 1); err == nil {
				if x.plainB, err = insertN(*n*10, *batch); err == nil {
					x.logB, err = appendN(*n*10, *batch)
				}
			}
		}
		plain.Close()
		db.Close()
		if err != nil {
			return err
		}
		rows = append(rows, x)
	}
	fmt.Println()
	fmt.Println("| round | plain INSERT/s, 1 per tx | log appends/s, 1 per tx | ratio | plain INSERT/s, batched | log appends/s, batched | ratio |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- |")
	var r1, rb, a1, ab []float64
	for i, x := range rows {
		fmt.Printf("| %d | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |\n", i+1, x.plain1, x.log1, x.log1/x.plain1, x.plainB, x.logB, x.logB/x.plainB)
		r1, rb = append(r1, x.log1/x.plain1), append(rb, x.logB/x.plainB)
		a1, ab = append(a1, x.log1), append(ab, x.logB)
	}
	fmt.Printf("| median | | %.0f | %.2f | | %.0f | %.2f |\n", median(a1), median(r1), median(ab), median(rb))

	// A large log: proofs and verify.
	db, svc, err := benchLogDB(ctx, filepath.Join(dir, "large.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	l, err := svc.EnsureLog(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	next := l.Size
	for next < *records {
		err := db.Write(ctx, func(tx *store.Tx) error {
			recs := make([][]byte, 0, 10_000)
			for j := int64(0); j < 10_000 && next+j < *records; j++ {
				recs = append(recs, record(next+j))
			}
			_, err := tx.AppendLogBatch(ctx, l.ID, recs)
			next += int64(len(recs))
			return err
		})
		if err != nil {
			return err
		}
	}
	build := time.Since(start)
	if _, _, err := svc.SignCheckpoint(ctx); err != nil {
		return err
	}
	fi, _ := os.Stat(filepath.Join(dir, "large.db"))
	fmt.Printf("\nbuilt a log of %d records in %s (%.0f appends/s in transactions of 10,000); database %d MiB\n",
		next, build.Round(time.Millisecond), float64(next)/build.Seconds(), fi.Size()>>20)

	rng := rand.New(rand.NewPCG(1, 2))
	hr := db.LogHashReader(ctx, l.ID)
	var proofTimes []float64
	var proofBytes, proofHashes, receiptBytes int
	for i := 0; i < 1000; i++ {
		idx := rng.Int64N(next)
		t0 := time.Now()
		p, err := ledger.ProveInclusion(next, idx, hr)
		if err != nil {
			return err
		}
		proofTimes = append(proofTimes, float64(time.Since(t0).Microseconds()))
		proofBytes = max(proofBytes, len(ledger.FormatProof(p)))
		proofHashes = max(proofHashes, len(p))
		if i == 0 {
			rc, err := svc.LogReceipt(ctx, idx)
			if err != nil {
				return err
			}
			receiptBytes = len(rc.Marshal())
		}
	}
	fmt.Printf("inclusion proof at %d records, from SQLite: median %.0f µs over 1,000 random records; %d hashes, %d bytes as text; a receipt (record, proof, signed checkpoint) %d bytes\n",
		next, median(proofTimes), proofHashes, proofBytes, receiptBytes)

	fmt.Println()
	fmt.Println("| round | log verify (from SQLite) s | read + SHA-256 of each record (from SQLite) s | SHA-256 in memory s | ratio to read+SHA-256 | ratio to SHA-256 in memory |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	var rr, rm []float64
	for r := 0; r < *verifyRounds; r++ {
		t0 := time.Now()
		rep, err := svc.VerifyLog(ctx)
		if err != nil {
			return err
		}
		if rep.Records != next {
			return fmt.Errorf("verified %d records, want %d", rep.Records, next)
		}
		verify := time.Since(t0).Seconds()
		t0 = time.Now()
		var all [][]byte
		for from := int64(0); from < next; from += 4096 {
			recs, err := db.LogRecords(ctx, l.ID, from, min(from+4096, next))
			if err != nil {
				return err
			}
			for _, b := range recs {
				sha256.Sum256(b)
			}
			all = append(all, recs...)
		}
		readHash := time.Since(t0).Seconds()
		t0 = time.Now()
		for _, b := range all {
			sha256.Sum256(b)
		}
		mem := time.Since(t0).Seconds()
		all = nil
		fmt.Printf("| %d | %.2f | %.2f | %.2f | %.2f | %.2f |\n", r+1, verify, readHash, mem, verify/readHash, verify/mem)
		rr, rm = append(rr, verify/readHash), append(rm, verify/mem)
	}
	fmt.Printf("| median | | | | %.2f | %.2f |\n", median(rr), median(rm))
	return nil
}

func benchLogDB(ctx context.Context, path string) (*store.DB, *coop.Service, error) {
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	return db, &coop.Service{Store: db, Site: coop.Site{Scheme: "https", Host: "bench.example"}}, nil
}

// plainDB is the baseline: the same SQLite settings as store's writer, one
// table of records and nothing else.
func plainDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE plain (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)`); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
