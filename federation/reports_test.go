package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"github.com/google/go-cmp/cmp"
)

// mastodonFlag is a Flag as Mastodon's ActivityPub::FlagSerializer
// writes one (app/serializers/activitypub/flag_serializer.rb: id, type,
// actor, content, and object: the reported account's URI then its
// statuses'), from its instance actor (ReportService#forward_to_origin!
// sends it as Account.representative).
func mastodonFlag(id, actor, content string, objects ...string) []byte {
	b, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       id,
		"type":     "Flag",
		"actor":    actor,
		"content":  content,
		"object":   objects,
	})
	return b
}

// flagNode is a node with alice, a post of hers in her outbox, and a
// Mastodon-like server at m.test whose instance actor is /actor.
func flagNode(t *testing.T) (n *inboxNode, peer *remote, actor, note string) {
	t.Helper()
	key := rsaKey(t, 1)
	peer = newRemote(t, "m.test", key)
	actor = "http://m.test/actor"
	doc, _ := json.Marshal(map[string]any{
		"@context": []any{nsActivityStreams, nsSecurity}, "id": actor, "type": "Application",
		"preferredUsername": "m.test", "inbox": actor + "/inbox", "endpoints": map[string]any{"sharedInbox": "http://m.test/inbox"},
		"publicKey": map[string]any{"id": actor + "#main-key", "owner": actor, "publicKeyPem": publicPEM(&key.PublicKey)},
	})
	peer.set("/actor", http.StatusOK, string(doc))
	n = newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"m.test": peer.addr()}}, "alice", "bob")
	note = n.site.ActorID("alice") + "/notes/19a7abc0"
	err := n.db.Write(context.Background(), func(tx *store.Tx) error {
		_, err := tx.AppendOutbox(context.Background(), n.ids["alice"], note+"/activity", "Create", []byte(`{}`), t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, peer, actor, note
}

// sendFlag posts a Flag to an inbox of n, signed by the peer's instance
// actor, processes what is due, and returns the inbox's status.
func sendFlag(t *testing.T, n *inboxNode, peer *remote, path string, body []byte) int {
	t.Helper()
	w := n.post(signedPost(t, n, path, body, "http://m.test/actor#main-key", peer.key))
	n.process(t)
	return w.Code
}

func reportsOf(t *testing.T, n *inboxNode) []coop.Report {
	t.Helper()
	rs, err := n.db.Reports(context.Background(), coop.ReportQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestFlagFromMastodon pins ActivityPub::Activity::Flag#perform
// (app/lib/activitypub/activity/flag.rb): of a Flag's objects only the
// local accounts and statuses are kept (.select(&:local?)); here, the
// live local actors (by actor id or profile URL) and the posts this
// node sent. The comment is kept as plain text.
func TestFlagFromMastodon(t *testing.T) {
	n, peer, actor, note := flagNode(t)
	flag := mastodonFlag("http://m.test/0b7ff0cc-3f2e-4c1a-9f0e-5d1a2b3c4d5e", actor,
		"Spam &amp; scam<br>see <b>this</b>\u202e",
		n.site.ActorID("alice"),                 // the reported account
		note,                                    // her status
		"http://m.test/users/eve/statuses/1",    // not ours: ignored
		n.site.ActorID("alice")+"/notes/nosuch", // looks ours, never sent: ignored
		n.site.ProfileURL("coop"),               // the co-op, by its profile URL
		n.site.URL("/users/nobody"),             // no such actor: ignored
		n.site.ActorID("alice"),                 // twice: once
	)
	if code := sendFlag(t, n, peer, "/users/alice/inbox", flag); code != http.StatusAccepted {
		t.Fatalf("inbox answered %d", code)
	}
	want := []coop.Report{{ID: 1, FlagID: "http://m.test/0b7ff0cc-3f2e-4c1a-9f0e-5d1a2b3c4d5e", Reporter: actor,
		Accounts: []string{n.site.ActorID("alice"), n.site.ActorID("coop")}, Objects: []string{note},
		Comment: "Spam & scam\nsee this", ReceivedAt: t0, State: coop.ReportOpen}}
	if diff := cmp.Diff(want, reportsOf(t, n)); diff != "" {
		t.Fatalf("reports (-want +got):\n%s", diff)
	}

	t.Run("the same Flag again stores no second report", func(t *testing.T) {
		if code := sendFlag(t, n, peer, "/inbox", flag); code != http.StatusAccepted {
			t.Fatalf("inbox answered %d", code)
		}
		// And its effect applied again (a crash between the effect and
		// the row's done) changes nothing either.
		a, err := decodeActivity(flag, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		eff, err := n.proc.flag(context.Background(), a, store.Inbound{ReceivedAt: t0.Add(1)})
		if err != nil || eff == nil {
			t.Fatalf("effect %v, %v", eff, err)
		}
		if err := n.db.Write(context.Background(), func(tx *store.Tx) error { return eff(context.Background(), tx) }); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, reportsOf(t, n)); diff != "" {
			t.Fatalf("reports (-want +got):\n%s", diff)
		}
	})

	t.Run("a Flag naming only foreign objects is accepted and dropped", func(t *testing.T) {
		other := mastodonFlag("http://m.test/9a9a", actor, "elsewhere",
			"http://m.test/users/eve", "http://m.test/users/eve/statuses/1", "https://third.test/users/x")
		if code := sendFlag(t, n, peer, "/inbox", other); code != http.StatusAccepted {
			t.Fatalf("inbox answered %d", code)
		}
		if got := reportsOf(t, n); len(got) != 1 {
			t.Fatalf("%d reports", len(got))
		}
		ins, err := n.db.InboundByActivityID(context.Background(), "http://m.test/9a9a")
		if err != nil || len(ins) != 1 || ins[0].State != "done" {
			t.Fatalf("inbound %+v, %v", ins, err)
		}
	})

	t.Run("a Flag naming only a post of ours is kept", func(t *testing.T) {
		if code := sendFlag(t, n, peer, "/inbox", mastodonFlag("http://m.test/7c7c", actor, "", note)); code != http.StatusAccepted {
			t.Fatalf("inbox answered %d", code)
		}
		got := reportsOf(t, n)
		if len(got) != 2 || got[0].FlagID != "http://m.test/7c7c" || len(got[0].Accounts) != 0 || !cmp.Equal(got[0].Objects, []string{note}) {
			t.Fatalf("reports %+v", got)
		}
	})
}

// TestFlagOf: how a Flag's objects and comment are read.
func TestFlagOf(t *testing.T) {
	many := make([]any, 0, maxFlagObjects+5)
	for i := range maxFlagObjects + 5 {
		many = append(many, fmt.Sprintf("https://x.test/%d", i))
	}
	long := strings.Repeat("é", 6000)
	for _, tc := range []struct {
		name string
		doc  map[string]any
		want flagged
	}{
		{"one object, a string", map[string]any{"object": "https://x.test/u/a", "content": "hi"},
			flagged{Objects: []string{"https://x.test/u/a"}, Comment: "hi"}},
		{"embedded objects by their id; no id, no scheme and repeats dropped",
			map[string]any{"object": []any{map[string]any{"id": "https://x.test/u/a", "type": "Person"}, map[string]any{"type": "Note"},
				"urn:x:1", "https://x.test/u/a", "https://x.test/n/1"}},
			flagged{Objects: []string{"https://x.test/u/a", "https://x.test/n/1"}}},
		{"the comment of a language map", map[string]any{"contentMap": map[string]any{"fr": "<p>Pourriel</p><p>encore</p>"}},
			flagged{Comment: "Pourriel\nencore"}},
		{"at most maxFlagObjects objects", map[string]any{"object": many},
			flagged{Objects: idsOf(many[:maxFlagObjects])}},
		{"a comment cut at 5000 characters, as Mastodon's report_comment", map[string]any{"content": long},
			flagged{Comment: long[:2*5000]}},
		{"no object", map[string]any{"content": 7}, flagged{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.doc["type"] = "Flag"
			got := flagOf(activity{m: tc.doc, Type: "Flag"})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzDecodeFlag: any body the inbox decodes as an activity reads as a
// Flag without panicking, into at most maxFlagObjects distinct http(s)
// ids and a comment of valid UTF-8 of at most 5000 runes with no markup
// left to show.
func FuzzDecodeFlag(f *testing.F) {
	f.Add(mastodonFlag("https://m.example/0b7ff0cc", "https://m.example/actor", "Boo!!",
		"https://coop.example/users/alice", "https://coop.example/users/alice/notes/19a7abc0"))
	f.Add([]byte(`{"id":"https://m.example/1","type":"Flag","actor":{"id":"https://m.example/actor"},"object":{"id":"https://coop.example/proposals/1"},"contentMap":{"en":"<p>a</p><script>x</script>"}}`))
	f.Add([]byte(`{"id":"https://m.example/2","type":["Flag"],"actor":"https://m.example/actor","object":[null,1,"",{"id":7}],"content":"\u0000<br>\u202e"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := decodeActivity(body, DefaultMaxBodyBytes)
		if err != nil {
			return
		}
		got := flagOf(a)
		if len(got.Objects) > maxFlagObjects {
			t.Fatalf("%d objects", len(got.Objects))
		}
		seen := map[string]bool{}
		for _, id := range got.Objects {
			if hostOf(id) == "" || seen[id] {
				t.Fatalf("object %q", id)
			}
			seen[id] = true
		}
		if !utf8.ValidString(got.Comment) || utf8.RuneCountInString(got.Comment) > maxMessageRunes {
			t.Fatalf("comment %q", got.Comment)
		}
		if strings.ContainsAny(got.Comment, "\x00\u202e") {
			t.Fatalf("comment %q keeps a control character", got.Comment)
		}
	})
}
