package delivery

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/store"
	"github.com/go-fed/httpsig"
	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
	keyPEM  string
)

func senderKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		testKey, keyPEM = k, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	})
	return testKey, keyPEM
}

// clock is a fake clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const site = "https://coop.example"

var activitySeq atomic.Int64

func keyID(handle string) string {
	return coop.Site{Scheme: "https", Host: "coop.example"}.KeyID(handle)
}

// queue is a database with one sender, the co-op.
type queue struct {
	db     *store.DB
	sender coop.Actor
	clock  *clock
}

func newQueue(t *testing.T) *queue {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "coopfed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, priv := senderKey(t)
	q := &queue{db: db, clock: &clock{t: t0}}
	err = db.Write(ctx, func(tx *store.Tx) error {
		q.sender, err = tx.InsertActor(ctx, coop.Actor{Kind: coop.KindOrganization, Handle: "coop", Name: "Co-op",
			PublicKeyPEM: "PUBLIC", CreatedAt: t0, UpdatedAt: t0}, priv)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// enqueue queues n activities to inbox and returns their ids.
func (q *queue) enqueue(t *testing.T, inbox string, n int) []string {
	t.Helper()
	var ids []string
	err := q.db.Write(context.Background(), func(tx *store.Tx) error {
		for range n {
			id := fmt.Sprintf("%s/activities/%d", site, activitySeq.Add(1))
			ids = append(ids, id)
			body := fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Create","actor":"%s/users/coop"}`, id, site)
			if err := tx.EnqueueDeliveries(context.Background(), q.sender.ID, id, []byte(body), []string{inbox}, q.clock.Now()); err != nil {
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

func (q *queue) config() Config {
	return Config{
		Store:     q.db,
		KeyID:     keyID,
		UserAgent: "coopfed/test (+https://coop.example/)",
		Poll:      5 * time.Millisecond,
		DevMode:   true,
		Clock:     q.clock.Now,
		Rand:      func() float64 { return 0.5 }, // jitter factor 1
	}
}

// start runs workers until the test ends or stop is called; stop waits
// for Run to return.
func start(t *testing.T, cfg Config) (w *Workers, stop func()) {
	t.Helper()
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Error("Run did not return 20 s after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return w, stop
}

// waitFor polls cond until it holds, for at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (q *queue) all(t *testing.T) []store.Delivery {
	t.Helper()
	ds, err := q.db.Deliveries(context.Background(), "", 10000)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// settled waits until no delivery is queued-and-due or in flight.
func (q *queue) settled(t *testing.T) []store.Delivery {
	t.Helper()
	var ds []store.Delivery
	waitFor(t, "deliveries to settle", func() bool {
		ds = q.all(t)
		for _, d := range ds {
			if d.State == store.DeliveryInFlight || d.State == store.DeliveryQueued && d.Attempts == 0 {
				return false
			}
		}
		return true
	})
	return ds
}

func TestBackoffSchedule(t *testing.T) {
	want := []time.Duration{
		30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute,
		32 * time.Minute, 64 * time.Minute, 128 * time.Minute, 256 * time.Minute, 512 * time.Minute,
		12 * time.Hour, 12 * time.Hour, 12 * time.Hour, 12 * time.Hour,
	}
	var total time.Duration
	for i, w := range want {
		attempt := i + 1
		t.Run(fmt.Sprintf("after attempt %d", attempt), func(t *testing.T) {
			if got := Backoff(attempt); got != w {
				t.Fatalf("Backoff(%d) = %s, want %s", attempt, got, w)
			}
		})
		total += w
	}
	if len(want) != MaxAttempts-1 {
		t.Fatalf("%d waits for %d attempts", len(want), MaxAttempts)
	}
	// The last attempt comes about 2.7 days after the first.
	if total != 65*time.Hour+3*time.Minute+30*time.Second {
		t.Fatalf("whole schedule %s", total)
	}
	if Backoff(100) != 12*time.Hour || Backoff(0) != 30*time.Second {
		t.Fatal("Backoff out of range")
	}
	for _, tt := range []struct {
		u    float64
		want time.Duration
	}{{0, 24 * time.Second}, {0.5, 30 * time.Second}, {0.999999, 36 * time.Second}} {
		if got := jittered(30*time.Second, tt.u).Round(time.Second); got != tt.want {
			t.Errorf("jittered(30s, %v) = %s, want %s", tt.u, got, tt.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := t0
	tests := []struct {
		name   string
		header string
		want   time.Duration
		ok     bool
	}{
		{"seconds", "120", 2 * time.Minute, true},
		{"zero seconds", "0", 0, true},
		{"seconds capped at a day", "999999", 24 * time.Hour, true},
		{"HTTP date", now.Add(90 * time.Minute).Format(http.TimeFormat), 90 * time.Minute, true},
		{"past date is now", now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"far date capped at a day", now.Add(30 * 24 * time.Hour).Format(http.TimeFormat), 24 * time.Hour, true},
		{"absent", "", 0, false},
		{"negative", "-5", 0, false},
		{"junk", "soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := retryAfter(tt.header, now)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("retryAfter(%q) = %s, %v; want %s, %v", tt.header, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestInboxes(t *testing.T) {
	got := Inboxes([]Recipient{
		{Inbox: "https://a.example/users/1/inbox", SharedInbox: "https://a.example/inbox"},
		{Inbox: "https://b.example/users/x/inbox"},
		{Inbox: "https://a.example/users/2/inbox", SharedInbox: "https://a.example/inbox"},
		{Inbox: "https://b.example/users/x/inbox"},
		{},
		{Inbox: "https://c.example/u/inbox", SharedInbox: ""},
	})
	want := []string{"https://a.example/inbox", "https://b.example/users/x/inbox", "https://c.example/u/inbox"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Inboxes (-want +got):\n%s", diff)
	}
}

// TestOutcomes sends one delivery to a receiver answering one status, and
// checks the row it leaves.
func TestOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		header   map[string]string
		state    store.DeliveryState
		wait     time.Duration // from the attempt to next_attempt_at, for a retry
		errorHas string
	}{
		{"202 is done", 202, nil, store.DeliveryDone, 0, ""},
		{"200 is done", 200, nil, store.DeliveryDone, 0, ""},
		{"410 Gone is dead at once", 410, nil, store.DeliveryDead, 0, "HTTP 410"},
		{"400 is dead at once", 400, nil, store.DeliveryDead, 0, "HTTP 400 no thanks"},
		{"403 is dead at once", 403, nil, store.DeliveryDead, 0, "HTTP 403"},
		{"401 is retried", 401, nil, store.DeliveryQueued, 30 * time.Second, "HTTP 401"},
		{"408 is retried", 408, nil, store.DeliveryQueued, 30 * time.Second, "HTTP 408"},
		{"500 is retried", 500, nil, store.DeliveryQueued, 30 * time.Second, "HTTP 500"},
		{"301 is not followed, retried", 301, map[string]string{"Location": "http://127.0.0.1:1/elsewhere"}, store.DeliveryQueued, 30 * time.Second, "HTTP 301"},
		{"429 honours Retry-After seconds", 429, map[string]string{"Retry-After": "600"}, store.DeliveryQueued, 10 * time.Minute, "HTTP 429"},
		{"503 honours a Retry-After date", 503, map[string]string{"Retry-After": t0.Add(3 * time.Hour).Format(http.TimeFormat)}, store.DeliveryQueued, 3 * time.Hour, "HTTP 503"},
		{"429 without Retry-After backs off", 429, nil, store.DeliveryQueued, 30 * time.Second, "HTTP 429"},
		{"500 ignores Retry-After", 500, map[string]string{"Retry-After": "600"}, store.DeliveryQueued, 30 * time.Second, "HTTP 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				if tt.status >= 300 {
					io.WriteString(w, "no thanks\n")
				}
			}))
			defer srv.Close()
			q := newQueue(t)
			q.enqueue(t, srv.URL+"/inbox", 1)
			w, stop := start(t, q.config())
			ds := q.settled(t)
			stop()
			d := ds[0]
			if d.State != tt.state || d.Attempts != 1 || d.LastStatus != tt.status || !strings.Contains(d.LastError, tt.errorHas) {
				t.Fatalf("delivery: state %s, attempts %d, status %d, error %q", d.State, d.Attempts, d.LastStatus, d.LastError)
			}
			if tt.state == store.DeliveryQueued && d.NextAttemptAt.Sub(t0) != tt.wait {
				t.Fatalf("next attempt %s after the first, want %s", d.NextAttemptAt.Sub(t0), tt.wait)
			}
			s := w.Stats()
			if s.Claimed != 1 || s.Delivered+s.Retried+s.Dead != 1 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// TestRetryThenDone: a receiver fails once, then accepts; the second
// attempt comes when the backoff has passed, not before.
func TestRetryThenDone(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(202)
	}))
	defer srv.Close()
	q := newQueue(t)
	q.enqueue(t, srv.URL+"/inbox", 1)
	w, _ := start(t, q.config())
	waitFor(t, "the first attempt", func() bool { return w.Stats().Retried == 1 })
	q.clock.Add(29 * time.Second)
	time.Sleep(50 * time.Millisecond) // ten polls: nothing is due yet
	if calls.Load() != 1 {
		t.Fatalf("%d calls before the backoff passed", calls.Load())
	}
	q.clock.Add(time.Second)
	waitFor(t, "the retry", func() bool { return w.Stats().Delivered == 1 })
	d := q.all(t)[0]
	if d.State != store.DeliveryDone || d.Attempts != 2 || d.LastStatus != 202 || d.LastError != "" {
		t.Fatalf("after the retry: %+v", d)
	}
}

// TestGiveUp: a receiver that always fails gets MaxAttempts attempts, at
// the schedule's times, and the delivery then is dead.
func TestGiveUp(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(502)
	}))
	defer srv.Close()
	q := newQueue(t)
	q.enqueue(t, srv.URL+"/inbox", 1)
	w, _ := start(t, q.config())
	for n := 1; n < MaxAttempts; n++ {
		waitFor(t, fmt.Sprintf("attempt %d", n), func() bool { return w.Stats().Retried == int64(n) })
		d := q.all(t)[0]
		if d.Attempts != n || d.NextAttemptAt.Sub(q.clock.Now()) != Backoff(n) {
			t.Fatalf("after attempt %d: attempts %d, next in %s, want %s", n, d.Attempts, d.NextAttemptAt.Sub(q.clock.Now()), Backoff(n))
		}
		q.clock.Add(Backoff(n))
	}
	waitFor(t, "the last attempt", func() bool { return w.Stats().Dead == 1 })
	d := q.all(t)[0]
	if d.State != store.DeliveryDead || d.Attempts != MaxAttempts || int(calls.Load()) != MaxAttempts ||
		!strings.Contains(d.LastError, "gave up after 16 attempts: HTTP 502") {
		t.Fatalf("after the last attempt: %d calls, %+v", calls.Load(), d)
	}
	if got := q.clock.Now().Sub(t0); got != 65*time.Hour+3*time.Minute+30*time.Second {
		t.Fatalf("last attempt %s after the first", got)
	}
}

// TestSignedRequest checks the request a receiver gets: signed with the
// sender's key over (request-target) host date digest, a Digest that
// matches the body, and the headers peers expect.
func TestSignedRequest(t *testing.T) {
	key, _ := senderKey(t)
	type seen struct {
		err                       error
		keyID, headers, ctype, ua string
		body                      []byte
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s seen
		s.body, _ = io.ReadAll(r.Body)
		s.ctype, s.ua = r.Header.Get("Content-Type"), r.Header.Get("User-Agent")
		if r.Header.Get("Digest") != sig.Digest(s.body) {
			s.err = fmt.Errorf("digest %q does not match the body", r.Header.Get("Digest"))
		} else if v, err := httpsig.NewVerifier(r); err != nil {
			s.err = err
		} else {
			s.keyID = v.KeyId()
			s.err = v.Verify(&key.PublicKey, httpsig.RSA_SHA256)
		}
		for _, part := range strings.Split(r.Header.Get("Signature"), ",") {
			if h, ok := strings.CutPrefix(part, "headers="); ok {
				s.headers = strings.Trim(h, `"`)
			}
		}
		got <- s
		w.WriteHeader(202)
	}))
	defer srv.Close()
	q := newQueue(t)
	ids := q.enqueue(t, srv.URL+"/users/bob/inbox", 1)
	start(t, q.config())
	var s seen
	select {
	case s = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no request")
	}
	if s.err != nil {
		t.Fatalf("signature: %v", s.err)
	}
	if s.keyID != "https://coop.example/users/coop#main-key" || s.headers != "(request-target) host date digest" {
		t.Fatalf("keyId %q, headers %q", s.keyID, s.headers)
	}
	if s.ctype != "application/activity+json" || s.ua != "coopfed/test (+https://coop.example/)" {
		t.Fatalf("Content-Type %q, User-Agent %q", s.ctype, s.ua)
	}
	var doc map[string]any
	if err := json.Unmarshal(s.body, &doc); err != nil || doc["id"] != ids[0] {
		t.Fatalf("body %s: %v", s.body, err)
	}
}

// TestDevHosts: in development mode a peer's host name is dialed at the
// loopback address the table maps it to, and keeps its name in Host.
func TestDevHosts(t *testing.T) {
	hosts := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts <- r.Host
		w.WriteHeader(202)
	}))
	defer srv.Close()
	q := newQueue(t)
	q.enqueue(t, "http://beta.test/inbox", 1)
	cfg := q.config()
	cfg.DevHosts = map[string]string{"Beta.test": strings.TrimPrefix(srv.URL, "http://")}
	start(t, cfg)
	ds := q.settled(t)
	if ds[0].State != store.DeliveryDone || <-hosts != "beta.test" {
		t.Fatalf("delivery %+v", ds[0])
	}
}

