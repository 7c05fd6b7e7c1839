package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/negotiate"
)

// ErrNoAccount is a remote account that WebFinger does not know, or whose
// descriptor names no ActivityPub actor. Errors that wrap it also wrap
// coop.ErrInvalidInput: a user gave a name that leads nowhere.
var ErrNoAccount = errors.New("no such account")

// Limits on a WebFinger look-up.
const (
	resolveTimeout = 10 * time.Second
	maxJRDBytes    = 1 << 20
	maxRedirects   = 3
)

// Resolver finds the actor URI of a remote account with WebFinger. It
// implements coop.Resolver.
//
// It speaks https and dials only public addresses, so that a name given
// by a user cannot make the node probe its own network. In development
// mode it speaks plain http to hosts mapped by the dev-hosts table (dialing
// the mapped loopback address instead of resolving the name) and to
// loopback hosts, so that several nodes federate on one machine.
type Resolver struct {
	site     coop.Site
	devHosts map[string]string // lower-case host[:port] -> loopback host:port
	devMode  bool
	client   *http.Client
}

var _ coop.Resolver = (*Resolver)(nil)

// NewResolver builds a Resolver. devHosts maps a peer's host, as in its
// accounts (with ":port" when it has one), to the loopback "127.0.0.1:PORT"
// it listens on; it is used only when devMode is set.
func NewResolver(site coop.Site, devHosts map[string]string, devMode bool) *Resolver {
	r := &Resolver{site: site, devMode: devMode, devHosts: make(map[string]string, len(devHosts))}
	for host, addr := range devHosts {
		r.devHosts[strings.ToLower(host)] = addr
	}
	r.client = &http.Client{
		Timeout: resolveTimeout,
		Transport: &http.Transport{
			// Never a proxy from the environment: the dial rules must hold.
			Proxy:                  nil,
			DialContext:            r.dial,
			ForceAttemptHTTP2:      true,
			TLSHandshakeTimeout:    resolveTimeout,
			ResponseHeaderTimeout:  resolveTimeout,
			MaxResponseHeaderBytes: 64 << 10,
			MaxIdleConns:           16,
			IdleConnTimeout:        90 * time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("more than %d redirects", maxRedirects)
			}
			if req.URL.Scheme != r.scheme(req.URL.Host) {
				return fmt.Errorf("redirect to %s refused: this node reaches %s only over %s", req.URL.Redacted(), req.URL.Host, r.scheme(req.URL.Host))
			}
			return nil
		},
	}
	return r
}

// ResolveAccount returns the actor URI of "name@host" (an "acct:" scheme
// or a leading "@" are tolerated).
func (r *Resolver) ResolveAccount(ctx context.Context, acct string) (string, error) {
	name, host, err := splitAcct(acct)
	if err != nil {
		return "", err
	}
	resource := "acct:" + name + "@" + host
	u := url.URL{
		Scheme:   r.scheme(host),
		Host:     host,
		Path:     "/.well-known/webfinger",
		RawQuery: url.Values{"resource": {resource}}.Encode(),
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("webfinger %s: %w", resource, err)
	}
	req.Header.Set("Accept", "application/jrd+json, application/json")
	req.Header.Set("User-Agent", "coopfed (+"+r.site.Base()+"/)")
	resp, err := r.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("webfinger %s: %w", resource, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return "", fmt.Errorf("%w: %w: %s does not know %s (WebFinger answered %d)", coop.ErrInvalidInput, ErrNoAccount, host, resource, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("webfinger %s: %s answered %s", resource, host, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJRDBytes+1))
	if err != nil {
		return "", fmt.Errorf("webfinger %s: read: %w", resource, err)
	}
	if len(body) > maxJRDBytes {
		return "", fmt.Errorf("webfinger %s: the answer is larger than %d bytes", resource, maxJRDBytes)
	}
	var doc jrd
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("webfinger %s: the answer is not a JRD: %w", resource, err)
	}
	for _, l := range doc.Links {
		if l.Rel != relSelf || !negotiate.IsActivityStreams(l.Type) {
			continue
		}
		if err := r.checkActorURL(l.Href); err != nil {
			return "", fmt.Errorf("webfinger %s: %w", resource, err)
		}
		return l.Href, nil
	}
	return "", fmt.Errorf("%w: %w: %s names no ActivityPub actor for %s", coop.ErrInvalidInput, ErrNoAccount, host, resource)
}

