package delivery

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coopfed/coopfed/federation/netpolicy"
	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/store"
)

// Store is the queue as Workers use it; *store.DB implements it.
// SettleDeliveries records a batch of outcomes in one transaction, each
// only while the claim named by its Lease (ClaimedDelivery.LeaseUntil)
// still holds the row.
type Store interface {
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.ClaimedDelivery, error)
	SettleDeliveries(ctx context.Context, outs []store.DeliveryOutcome) (lost []bool, err error)
	RequeueInFlight(ctx context.Context, at time.Time) (int, error)
}

var _ Store = (*store.DB)(nil)

// Defaults for the zero fields of Config.
const (
	// DefaultWorkers is how many deliveries are in flight at once. A
	// delivery costs ~1 ms of CPU (the RSA signature) and then waits on the
	// peer for 50 ms to 30 s: the pool is sized for waiting, not for CPU.
	// Two per CPU would let a few slow or dead peers (each holding a
	// worker for the 30 s timeout) stall the whole queue; 16 keep ~80
	// deliveries/s flowing at a typical 200 ms round trip while costing
	// only goroutines and idle connections. Signing at ~1,000/s per core
	// stays the ceiling either way.
	DefaultWorkers = 16
	DefaultTimeout = 30 * time.Second
	DefaultLease   = 2 * time.Minute
	DefaultPoll    = time.Second
	DefaultGrace   = 10 * time.Second
	// maxResponseBytes is how much of a response is read (and so how much
	// a peer can make the node read); the rest is dropped with the
	// connection.
	maxResponseBytes = 64 << 10
	// maxErrorText is how much of a failure is kept in last_error.
	maxErrorText = 300
	// dbTimeout bounds each write of outcomes, which runs even after
	// Run's context ended.
	dbTimeout = 10 * time.Second
	// settleBatch is the most outcomes recorded in one transaction, and
	// settleLinger how long the first outcome of a batch waits for
	// others while deliveries are still in flight. A commit costs about
	// as much as 5–6 row updates inside one (~14,000 commits/s against
	// ~77,000 rows/s batched, notes/libraries.md); at a fan-out's ~2,000
	// outcomes/s, 5 ms gathers ~10 per commit.
	settleBatch  = 256
	settleLinger = 5 * time.Millisecond
)

// Config is what Workers need. Store and KeyID are required.
type Config struct {
	Store Store
	// KeyID turns a sender's handle into its key id (coop.Site.KeyID: the
	// actor id + "#main-key").
	KeyID func(senderHandle string) string
	// UserAgent is sent with every request: "coopfed/VERSION (+https://HOST/)".
	UserAgent string
	Workers   int           // deliveries in flight at once; 0: DefaultWorkers
	Timeout   time.Duration // per request, connection to last byte; 0: DefaultTimeout
	Lease     time.Duration // how long a claim holds a row; 0: DefaultLease; at least 2×Timeout
	Poll      time.Duration // how often to look for due rows when idle; 0: DefaultPoll
	Grace     time.Duration // how long requests in flight may finish after Run's ctx ends; 0: DefaultGrace
	// Exclusive says this process is the only one delivering from Store
	// (SQLite: one serve per database). Run then re-queues, when it starts,
	// every row left in flight, which can only be a crashed run's, instead
	// of waiting for their leases to expire.
	Exclusive bool
	// DevMode allows plain http and loopback addresses, and DevHosts maps
	// a peer's host[:port] to the loopback host:port it listens on.
	DevMode  bool
	DevHosts map[string]string
	// Blocked, when set, is asked before each attempt whether the inbox
	// is blocked (its domain or account); a blocked one is dead at once,
	// with the reason "blocked", unsent.
	Blocked func(ctx context.Context, inbox string) (bool, error)
	Log     *slog.Logger     // nil: discard
	Clock   func() time.Time // nil: time.Now
	Rand    func() float64   // uniform in [0, 1), for jitter; nil: math/rand/v2
}