// TestProductionRefuses: in production mode plain http and addresses that
// are not public are dead at once, and nothing is sent.
func TestProductionRefuses(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(202)
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(interface{ String() string }).String()
	port = port[strings.LastIndexByte(port, ':'):]
	tests := []struct{ inbox, says string }{
		{srv.URL + "/inbox", "only over https"},
		{"https://127.0.0.1" + port + "/inbox", "not a public address"},
		{"https://localhost" + port + "/inbox", "not a public address"},
		{"https://10.1.2.3/inbox", "not a public address"},
		{"https://[::1]" + port + "/inbox", "not a public address"},
		{"http://beta.test/inbox", "only over https"},
		{"not a url", "is not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.inbox, func(t *testing.T) {
			q := newQueue(t)
			q.enqueue(t, tt.inbox, 1)
			cfg := q.config()
			cfg.DevMode = false
			cfg.DevHosts = map[string]string{"beta.test": strings.TrimPrefix(srv.URL, "http://")}
			start(t, cfg)
			ds := q.settled(t)
			if ds[0].State != store.DeliveryDead || !strings.Contains(ds[0].LastError, tt.says) {
				t.Fatalf("delivery: %s, %q; want dead, %q", ds[0].State, ds[0].LastError, tt.says)
			}
		})
	}
	if calls.Load() != 0 {
		t.Fatalf("the receiver got %d requests", calls.Load())
	}
}

