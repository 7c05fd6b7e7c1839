// Package netpolicy is how a coopfed node reaches other servers, for every
// outgoing request (WebFinger, signed GETs, deliveries): https to public
// addresses only, so that a name or URL a peer gives cannot make the node
// probe its own network; in development mode also plain http to hosts
// mapped by the [dev.hosts] table (dialling the mapped loopback address
// instead of resolving the name) and to loopback hosts, so that several
// nodes federate on one machine.
//
// The address is checked where it is dialled, after the name is resolved,
// so that a name resolving to a private address is refused too (DNS
// rebinding). netpolicy does no I/O of its own beyond dialling and must not
// import go-fed's streams.
package netpolicy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrNotAllowed marks an address or URL this node must not reach.
var ErrNotAllowed = errors.New("not allowed")

// DialTimeout bounds the connection of every outgoing request.
const DialTimeout = 10 * time.Second

// Policy holds the development allowances; the zero value (production)
// allows public addresses over https only. It is safe for concurrent use.
type Policy struct {
	devMode  bool
	devHosts map[string]string // lower-case host[:port] -> loopback host:port
}

// New builds a Policy. devHosts is used in development mode only.
func New(devHosts map[string]string, devMode bool) *Policy {
	p := &Policy{devMode: devMode, devHosts: make(map[string]string, len(devHosts))}
	for host, addr := range devHosts {
		p.devHosts[strings.ToLower(host)] = addr
	}
	return p
}

// DevMode reports whether the development allowances hold.
func (p *Policy) DevMode() bool { return p.devMode }

// Scheme is how this node reaches host: plain http only in development
// mode, to a mapped or loopback host; https otherwise.
func (p *Policy) Scheme(host string) string {
	if p.devMode {
		if _, ok := p.Mapped(host); ok || IsLoopbackHost(host) {
			return "http"
		}
	}
	return "https"
}

// Mapped looks host up in the dev-hosts table, with or without the
// scheme's default port that a transport adds.
func (p *Policy) Mapped(host string) (string, bool) {
	if !p.devMode {
		return "", false
	}
	host = strings.ToLower(host)
	if addr, ok := p.devHosts[host]; ok {
		return addr, true
	}
	for _, port := range []string{":80", ":443"} {
		if h, ok := strings.CutSuffix(host, port); ok {
			if addr, ok := p.devHosts[h]; ok {
				return addr, true
			}
		}
	}
	return "", false
}

// Dial connects to addr under the policy; use it as a transport's
// DialContext. A refusal wraps ErrNotAllowed.
func (p *Policy) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: DialTimeout}
	if target, ok := p.Mapped(addr); ok {
		if !IsLoopbackHost(target) {
			return nil, fmt.Errorf("dev host %s maps to %s, which is not a loopback address: %w", addr, target, ErrNotAllowed)
		}
		return d.DialContext(ctx, network, target)
	}
	if p.devMode && IsLoopbackHost(addr) {
		return d.DialContext(ctx, network, addr)
	}
	d.Control = func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("dial %s: %w", address, err)
		}
		if !PublicAddr(ap.Addr()) {
			return fmt.Errorf("dial %s (%s): not a public address: %w", addr, address, ErrNotAllowed)
		}
		return nil
	}
	return d.DialContext(ctx, network, addr)
}

// IsLoopbackHost reports whether host[:port] is localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
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

// PublicAddr reports whether ip is an address on the public internet.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() &&
		!ip.IsLinkLocalUnicast() && !sharedAddressSpace.Contains(ip)
}
