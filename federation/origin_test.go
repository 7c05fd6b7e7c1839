package federation

import (
	"net/url"
	"strings"
	"testing"
)

// hostOfParsed and sameOriginParsed are hostOf and sameOrigin through
// url.Parse alone, as they were before plainOrigin.
func hostOfParsed(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

func sameOriginParsed(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host != "" &&
		strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host)
}

var originCases = []string{
	"https://mastodon.social/users/alice",
	"https://Mastodon.Social/users/alice#main-key",
	"http://127.0.0.1:8081/users/voter#main-key",
	"https://gts.example/users/bob/main-key",
	"https://example.com",
	"https://example.com?x=1",
	"https://example.com#f",
	"https://example.com:/x",
	"https://example.com:443/x",
	"https://example.com:44a/x",
	"https://user@example.com/x",
	"https://[::1]:8080/x",
	"https://exa%6dple.com/x",
	"https://example.com/a%zz",
	"https://example.com/a b",
	"https://example.com/\x7f",
	"https://ex_ample.com/x",
	"https://exämple.com/x",
	"HTTPS://example.com/x",
	"ftp://example.com/x",
	"https:///x",
	"https://:80/x",
	"mailto:alice@example.com",
	"",
}

func TestPlainOrigin(t *testing.T) {
	for _, a := range originCases {
		if got, want := hostOf(a), hostOfParsed(a); got != want {
			t.Errorf("hostOf(%q) = %q, url.Parse says %q", a, got, want)
		}
		for _, b := range originCases {
			if got, want := sameOrigin(a, b), sameOriginParsed(a, b); got != want {
				t.Errorf("sameOrigin(%q, %q) = %v, url.Parse says %v", a, b, got, want)
			}
		}
	}
	if _, _, ok := plainOrigin("https://mastodon.social/users/alice/statuses/1/activity"); !ok {
		t.Error("an everyday id takes the slow path")
	}
}

// FuzzPlainOrigin holds hostOf and sameOrigin, with plainOrigin's fast
// path, to url.Parse.
func FuzzPlainOrigin(f *testing.F) {
	for i, a := range originCases {
		f.Add(a, originCases[(i+1)%len(originCases)])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := hostOf(a), hostOfParsed(a); got != want {
			t.Fatalf("hostOf(%q) = %q, url.Parse says %q", a, got, want)
		}
		if got, want := sameOrigin(a, b), sameOriginParsed(a, b); got != want {
			t.Fatalf("sameOrigin(%q, %q) = %v, url.Parse says %v", a, b, got, want)
		}
	})
}
