package delivery

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/coopfed/coopfed/federation/netpolicy"
)

// errNotAllowed marks an inbox this node must not reach: a delivery to it
// is dead at once, since asking again changes nothing.
var errNotAllowed = netpolicy.ErrNotAllowed

// dialer applies the connection rules of the package doc, which are
// package netpolicy's.
type dialer struct{ *netpolicy.Policy }

func newClient(d *dialer, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                  nil, // never a proxy from the environment: the dial rules must hold
			DialContext:            d.Dial,
			ForceAttemptHTTP2:      true,
			TLSHandshakeTimeout:    10 * time.Second,
			ResponseHeaderTimeout:  timeout,
			MaxResponseHeaderBytes: 64 << 10,
			MaxIdleConns:           64,
			MaxIdleConnsPerHost:    8,
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
