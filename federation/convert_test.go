package federation

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
	"github.com/google/go-cmp/cmp"
)

func equalJSON(got, want any) bool { return cmp.Equal(got, want) }

// unknownProperties is how streams keeps the properties it does not know.
type unknownProperties interface {
	GetUnknownProperties() map[string]any
}

// normalize makes two JSON values comparable by meaning as streams sees
// it: without @context (streams writes its own), and with one-element
// lists as bare values (streams writes them so).
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if k != "@context" {
				out[k] = normalize(x)
			}
		}
		return out
	case []any:
		if len(v) == 1 {
			return normalize(v[0])
		}
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalize(x)
		}
		return out
	}
	return v
}

// parse turns a served document into a streams type.
func parse(t *testing.T, body []byte) vocab.Type {
	t.Helper()
	ty, err := streams.ToType(context.Background(), decode(t, body))
	if err != nil {
		t.Fatalf("streams cannot parse the document: %v\n%s", err, body)
	}
	return ty
}

func TestActorDocumentsRoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		handle, typ string
		coopTerms   []string
	}{
		{"coop", "Organization", []string{propMembers}},
		{"alice", "Person", nil},
		{"tool", "Group", []string{propRepository, propLicence, propTags, propNeeds, propMaintainers}},
		{"bob", "Tombstone", nil},
	} {
		t.Run(tt.typ+" survives streams", func(t *testing.T) {
			body := f.get(t, "/users/"+tt.handle).Body.Bytes()
			ty := parse(t, body)
			if ty.GetTypeName() != tt.typ {
				t.Fatalf("type = %s, want %s", ty.GetTypeName(), tt.typ)
			}
			m, err := streams.Serialize(ty)
			if err != nil {
				t.Fatal(err)
			}
			again, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(normalize(decode(t, body)), normalize(decode(t, again))); diff != "" {
				t.Errorf("meaning changed through streams (-served +reserialized):\n%s", diff)
			}
			unknown := ty.(unknownProperties).GetUnknownProperties()
			for _, term := range tt.coopTerms {
				if _, ok := unknown[term]; !ok {
					t.Errorf("%s is not among the extension properties streams kept: %v", term, unknown)
				}
			}
		})
	}
	t.Run("a parsed Person reads back its properties", func(t *testing.T) {
		p, ok := parse(t, f.get(t, "/users/alice").Body.Bytes()).(vocab.ActivityStreamsPerson)
		if !ok {
			t.Fatal("not a Person")
		}
		if got := p.GetActivityStreamsPreferredUsername().GetXMLSchemaString(); got != "alice" {
			t.Errorf("preferredUsername = %q", got)
		}
		if got := p.GetActivityStreamsInbox().GetIRI().String(); got != testSite.Inbox("alice") {
			t.Errorf("inbox = %q", got)
		}
		key := p.GetW3IDSecurityV1PublicKey().At(0).Get()
		if got := key.GetW3IDSecurityV1PublicKeyPem().Get(); got != testKey(t) {
			t.Errorf("publicKeyPem = %q", got)
		}
		if got := key.GetJSONLDId().Get().String(); got != testSite.KeyID("alice") {
			t.Errorf("key id = %q", got)
		}
		if !p.GetTootDiscoverable().Get() {
			t.Error("not discoverable")
		}
	})
}

// TestContextIsStrict checks the strict-peer rule: a peer with no network
// (Fedify offline) knows the ActivityStreams and security contexts only, so
// every other term must be defined inline.
func TestContextIsStrict(t *testing.T) {
	f := newFixture(t)
	allowed := map[string]bool{nsActivityStreams: true, nsSecurity: true}
	for _, path := range []string{
		"/users/coop", "/users/alice", "/users/tool", "/users/bob",
		"/users/alice/followers", "/users/alice/followers?page=true", "/users/tool/outbox?page=true",
		"/users/coop/members", "/users/coop/members?page=true",
	} {
		t.Run(path, func(t *testing.T) {
			body := f.get(t, path, "Accept", acceptFedify).Body.Bytes()
			ctx, ok := decode(t, body)["@context"].([]any)
			if !ok {
				t.Fatalf("@context is not a list: %s", body)
			}
			for _, c := range ctx {
				switch c := c.(type) {
				case string:
					if !allowed[c] {
						t.Errorf("@context names %q, which a strict peer would have to fetch", c)
					}
				case map[string]any:
					for term, def := range c {
						if term == "@import" {
							t.Errorf("inline context imports %v", def)
						}
					}
				default:
					t.Errorf("@context holds %v", c)
				}
			}
			if strings.Contains(string(body), `"http://joinmastodon.org/ns"`) {
				t.Error("streams' Mastodon context URL leaked into the document")
			}
		})
	}
	t.Run("every extension term is defined inline", func(t *testing.T) {
		inline := documentContext[2].(map[string]any)
		for _, term := range []string{"discoverable", "manuallyApprovesFollowers", "PropertyValue", "value", "coop",
			propRepository, propMaintainers, propMembers} {
			if _, ok := inline[term]; !ok {
				t.Errorf("%s is not defined", term)
			}
		}
		for _, term := range []string{propRepository, propMaintainers, propMembers} {
			if def := inline[term].(map[string]any); def["@type"] != "@id" {
				t.Errorf("%s is not typed @id: %v", term, def)
			}
		}
	})
}

