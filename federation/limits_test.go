package federation

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/ratelimit"
)

// TestRateLimits: the per-address limit answers 429 with Retry-After
// before anything else, behind trusted proxies by the forwarded address;
// the per-host limit counts verified inbox POSTs by their key's host.
func TestRateLimits(t *testing.T) {
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	peer.serveActor("zoe", &key.PublicKey)
	peer.serveActor("yan", &key.PublicKey)
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"}, nodeOptions{
		devHosts: map[string]string{"peer.test": peer.addr()},
		limits: Limits{
			PerAddr:        ratelimit.New(1, 2, 0),
			PerHost:        ratelimit.New(1, 2, 0),
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		},
	}, "alice")

	get := func(remote string, xff ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, n.site.URL("/.well-known/nodeinfo"), nil)
		r.RemoteAddr = remote
		for _, h := range xff {
			r.Header.Add("X-Forwarded-For", h)
		}
		return n.post(r)
	}
	type call struct {
		remote string
		xff    []string
		status int
	}
	for _, tc := range []struct {
		name  string
		calls []call
	}{
		{"a client's burst, then 429", []call{
			{"203.0.113.1:1", nil, 200}, {"203.0.113.1:2", nil, 200}, {"203.0.113.1:3", nil, 429},
		}},
		{"another client has its own bucket", []call{
			{"203.0.113.2:1", nil, 200},
		}},
		{"an untrusted peer's X-Forwarded-For changes nothing", []call{
			{"203.0.113.1:4", []string{"198.51.100.9"}, 429},
		}},
		{"behind a trusted proxy each forwarded client counts alone", []call{
			{"10.0.0.1:1", []string{"198.51.100.1"}, 200}, {"10.0.0.1:1", []string{"198.51.100.1"}, 200},
			{"10.0.0.1:1", []string{"198.51.100.1"}, 429}, {"10.0.0.1:1", []string{"198.51.100.2"}, 200},
		}},
		{"a forged left-most entry does not escape the limit", []call{
			{"10.0.0.1:1", []string{"1.1.1.1, 198.51.100.1"}, 429},
		}},
		{"one IPv6 /64 is one client", []call{
			{"[2001:db8::1]:1", nil, 200}, {"[2001:db8::2]:1", nil, 200}, {"[2001:db8::3]:1", nil, 429},
		}},
		{"loopback is not limited", []call{
			{"127.0.0.1:1", nil, 200}, {"127.0.0.1:1", nil, 200}, {"127.0.0.1:1", nil, 200}, {"[::1]:1", nil, 200},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, c := range tc.calls {
				w := get(c.remote, c.xff...)
				if w.Code != c.status {
					t.Fatalf("call %d from %s %v: %d, want %d: %s", i, c.remote, c.xff, w.Code, c.status, w.Body)
				}
				if c.status == http.StatusTooManyRequests {
					if ra := w.Header().Get("Retry-After"); ra != "1" {
						t.Errorf("Retry-After = %q, want \"1\"", ra)
					}
					wantError(t, w, http.StatusTooManyRequests, "too many requests")
				}
			}
		})
	}
	t.Run("a second later the bucket has a token again", func(t *testing.T) {
		n.advance(time.Second)
		if w := get("203.0.113.1:5"); w.Code != 200 {
			t.Fatalf("%d: %s", w.Code, w.Body)
		}
	})

	// The per-host limit, from several addresses of one host.
	post := func(actor, remote string) *httptest.ResponseRecorder {
		body := mustJSON(t, map[string]any{"id": actor + "/activities/" + remote, "type": "Create", "actor": actor,
			"object": map[string]any{"id": actor + "/notes/" + remote, "type": "Note", "attributedTo": actor, "content": "hi"}})
		r := signedPost(t, n, "/inbox", body, actor+"#main-key", key)
		r.RemoteAddr = remote
		return n.post(r)
	}
	t.Run("a host's burst of verified POSTs, then 429 whatever the address", func(t *testing.T) {
		wantAccepted(t, post(peer.actorURI("zoe"), "192.0.2.1:1"))
		wantAccepted(t, post(peer.actorURI("yan"), "192.0.2.2:1"))
		w := post(peer.actorURI("zoe"), "192.0.2.3:1")
		wantError(t, w, http.StatusTooManyRequests, "too many activities from peer.test")
		if ra := w.Header().Get("Retry-After"); ra != "1" {
			t.Errorf("Retry-After = %q, want \"1\"", ra)
		}
	})
	t.Run("a POST that fails its signature takes no token from the host", func(t *testing.T) {
		n.advance(time.Second) // one token back
		zoe := peer.actorURI("zoe")
		r := signedPost(t, n, "/inbox", []byte(`{"id":"`+zoe+`/x","type":"Like","actor":"`+zoe+`"}`), zoe+"#main-key", rsaKey(t, 2))
		r.RemoteAddr = "192.0.2.4:1"
		if w := n.post(r); w.Code != http.StatusUnauthorized {
			t.Fatalf("%d: %s", w.Code, w.Body)
		}
		wantAccepted(t, post(zoe, "192.0.2.5:1"))
	})
}
