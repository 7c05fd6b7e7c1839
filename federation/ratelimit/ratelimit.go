// Package ratelimit bounds how fast one client may call: token buckets
// (golang.org/x/time/rate) kept per key — a client address before
// authentication, a verified key's host after it — with idle buckets
// evicted so that memory stays bounded. It also finds a request's client
// address behind trusted reverse proxies (X-Forwarded-For).
//
// It does no I/O and must not import go-fed's streams. Every call takes
// the time, so tests run on a fixed clock.
package ratelimit

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys is how many keys a Limiter tracks at most, unless told
// otherwise: at about 200 bytes each, some 20 MB.
const DefaultMaxKeys = 100_000

// overflowKey is the one bucket shared by new keys while a Limiter tracks
// MaxKeys of them: a flood of distinct addresses is limited together, and
// never grows memory.
const overflowKey = "\x00overflow"

// Limiter is a set of token buckets, one per key, each refilled at the
// same rate up to the same burst. It is safe for concurrent use.
type Limiter struct {
	limit   rate.Limit
	burst   int
	maxKeys int
	// idle is how long a bucket unused is full again: from then on it is
	// the same as a new one, so evicting it changes no answer.
	idle time.Duration

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New makes a Limiter allowing perSecond calls a second per key, with
// bursts of up to burst; maxKeys <= 0 is DefaultMaxKeys. perSecond must be
// more than zero and burst at least one.
func New(perSecond float64, burst, maxKeys int) *Limiter {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	idle := time.Duration(math.Ceil(float64(burst) / perSecond * float64(time.Second)))
	return &Limiter{limit: rate.Limit(perSecond), burst: burst, maxKeys: maxKeys, idle: max(idle, time.Second),
		buckets: make(map[string]*bucket)}
}

// Allow takes one token from key's bucket at now. When there is none it
// returns false and how long until there is one.
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.idle {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.maxKeys {
			l.sweep(now)
		}
		if len(l.buckets) >= l.maxKeys {
			key = overflowKey
			b = l.buckets[key]
		}
		if b == nil {
			b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
			l.buckets[key] = b
		}
	}
	b.seen = now
	if b.lim.AllowN(now, 1) {
		return true, 0
	}
	r := b.lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	r.CancelAt(now)
	return false, wait
}

// sweep drops the buckets idle long enough to be full again.
func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.seen) >= l.idle {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}

// Len is how many buckets the Limiter holds.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// RetryAfter is the Retry-After header value for a wait: whole seconds,
// rounded up, at least 1.
func RetryAfter(wait time.Duration) string {
	s := int64(math.Ceil(wait.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// ClientAddr returns the address of the client that sent r. The peer of
// the connection is the client unless it is in trusted (a reverse proxy
// this node sits behind); then X-Forwarded-For is read from the right,
// skipping trusted addresses, and the right-most untrusted one is the
// client. Entries to its left were written by the client itself and are
// never believed. When every hop is trusted, the left-most is the client.
// An entry that does not parse ends the walk at the hop that wrote it.
func ClientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	var addr netip.Addr
	if err == nil {
		addr = peer.Addr().Unmap()
	} else if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		addr = a.Unmap()
	} else {
		return netip.Addr{}
	}
	if !contains(trusted, addr) {
		return addr
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := parseHop(hops[i])
		if err != nil {
			return addr
		}
		addr = a
		if !contains(trusted, addr) {
			return addr
		}
	}
	return addr
}

// parseHop parses one X-Forwarded-For entry: an address, possibly with a
// port, an IPv6 one possibly in brackets.
func parseHop(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), nil
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.Addr{}, err
	}
	return a.Unmap(), nil
}

func contains(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// AddrKey is the bucket key of a client address: an IPv4 address itself,
// an IPv6 address by its /64, which one subscriber usually holds whole.
func AddrKey(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