// Stats counts what Workers did since they were made.
type Stats struct {
	Claimed   int64 // rows claimed
	Delivered int64 // done
	Retried   int64 // rescheduled after a failed attempt
	Dead      int64 // given up
	Released  int64 // given back unattempted at shutdown
	LeaseLost int64 // outcomes dropped because the claim had expired
}

// Workers deliver queued activities; see the package doc. Make them with
// New and run them with Run, once.
type Workers struct {
	cfg    Config
	log    *slog.Logger
	client *http.Client
	dialer *dialer
	wake   chan struct{}

	keyMu sync.Mutex
	keys  map[int64]cachedKey // sender id -> parsed key

	// unsettled counts claimed rows whose outcome has not reached the
	// recorder yet: when it is zero no outcome is coming, and a batch
	// waits no longer.
	unsettled atomic.Int64

	claimed, delivered, retried, dead, released, leaseLost atomic.Int64
}

type cachedKey struct {
	pem string
	key *rsa.PrivateKey
}

// New makes Workers from cfg, filling in the defaults.
func New(cfg Config) (*Workers, error) {
	if cfg.Store == nil || cfg.KeyID == nil {
		return nil, errors.New("delivery: Config.Store and Config.KeyID are required")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Lease < 2*cfg.Timeout {
		return nil, fmt.Errorf("delivery: lease %s is shorter than twice the request timeout %s: a slow request would be claimed twice", cfg.Lease, cfg.Timeout)
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &dialer{netpolicy.New(cfg.DevHosts, cfg.DevMode)}
	return &Workers{
		cfg:    cfg,
		log:    log,
		dialer: d,
		client: newClient(d, cfg.Timeout, cfg.Workers),
		wake:   make(chan struct{}, 1),
		keys:   make(map[int64]cachedKey),
	}, nil
}

// Wake tells the workers that deliveries were queued, so that they look
// now rather than at the next poll. It never blocks.
func (w *Workers) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Stats returns the counters so far.
func (w *Workers) Stats() Stats {
	return Stats{
		Claimed: w.claimed.Load(), Delivered: w.delivered.Load(), Retried: w.retried.Load(),
		Dead: w.dead.Load(), Released: w.released.Load(), LeaseLost: w.leaseLost.Load(),
	}
}

// Run delivers until ctx ends, then shuts down as the package doc says,
// and returns nil once every claim is settled or released. It returns an
// error only if it cannot start.
//
// Inside, one goroutine claims due rows in batches and hands them to
// Config.Workers goroutines, which each sign and send one delivery at a
// time (the RSA work so runs on every core at once, behind no lock), and
// hand the outcome to a recorder goroutine that writes outcomes in
// batches, one transaction each.
func (w *Workers) Run(ctx context.Context) error {
	if w.cfg.Exclusive {
		n, err := w.cfg.Store.RequeueInFlight(ctx, w.cfg.Clock())
		if err != nil {
			return fmt.Errorf("delivery: %w", err)
		}
		if n > 0 {
			w.log.Info("re-queued deliveries left in flight by an earlier run", "count", n)
		}
	}
	// Requests run under their own context, cancelled only when the grace
	// period after ctx has passed.
	reqCtx, cancelReqs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReqs()

	rec := &recorder{w: w, in: make(chan outcome, 2*w.cfg.Workers), done: make(chan struct{})}
	go rec.run()

	// A slot is a claimed row not yet settled: the workers' rows, and up
	// to ahead more waiting in jobs for the next free worker.
	ahead := w.ahead()
	slots := make(chan struct{}, w.cfg.Workers+ahead)
	jobs := make(chan job, ahead)
	var wg sync.WaitGroup
	for range w.cfg.Workers {
		wg.Go(func() {
			for j := range jobs {
				rec.in <- w.attempt(ctx, reqCtx, j)
				<-slots
			}
		})
	}
	w.dispatch(ctx, jobs, slots, ahead)
	close(jobs)

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.cfg.Grace):
		w.log.Info("delivery grace period over: releasing deliveries in flight", "grace", w.cfg.Grace.String())
		cancelReqs()
		<-done
	}
	close(rec.in)
	<-rec.done
	return nil
}

