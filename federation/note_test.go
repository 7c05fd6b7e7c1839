package federation

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/go-fed/activity/streams"
)

func TestNoteHTML(t *testing.T) {
	bob := Mention{Actor: "https://b.example/users/bob", Acct: "bob@b.example", URL: "https://b.example/@bob"}
	link := `<span class="h-card" translate="no"><a href="https://b.example/@bob" class="u-url mention">@<span>bob</span></a></span>`
	for _, tt := range []struct {
		name string
		p    Post
		want string
	}{
		{"escaped, paragraphs and line breaks", Post{Text: "a <b> & c\nd\n\n\ne"}, "<p>a &lt;b&gt; &amp; c<br>d</p><p>e</p>"},
		{"mention linked as Mastodon does", Post{Text: "hi @bob@b.example.", Mentions: []Mention{bob}}, "<p>hi " + link + ".</p>"},
		{"mention matched without case", Post{Text: "@Bob@B.example hi", Mentions: []Mention{bob}}, "<p>" + link + " hi</p>"},
		{"longer host is not the mention", Post{Text: "@bob@b.example.org", Mentions: []Mention{bob}}, "<p>@bob@b.example.org</p>"},
		{"direct message names its recipient", Post{Text: "secret", Direct: true, Mentions: []Mention{bob}}, "<p>" + link + " secret</p>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := noteHTML(tt.p); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestNoteActivity(t *testing.T) {
	site := coop.Site{Scheme: "https", Host: "a.example"}
	alice := coop.Actor{Handle: "alice", Kind: coop.KindPerson}
	bob := Mention{Actor: "https://b.example/users/bob", Acct: "bob@b.example", URL: "https://b.example/@bob"}
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		p      Post
		to, cc []any
	}{
		{"public post to followers", Post{Author: alice, Text: "hello", Published: at, Serial: "1"},
			[]any{asPublic}, []any{"https://a.example/users/alice/followers"}},
		{"public reply to a proposal", Post{Author: alice, Text: "agreed", InReplyTo: "https://a.example/proposals/1", Published: at, Serial: "3"},
			[]any{asPublic}, []any{"https://a.example/users/alice/followers"}},
		{"direct message to its recipient only", Post{Author: alice, Text: "psst", Direct: true, Mentions: []Mention{bob}, Published: at, Serial: "2"},
			[]any{bob.Actor}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body, err := noteActivity(site, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			if _, err := streams.ToType(t.Context(), m); err != nil {
				t.Fatalf("streams cannot read it back: %v", err)
			}
			note := m["object"].(map[string]any)
			if m["type"] != "Create" || note["type"] != "Note" || m["id"] != tt.p.ActivityID(site) || note["id"] != tt.p.NoteID(site) {
				t.Fatalf("ids/types: %s", body)
			}
			for _, x := range []map[string]any{m, note} {
				if !sameList(x["to"], tt.to) || !sameList(x["cc"], tt.cc) {
					t.Fatalf("addressing to=%v cc=%v, want %v %v", x["to"], x["cc"], tt.to, tt.cc)
				}
			}
			if got, _ := note["inReplyTo"].(string); got != tt.p.InReplyTo {
				t.Fatalf("inReplyTo %q, want %q", got, tt.p.InReplyTo)
			}
			if tt.p.Direct {
				tag, _ := note["tag"].(map[string]any)
				if tag == nil || tag["type"] != "Mention" || tag["href"] != bob.Actor || tag["name"] != "@bob@b.example" {
					t.Fatalf("a DM carries a Mention tag: %v", note["tag"])
				}
			}
		})
	}
}

// sameList compares a JSON value that may be a single value or an array.
func sameList(got any, want []any) bool {
	var g []any
	switch v := got.(type) {
	case nil:
	case []any:
		g = v
	default:
		g = []any{v}
	}
	if len(g) != len(want) {
		return false
	}
	for i := range g {
		if g[i] != want[i] {
			return false
		}
	}
	return true
}