// TestShutdownReleases: requests still in flight when the grace period
// ends are cut off and their deliveries go back to the queue, unattempted.
func TestShutdownReleases(t *testing.T) {
	var inFlight atomic.Int32
	unblock := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Add(1)
		select {
		case <-unblock:
		case <-r.Context().Done():
		}
		w.WriteHeader(202)
	}))
	defer srv.Close()
	defer close(unblock)
	q := newQueue(t)
	q.enqueue(t, srv.URL+"/inbox", 8)
	cfg := q.config()
	cfg.Workers = 4
	cfg.Grace = 100 * time.Millisecond
	w, stop := start(t, cfg)
	waitFor(t, "4 requests in flight", func() bool { return inFlight.Load() == 4 })
	stop()
	// The 4 cut off in flight, and the 4 claimed behind them for the next
	// free worker.
	s := w.Stats()
	if s.Claimed != 8 || s.Released != 8 || s.Delivered != 0 {
		t.Fatalf("stats %+v, want 8 claimed and released", s)
	}
	for _, d := range q.all(t) {
		if d.State != store.DeliveryQueued || d.Attempts != 0 {
			t.Fatalf("after shutdown: %+v", d)
		}
	}
}

// TestShutdownFinishes: requests that end within the grace period are
// recorded as usual; rows claimed but not started are given back
// unattempted, and nothing new is claimed after the context ends.
func TestShutdownFinishes(t *testing.T) {
	var inFlight atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inFlight.Add(1)
		time.Sleep(200 * time.Millisecond)
		w.WriteHeader(202)
	}))
	defer srv.Close()
	q := newQueue(t)
	q.enqueue(t, srv.URL+"/inbox", 6)
	cfg := q.config()
	cfg.Workers = 2
	cfg.Grace = 10 * time.Second
	w, stop := start(t, cfg)
	waitFor(t, "2 requests in flight", func() bool { return inFlight.Load() == 2 })
	stop()
	counts, err := q.db.DeliveryCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s := w.Stats(); s.Delivered != 2 || s.Released != s.Claimed-2 || counts[store.DeliveryDone] != 2 || counts[store.DeliveryQueued] != 4 {
		t.Fatalf("stats %+v, counts %v; want 2 done, the rest claimed released, 4 queued", s, counts)
	}
	for _, d := range q.all(t) {
		if d.State == store.DeliveryQueued && d.Attempts != 0 {
			t.Fatalf("a released delivery counts an attempt: %+v", d)
		}
	}
}

