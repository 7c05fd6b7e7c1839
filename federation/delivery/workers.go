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

// Store is the queue as Workers use it; *store.DB implements it. Every
// outcome call names the claim's lease (ClaimedDelivery.LeaseUntil) and
// fails with store.ErrLeaseLost when the claim no longer holds the row.
type Store interface {
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.ClaimedDelivery, error)
	CompleteDelivery(ctx context.Context, id int64, lease time.Time, status int, at time.Time) error
	RescheduleDelivery(ctx context.Context, id int64, lease time.Time, status int, errText string, next, at time.Time) error
	KillDelivery(ctx context.Context, id int64, lease time.Time, status int, reason string, at time.Time) error
	ReleaseDelivery(ctx context.Context, id int64, lease time.Time, at time.Time) error
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
	// dbTimeout bounds each write of an outcome, which runs even after
	// Run's context ended.
	dbTimeout = 10 * time.Second
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
		client: newClient(d, cfg.Timeout),
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
	slots := make(chan struct{}, w.cfg.Workers)
	var wg sync.WaitGroup
	w.dispatch(ctx, reqCtx, slots, &wg)

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.cfg.Grace):
		w.log.Info("delivery grace period over: releasing deliveries in flight", "grace", w.cfg.Grace.String())
		cancelReqs()
		<-done
	}
	return nil
}

// dispatch claims due rows while ctx lasts, one goroutine per row, at most
// cap(slots) at once.
func (w *Workers) dispatch(ctx, reqCtx context.Context, slots chan struct{}, wg *sync.WaitGroup) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		// Wait for a free slot, then take every other free one.
		select {
		case <-ctx.Done():
			return
		case slots <- struct{}{}:
		}
		n := 1
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
		for _, c := range claimed {
			wg.Add(1)
			go func() {
				defer func() { <-slots; wg.Done() }()
				w.deliver(reqCtx, c)
			}()
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

// attempt is the result of one POST.
type attempt struct {
	status     int
	err        error // transport error, or why the request was not sent
	body       string
	retryAfter string
}

// deliver makes one attempt at c and records the outcome.
func (w *Workers) deliver(ctx context.Context, c store.ClaimedDelivery) {
	n := c.Attempts + 1
	log := w.log.With("delivery_id", c.ID, "activity_id", c.ActivityID, "inbox", c.Inbox, "attempt", n)
	var a attempt
	blocked := false
	if w.cfg.Blocked != nil {
		blocked, a.err = w.cfg.Blocked(ctx, c.Inbox)
	}
	if !blocked && a.err == nil {
		a = w.post(ctx, c)
	}
	now := w.cfg.Clock()
	dbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
	defer cancel()
	var err error
	switch {
	case blocked:
		err = w.kill(dbCtx, log, c, 0, "blocked", now)
	case a.err != nil && ctx.Err() != nil:
		// Cut off by shutdown: not an attempt, give it back.
		err = w.cfg.Store.ReleaseDelivery(dbCtx, c.ID, c.LeaseUntil, now)
		if err == nil {
			w.released.Add(1)
			log.Info("delivery released at shutdown")
		}
	case a.err != nil && errors.Is(a.err, errNotAllowed):
		err = w.kill(dbCtx, log, c, 0, clip(a.err.Error()), now)
	case a.err == nil && judge(a.status) == verdictDone:
		err = w.cfg.Store.CompleteDelivery(dbCtx, c.ID, c.LeaseUntil, a.status, now)
		if err == nil {
			w.delivered.Add(1)
			log.Debug("delivered", "status", a.status)
		}
	case a.err == nil && judge(a.status) == verdictDead:
		err = w.kill(dbCtx, log, c, a.status, clip(fmt.Sprintf("HTTP %d %s", a.status, a.body)), now)
	default:
		var text string
		if a.err != nil {
			text = a.err.Error()
		} else {
			text = fmt.Sprintf("HTTP %d %s", a.status, a.body)
		}
		text = clip(text)
		if n >= MaxAttempts {
			err = w.kill(dbCtx, log, c, a.status, clip(fmt.Sprintf("gave up after %d attempts: %s", n, text)), now)
			break
		}
		wait := jittered(Backoff(n), w.cfg.Rand())
		if a.status == http.StatusTooManyRequests || a.status == http.StatusServiceUnavailable {
			if d, ok := retryAfter(a.retryAfter, now); ok {
				wait = d
			}
		}
		next := now.Add(wait)
		err = w.cfg.Store.RescheduleDelivery(dbCtx, c.ID, c.LeaseUntil, a.status, text, next, now)
		if err == nil {
			w.retried.Add(1)
			log.Info("delivery failed, will retry", "status", a.status, "error", text, "next_attempt", next.UTC().Format(time.RFC3339))
		}
	}
	switch {
	case errors.Is(err, store.ErrLeaseLost):
		w.leaseLost.Add(1)
		log.Warn("delivery outcome dropped: the claim expired and the row was claimed again", "status", a.status)
	case err != nil:
		// The row stays in flight until its lease expires, then is retried.
		log.Error("record delivery outcome", "status", a.status, "error", err)
	}
}

func (w *Workers) kill(ctx context.Context, log *slog.Logger, c store.ClaimedDelivery, status int, reason string, now time.Time) error {
	err := w.cfg.Store.KillDelivery(ctx, c.ID, c.LeaseUntil, status, reason, now)
	if err == nil {
		w.dead.Add(1)
		log.Warn("delivery failed for good", "status", status, "error", reason)
	}
	return err
}

// post signs and sends c once.
func (w *Workers) post(ctx context.Context, c store.ClaimedDelivery) attempt {
	u, err := w.dialer.checkURL(c.Inbox)
	if err != nil {
		return attempt{err: err}
	}
	key, err := w.key(c.SenderID, c.SenderKeyPEM)
	if err != nil {
		return attempt{err: fmt.Errorf("sender %d: %w: %w", c.SenderID, err, errNotAllowed)}
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(c.Body))
	if err != nil {
		return attempt{err: fmt.Errorf("%w: %w", err, errNotAllowed)}
	}
	req.Header.Set("Content-Type", "application/activity+json")
	req.Header.Set("Accept", "application/activity+json, application/ld+json")
	if w.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", w.cfg.UserAgent)
	}
	if err := sig.Sign(req, w.cfg.KeyID(c.SenderHandle), key, c.Body, w.cfg.Clock()); err != nil {
		return attempt{err: fmt.Errorf("%w: %w", err, errNotAllowed)}
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return attempt{err: err}
	}
	defer resp.Body.Close()
	// Read what the peer says (bounded), so that the connection can be
	// reused and a refusal's reason lands in last_error.
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	return attempt{status: resp.StatusCode, body: string(b), retryAfter: resp.Header.Get("Retry-After")}
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
