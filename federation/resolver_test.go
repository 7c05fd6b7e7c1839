package federation

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coopfed/coopfed/coop"
)

// peer is an httptest server standing in for another node's WebFinger.
type peer struct {
	*httptest.Server
	hits     atomic.Int32
	host     atomic.Value // Host header of the last request
	resource atomic.Value // resource of the last request
}

func newPeer(t *testing.T, status int, body string) *peer {
	t.Helper()
	p := &peer{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		p.host.Store(r.Host)
		p.resource.Store(r.URL.Query().Get("resource"))
		if r.URL.Path != "/.well-known/webfinger" || !strings.Contains(r.Header.Get("Accept"), "application/jrd+json") {
			http.Error(w, "not a WebFinger request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/jrd+json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(p.Close)
	return p
}

// addr is the peer's loopback host:port.
func (p *peer) addr() string { return strings.TrimPrefix(p.URL, "http://") }

func jrdWith(links string) string {
	return `{"subject":"acct:alice@peer.test","links":[` + links + `]}`
}

const selfLink = `{"rel":"self","type":"application/activity+json","href":"http://peer.test/users/alice"}`

func TestResolver(t *testing.T) {
	ctx := context.Background()
	good := newPeer(t, http.StatusOK, jrdWith(`{"rel":"http://webfinger.net/rel/profile-page","type":"text/html","href":"http://peer.test/@alice"},`+selfLink))
	devFor := func(p *peer) *Resolver {
		return NewResolver(testSite, map[string]string{"Peer.Test": p.addr()}, true)
	}

	t.Run("a mapped dev host is asked over http at its loopback address", func(t *testing.T) {
		for _, acct := range []string{"alice@peer.test", "@alice@peer.test", "acct:alice@PEER.test"} {
			uri, err := devFor(good).ResolveAccount(ctx, acct)
			if err != nil {
				t.Fatalf("%s: %v", acct, err)
			}
			if uri != "http://peer.test/users/alice" {
				t.Errorf("%s: uri = %q", acct, uri)
			}
			if h := good.host.Load(); h != "peer.test" {
				t.Errorf("Host = %v, want peer.test", h)
			}
			if r := good.resource.Load(); r != "acct:alice@peer.test" {
				t.Errorf("resource = %v", r)
			}
		}
	})
	for file, want := range map[string]string{
		"gotosocial-webfinger.json": "http://127.0.0.1:8080/users/voter",
		"fedify-webfinger.json":     "http://127.0.0.1:8082/users/voter",
	} {
		t.Run("a loopback host is asked directly in development: "+file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			p := newPeer(t, http.StatusOK, string(body))
			uri, err := NewResolver(testSite, nil, true).ResolveAccount(ctx, "voter@"+p.addr())
			if err != nil {
				t.Fatal(err)
			}
			if uri != want {
				t.Errorf("uri = %q, want %q", uri, want)
			}
		})
	}
	t.Run("the ld+json self link with the AS profile counts", func(t *testing.T) {
		p := newPeer(t, http.StatusOK, jrdWith(
			`{"rel":"self","type":"text/html","href":"http://peer.test/@alice"},`+
				`{"rel":"self","type":"application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"","href":"http://peer.test/ap/alice"}`))
		uri, err := devFor(p).ResolveAccount(ctx, "alice@peer.test")
		if err != nil || uri != "http://peer.test/ap/alice" {
			t.Fatalf("uri = %q, %v", uri, err)
		}
	})

	fails := []struct {
		name      string
		resolver  func() *Resolver
		acct      string
		noAccount bool
		reason    string
	}{
		{"unknown account (404)", func() *Resolver { return devFor(newPeer(t, http.StatusNotFound, `{"error":"no"}`)) },
			"bob@peer.test", true, "answered 404"},
		{"removed account (410)", func() *Resolver { return devFor(newPeer(t, http.StatusGone, ``)) },
			"bob@peer.test", true, "answered 410"},
		{"server error", func() *Resolver { return devFor(newPeer(t, http.StatusInternalServerError, ``)) },
			"alice@peer.test", false, "500"},
		{"answer over 1 MiB", func() *Resolver {
			return devFor(newPeer(t, http.StatusOK, jrdWith(selfLink)+strings.Repeat(" ", 1<<20)))
		}, "alice@peer.test", false, "larger than"},
		{"not JSON", func() *Resolver { return devFor(newPeer(t, http.StatusOK, `<html>`)) },
			"alice@peer.test", false, "not a JRD"},
		{"no self link of an ActivityPub type", func() *Resolver {
			return devFor(newPeer(t, http.StatusOK, jrdWith(`{"rel":"self","type":"text/html","href":"http://peer.test/@alice"},`+
				`{"rel":"self","type":"application/ld+json","href":"http://peer.test/x"},`+
				`{"rel":"http://webfinger.net/rel/profile-page","type":"application/activity+json","href":"http://peer.test/y"}`)))
		}, "alice@peer.test", true, "no ActivityPub actor"},
		{"actor link that is not http(s)", func() *Resolver {
			return devFor(newPeer(t, http.StatusOK, jrdWith(`{"rel":"self","type":"application/activity+json","href":"ftp://peer.test/alice"}`)))
		}, "alice@peer.test", false, "not http(s)"},
		{"plain http actor link for a host reached over https", func() *Resolver {
			return devFor(newPeer(t, http.StatusOK, jrdWith(`{"rel":"self","type":"application/activity+json","href":"http://public.example/alice"}`)))
		}, "alice@peer.test", false, "only over https"},
		{"loopback refused outside development", func() *Resolver { return NewResolver(testSite, nil, false) },
			"alice@" + good.addr(), false, "not a public address"},
		{"localhost refused outside development", func() *Resolver { return NewResolver(testSite, nil, false) },
			"alice@localhost:" + good.URL[strings.LastIndexByte(good.URL, ':')+1:], false, "not a public address"},
		{"dev hosts ignored outside development", func() *Resolver {
			return NewResolver(testSite, map[string]string{"localhost": good.addr()}, false)
		}, "alice@localhost", false, "not a public address"},
		{"a dev host mapped off loopback is refused", func() *Resolver {
			return NewResolver(testSite, map[string]string{"peer.test": "10.1.2.3:80"}, true)
		}, "alice@peer.test", false, "not a loopback address"},
		{"not name@host", func() *Resolver { return devFor(good) }, "alice", false, "not name@host"},
		{"no name", func() *Resolver { return devFor(good) }, "@peer.test", false, "not name@host"},
		{"no host", func() *Resolver { return devFor(good) }, "alice@", false, "not name@host"},
		{"a path in the host", func() *Resolver { return devFor(good) }, "alice@peer.test/x", false, "not a host name"},
		{"a space in the name", func() *Resolver { return devFor(good) }, "al ice@peer.test", false, "the name holds"},
	}
	for _, tt := range fails {
		t.Run(tt.name, func(t *testing.T) {
			before := good.hits.Load()
			uri, err := tt.resolver().ResolveAccount(ctx, tt.acct)
			if err == nil {
				t.Fatalf("uri = %q, want an error", uri)
			}
			if errors.Is(err, ErrNoAccount) != tt.noAccount {
				t.Errorf("err = %v; ErrNoAccount = %v, want %v", err, !tt.noAccount, tt.noAccount)
			}
			if tt.noAccount && !errors.Is(err, coop.ErrInvalidInput) {
				t.Errorf("err = %v, want it to be coop.ErrInvalidInput too", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("err = %v, want it to say %q", err, tt.reason)
			}
			if good.hits.Load() != before {
				t.Error("the refused request reached the server")
			}
		})
	}
	t.Run("a redirect to https is refused for a host reached over http", func(t *testing.T) {
		redirect := httptest.NewServer(http.RedirectHandler("https://peer.test/.well-known/webfinger", http.StatusFound))
		defer redirect.Close()
		r := NewResolver(testSite, map[string]string{"peer.test": strings.TrimPrefix(redirect.URL, "http://")}, true)
		_, err := r.ResolveAccount(ctx, "alice@peer.test")
		if err == nil || !strings.Contains(err.Error(), "redirect") {
			t.Fatalf("err = %v, want a refused redirect", err)
		}
	})
}
