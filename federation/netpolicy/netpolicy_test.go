package netpolicy

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestScheme(t *testing.T) {
	dev := New(map[string]string{"Beta.Test": "127.0.0.1:8082"}, true)
	prod := New(map[string]string{"beta.test": "127.0.0.1:8082"}, false)
	for _, tt := range []struct {
		name string
		p    *Policy
		host string
		want string
	}{
		{"production is https everywhere", prod, "beta.test", "https"},
		{"production loopback is https too", prod, "127.0.0.1:8080", "https"},
		{"development maps hosts without case", dev, "beta.TEST", "http"},
		{"development mapped host with default port", dev, "beta.test:80", "http"},
		{"development loopback", dev, "[::1]:8080", "http"},
		{"development unmapped host", dev, "gamma.test", "https"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Scheme(tt.host); got != tt.want {
				t.Fatalf("Scheme(%q) = %q, want %q", tt.host, got, tt.want)
			}
		})
	}
}

func TestDialRefuses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := ln.Addr().String()
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		p    *Policy
		addr string
		ok   bool
	}{
		{"production refuses loopback", New(nil, false), addr, false},
		{"production refuses a name resolving to loopback", New(nil, false), "localhost:" + portOf(addr), false},
		{"production refuses a dev mapping", New(map[string]string{"beta.test": addr}, false), "beta.test:80", false},
		{"development dials a mapping", New(map[string]string{"beta.test": addr}, true), "beta.test:80", true},
		{"development refuses a mapping off loopback", New(map[string]string{"beta.test": "10.0.0.1:80"}, true), "beta.test:80", false},
		{"development dials loopback", New(nil, true), addr, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.p.Dial(ctx, "tcp", tt.addr)
			if c != nil {
				c.Close()
			}
			if tt.ok && err != nil {
				t.Fatalf("Dial(%s): %v", tt.addr, err)
			}
			if !tt.ok && err == nil {
				t.Fatalf("Dial(%s) connected", tt.addr)
			}
			if !tt.ok && tt.p.DevMode() && !errors.Is(err, ErrNotAllowed) {
				t.Fatalf("Dial(%s): %v, want ErrNotAllowed", tt.addr, err)
			}
		})
	}
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:2800:220:1:248:1893:25c8:1946": true,
		"127.0.0.1": false, "::1": false, "10.0.0.1": false, "192.168.1.1": false, "172.16.0.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "::": false, "fe80::1": false,
		"fc00::1": false, "::ffff:127.0.0.1": false, "224.0.0.1": false,
	} {
		t.Run(addr, func(t *testing.T) {
			ip, err := netip.ParseAddr(addr)
			if err != nil {
				t.Fatal(err)
			}
			if got := PublicAddr(ip); got != want {
				t.Errorf("PublicAddr(%s) = %v, want %v", addr, got, want)
			}
		})
	}
}