// job is a claimed delivery made ready to send by the claiming goroutine:
// the sender's key parsed (once per sender, not per delivery) and the
// body's digest computed (once per activity, not per inbox).
type job struct {
	store.ClaimedDelivery
	key    *rsa.PrivateKey
	keyErr error
	digest string
}

// digestCache keeps the digests of the bodies of the activities being
// delivered. Only the claiming goroutine uses it.
type digestCache map[string]digested

type digested struct {
	body   []byte
	digest string
}

// digestCacheSize bounds the cache: activities are claimed roughly in the
// order they were queued, so a few recent ones are what recurs.
const digestCacheSize = 64

// of returns the digest of c's body, computing it only for a body not seen
// with this activity id, and the body to send, shared by every delivery of
// the activity so that a batch holds one copy.
func (dc digestCache) of(c store.ClaimedDelivery) ([]byte, string) {
	if d, ok := dc[c.ActivityID]; ok && bytes.Equal(d.body, c.Body) {
		return d.body, d.digest
	}
	if len(dc) >= digestCacheSize {
		clear(dc)
	}
	d := digested{body: c.Body, digest: sig.Digest(c.Body)}
	dc[c.ActivityID] = d
	return d.body, d.digest
}

// ahead is how many claimed rows may wait for a free worker. A claim is a
// transaction (~1 ms here, most of it fixed cost), so the more rows each
// claims the better; but a claimed row's lease runs while it waits. Each
// worker finishes a request within Config.Timeout, so a row with k·Workers
// rows ahead of it starts within k+1 timeouts and ends one timeout later:
// with Lease at least 2×Timeout (New checks) and ahead = Workers·(L−2),
// L = Lease/Timeout rounded down, a row ends within L−1 timeouts, one
// timeout short of its lease, which leaves room for the block checks and
// signatures (with L = 2, ahead is Workers and a row ends within its
// lease exactly). With the defaults (2 min, 30 s) 32 rows wait ahead of
// 16 workers.
func (w *Workers) ahead() int {
	return w.cfg.Workers * max(1, int(w.cfg.Lease/w.cfg.Timeout)-2)
}

