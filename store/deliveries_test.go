package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// queueSetup makes a sender and queues n deliveries of distinct activities
// to one inbox at t0.
func queueSetup(t *testing.T, n int) (*DB, coop.Actor) {
	t.Helper()
	ctx := context.Background()
	db := openTemp(t)
	var sender coop.Actor
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		sender, err = tx.InsertActor(ctx, actor(coop.KindOrganization, "coop"), "PRIVATE PEM")
		if err != nil {
			return err
		}
		for i := range n {
			id := fmt.Sprintf("https://coop.example/activities/%d", i)
			if err := tx.EnqueueDeliveries(ctx, sender.ID, id, []byte(`{"id":"`+id+`"}`), []string{"https://peer.example/inbox"}, t0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db, sender
}

func TestDeliveryLifecycle(t *testing.T) {
	ctx := context.Background()
	db, sender := queueSetup(t, 4)

	if got, err := db.ClaimDeliveries(ctx, t0.Add(-time.Second), time.Minute, 10); err != nil || len(got) != 0 {
		t.Fatalf("claim before due: %d, %v", len(got), err)
	}
	claimed, err := db.ClaimDeliveries(ctx, t0, 2*time.Minute, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 3 {
		t.Fatalf("claimed %d, want 3 (the limit)", len(claimed))
	}
	c := claimed[0]
	if c.State != DeliveryInFlight || !c.LeaseUntil.Equal(t0.Add(2*time.Minute)) || c.SenderHandle != "coop" ||
		c.SenderKeyPEM != "PRIVATE PEM" || c.SenderID != sender.ID || string(c.Body) != `{"id":"https://coop.example/activities/0"}` {
		t.Fatalf("claimed %+v", c)
	}
	// Claimed rows are not claimed again while the lease holds.
	more, err := db.ClaimDeliveries(ctx, t0.Add(time.Minute), 2*time.Minute, 10)
	if err != nil || len(more) != 1 || more[0].ID != claimed[len(claimed)-1].ID+1 {
		t.Fatalf("second claim: %v, %v", more, err)
	}

	now := t0.Add(time.Minute)
	if err := db.CompleteDelivery(ctx, claimed[0].ID, claimed[0].LeaseUntil, 202, now); err != nil {
		t.Fatal(err)
	}
	if err := db.RescheduleDelivery(ctx, claimed[1].ID, claimed[1].LeaseUntil, 500, "HTTP 500", now.Add(time.Hour), now); err != nil {
		t.Fatal(err)
	}
	if err := db.KillDelivery(ctx, claimed[2].ID, claimed[2].LeaseUntil, 410, "gone", now); err != nil {
		t.Fatal(err)
	}
	// An outcome for a claim no longer held is refused.
	if err := db.CompleteDelivery(ctx, claimed[0].ID, claimed[0].LeaseUntil, 202, now); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("second completion: %v, want ErrLeaseLost", err)
	}
	if err := db.ReleaseDelivery(ctx, more[0].ID, more[0].LeaseUntil.Add(time.Second), now); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("release with a wrong lease: %v, want ErrLeaseLost", err)
	}
	if err := db.ReleaseDelivery(ctx, more[0].ID, more[0].LeaseUntil, now); err != nil {
		t.Fatal(err)
	}

	want := map[int64]struct {
		state    DeliveryState
		attempts int
		status   int
		errText  string
		next     time.Time
	}{
		claimed[0].ID: {DeliveryDone, 1, 202, "", t0},
		claimed[1].ID: {DeliveryQueued, 1, 500, "HTTP 500", now.Add(time.Hour)},
		claimed[2].ID: {DeliveryDead, 1, 410, "gone", t0},
		more[0].ID:    {DeliveryQueued, 0, 0, "", now},
	}
	for id, w := range want {
		d, err := db.Delivery(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.State != w.state || d.Attempts != w.attempts || d.LastStatus != w.status || d.LastError != w.errText ||
			!d.NextAttemptAt.Equal(w.next) || !d.LeaseUntil.IsZero() {
			t.Errorf("delivery %d: %+v, want %+v", id, d, w)
		}
	}
	counts, err := db.DeliveryCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[DeliveryQueued] != 2 || counts[DeliveryDone] != 1 || counts[DeliveryDead] != 1 || counts[DeliveryInFlight] != 0 {
		t.Fatalf("counts %v", counts)
	}
	list, err := db.Deliveries(ctx, "", 10)
	if err != nil || len(list) != 4 || list[0].ID < list[3].ID {
		t.Fatalf("list all: %d rows, %v; want 4 newest first", len(list), err)
	}
	list, err = db.Deliveries(ctx, DeliveryDead, 10)
	if err != nil || len(list) != 1 || list[0].ID != claimed[2].ID {
		t.Fatalf("list dead: %v, %v", list, err)
	}
	if _, err := db.Deliveries(ctx, "lost", 10); err == nil {
		t.Fatal("listed an unknown state")
	}
	if _, err := db.Delivery(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown delivery: %v", err)
	}

	t.Run("retry", func(t *testing.T) {
		later := now.Add(2 * time.Hour)
		if err := db.RetryDelivery(ctx, claimed[0].ID, later); !errors.Is(err, ErrNotRetryable) {
			t.Fatalf("retry of a done delivery: %v", err)
		}
		if err := db.RetryDelivery(ctx, 999, later); !errors.Is(err, ErrNotFound) {
			t.Fatalf("retry of an unknown delivery: %v", err)
		}
		if err := db.RetryDelivery(ctx, claimed[1].ID, later); err != nil {
			t.Fatal(err)
		}
		d, _ := db.Delivery(ctx, claimed[1].ID)
		if d.State != DeliveryQueued || d.Attempts != 0 || !d.NextAttemptAt.Equal(later) || d.LastError != "HTTP 500" {
			t.Fatalf("retried queued delivery: %+v", d)
		}
		n, err := db.RetryDeadDeliveries(ctx, later)
		if err != nil || n != 1 {
			t.Fatalf("retry dead: %d, %v", n, err)
		}
		d, _ = db.Delivery(ctx, claimed[2].ID)
		if d.State != DeliveryQueued || d.Attempts != 0 || !d.NextAttemptAt.Equal(later) || d.LastStatus != 410 {
			t.Fatalf("retried dead delivery: %+v", d)
		}
	})
}

func TestClaimExpiredLease(t *testing.T) {
	ctx := context.Background()
	db, _ := queueSetup(t, 1)
	first, err := db.ClaimDeliveries(ctx, t0, time.Minute, 10)
	if err != nil || len(first) != 1 {
		t.Fatalf("claim: %v, %v", first, err)
	}
	if got, _ := db.ClaimDeliveries(ctx, t0.Add(59*time.Second), time.Minute, 10); len(got) != 0 {
		t.Fatal("claimed a row under a live lease")
	}
	// The first worker crashed: its lease expires and the row is claimed
	// again; the first claim's outcome no longer counts.
	second, err := db.ClaimDeliveries(ctx, t0.Add(time.Minute), time.Minute, 10)
	if err != nil || len(second) != 1 || second[0].ID != first[0].ID {
		t.Fatalf("claim after expiry: %v, %v", second, err)
	}
	if err := db.CompleteDelivery(ctx, first[0].ID, first[0].LeaseUntil, 202, t0); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("stale completion: %v", err)
	}
	if err := db.CompleteDelivery(ctx, second[0].ID, second[0].LeaseUntil, 202, t0); err != nil {
		t.Fatal(err)
	}
}

func TestRequeueInFlight(t *testing.T) {
	ctx := context.Background()
	db, _ := queueSetup(t, 3)
	if _, err := db.ClaimDeliveries(ctx, t0, time.Hour, 2); err != nil {
		t.Fatal(err)
	}
	n, err := db.RequeueInFlight(ctx, t0.Add(time.Second))
	if err != nil || n != 2 {
		t.Fatalf("requeued %d, %v; want 2", n, err)
	}
	got, err := db.ClaimDeliveries(ctx, t0.Add(time.Second), time.Hour, 10)
	if err != nil || len(got) != 3 {
		t.Fatalf("claim after requeue: %d, %v", len(got), err)
	}
}

// TestConcurrentClaims claims from several goroutines and two handles on
// one file at once: every row is claimed exactly once.
func TestConcurrentClaims(t *testing.T) {
	ctx := context.Background()
	const n = 300
	db, _ := queueSetup(t, n)
	db2, err := Open(ctx, db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	var (
		mu   sync.Mutex
		seen = map[int64]int{}
		wg   sync.WaitGroup
		errs = make(chan error, 8)
	)
	for i := range 8 {
		h := db
		if i%2 == 1 {
			h = db2
		}
		wg.Go(func() {
			for {
				got, err := h.ClaimDeliveries(ctx, t0, time.Hour, 7)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, c := range got {
					seen[c.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("claimed %d distinct rows, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("delivery %d claimed %d times", id, k)
		}
	}
}

// TestSettleDeliveries records a batch with every kind of outcome, and one
// whose claim was lost, in one transaction.
func TestSettleDeliveries(t *testing.T) {
	ctx := context.Background()
	db, _ := queueSetup(t, 5)
	claimed, err := db.ClaimDeliveries(ctx, t0, 2*time.Minute, 4)
	if err != nil || len(claimed) != 4 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	// The fifth row's lease expires and another claim takes it.
	last, err := db.ClaimDeliveries(ctx, t0, time.Minute, 1)
	if err != nil || len(last) != 1 {
		t.Fatalf("claim: %d, %v", len(last), err)
	}
	stale := last[0]
	claimed = append(claimed, stale)
	if again, err := db.ClaimDeliveries(ctx, t0.Add(time.Minute), time.Minute, 10); err != nil || len(again) != 1 || again[0].ID != stale.ID {
		t.Fatalf("reclaim: %v, %v", again, err)
	}
	at, next := t0.Add(10*time.Second), t0.Add(time.Hour)
	lost, err := db.SettleDeliveries(ctx, []DeliveryOutcome{
		{ID: claimed[0].ID, Lease: claimed[0].LeaseUntil, Settle: SettleDone, Status: 202, At: at},
		{ID: claimed[1].ID, Lease: claimed[1].LeaseUntil, Settle: SettleRetry, Status: 503, Error: "HTTP 503", Next: next, At: at},
		{ID: claimed[2].ID, Lease: claimed[2].LeaseUntil, Settle: SettleDead, Status: 410, Error: "HTTP 410 gone", At: at},
		{ID: claimed[3].ID, Lease: claimed[3].LeaseUntil, Settle: SettleRelease, At: at},
		{ID: stale.ID, Lease: stale.LeaseUntil, Settle: SettleDone, Status: 202, At: at},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{false, false, false, false, true}; fmt.Sprint(lost) != fmt.Sprint(want) {
		t.Fatalf("lost %v, want %v", lost, want)
	}
	type row struct {
		State    DeliveryState
		Attempts int
		Next     time.Time
		Status   int
		Error    string
		Leased   bool
	}
	want := []row{
		{DeliveryDone, 1, t0, 202, "", false},
		{DeliveryQueued, 1, next, 503, "HTTP 503", false},
		{DeliveryDead, 1, t0, 410, "HTTP 410 gone", false},
		{DeliveryQueued, 0, at, 0, "", false},  // released: unattempted, due at once
		{DeliveryInFlight, 0, t0, 0, "", true}, // the new claim's, untouched
	}
	for i, c := range claimed {
		d, err := db.Delivery(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := row{d.State, d.Attempts, d.NextAttemptAt, d.LastStatus, d.LastError, !d.LeaseUntil.IsZero()}
		if got != want[i] {
			t.Errorf("delivery %d: %+v, want %+v", i, got, want[i])
		}
	}
}

// TestSettleDeliveriesAllOrNothing: a batch that fails records nothing,
// and its rows stay in flight, to be claimed again when their leases
// expire: sent again, never lost.
func TestSettleDeliveriesAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db, _ := queueSetup(t, 2)
	claimed, err := db.ClaimDeliveries(ctx, t0, time.Minute, 2)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	_, err = db.SettleDeliveries(ctx, []DeliveryOutcome{
		{ID: claimed[0].ID, Lease: claimed[0].LeaseUntil, Settle: SettleDone, Status: 202, At: t0},
		{ID: claimed[1].ID, Lease: claimed[1].LeaseUntil, Settle: Settlement(99), At: t0},
	})
	if err == nil {
		t.Fatal("settled a batch with an unknown settlement")
	}
	again, err := db.ClaimDeliveries(ctx, t0.Add(time.Minute), time.Minute, 10)
	if err != nil || len(again) != 2 {
		t.Fatalf("after the failed batch, reclaimed %d rows (%v), want both", len(again), err)
	}
}

// TestEnqueueDeliveriesOnce: an inbox listed twice, or queued again for
// the same activity, is one delivery; inbox URLs are stored as given.
func TestEnqueueDeliveriesOnce(t *testing.T) {
	ctx := context.Background()
	db, sender := queueSetup(t, 0)
	inboxes := []string{"https://a.example/inbox", `https://b.example/users/"q"/inbox`, "https://a.example/inbox", "https://ü.example/inbox"}
	for range 2 {
		err := db.Write(ctx, func(tx *Tx) error {
			return tx.EnqueueDeliveries(ctx, sender.ID, "https://coop.example/activities/x", []byte(`{"id":"x"}`), inboxes, t0)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	ds, err := db.Deliveries(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.Inbox)
		if string(d.Body) != `{"id":"x"}` || d.State != DeliveryQueued || !d.NextAttemptAt.Equal(t0) {
			t.Errorf("queued %+v", d)
		}
	}
	want := []string{"https://ü.example/inbox", `https://b.example/users/"q"/inbox`, "https://a.example/inbox"} // newest first
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("inboxes %q, want %q", got, want)
	}
}
