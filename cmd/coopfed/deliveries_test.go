package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coopfed/coopfed/config"
	"github.com/coopfed/coopfed/store"
)

// openNodeDB opens the database of the node whose config is at cfgPath, as
// a second process would.
func openNodeDB(t *testing.T, cfgPath string) *store.DB {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), cfg.DatabasePath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queueFromCoop queues n activities from the co-op actor to inbox and
// returns their ids.
func queueFromCoop(t *testing.T, db *store.DB, inbox string, n int) []string {
	t.Helper()
	ctx := context.Background()
	c, err := db.Coop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	err = db.Write(ctx, func(tx *store.Tx) error {
		for i := range n {
			id := fmt.Sprintf("https://test.example/activities/%d-%d", time.Now().UnixNano(), i)
			ids = append(ids, id)
			body := fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Create"}`, id)
			if err := tx.EnqueueDeliveries(ctx, c.ID, id, []byte(body), []string{inbox}, time.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestDeliveriesCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "coopfed.toml")
	mustCLI(t, "init", "--dir", dir, "--host", "coop.example", "--name", "Example Co-op")
	out := mustCLI(t, "deliveries", "list", "--config", cfg)
	if !strings.Contains(out, "0 deliveries: 0 queued, 0 in_flight, 0 done, 0 dead") {
		t.Fatalf("empty list:\n%s", out)
	}
	db := openNodeDB(t, cfg)
	ids := queueFromCoop(t, db, "https://peer.example/inbox", 3)
	now := time.Now()
	claimed, err := db.ClaimDeliveries(ctx, now, time.Minute, 2)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	dead, done := claimed[0], claimed[1]
	if err := db.KillDelivery(ctx, dead.ID, dead.LeaseUntil, 410, "HTTP 410 gone for good", now); err != nil {
		t.Fatal(err)
	}
	if err := db.CompleteDelivery(ctx, done.ID, done.LeaseUntil, 202, now); err != nil {
		t.Fatal(err)
	}

	out = mustCLI(t, "deliveries", "list", "--config", cfg)
	for _, want := range []string{"ID", "STATE", "ATTEMPTS", "NEXT ATTEMPT", "LAST", "INBOX", "ACTIVITY",
		"410 HTTP 410 gone for good", "https://peer.example/inbox", ids[0], ids[2],
		"3 deliveries: 1 queued, 0 in_flight, 1 done, 1 dead"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[1], fmt.Sprint(claimed[1].ID+1)) {
		t.Fatalf("list is not newest first:\n%s", out)
	}
	out = mustCLI(t, "deliveries", "list", "--state", "dead", "--config", cfg)
	if rows := strings.Split(strings.TrimSpace(out), "\n"); len(rows) != 3 || !strings.HasPrefix(rows[1], fmt.Sprintf("%d ", dead.ID)) {
		t.Fatalf("dead list:\n%s", out)
	}
	out = mustCLI(t, "deliveries", "list", "--limit", "1", "--config", cfg)
	if rows := strings.Split(strings.TrimSpace(out), "\n"); len(rows) != 3 {
		t.Fatalf("--limit 1:\n%s", out)
	}

	out = mustCLI(t, "deliveries", "retry", fmt.Sprint(dead.ID), "--config", cfg)
	if !strings.Contains(out, fmt.Sprintf("delivery %d queued again", dead.ID)) {
		t.Fatalf("retry:\n%s", out)
	}
	d, err := db.Delivery(ctx, dead.ID)
	if err != nil || d.State != store.DeliveryQueued || d.Attempts != 0 || d.LastStatus != 410 {
		t.Fatalf("retried delivery: %+v, %v", d, err)
	}
	// Kill it again, then retry every dead one.
	again, err := db.ClaimDeliveries(ctx, time.Now().Add(time.Second), time.Minute, 10)
	if err != nil || len(again) != 2 {
		t.Fatalf("claim again: %v, %v", again, err)
	}
	for _, c := range again {
		if err := db.KillDelivery(ctx, c.ID, c.LeaseUntil, 400, "HTTP 400", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	out = mustCLI(t, "deliveries", "retry", "--all-dead", "--config", cfg)
	if !strings.Contains(out, "2 dead deliveries queued again") {
		t.Fatalf("retry --all-dead:\n%s", out)
	}

	failures := []struct {
		name string
		code int
		args []string
		says string
	}{
		{"unknown state", 2, []string{"deliveries", "list", "--state", "lost", "--config", cfg}, "--state"},
		{"bad limit", 2, []string{"deliveries", "list", "--limit", "0", "--config", cfg}, "--limit"},
		{"retry without ids", 2, []string{"deliveries", "retry", "--config", cfg}, "IDs or --all-dead"},
		{"retry with ids and --all-dead", 2, []string{"deliveries", "retry", "1", "--all-dead", "--config", cfg}, "IDs or --all-dead"},
		{"retry a bad id", 2, []string{"deliveries", "retry", "x", "--config", cfg}, "not a delivery ID"},
		{"retry an unknown id", 1, []string{"deliveries", "retry", "999", "--config", cfg}, "delivery 999: not found"},
		{"retry a done delivery", 1, []string{"deliveries", "retry", fmt.Sprint(done.ID), "--config", cfg}, "is done"},
		{"unknown subcommand", 2, []string{"deliveries", "purge", "--config", cfg}, "unknown subcommand"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := cli(t, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.says) {
				t.Fatalf("exit %d, want %d; stderr lacks %q:\n%s", code, tt.code, tt.says, errs)
			}
		})
	}
}

// slowReceiver is a loopback inbox that takes its time, and records each
// activity id it got (at least once is the promise: it deduplicates).
type slowReceiver struct {
	*httptest.Server
	delay    time.Duration
	mu       sync.Mutex
	got      map[string]int
	inFlight atomic.Int32
}

func newSlowReceiver(t *testing.T, delay time.Duration) *slowReceiver {
	r := &slowReceiver{delay: delay, got: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.inFlight.Add(1)
		defer r.inFlight.Add(-1)
		var doc struct{ ID string }
		if err := json.NewDecoder(req.Body).Decode(&doc); err != nil || req.Header.Get("Signature") == "" {
			w.WriteHeader(400)
			return
		}
		time.Sleep(r.delay)
		r.mu.Lock()
		r.got[doc.ID]++
		r.mu.Unlock()
		w.WriteHeader(202)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *slowReceiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// TestBinaryKillDuringDelivery queues deliveries to a slow receiver,
// SIGKILLs the node mid-flight, restarts it, and checks that every
// delivery arrives.
func TestBinaryKillDuringDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	const n = 200
	dir := t.TempDir()
	addr := freePort(t)
	runBinary(t, dir, "init", "--dir", "node", "--host", addr, "--listen", addr, "--name", "Kill Co-op", "--dev")
	cfg := filepath.Join(dir, "node", "coopfed.toml")
	recv := newSlowReceiver(t, 50*time.Millisecond)

	// Queued while the node runs, from another handle on its database, as
	// a second process would.
	p, _ := start(t, dir, "serve", "--config", cfg)
	db := openNodeDB(t, cfg)
	ids := queueFromCoop(t, db, recv.URL+"/inbox", n)

	deadline := time.Now().Add(30 * time.Second)
	for recv.distinct() < n/5 || recv.inFlight.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d deliveries arrived in 30 s", recv.distinct())
		}
		time.Sleep(time.Millisecond)
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()
	before := recv.distinct()
	counts, err := db.DeliveryCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed after %d of %d arrived; rows: %v", before, n, counts)
	if counts[store.DeliveryDone] == n {
		t.Fatal("everything was delivered before the kill: the test killed nothing in flight")
	}

	p, _ = start(t, dir, "serve", "--config", cfg)
	for recv.distinct() < n {
		if time.Now().After(deadline) {
			t.Fatalf("after the restart only %d of %d deliveries arrived", recv.distinct(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for {
		counts, err = db.DeliveryCounts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.DeliveryDone] == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rows after the restart: %v", counts)
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.stop(t)
	recv.mu.Lock()
	defer recv.mu.Unlock()
	dups := 0
	for _, id := range ids {
		if recv.got[id] == 0 {
			t.Fatalf("%s never arrived", id)
		}
		dups += recv.got[id] - 1
	}
	t.Logf("%d deliveries arrived twice (in flight at the kill)", dups)
}
