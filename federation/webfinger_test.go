package federation

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
)

func TestParseResource(t *testing.T) {
	site := coop.Site{Scheme: "http", Host: "localhost:8080"}
	tests := []struct {
		name     string
		resource string
		site     coop.Site
		handle   string
		err      error
	}{
		{"acct with host", "acct:alice@coop.example", testSite, "alice", nil},
		{"host without case", "acct:alice@COOP.Example", testSite, "alice", nil},
		{"handle keeps its case", "acct:Alice@coop.example", testSite, "Alice", nil},
		{"scheme without case", "ACCT:alice@coop.example", testSite, "alice", nil},
		{"leading @ tolerated", "acct:@alice@coop.example", testSite, "alice", nil},
		{"no scheme tolerated", "alice@coop.example", testSite, "alice", nil},
		{"no scheme with @ tolerated", "@alice@coop.example", testSite, "alice", nil},
		{"host with a port", "acct:alice@localhost:8080", site, "alice", nil},
		{"host with a port, no scheme", "alice@localhost:8080", site, "alice", nil},
		{"host with a port, no scheme, leading @", "@alice@localhost:8080", site, "alice", nil},
		{"default port optional", "acct:alice@coop.example:443", testSite, "alice", nil},
		{"percent-encoded name", "acct:al%69ce@coop.example", testSite, "alice", nil},
		{"surrounding space", "  acct:alice@coop.example ", testSite, "alice", nil},
		{"actor id", "https://coop.example/users/alice", testSite, "alice", nil},
		{"profile URL", "https://coop.example/@alice", testSite, "alice", nil},
		{"actor id over http with port", "http://localhost:8080/users/alice", site, "alice", nil},
		{"actor id with trailing slash", "https://coop.example/users/alice/", testSite, "alice", nil},
		{"fedify's own resource", "acct:voter@127.0.0.1:8082", coop.Site{Scheme: "http", Host: "127.0.0.1:8082"}, "voter", nil},
		{"gotosocial's resource", "acct:voter@127.0.0.1:8080", coop.Site{Scheme: "http", Host: "127.0.0.1:8080"}, "voter", nil},

		{"empty", "", testSite, "", ErrBadResource},
		{"only spaces", "   ", testSite, "", ErrBadResource},
		{"no host", "acct:alice", testSite, "", ErrBadResource},
		{"empty name", "acct:@coop.example", testSite, "", ErrBadResource},
		{"empty host", "acct:alice@", testSite, "", ErrBadResource},
		{"bare word", "alice", testSite, "", ErrBadResource},
		{"other scheme", "mailto:alice@coop.example", testSite, "", ErrBadResource},
		{"bad percent-encoding", "acct:al%zzce@coop.example", testSite, "", ErrBadResource},
		{"too long", "acct:" + strings.Repeat("a", 2000) + "@coop.example", testSite, "", ErrBadResource},
		{"URL with user info", "https://x@coop.example/users/alice", testSite, "", ErrBadResource},

		{"other host", "acct:alice@other.example", testSite, "", ErrOtherHost},
		{"other port", "acct:alice@localhost:9090", site, "", ErrOtherHost},
		{"host without the port", "acct:alice@localhost", site, "", ErrOtherHost},
		{"URL on another host", "https://other.example/users/alice", testSite, "", ErrOtherHost},
		{"host suffix is not the host", "acct:alice@evil-coop.example", testSite, "", ErrOtherHost},

		{"name that cannot be a handle", "acct:al ice@coop.example", testSite, "", coop.ErrNotFound},
		{"name with odd bytes", "acct:\xff\x00@coop.example", testSite, "", coop.ErrNotFound},
		{"two @ in the name", "acct:a@b@coop.example", testSite, "", coop.ErrNotFound},
		{"URL that is no actor's", "https://coop.example/about", testSite, "", coop.ErrNotFound},
		{"URL below an actor", "https://coop.example/users/alice/outbox", testSite, "", coop.ErrNotFound},
		{"URL with a query", "https://coop.example/users/alice?x=1", testSite, "", coop.ErrNotFound},
		{"key id", "https://coop.example/users/alice#main-key", testSite, "", coop.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handle, err := ParseResource(tt.resource, tt.site)
			if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("ParseResource(%q) err = %v, want %v", tt.resource, err, tt.err)
			}
			if handle != tt.handle {
				t.Errorf("handle = %q, want %q", handle, tt.handle)
			}
		})
	}
}

func FuzzParseResource(f *testing.F) {
	// Resources from the fixtures, and their variations.
	for _, s := range []string{
		"acct:voter@127.0.0.1:8080", "acct:alice@127.0.0.1:9191", "acct:voter@127.0.0.1:8082",
		"acct%3Aalice%40127.0.0.1%3A9191", "http://127.0.0.1:8082/users/voter", "http://127.0.0.1:8080/@voter",
		"acct:@alice@coop.example", "https://coop.example/users/alice#main-key", "acct:a%@x", "acct:@", "@", "",
		"https://[::1]:80/users/x", "http://%zz/users/a", "acct:\xff@coop.example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, resource string) {
		handle, err := ParseResource(resource, testSite)
		if err != nil {
			if handle != "" {
				t.Fatalf("ParseResource(%q) = %q with error %v", resource, handle, err)
			}
			if !errors.Is(err, ErrBadResource) && !errors.Is(err, ErrOtherHost) && !errors.Is(err, coop.ErrNotFound) {
				t.Fatalf("ParseResource(%q): unexpected error kind %v", resource, err)
			}
			return
		}
		if coop.CheckHandle(handle) != nil {
			t.Fatalf("ParseResource(%q) = %q, not a valid handle", resource, handle)
		}
		// What parses names this node: the account form of its handle too.
		if h, err := ParseResource("acct:"+handle+"@"+testSite.Host, testSite); err != nil || h != handle {
			t.Fatalf("acct form of %q: %q, %v", handle, h, err)
		}
	})
}

