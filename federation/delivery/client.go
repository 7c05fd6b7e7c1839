package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// errNotAllowed marks an inbox this node must not reach: a delivery to it
// is dead at once, since asking again changes nothing.
var errNotAllowed = errors.New("not allowed")

// dialer applies the connection rules of the package doc.
type dialer struct {
	devMode  bool
	devHosts map[string]string // lower-case host[:port] -> loopback host:port
	timeout  time.Duration
}

func newClient(d *dialer, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                  nil, // never a proxy from the environment: the dial rules must hold
			DialContext:            d.dial,
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
	case u.Scheme == "https":
		return u, nil
	case u.Scheme == "http" && d.devMode:
		if _, ok := d.mapped(u.Host); ok || isLoopbackHost(u.Host) {
			return u, nil
		}
	}
	return nil, fmt.Errorf("inbox %q: this node delivers only over https (plain http only to mapped or loopback hosts in development mode): %w", inbox, errNotAllowed)
}

// mapped looks host up in the dev-hosts table, with or without the
// scheme's default port that the transport adds.
func (d *dialer) mapped(host string) (string, bool) {
	if !d.devMode {
		return "", false
	}
	host = strings.ToLower(host)
	if addr, ok := d.devHosts[host]; ok {
		return addr, true
	}
	for _, port := range []string{":80", ":443"} {
		if h, ok := strings.CutSuffix(host, port); ok {
			if addr, ok := d.devHosts[h]; ok {
				return addr, true
			}
		}
	}
	return "", false
}

// dial connects to addr under the rules in the package doc.
func (d *dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := net.Dialer{Timeout: d.timeout}
	if target, ok := d.mapped(addr); ok {
		if !isLoopbackHost(target) {
			return nil, fmt.Errorf("dev host %s maps to %s, which is not a loopback address: %w", addr, target, errNotAllowed)
		}
		return nd.DialContext(ctx, network, target)
	}
	if d.devMode && isLoopbackHost(addr) {
		return nd.DialContext(ctx, network, addr)
	}
	// Checked on the address dialed, after the name is resolved, so that
	// a name resolving to a private address is refused too.
	nd.Control = func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("dial %s: %w", address, err)
		}
		if !publicAddr(ap.Addr()) {
			return fmt.Errorf("dial %s (%s): not a public address: %w", addr, address, errNotAllowed)
		}
		return nil
	}
	return nd.DialContext(ctx, network, addr)
}

// isLoopbackHost reports whether host[:port] is localhost or a loopback IP.
func isLoopbackHost(host string) bool {
	h := host
	if sh, _, err := net.SplitHostPort(host); err == nil {
		h = sh
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.Unmap().IsLoopback()
}

// sharedAddressSpace is RFC 6598's carrier-grade NAT range.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// publicAddr reports whether ip is an address on the public internet.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() &&
		!ip.IsLinkLocalUnicast() && !sharedAddressSpace.Contains(ip)
}