// TestCrashRecovery: rows left in flight by a crashed run are delivered
// at once by an Exclusive run, and after their lease by a shared one.
func TestCrashRecovery(t *testing.T) {
	for _, exclusive := range []bool{true, false} {
		t.Run(fmt.Sprintf("exclusive=%v", exclusive), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(202) }))
			defer srv.Close()
			q := newQueue(t)
			q.enqueue(t, srv.URL+"/inbox", 3)
			// The crashed run's claim.
			if c, err := q.db.ClaimDeliveries(context.Background(), q.clock.Now(), DefaultLease, 10); err != nil || len(c) != 3 {
				t.Fatalf("claim: %d, %v", len(c), err)
			}
			cfg := q.config()
			cfg.Exclusive = exclusive
			w, _ := start(t, cfg)
			if !exclusive {
				time.Sleep(30 * time.Millisecond)
				if w.Stats().Claimed != 0 {
					t.Fatal("claimed under a live lease")
				}
				q.clock.Add(DefaultLease)
			}
			waitFor(t, "recovery", func() bool { return w.Stats().Delivered == 3 })
		})
	}
}

// TestConcurrentWorkersDeliverOnce runs two pools on two handles of one
// database file, as two processes would: each delivery reaches the
// receiver exactly once.
func TestConcurrentWorkersDeliverOnce(t *testing.T) {
	var mu sync.Mutex
	count := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var doc struct{ ID string }
		json.NewDecoder(r.Body).Decode(&doc)
		mu.Lock()
		count[doc.ID]++
		mu.Unlock()
		w.WriteHeader(202)
	}))
	defer srv.Close()
	q := newQueue(t)
	const n = 200
	ids := q.enqueue(t, srv.URL+"/inbox", n)
	db2, err := store.Open(context.Background(), q.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	cfg1, cfg2 := q.config(), q.config()
	cfg2.Store = db2
	w1, _ := start(t, cfg1)
	w2, _ := start(t, cfg2)
	waitFor(t, "every delivery", func() bool { return w1.Stats().Delivered+w2.Stats().Delivered == n })
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if count[id] != 1 {
			t.Fatalf("%s delivered %d times", id, count[id])
		}
	}
	if w1.Stats().Delivered == 0 || w2.Stats().Delivered == 0 {
		t.Logf("one pool did all the work: %+v %+v", w1.Stats(), w2.Stats())
	}
}

