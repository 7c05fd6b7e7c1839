package coop

import (
	"errors"
	"testing"
)

func TestNormalizeDomain(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{"example.com", "example.com", false},
		{"Example.COM.", "example.com", false},
		{" example.com:443 ", "example.com", false},
		{"xn--bcher-kva.example", "xn--bcher-kva.example", false},
		{"192.0.2.1", "192.0.2.1", false},
		{"[2001:DB8::1]:8080", "2001:db8::1", false},
		{"bücher.example", "xn--bcher-kva.example", false},
		{"BÜCHER.Example.", "xn--bcher-kva.example", false},
		{"ｅｘａｍｐｌｅ.com", "example.com", false},
		{"a。b.example", "a.b.example", false},
		{"bad name.example", "", true},
		{"exa mple.com", "", true},
		{"-bad.example", "", true},
		{"a..b", "", true},
		{"", "", true},
		{".", "", true},
		{"ex_ample.com", "", true},
	} {
		got, err := NormalizeDomain(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, ErrInvalidDomain) {
			t.Errorf("NormalizeDomain(%q): %v is not ErrInvalidDomain", tc.in, err)
		}
	}
}

func TestDomainCovers(t *testing.T) {
	for _, tc := range []struct {
		name, domain, host string
		want               bool
	}{
		{"the domain itself", "bad.example", "bad.example", true},
		{"a subdomain", "bad.example", "a.b.bad.example", true},
		{"case and a trailing dot", "bad.example", "A.BAD.EXAMPLE.", true},
		{"with a port", "bad.example", "bad.example:8443", true},
		{"a name that only ends alike", "bad.example", "notbad.example", false},
		{"the parent domain", "a.bad.example", "bad.example", false},
		{"an IP is exact", "192.0.2.1", "192.0.2.1", true},
		{"a Unicode host by its punycode", "xn--bcher-kva.example", "sub.BÜCHER.example", true},
		{"a punycode host by its Unicode block", "bücher.example", "xn--bcher-kva.example", true},
		{"a fullwidth host", "bad.example", "ｂａｄ.example", true},
		{"a host that does not map is covered by nothing", "bad.example", "bad x.example", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DomainCovers(tc.domain, tc.host); got != tc.want {
				t.Errorf("DomainCovers(%q, %q) = %v", tc.domain, tc.host, got)
			}
		})
	}
}

func TestNormalizeActorURI(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{"https://m.example/users/bob", "https://m.example/users/bob", false},
		{"HTTPS://M.Example./users/bob#main-key", "https://m.example/users/bob", false},
		{"http://127.0.0.1:8081/users/bob", "http://127.0.0.1:8081/users/bob", false},
		{"https://bücher.example/u/x", "https://xn--bcher-kva.example/u/x", false},
		{"ftp://m.example/users/bob", "", true},
		{"https://user@m.example/users/bob", "", true},
		{"https:/users/bob", "", true},
	} {
		got, err := NormalizeActorURI(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("NormalizeActorURI(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