func TestWebFinger(t *testing.T) {
	f := newFixture(t)
	t.Run("an account is its actor", func(t *testing.T) {
		w := f.get(t, "/.well-known/webfinger?resource=acct:alice@coop.example", "Accept", "application/jrd+json, application/json")
		wantStatus(t, w, http.StatusOK)
		wantHeader(t, w, "Content-Type", "application/jrd+json")
		wantHeader(t, w, "Access-Control-Allow-Origin", "*")
		checkGolden(t, "webfinger.golden.json", w.Body.Bytes())
	})
	ok := []struct {
		name     string
		resource string
		self     string
	}{
		{"escaped query as GoToSocial sends it", url.QueryEscape("acct:alice@coop.example"), testSite.ActorID("alice")},
		{"host and handle without case", "acct:ALICE@Coop.Example", testSite.ActorID("alice")},
		{"leading @", "acct:@tool@coop.example", testSite.ActorID("tool")},
		{"the actor's id", url.QueryEscape(testSite.ActorID("coop")), testSite.ActorID("coop")},
		{"the profile URL", url.QueryEscape(testSite.ProfileURL("tool")), testSite.ActorID("tool")},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			w := f.get(t, "/.well-known/webfinger?resource="+tt.resource)
			wantStatus(t, w, http.StatusOK)
			m := decode(t, w.Body.Bytes())
			want, _ := url.QueryUnescape(tt.resource)
			if m["subject"] != want {
				t.Errorf("subject = %v, want it as asked, %q", m["subject"], want)
			}
			links := m["links"].([]any)
			self := links[0].(map[string]any)
			if self["rel"] != "self" || self["href"] != tt.self || self["type"] != "application/activity+json" {
				t.Errorf("self link = %v", self)
			}
		})
	}
	t.Run("rel picks the links", func(t *testing.T) {
		m := decode(t, f.get(t, "/.well-known/webfinger?resource=acct:alice@coop.example&rel=self").Body.Bytes())
		if links := m["links"].([]any); len(links) != 1 || links[0].(map[string]any)["rel"] != "self" {
			t.Errorf("links = %v", links)
		}
	})
	errs := []struct {
		name   string
		query  string
		status int
		reason string
	}{
		{"missing resource is 400", "", http.StatusBadRequest, "resource"},
		{"empty resource is 400", "?resource=", http.StatusBadRequest, "resource"},
		{"malformed resource is 400", "?resource=acct:nobody", http.StatusBadRequest, "no @host"},
		{"other scheme is 400", "?resource=mailto:alice@coop.example", http.StatusBadRequest, "acct:"},
		{"other host is 404", "?resource=acct:alice@other.example", http.StatusNotFound, "other.example"},
		{"unknown account is 404", "?resource=acct:nobody@coop.example", http.StatusNotFound, `"nobody"`},
		{"impossible handle is 404", "?resource=acct:%25ff%2500@coop.example", http.StatusNotFound, "no account"},
		{"URL of no actor is 404", "?resource=https://coop.example/about", http.StatusNotFound, "not an actor's URL"},
		{"removed account is 410", "?resource=acct:bob@coop.example", http.StatusGone, "removed"},
		{"a long resource is 400", "?resource=acct:" + strings.Repeat("x", 100000) + "@coop.example", http.StatusBadRequest, "longer"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, f.get(t, "/.well-known/webfinger"+tt.query), tt.status, tt.reason)
		})
	}
}

func TestHostMeta(t *testing.T) {
	f := newFixture(t)
	t.Run("XRD points at WebFinger", func(t *testing.T) {
		w := f.get(t, "/.well-known/host-meta", "Accept", "application/xrd+xml")
		wantStatus(t, w, http.StatusOK)
		wantHeader(t, w, "Content-Type", "application/xrd+xml; charset=utf-8")
		checkGolden(t, "host-meta.golden.xml", w.Body.Bytes())
	})
	t.Run("JSON points at WebFinger", func(t *testing.T) {
		w := f.get(t, "/.well-known/host-meta.json")
		wantStatus(t, w, http.StatusOK)
		wantHeader(t, w, "Content-Type", "application/json; charset=utf-8")
		checkGolden(t, "host-meta.golden.json", w.Body.Bytes())
	})
	t.Run("the template is escaped", func(t *testing.T) {
		x, _ := hostMeta(coop.Site{Scheme: "http", Host: `a"b&c`})
		if !strings.Contains(string(x), `template="http://a&#34;b&amp;c/.well-known/webfinger?resource={uri}"`) {
			t.Errorf("XRD = %s", x)
		}
	})
}
