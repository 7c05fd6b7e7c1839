package negotiate

import (
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Accept headers seen in the wild.
const (
	firefox   = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	chrome    = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
	mastodon  = "application/activity+json, application/ld+json"
	gotosocia = `application/ld+json; profile="https://www.w3.org/ns/activitystreams",application/activity+json`
	fedify    = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
	curl      = "*/*"
)

func TestBest(t *testing.T) {
	ap := []string{ActivityJSON, LDJSON, JSON, HTML}
	page := []string{HTML, ActivityJSON, LDJSON, JSON}
	tests := []struct {
		name   string
		accept string
		offers []string
		want   string
	}{
		{"missing header takes the first offer", "", ap, ActivityJSON},
		{"missing header takes the first offer of a page", "", page, HTML},
		{"*/* takes the first offer", curl, ap, ActivityJSON},
		{"*/* takes the first offer of a page", curl, page, HTML},
		{"firefox wants html at an id URL", firefox, ap, HTML},
		{"chrome wants html", chrome, ap, HTML},
		{"mastodon gets activity+json", mastodon, page, ActivityJSON},
		{"gotosocial weighs both equally: the first offer wins", gotosocia, page, ActivityJSON},
		{"gotosocial's ld+json alone matches the ld+json offer", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, page, LDJSON},
		{"fedify gets activity+json", fedify, page, ActivityJSON},
		{"plain ld+json matches the profiled offer", "application/ld+json", page, LDJSON},
		{"ld+json of another profile does not match", `application/ld+json; profile="https://example.org/other"`, page, ""},
		{"profile may list several URIs", `application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted https://www.w3.org/ns/activitystreams"`, page, LDJSON},
		{"profile token is case-insensitive as a parameter name", `application/ld+json; PROFILE="https://www.w3.org/ns/activitystreams"`, page, LDJSON},
		{"application/json gets json", "application/json", page, JSON},
		{"higher q wins", "text/html;q=0.5, application/activity+json", page, ActivityJSON},
		{"q=0 refuses", "application/activity+json;q=0, */*", ap, LDJSON},
		{"q=0 on everything refuses all", "*/*;q=0", ap, ""},
		{"more specific range overrides a wildcard", "application/*;q=0.1, application/activity+json;q=0.9, text/html;q=0.5", page, ActivityJSON},
		{"specific refusal beats wildcard", "text/*, text/html;q=0", page, ""},
		{"equal weights: first offer wins", "text/html, application/activity+json", ap, ActivityJSON},
		{"type wildcard", "application/*", page, ActivityJSON},
		{"charset is ignored when the offer has none", "application/activity+json; charset=utf-8", page, ActivityJSON},
		{"case does not matter in types", "Application/Activity+JSON", page, ActivityJSON},
		{"malformed part is ignored", "garbage, text/html", ap, HTML},
		{"all malformed acts as missing", "garbage;;;, ===", page, HTML},
		{"bad q ignores the part", "application/activity+json;q=2, text/html;q=0.1", ap, HTML},
		{"bad q word ignores the part", "application/activity+json;q=high, text/html;q=0.1", ap, HTML},
		{"*/json is malformed", "*/json", page, HTML},
		{"commas inside quotes do not split", `application/ld+json; profile="a,https://www.w3.org/ns/activitystreams", text/html;q=0.1`, page, HTML},
		{"accept-ext after q is ignored", "application/activity+json;q=0.5;ext=1, text/html;q=0.4", page, ActivityJSON},
		{"unmatched quote ignores the part", `application/ld+json; profile="x, text/html`, page, HTML},
		{"no offers", "*/*", nil, ""},
		{"image only accepts none", "image/png", ap, ""},
		{"whitespace everywhere", "  application/activity+json ; q=1 ,\ttext/html ; q=0.5 ", page, ActivityJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Best(tt.accept, tt.offers...); got != tt.want {
				t.Errorf("Best(%q) = %q, want %q", tt.accept, got, tt.want)
			}
		})
	}
}