// splitAcct splits name@host, refusing what cannot be an account.
func splitAcct(acct string) (name, host string, err error) {
	s := strings.TrimSpace(acct)
	if hasPrefixFold(s, "acct:") {
		s = s[len("acct:"):]
	}
	s = strings.TrimPrefix(s, "@")
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || i == len(s)-1 {
		return "", "", fmt.Errorf("%w: account %q is not name@host", coop.ErrInvalidInput, acct)
	}
	name, host = s[:i], strings.ToLower(s[i+1:])
	for _, c := range []byte(name) {
		if c <= ' ' || c == 0x7f || strings.IndexByte(`/?#@%\"<>`, c) >= 0 {
			return "", "", fmt.Errorf("%w: account %q: the name holds %q", coop.ErrInvalidInput, acct, c)
		}
	}
	if len(host) > 261 || !validHost(host) {
		return "", "", fmt.Errorf("%w: account %q: %q is not a host name", coop.ErrInvalidInput, acct, host)
	}
	return name, host, nil
}

// validHost accepts a DNS name or IP literal with an optional port.
func validHost(host string) bool {
	u, err := url.Parse("https://" + host)
	if err != nil || u.Host != host || u.Hostname() == "" || u.User != nil {
		return false
	}
	for _, c := range []byte(u.Hostname()) {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}

// checkActorURL accepts an actor URI that this node may fetch later.
func (r *Resolver) checkActorURL(href string) error {
	u, err := url.Parse(href)
	switch {
	case err != nil || u.Host == "" || u.User != nil:
		return fmt.Errorf("actor link %q is not a URL", href)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("actor link %q is not http(s)", href)
	case u.Scheme != r.scheme(u.Host):
		return fmt.Errorf("actor link %q: this node reaches %s only over %s", href, u.Host, r.scheme(u.Host))
	}
	return nil
}

// scheme is how this node reaches host: plain http only in development
// mode, to a mapped or loopback host.
func (r *Resolver) scheme(host string) string {
	if r.devMode {
		if _, ok := r.mapped(host); ok || isLoopbackHost(host) {
			return "http"
		}
	}
	return "https"
}

// mapped looks host up in the dev-hosts table, with or without the
// scheme's default port that the transport adds.
func (r *Resolver) mapped(host string) (string, bool) {
	if !r.devMode {
		return "", false
	}
	host = strings.ToLower(host)
	if addr, ok := r.devHosts[host]; ok {
		return addr, true
	}
	for _, port := range []string{":80", ":443"} {
		if h, ok := strings.CutSuffix(host, port); ok {
			if addr, ok := r.devHosts[h]; ok {
				return addr, true
			}
		}
	}
	return "", false
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

// dial connects to addr under the rules in Resolver's doc.
func (r *Resolver) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: resolveTimeout}
	if target, ok := r.mapped(addr); ok {
		if !isLoopbackHost(target) {
			return nil, fmt.Errorf("dev host %s maps to %s, which is not a loopback address", addr, target)
		}
		return d.DialContext(ctx, network, target)
	}
	if r.devMode && isLoopbackHost(addr) {
		return d.DialContext(ctx, network, addr)
	}
	// Checked after the name is resolved, on the address dialed, so that
	// a name resolving to a private address is refused too.
	d.Control = func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("dial %s: %w", address, err)
		}
		if !publicAddr(ap.Addr()) {
			return fmt.Errorf("dial %s (%s): not a public address", addr, address)
		}
		return nil
	}
	return d.DialContext(ctx, network, addr)
}

// sharedAddressSpace is RFC 6598's carrier-grade NAT range.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")

// publicAddr reports whether ip is an address on the public internet.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() &&
		!ip.IsLinkLocalUnicast() && !sharedAddressSpace.Contains(ip)
}
