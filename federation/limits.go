package federation

import (
	"net/http"
	"net/netip"

	"github.com/coopfed/coopfed/federation/netpolicy"
	"github.com/coopfed/coopfed/federation/ratelimit"
)

// Limits bound how fast one client may call this node's federation
// routes. The zero value limits nothing.
type Limits struct {
	// PerAddr limits every federation request by its client address,
	// before anything else is done with it (an IPv6 client by its /64).
	PerAddr *ratelimit.Limiter
	// PerHost limits inbox POSTs by the host of the key that signed them,
	// once the signature is verified: a server that sends from many
	// addresses is limited as one.
	PerHost *ratelimit.Limiter
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (see ratelimit.ClientAddr).
	TrustedProxies []netip.Prefix
}

// limited wraps h with the per-address limit: 429 with Retry-After (in
// seconds) beyond it. A loopback client is not limited: it is this
// machine, or a proxy on it that is not in TrustedProxies, whose clients
// must not share one bucket.
func (s *Server) limited(h http.HandlerFunc) http.HandlerFunc {
	if s.limits.PerAddr == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		addr := ratelimit.ClientAddr(r, s.limits.TrustedProxies)
		if addr.IsValid() && !addr.IsLoopback() {
			if ok, wait := s.limits.PerAddr.Allow(ratelimit.AddrKey(addr), s.now()); !ok {
				retry := ratelimit.RetryAfter(wait)
				s.log.Info("rate limited", "path", r.URL.Path, "client", addr.String(), "retry_after", retry)
				w.Header().Set("Retry-After", retry)
				failJSON(w, http.StatusTooManyRequests, "too many requests from "+addr.String()+"; retry after "+retry+" s")
				return
			}
		}
		h(w, r)
	}
}

// limitHost takes a token for the verified key's host, or refuses with
// 429. A loopback host (a development peer) is not limited.
func (s *Server) limitHost(keyID string) error {
	host := hostOf(keyID)
	if s.limits.PerHost == nil || host == "" || netpolicy.IsLoopbackHost(host) {
		return nil
	}
	if ok, wait := s.limits.PerHost.Allow(host, s.now()); !ok {
		return &inboxError{status: http.StatusTooManyRequests, retryAfter: ratelimit.RetryAfter(wait),
			reason: "too many activities from " + host + "; retry after " + ratelimit.RetryAfter(wait) + " s"}
	}
	return nil
}