// dispatch claims due rows while ctx lasts and queues them on jobs, holding
// a slot for each until its outcome is handed on.
func (w *Workers) dispatch(ctx context.Context, jobs chan<- job, slots chan struct{}, ahead int) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	digests := make(digestCache)
	for {
		// Wait until the rows that may wait ahead are free, so that a
		// claim is a batch rather than a row each time a delivery ends
		// (the workers meanwhile have rows in hand); then take every
		// other free one.
		n := 0
		for n < ahead {
			select {
			case <-ctx.Done():
				for range n {
					<-slots
				}
				return
			case slots <- struct{}{}:
				n++
			}
		}
	more:
		for n < cap(slots) {
			select {
			case slots <- struct{}{}:
				n++
			default:
				break more
			}
		}
		claimed, err := w.cfg.Store.ClaimDeliveries(ctx, w.cfg.Clock(), w.cfg.Lease, n)
		if err != nil && ctx.Err() == nil {
			w.log.Error("claim deliveries", "error", err)
		}
		w.claimed.Add(int64(len(claimed)))
		w.unsettled.Add(int64(len(claimed)))
		for _, c := range claimed {
			j := job{ClaimedDelivery: c}
			j.key, j.keyErr = w.key(c.SenderID, c.SenderKeyPEM)
			j.Body, j.digest = digests.of(c)
			jobs <- j
		}
		for range n - len(claimed) {
			<-slots
		}
		if len(claimed) == n && err == nil {
			continue // more may be due
		}
		// Idle (or the store failed): wait for the poll, a wake-up or the end.
		timer.Reset(w.cfg.Poll)
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// result is what one POST came to.
type result struct {
	status     int
	err        error // transport error, or why the request was not sent
	body       string
	retryAfter string
}

// outcome is what an attempt at a claimed delivery came to, for the
// recorder.
type outcome struct {
	store.DeliveryOutcome
	c       store.ClaimedDelivery
	blocked bool
}

// attempt makes one attempt at j and says what to record. A job that
// Run's ctx ended before it started is released unattempted.
func (w *Workers) attempt(ctx, reqCtx context.Context, j job) outcome {
	c := j.ClaimedDelivery
	c.Body = nil // the recorder keeps the outcome, not the body
	o := outcome{c: c, DeliveryOutcome: store.DeliveryOutcome{ID: c.ID, Lease: c.LeaseUntil}}
	if ctx.Err() != nil {
		o.Settle, o.At = store.SettleRelease, w.cfg.Clock()
		return o
	}
	var a result
	if w.cfg.Blocked != nil {
		o.blocked, a.err = w.cfg.Blocked(reqCtx, c.Inbox)
	}
	if !o.blocked && a.err == nil {
		a = w.post(reqCtx, j)
	}
	now := w.cfg.Clock()
	o.At, o.Status = now, a.status
	switch {
	case o.blocked:
		o.Settle, o.Status, o.Error = store.SettleDead, 0, "blocked"
	case a.err != nil && reqCtx.Err() != nil:
		// Cut off by shutdown: not an attempt, give it back.
		o.Settle = store.SettleRelease
	case a.err != nil && errors.Is(a.err, errNotAllowed):
		o.Settle, o.Error = store.SettleDead, clip(a.err.Error())
	case a.err == nil && judge(a.status) == verdictDone:
		o.Settle = store.SettleDone
	case a.err == nil && judge(a.status) == verdictDead:
		o.Settle, o.Error = store.SettleDead, clip(fmt.Sprintf("HTTP %d %s", a.status, a.body))
	default:
		var text string
		if a.err != nil {
			text = a.err.Error()
		} else {
			text = fmt.Sprintf("HTTP %d %s", a.status, a.body)
		}
		text = clip(text)
		n := c.Attempts + 1
		if n >= MaxAttempts {
			o.Settle, o.Error = store.SettleDead, clip(fmt.Sprintf("gave up after %d attempts: %s", n, text))
			break
		}
		wait := jittered(Backoff(n), w.cfg.Rand())
		if a.status == http.StatusTooManyRequests || a.status == http.StatusServiceUnavailable {
			if d, ok := retryAfter(a.retryAfter, now); ok {
				wait = d
			}
		}
		o.Settle, o.Error, o.Next = store.SettleRetry, text, now.Add(wait)
	}
	return o
}

// recorder writes outcomes in batches, one transaction each (group
// commit), and counts and logs them once written.
//
// An outcome is written after its request was sent, so a crash (SIGKILL)
// between the two leaves the row in flight: it is sent again after a
// restart (at once with Config.Exclusive, else when its lease expires).
// Batching widens that window from one commit to at most settleLinger
// plus one commit, and never loses a delivery: a row leaves the queue only
// when its outcome is recorded. Receivers deduplicate by activity id.
type recorder struct {
	w    *Workers
	in   chan outcome // closed by Run once every worker has stopped
	done chan struct{}
}

func (r *recorder) run() {
	defer close(r.done)
	batch := make([]outcome, 0, settleBatch)
	linger := time.NewTimer(settleLinger)
	linger.Stop()
	for o := range r.in {
		r.w.unsettled.Add(-1)
		batch = append(batch[:0], o)
		linger.Reset(settleLinger)
	gather:
		for len(batch) < settleBatch {
			if r.w.unsettled.Load() <= 0 && len(r.in) == 0 {
				break // nothing else is coming now
			}
			select {
			case o, ok := <-r.in:
				if !ok {
					break gather
				}
				r.w.unsettled.Add(-1)
				batch = append(batch, o)
			case <-linger.C:
				break gather
			}
		}
		linger.Stop()
		r.write(batch)
	}
}

// write records batch and counts and logs each outcome.
func (r *recorder) write(batch []outcome) {
	w := r.w
	outs := make([]store.DeliveryOutcome, len(batch))
	for i, o := range batch {
		outs[i] = o.DeliveryOutcome
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	lost, err := w.cfg.Store.SettleDeliveries(ctx, outs)
	if err != nil {
		// The rows stay in flight until their leases expire, then are
		// claimed and sent again.
		w.log.Error("record delivery outcomes", "count", len(batch), "error", err)
		return
	}
	for i, o := range batch {
		if lost[i] {
			w.leaseLost.Add(1)
			w.logOutcome(slog.LevelWarn, "delivery outcome dropped: the claim expired and the row was claimed again", o)
			continue
		}
		switch o.Settle {
		case store.SettleDone:
			w.delivered.Add(1)
			w.logOutcome(slog.LevelDebug, "delivered", o)
		case store.SettleRetry:
			w.retried.Add(1)
			w.logOutcome(slog.LevelInfo, "delivery failed, will retry", o, "next_attempt", o.Next.UTC().Format(time.RFC3339))
		case store.SettleDead:
			w.dead.Add(1)
			w.logOutcome(slog.LevelWarn, "delivery failed for good", o)
		case store.SettleRelease:
			w.released.Add(1)
			w.logOutcome(slog.LevelInfo, "delivery released at shutdown", o)
		}
	}
}

// logOutcome logs one outcome, building its attributes only when the
// level is enabled: a fan-out records thousands.
func (w *Workers) logOutcome(level slog.Level, msg string, o outcome, extra ...any) {
	ctx := context.Background()
	if !w.log.Enabled(ctx, level) {
		return
	}
	args := []any{"delivery_id", o.c.ID, "activity_id", o.c.ActivityID, "inbox", o.c.Inbox, "attempt", o.c.Attempts + 1}
	if o.Settle != store.SettleRelease {
		args = append(args, "status", o.Status)
		if o.Error != "" {
			args = append(args, "error", o.Error)
		}
	}
	w.log.Log(ctx, level, msg, append(args, extra...)...)
}

// post signs and sends j once.
func (w *Workers) post(ctx context.Context, j job) result {
	u, err := w.dialer.checkURL(j.Inbox)
	if err != nil {
		return result{err: err}
	}
	if j.keyErr != nil {
		return result{err: fmt.Errorf("sender %d: %w: %w", j.SenderID, j.keyErr, errNotAllowed)}
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(j.Body))
	if err != nil {
		return result{err: fmt.Errorf("%w: %w", err, errNotAllowed)}
	}
	req.Header.Set("Content-Type", "application/activity+json")
	req.Header.Set("Accept", "application/activity+json, application/ld+json")
	if w.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", w.cfg.UserAgent)
	}
	if err := sig.SignDigest(req, w.cfg.KeyID(j.SenderHandle), j.key, j.digest, w.cfg.Clock()); err != nil {
		return result{err: fmt.Errorf("%w: %w", err, errNotAllowed)}
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	// Read what the peer says (bounded), so that the connection can be
	// reused and a refusal's reason lands in last_error.
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	return result{status: resp.StatusCode, body: string(b), retryAfter: resp.Header.Get("Retry-After")}
}

// key parses a sender's key once, and again only when the stored PEM
// changes (a key rotation).
func (w *Workers) key(senderID int64, pemText string) (*rsa.PrivateKey, error) {
	w.keyMu.Lock()
	defer w.keyMu.Unlock()
	if k, ok := w.keys[senderID]; ok && k.pem == pemText {
		return k.key, nil
	}
	key, err := sig.ParsePrivateKey(pemText)
	if err != nil {
		return nil, err
	}
	w.keys[senderID] = cachedKey{pem: pemText, key: key}
	return key, nil
}

// clip makes s a short single line of valid UTF-8 for last_error and logs.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxErrorText {
		return s
	}
	cut := maxErrorText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