func TestNewRefusesShortLease(t *testing.T) {
	if _, err := New(Config{Store: (*store.DB)(nil), KeyID: keyID, Timeout: time.Minute, Lease: time.Minute}); err == nil {
		t.Fatal("accepted a lease shorter than two timeouts")
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("accepted a config without a store")
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", 400)
	tests := []struct{ name, in, want string }{
		{"short text is kept", "HTTP 500 oops", "HTTP 500 oops"},
		{"lines are joined", "HTTP 400\n<html>\n  bad\n</html>\n", "HTTP 400 <html> bad </html>"},
		{"invalid UTF-8 is replaced", "HTTP 500 \xff\xfe", "HTTP 500 ?"},
		{"long text is cut on a rune", long, long[:maxErrorText] + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clip(tt.in); got != tt.want {
				t.Fatalf("clip = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestKeyCache: a sender's key is parsed once, and again when the stored
// key changes.
func TestKeyCache(t *testing.T) {
	_, pemText := senderKey(t)
	w, err := New(Config{Store: (*store.DB)(nil), KeyID: keyID})
	if err != nil {
		t.Fatal(err)
	}
	k1, err := w.key(1, pemText)
	if err != nil {
		t.Fatal(err)
	}
	if k2, _ := w.key(1, pemText); k2 != k1 {
		t.Fatal("parsed the same key twice")
	}
	other, _ := rsa.GenerateKey(rand.Reader, 1024)
	der, _ := x509.MarshalPKCS8PrivateKey(other)
	k3, err := w.key(1, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	if err != nil || k3 == k1 || !k3.Equal(other) {
		t.Fatalf("after rotation: %v", err)
	}
	if _, err := w.key(2, "not a key"); err == nil {
		t.Fatal("parsed junk")
	}
}

// settleCounter is a Store that counts the batches of outcomes written,
// or fails them all when crash is set: to the database, a process killed
// before the batch's commit.
type settleCounter struct {
	Store
	mu      sync.Mutex
	batches []int
	crash   bool
}

func (s *settleCounter) SettleDeliveries(ctx context.Context, outs []store.DeliveryOutcome) ([]bool, error) {
	s.mu.Lock()
	s.batches = append(s.batches, len(outs))
	crash := s.crash
	s.mu.Unlock()
	if crash {
		return nil, fmt.Errorf("killed before the commit")
	}
	return s.Store.SettleDeliveries(ctx, outs)
}

func (s *settleCounter) outcomes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.batches {
		n += b
	}
	return n
}

// TestRecorderBatch: outcomes handed to the recorder together are written
// in one transaction, whatever they are: delivered, to retry, dead,
// released, and one whose claim was lost. Each is counted once written.
func TestRecorderBatch(t *testing.T) {
	q := newQueue(t)
	for range 5 {
		q.enqueue(t, "https://peer.example/inbox", 1)
	}
	ctx := context.Background()
	c, err := q.db.ClaimDeliveries(ctx, t0, time.Minute, 5)
	if err != nil || len(c) != 5 {
		t.Fatalf("claim: %d, %v", len(c), err)
	}
	counter := &settleCounter{Store: q.db}
	cfg := q.config()
	cfg.Store = counter
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	at, next := t0.Add(time.Second), t0.Add(31*time.Second)
	lostLease := c[4].LeaseUntil.Add(time.Second) // not the claim's: as if it had expired and been reclaimed
	rec := &recorder{w: w, in: make(chan outcome, 5), done: make(chan struct{})}
	for _, o := range []store.DeliveryOutcome{
		{ID: c[0].ID, Lease: c[0].LeaseUntil, Settle: store.SettleDone, Status: 202, At: at},
		{ID: c[1].ID, Lease: c[1].LeaseUntil, Settle: store.SettleRetry, Status: 500, Error: "HTTP 500", Next: next, At: at},
		{ID: c[2].ID, Lease: c[2].LeaseUntil, Settle: store.SettleDead, Status: 410, Error: "HTTP 410", At: at},
		{ID: c[3].ID, Lease: c[3].LeaseUntil, Settle: store.SettleRelease, At: at},
		{ID: c[4].ID, Lease: lostLease, Settle: store.SettleDone, Status: 202, At: at},
	} {
		w.unsettled.Add(1)
		rec.in <- outcome{DeliveryOutcome: o}
	}
	close(rec.in)
	rec.run()
	if fmt.Sprint(counter.batches) != "[5]" {
		t.Fatalf("batches %v, want one of 5", counter.batches)
	}
	want := Stats{Delivered: 1, Retried: 1, Dead: 1, Released: 1, LeaseLost: 1}
	if diff := cmp.Diff(want, w.Stats()); diff != "" {
		t.Fatalf("stats (-want +got):\n%s", diff)
	}
	type row struct {
		State    store.DeliveryState
		Attempts int
		Status   int
	}
	wantRows := []row{
		{store.DeliveryDone, 1, 202},
		{store.DeliveryQueued, 1, 500},
		{store.DeliveryDead, 1, 410},
		{store.DeliveryQueued, 0, 0},
		{store.DeliveryInFlight, 0, 0},
	}
	for i, cd := range c {
		d, err := q.db.Delivery(ctx, cd.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := (row{d.State, d.Attempts, d.LastStatus}); got != wantRows[i] {
			t.Errorf("delivery %d: %+v, want %+v", i, got, wantRows[i])
		}
	}
}

// TestMixedOutcomesBatched: one pool delivering to inboxes that accept,
// fail and refuse records each outcome once, in at most as many
// transactions as there are outcomes.
func TestMixedOutcomesBatched(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/ok/"):
			w.WriteHeader(202)
		case strings.HasPrefix(r.URL.Path, "/fail/"):
			w.WriteHeader(500)
		default:
			w.WriteHeader(410)
		}
	}))
	defer srv.Close()
	q := newQueue(t)
	for i := range 10 {
		q.enqueue(t, fmt.Sprintf("%s/ok/%d", srv.URL, i), 1)
		q.enqueue(t, fmt.Sprintf("%s/fail/%d", srv.URL, i), 1)
		q.enqueue(t, fmt.Sprintf("%s/gone/%d", srv.URL, i), 1)
	}
	counter := &settleCounter{Store: q.db}
	cfg := q.config()
	cfg.Store = counter
	w, stop := start(t, cfg)
	ds := q.settled(t)
	stop()
	counts := map[store.DeliveryState]int{}
	for _, d := range ds {
		counts[d.State]++
	}
	if counts[store.DeliveryDone] != 10 || counts[store.DeliveryQueued] != 10 || counts[store.DeliveryDead] != 10 {
		t.Fatalf("states %v, want 10 each of done, queued (to retry), dead", counts)
	}
	if s := w.Stats(); s.Claimed != 30 || s.Delivered != 10 || s.Retried != 10 || s.Dead != 10 || counter.outcomes() != 30 {
		t.Fatalf("stats %+v, %d outcomes written in %v", s, counter.outcomes(), counter.batches)
	}
	t.Logf("30 outcomes in %d transactions: %v", len(counter.batches), counter.batches)
}

// TestCrashBeforeBatchWritten: a process killed after sending but before
// its batch of outcomes commits leaves the rows in flight; the next run
// sends them again (receivers deduplicate by activity id), and none is
// lost.
func TestCrashBeforeBatchWritten(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var doc struct{ ID string }
		json.NewDecoder(r.Body).Decode(&doc)
		mu.Lock()
		got[doc.ID]++
		mu.Unlock()
		w.WriteHeader(202)
	}))
	defer srv.Close()
	q := newQueue(t)
	const n = 40
	ids := q.enqueue(t, srv.URL+"/inbox", n)

	crashed := &settleCounter{Store: q.db, crash: true}
	cfg := q.config()
	cfg.Store = crashed
	w1, stop1 := start(t, cfg)
	waitFor(t, "every outcome of the first run to be lost", func() bool { return crashed.outcomes() == n })
	stop1()
	if s := w1.Stats(); s.Delivered != 0 || s.Claimed != n {
		t.Fatalf("first run: %+v", s)
	}
	counts, err := q.db.DeliveryCounts(context.Background())
	if err != nil || counts[store.DeliveryInFlight] != n {
		t.Fatalf("after the crash: %v, %v; want all %d in flight", counts, err, n)
	}

	cfg = q.config()
	cfg.Exclusive = true
	w2, _ := start(t, cfg)
	waitFor(t, "the second run", func() bool { return w2.Stats().Delivered == n })
	counts, err = q.db.DeliveryCounts(context.Background())
	if err != nil || counts[store.DeliveryDone] != n {
		t.Fatalf("after the second run: %v, %v", counts, err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		if got[id] != 2 {
			t.Fatalf("%s received %d times, want 2 (sent, outcome lost, sent again)", id, got[id])
		}
	}
}
