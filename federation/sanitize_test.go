package federation

import (
	"context"
	"html"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/markup"
)

func TestSanitizeHTML(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"a Mastodon post keeps its markup",
			`<p>Hi <span class="h-card"><a href="https://m.example/@bob" class="u-url mention">@<span>bob</span></a></span> <a href="https://m.example/tags/coop" class="mention hashtag" rel="tag">#<span>coop</span></a></p><p>two<br>lines</p>`,
			`<p>Hi <span class="h-card"><a href="https://m.example/@bob" class="u-url mention" rel="nofollow noreferrer noopener" target="_blank">@<span>bob</span></a></span> <a href="https://m.example/tags/coop" class="mention hashtag" rel="nofollow noreferrer noopener" target="_blank">#<span>coop</span></a></p><p>two<br>lines</p>`},
		{"a shortened link keeps invisible and ellipsis",
			`<a href="https://example.com/long"><span class="invisible">https://</span><span class="ellipsis">example.com/lo</span><span class="invisible">ng</span></a>`,
			`<a href="https://example.com/long" rel="nofollow noreferrer noopener" target="_blank"><span class="invisible">https://</span><span class="ellipsis">example.com/lo</span><span class="invisible">ng</span></a>`},
		{"script goes whole", `<p>a<script>alert(1)</script>b</p>`, `<p>ab</p>`},
		{"style goes whole, and style attributes", `<style>p{display:none}</style><p style="color:red">x</p>`, `<p>x</p>`},
		{"an event handler goes", `<img src="x" onerror="alert(1)"><p onclick="alert(1)">x</p>`, `<p>x</p>`},
		{"a javascript: link loses its href", `<a href="javascript:alert(1)">x</a>`, `x`},
		{"an obfuscated javascript: link too", `<a href="jav&#x09;ascript:alert(1)">x</a><a href=" JaVaScRiPt:alert(1)">y</a>`, `xy`},
		{"a data: link too", `<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>`, `x`},
		{"a relative link too", `<a href="/admin">x</a>`, `x`},
		{"a rel given by the sender is replaced", `<a href="https://e.example/" rel="me opener">x</a>`, `<a href="https://e.example/" rel="nofollow noreferrer noopener" target="_blank">x</a>`},
		{"an unknown class drops the attribute", `<span class="invisible evil">x</span>`, `<span>x</span>`},
		{"iframes, forms and images go", `<iframe src="https://e.example/"></iframe><form><input value="x"></form><img src="https://e.example/a.png">t`, `t`},
		{"text stays escaped", `<p>1 &lt; 2 &amp; <b>bold</b></p>`, `<p>1 &lt; 2 &amp; <b>bold</b></p>`},
		{"an unclosed tag cannot swallow what follows", `<p>a<a href="https://e.example/" title="x`, `<p>a`},
		{"lists keep numbers", `<ol start="3" onclick="x"><li value="5">x</li></ol>`, `<ol start="3"><li value="5">x</li></ol>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sanitizeHTML(tc.in); got != tc.want {
				t.Errorf("sanitizeHTML(%s)\n got %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestPlainText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"a plain name", "Zoë Example", "Zoë Example"},
		{"markup goes, its text stays", `<b>Zoë</b> <img src=x onerror=alert(1)>`, "Zoë"},
		{"script goes whole", `Zoë<script>alert(1)</script>`, "Zoë"},
		{"entities are decoded: the name is text", "Tom &amp; Jerry &lt;3", "Tom & Jerry <3"},
		{"control and bidi characters go", "ad\u202emin\x00\n\tname", "ad min name"},
		{"spaces collapse and trim", "  a   b  ", "a b"},
		{"long names are cut", strings.Repeat("x", 300), strings.Repeat("x", maxNameRunes)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := plainText(tc.in); got != tc.want {
				t.Errorf("plainText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestRemoteTextSanitizedWhenStored: a received note's content and name,
// and a fetched actor's name, are stored cleaned.
func TestRemoteTextSanitizedWhenStored(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	zoe := peer.actorURI("zoe")
	doc := mustJSON(t, map[string]any{
		"id": zoe, "type": "Person", "preferredUsername": "zoe", "name": `<script>alert(1)</script>Zoë <b>Evil</b>`,
		"inbox": zoe + "/inbox", "publicKey": map[string]any{"id": zoe + "#main-key", "owner": zoe, "publicKeyPem": publicPEM(&key.PublicKey)},
	})
	peer.set("/users/zoe", 200, string(doc))
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"}, nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}}, "alice")
	body := mustJSON(t, map[string]any{"id": zoe + "/activities/1", "type": "Create", "actor": zoe, "to": n.site.ActorID("alice"),
		"object": map[string]any{"id": zoe + "/notes/1", "type": "Note", "attributedTo": zoe, "to": n.site.ActorID("alice"),
			"name":    `<i>Poll</i><script>x()</script>`,
			"content": `<p onmouseover="steal()">hi <a href="javascript:steal()">there</a><script>steal()</script><img src=x onerror=steal()></p>`}})
	wantAccepted(t, n.post(signedPost(t, n, "/inbox", body, zoe+"#main-key", key)))
	n.process(t)

	a, err := n.db.RemoteActor(ctx, zoe)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "Zoë Evil" {
		t.Errorf("actor name = %q", a.Name)
	}
	notes, err := n.db.ReceivedNotes(ctx, 0)
	if err != nil || len(notes) != 1 {
		t.Fatalf("notes = %+v, %v", notes, err)
	}
	if got := notes[0].Content; got != `<p>hi there</p>` {
		t.Errorf("content = %q", got)
	}
	if got := notes[0].Name; got != "Poll" {
		t.Errorf("name = %q", got)
	}
}

// FuzzPlainSkipsThePolicies checks the shortcut of sanitizeHTML and
// plainText: a string plain passes is what both policies give back.
func FuzzPlainSkipsThePolicies(f *testing.F) {
	for _, s := range []string{"", "hello", "a\tb\nc", "caf\u00e9 \u202e", "x\x00y", "a\r\nb", "&amp;", "<p>", "'\"", "\xff\xfe", "=;/#%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !plain(s) {
			return
		}
		if got := markup.Remote(s); got != s {
			t.Errorf("markup.Remote(%q) = %q", s, got)
		}
		if got := html.UnescapeString(textPolicy.Sanitize(s)); got != s {
			t.Errorf("textPolicy.Sanitize(%q) = %q", s, got)
		}
	})
}

// FuzzParagraphsSkipHTMLPolicy checks sanitizeHTML's shortcut for text in
// paragraphs: a string paragraphs passes is what markup.Remote gives back.
func FuzzParagraphsSkipHTMLPolicy(f *testing.F) {
	for _, s := range []string{"", "<p>Hello @alice, note 1 of round 1.</p>", "<p>a<br>b<br/>c</p><p>d</p>", "</p>x<p>",
		"<p>caf\u00e9 \u202e\ufeff\u00a0</p>", "<p>a\x01\x7f\x0c\xffb</p>", "<p>\t\n</p>", "<br><br/><p></p>",
		"<p>=;/#%</p>", "<p>a</p >", "<br />", "<P>x</P>", "<p>&amp;</p>", "<p>x\r\ny</p>", "<pre>x</pre>", "<p><!-- c --></p>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !paragraphs(s) {
			return
		}
		if got := markup.Remote(s); got != s {
			t.Errorf("markup.Remote(%q) = %q", s, got)
		}
	})
}