// TestPeerDocumentsParse reads real documents from Fedify and GoToSocial
// with streams, as coopfed will read its peers.
func TestPeerDocumentsParse(t *testing.T) {
	for _, tt := range []struct {
		file, typ, id, sharedInbox string
	}{
		{"fedify-actor.json", "Person", "http://127.0.0.1:8082/users/voter", "http://127.0.0.1:8082/inbox"},
		{"gotosocial-actor.json", "Person", "http://127.0.0.1:8080/users/voter", ""},
		{"fedify-followers.json", "OrderedCollection", "http://127.0.0.1:8082/users/voter/followers", ""},
	} {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			ty := parse(t, body)
			if ty.GetTypeName() != tt.typ {
				t.Fatalf("type = %s, want %s", ty.GetTypeName(), tt.typ)
			}
			if got := ty.GetJSONLDId().Get().String(); got != tt.id {
				t.Errorf("id = %s, want %s", got, tt.id)
			}
			p, ok := ty.(vocab.ActivityStreamsPerson)
			if !ok {
				return
			}
			if pem := p.GetW3IDSecurityV1PublicKey().At(0).Get().GetW3IDSecurityV1PublicKeyPem().Get(); !strings.HasPrefix(pem, "-----BEGIN PUBLIC KEY-----") {
				t.Errorf("publicKeyPem = %q", pem)
			}
			// endpoints is not in go-fed's vocabulary: it is kept as an
			// extension property.
			endpoints, _ := p.GetUnknownProperties()["endpoints"].(map[string]any)
			if got, _ := endpoints["sharedInbox"].(string); got != tt.sharedInbox {
				t.Errorf("sharedInbox = %q, want %q", got, tt.sharedInbox)
			}
		})
	}
}

func TestSummaryHTML(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"empty is empty", "", ""},
		{"blank is empty", " \n\n \t\n", ""},
		{"one line is a paragraph", "Hello.", "<p>Hello.</p>"},
		{"HTML is escaped", `<b>"Tom" & 'Jerry'</b>`, "<p>&lt;b&gt;&#34;Tom&#34; &amp; &#39;Jerry&#39;&lt;/b&gt;</p>"},
		{"blank lines part paragraphs", "One.\n\nTwo.\n \n\nThree.", "<p>One.</p><p>Two.</p><p>Three.</p>"},
		{"line breaks are kept", "One\nTwo", "<p>One<br>Two</p>"},
		{"CRLF is a line break", "One\r\nTwo\r\n\r\nThree", "<p>One<br>Two</p><p>Three</p>"},
		{"surrounding blank lines go", "\n\nOne\n\n", "<p>One</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summaryHTML(tt.text); got != tt.want {
				t.Errorf("summaryHTML(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestProjectFacts(t *testing.T) {
	t.Run("a URL that is not http(s) stays text", func(t *testing.T) {
		if got := linkHTML("javascript:alert(1)", "x<"); got != "x&lt;" {
			t.Errorf("linkHTML = %q", got)
		}
	})
	t.Run("an empty project has no facts", func(t *testing.T) {
		fs := projectFacts(testSite, coop.Project{})
		if fs.summary() != "" || len(fs.attachments()) != 0 {
			t.Errorf("facts = %v", fs)
		}
	})
	t.Run("a group without details still has coop: lists", func(t *testing.T) {
		a := coop.Actor{Kind: coop.KindGroup, Handle: "bare", Name: "Bare", PublicKeyPEM: "PEM", CreatedAt: t0}
		body, err := actorDocument(testSite, a, &coop.Project{Actor: a}, nil)
		if err != nil {
			t.Fatal(err)
		}
		m := decode(t, body)
		for _, k := range []string{propTags, propNeeds, propMaintainers} {
			if !equalJSON(m[k], []any{}) {
				t.Errorf("%s = %v, want []", k, m[k])
			}
		}
		for _, k := range []string{propRepository, propLicence, propAttachment, "summary"} {
			if _, ok := m[k]; ok {
				t.Errorf("%s present in %s", k, body)
			}
		}
	})
	t.Run("a local maintainer links to the profile", func(t *testing.T) {
		fs := projectFacts(testSite, coop.Project{Maintainers: []string{testSite.ActorID("alice")}})
		want := `<a href="https://coop.example/@alice" rel="nofollow noopener noreferrer" target="_blank">@alice</a>`
		if len(fs) != 1 || fs[0].valueHTML != want {
			t.Errorf("facts = %v", fs)
		}
	})
}
