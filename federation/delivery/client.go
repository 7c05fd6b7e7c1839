package delivery

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/coopfed/coopfed/federation/netpolicy"
)

// maxIdle is how many idle connections the client keeps in all.
const maxIdle = 64

// errNotAllowed marks an inbox this node must not reach: a delivery to it
// is dead at once, since asking again changes nothing.
var errNotAllowed = netpolicy.ErrNotAllowed

// dialer applies the connection rules of the package doc, which are
// package netpolicy's.
type dialer struct{ *netpolicy.Policy }

// newClient makes delivery's HTTP client. Each request's context carries
// the timeout (Workers.post), so the client sets none of its own, which
// would cost a timer and a goroutine more per request.
//
// Idle connections: a fan-out sends one request to each of many hosts,
// and the next activity goes to the same hosts, so up to maxIdle
// connections are kept for reuse, and per host as many as there are
// workers (all of them may be sending to one big instance's shared
// inbox). An idle connection costs two goroutines and ~10 KiB of buffers
// (more with TLS); beyond maxIdle the connection is closed after its
// response and the next request to that host dials again.
func newClient(d *dialer, timeout time.Duration, workers int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                  nil, // never a proxy from the environment: the dial rules must hold
			DialContext:            d.Dial,
			ForceAttemptHTTP2:      true,
			TLSHandshakeTimeout:    10 * time.Second,
			ResponseHeaderTimeout:  timeout,
			MaxResponseHeaderBytes: 64 << 10,
			MaxIdleConns:           max(maxIdle, 2*workers),
			MaxIdleConnsPerHost:    workers,
			IdleConnTimeout:        90 * time.Second,
		},
		// A redirected POST is not followed: the 3xx is the answer (and a
		// retry), so a peer cannot send the node's signed POSTs elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkURL accepts an inbox URL this node may POST to.
func (d *dialer) checkURL(inbox string) (*url.URL, error) {
	u, err := url.Parse(inbox)
	switch {
	case err != nil || u.Host == "" || u.User != nil:
		return nil, fmt.Errorf("inbox %q is not a URL: %w", inbox, errNotAllowed)
	case u.Scheme == d.Scheme(u.Host):
		return u, nil
	}
	return nil, fmt.Errorf("inbox %q: this node delivers only over https (plain http only to mapped or loopback hosts in development mode): %w", inbox, errNotAllowed)
}
