package ratelimit

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestLimiter(t *testing.T) {
	type call struct {
		key     string
		at      time.Duration // after t0
		allowed bool
		wait    time.Duration
	}
	for _, tc := range []struct {
		name        string
		rate        float64
		burst, keys int
		calls       []call
	}{
		{"a burst is allowed, then one token per 1/rate", 2, 3, 0, []call{
			{"a", 0, true, 0}, {"a", 0, true, 0}, {"a", 0, true, 0},
			{"a", 0, false, 500 * time.Millisecond},
			{"a", 500 * time.Millisecond, true, 0},
			{"a", 500 * time.Millisecond, false, 500 * time.Millisecond},
		}},
		{"keys have their own buckets", 1, 1, 0, []call{
			{"a", 0, true, 0}, {"a", 0, false, time.Second}, {"b", 0, true, 0},
		}},
		{"a refused call takes no token", 1, 1, 0, []call{
			{"a", 0, true, 0}, {"a", 0, false, time.Second}, {"a", 0, false, time.Second}, {"a", time.Second, true, 0},
		}},
		{"beyond MaxKeys new keys share one bucket", 1, 1, 2, []call{
			{"a", 0, true, 0}, {"b", 0, true, 0}, {"c", 0, true, 0}, {"d", 0, false, time.Second},
			{"a", 0, false, time.Second},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := New(tc.rate, tc.burst, tc.keys)
			for i, c := range tc.calls {
				ok, wait := l.Allow(c.key, t0.Add(c.at))
				if ok != c.allowed || wait != c.wait {
					t.Errorf("call %d (%s at %v) = %v, %v; want %v, %v", i, c.key, c.at, ok, wait, c.allowed, c.wait)
				}
			}
		})
	}
}

func TestLimiterEvictsIdleBuckets(t *testing.T) {
	l := New(10, 20, 0) // full again after 2 s
	for i := range 1000 {
		l.Allow(fmt.Sprint("client-", i), t0)
	}
	if n := l.Len(); n != 1000 {
		t.Fatalf("%d buckets, want 1000", n)
	}
	l.Allow("late", t0.Add(time.Second))
	if n := l.Len(); n != 1001 {
		t.Fatalf("%d buckets after 1 s, want 1001 (none full yet)", n)
	}
	l.Allow("later", t0.Add(2*time.Second))
	if n := l.Len(); n != 2 {
		t.Fatalf("%d buckets after 2 s, want 2 (late and later)", n)
	}
}

func TestRetryAfter(t *testing.T) {
	for wait, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", time.Minute: "60"} {
		if got := RetryAfter(wait); got != want {
			t.Errorf("RetryAfter(%v) = %q, want %q", wait, got, want)
		}
	}
}

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no proxy", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"an untrusted peer's X-Forwarded-For is ignored", "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"behind a trusted proxy", "127.0.0.1:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a forged left-most entry is not believed", "127.0.0.1:5000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted hops", "127.0.0.1:5000", []string{"6.6.6.6, 198.51.100.1, 10.1.2.3"}, "198.51.100.1"},
		{"several headers read as one list", "127.0.0.1:5000", []string{"6.6.6.6", "198.51.100.1", "10.1.2.3"}, "198.51.100.1"},
		{"every hop trusted", "127.0.0.1:5000", []string{"10.0.0.7, 10.1.2.3"}, "10.0.0.7"},
		{"a proxy without the header", "127.0.0.1:5000", nil, "127.0.0.1"},
		{"garbage stops at the hop that wrote it", "127.0.0.1:5000", []string{"not-an-ip"}, "127.0.0.1"},
		{"an entry with a port", "127.0.0.1:5000", []string{"198.51.100.1:1234"}, "198.51.100.1"},
		{"IPv6 in brackets", "[::1]:5000", []string{"[2001:db8::1]"}, "2001:db8::1"},
		{"IPv4-mapped IPv6 peer", "[::ffff:127.0.0.1]:5000", []string{"198.51.100.1"}, "198.51.100.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/inbox", nil)
			r.RemoteAddr = tc.remote
			for _, h := range tc.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := ClientAddr(r, trusted); got.String() != tc.want {
				t.Errorf("ClientAddr = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestAddrKey(t *testing.T) {
	for in, want := range map[string]string{"192.0.2.1": "192.0.2.1", "2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64"} {
		if got := AddrKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("AddrKey(%s) = %s, want %s", in, got, want)
		}
	}
}