func TestWantsActivityPub(t *testing.T) {
	tests := []struct {
		name       string
		accept     []string
		preferHTML bool
		want       bool
	}{
		{"id URL without Accept is ActivityPub", nil, false, true},
		{"profile URL without Accept is a page", nil, true, false},
		{"id URL with */* is ActivityPub", []string{curl}, false, true},
		{"profile URL with */* is a page", []string{curl}, true, false},
		{"browser at the id URL gets the page", []string{firefox}, false, false},
		{"mastodon at the profile URL gets JSON", []string{mastodon}, true, true},
		{"gotosocial at the profile URL gets JSON", []string{gotosocia}, true, true},
		{"fedify at the id URL gets JSON", []string{fedify}, false, true},
		{"plain ld+json gets JSON", []string{"application/ld+json"}, true, true},
		{"application/json gets JSON", []string{"application/json"}, true, true},
		{"foreign ld+json profile gets the page", []string{`application/ld+json; profile="https://example.org/x"`}, false, false},
		{"several Accept lines are one list", []string{"text/html;q=0.1", "application/activity+json"}, true, true},
		{"nothing acceptable is not ActivityPub", []string{"image/png"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/users/alice", nil)
			for _, a := range tt.accept {
				r.Header.Add("Accept", a)
			}
			if got := WantsActivityPub(r, tt.preferHTML); got != tt.want {
				t.Errorf("WantsActivityPub(%q, %v) = %v, want %v", tt.accept, tt.preferHTML, got, tt.want)
			}
		})
	}
}

func TestIsActivityStreams(t *testing.T) {
	tests := []struct {
		mediaType string
		want      bool
	}{
		{"application/activity+json", true},
		{"application/activity+json; charset=utf-8", true},
		{`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, true},
		{`application/ld+json;profile="https://www.w3.org/ns/activitystreams"`, true},
		{"application/ld+json", false},
		{`application/ld+json; profile="https://example.org/x"`, false},
		{"application/json", false},
		{"text/html", false},
		{"", false},
		{"*/*", false},
		{"application/*", false},
	}
	for _, tt := range tests {
		t.Run(tt.mediaType, func(t *testing.T) {
			if got := IsActivityStreams(tt.mediaType); got != tt.want {
				t.Errorf("IsActivityStreams(%q) = %v, want %v", tt.mediaType, got, tt.want)
			}
		})
	}
}

func FuzzBest(f *testing.F) {
	for _, s := range []string{"", curl, firefox, chrome, mastodon, gotosocia, fedify,
		"application/json", "application/jrd+json,application/json", "text/plain",
		`application/ld+json; profile="a\"b,c"`, "a/b;q=0.001;x=\"", ";;,,", "*/*;q=1.000"} {
		f.Add(s)
	}
	offers := []string{ActivityJSON, LDJSON, JSON, HTML}
	f.Fuzz(func(t *testing.T, accept string) {
		got := Best(accept, offers...)
		if got != "" && !slices.Contains(offers, got) {
			t.Fatalf("Best(%q) = %q, not an offer", accept, got)
		}
		if strings.TrimSpace(accept) == "" && got != offers[0] {
			t.Fatalf("Best(%q) = %q, want the first offer", accept, got)
		}
		// The choice depends on the header, not on chance.
		if again := Best(accept, offers...); again != got {
			t.Fatalf("Best(%q) = %q then %q", accept, got, again)
		}
		// The header may also be an offer: it must not panic either.
		Best(curl, accept)
		IsActivityStreams(accept)
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		WantsActivityPub(r, true)
	})
}

func BenchmarkWantsActivityPub(b *testing.B) {
	r := httptest.NewRequest("GET", "/users/alice", nil)
	r.Header.Set("Accept", gotosocia)
	b.ReportAllocs()
	for b.Loop() {
		WantsActivityPub(r, false)
	}
}

// TestNoStreams keeps negotiate light: package handlers may use it without
// building go-fed's streams.
func TestNoStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "github.com/go-fed/") {
		t.Errorf("negotiate depends on go-fed:\n%s", out)
	}
}
