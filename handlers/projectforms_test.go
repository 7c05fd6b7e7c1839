package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/store"
)

// addMember adds a plain member to the fixture.
func addMember(t *testing.T, f fixture, handle string) {
	t.Helper()
	if _, _, err := f.svc.AddMember(coop.AsAdmin(context.Background()), coop.NewMember{Handle: handle, DisplayName: handle}); err != nil {
		t.Fatal(err)
	}
}

// toolUnchanged fails the test unless project tool's tags and maintainers are
// still the fixture's.
func toolUnchanged(t *testing.T, f fixture) {
	t.Helper()
	p, err := f.svc.Project(context.Background(), "tool")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.Tags, ",") != "go" || len(p.Maintainers) != 2 || p.Name != "The Tool" || p.Revision != 1 {
		t.Fatalf("tool changed: %+v", p)
	}
}

// TestProjectForms: a member creates a project (and maintains it); its
// maintainer edits it, maintainers included; errors show by field; a
// visitor, a forged form and a member who does not maintain it are
// refused with nothing changed; the Edit link shows only to those who
// may edit.
func TestProjectForms(t *testing.T) {
	f := newFixture(t)
	addMember(t, f, "dave")

	t.Run("a visitor is refused", func(t *testing.T) {
		v := newBrowser(t, f.handler)
		for _, path := range []string{"/projects/new", "/projects/tool/edit"} {
			resp, _ := v.do("GET", path, nil)
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin?next=") {
				t.Errorf("GET %s: %d → %s", path, resp.StatusCode, resp.Header.Get("Location"))
			}
			if resp, _ := v.do("POST", path, url.Values{"slug": {"x"}, "tags": {"x"}}); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("POST %s: %d", path, resp.StatusCode)
			}
		}
		_, page := v.do("GET", "/@tool", nil)
		if strings.Contains(page, "/projects/tool/edit") {
			t.Error("a visitor sees the Edit link")
		}
		_, page = v.do("GET", "/projects", nil)
		if strings.Contains(page, `href="/projects/new"`) {
			t.Error("a visitor sees the New project link")
		}
		toolUnchanged(t, f)
	})

	dave := signedIn(t, f, "dave")
	_, page := dave.do("GET", "/projects", nil)
	mustContain(t, "the directory", 200, 200, page, `href="/projects/new"`)
	resp, page := dave.do("GET", "/projects/new", nil)
	mustContain(t, "the new form", resp.StatusCode, 200, page, `<label for="slug">`, `<label for="repository">`, `<label for="licence">`,
		`<label for="tags">`, `<label for="needs">`)
	csrf := csrfOf(t, page)
	form := url.Values{"csrf": {csrf}, "slug": {"kit"}, "name": {"The Kit"}, "summary": {"Tools & <parts>."},
		"repository": {"https://git.example/kit"}, "licence": {"MIT"}, "tags": {"#Go, web"}, "needs": {"code review, design"}}

	t.Run("without the CSRF token nothing is created", func(t *testing.T) {
		resp, _ := dave.do("POST", "/projects/new", withField(form, "csrf", ""))
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if _, err := f.svc.Project(context.Background(), "kit"); err == nil {
			t.Fatal("kit was created")
		}
	})
	t.Run("errors show by field, with the input kept", func(t *testing.T) {
		for _, tt := range []struct{ field, value, want string }{
			{"slug", "bad slug", `id="slug-error"`},
			{"slug", "tool", `id="slug-error"`},
			{"repository", "ftp://git.example/kit", `id="repository-error"`},
			{"licence", "MIT OR (", `id="licence-error"`},
			{"tags", "no-dashes", `id="tags-error"`},
		} {
			resp, page := dave.do("POST", "/projects/new", withField(form, tt.field, tt.value))
			mustContain(t, tt.field+"="+tt.value, resp.StatusCode, http.StatusBadRequest, page, tt.want, `role="alert"`,
				`aria-invalid="true"`, `value="The Kit"`)
		}
		if _, err := f.svc.Project(context.Background(), "kit"); err == nil {
			t.Fatal("kit was created")
		}
	})

	resp, _ = dave.do("POST", "/projects/new", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://coop.example/@kit" {
		t.Fatalf("create: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page = dave.do("GET", "/@kit", nil)
	mustContain(t, "the new project's page", resp.StatusCode, 200, page, "The Kit", "Tools &amp; &lt;parts&gt;.", "https://git.example/kit",
		"MIT", "#go", "#web", "code review", `href="https://coop.example/@dave"`, `href="/projects/kit/edit"`)

	t.Run("a member who does not maintain it is refused", func(t *testing.T) {
		resp, page := dave.do("GET", "/projects/tool/edit", nil)
		mustContain(t, "GET", resp.StatusCode, http.StatusForbidden, page, "maintainers")
		_, kit := dave.do("GET", "/projects/kit/edit", nil)
		resp, _ = dave.do("POST", "/projects/tool/edit", url.Values{"csrf": {csrfOf(t, kit)}, "name": {"Mine"}, "tags": {"mine"}, "maintainers": {"dave"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("POST: %d", resp.StatusCode)
		}
		_, page = dave.do("GET", "/@tool", nil)
		if strings.Contains(page, "/projects/tool/edit") {
			t.Error("dave sees tool's Edit link")
		}
		toolUnchanged(t, f)
	})

	alice := signedIn(t, f, "alice")
	resp, page = alice.do("GET", "/projects/tool/edit", nil)
	mustContain(t, "the edit form", resp.StatusCode, 200, page, `value="The Tool"`, `value="go"`, `value="review"`,
		"alice\nhttps://other.example/users/bob</textarea>", `<label for="maintainers">`)
	edit := url.Values{"csrf": {csrfOf(t, page)}, "name": {"The Tool"}, "summary": {""}, "repository": {"https://git.example/tool"},
		"licence": {"AGPL-3.0-or-later"}, "tags": {"go web"}, "needs": {"review"}, "maintainers": {"alice\ndave"}}
	t.Run("a forged edit is refused", func(t *testing.T) {
		resp, _ := alice.do("POST", "/projects/tool/edit", withField(edit, "csrf", "forged"))
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", resp.StatusCode)
		}
		toolUnchanged(t, f)
	})
	t.Run("edit errors show by field", func(t *testing.T) {
		for _, tt := range []struct{ field, value, want string }{
			{"name", " ", `id="name-error"`},
			{"maintainers", "", `id="maintainers-error"`},
			{"maintainers", "nobody", `id="maintainers-error"`},
			{"needs", strings.Repeat("x", 101), `id="needs-error"`},
		} {
			resp, page := alice.do("POST", "/projects/tool/edit", withField(edit, tt.field, tt.value))
			mustContain(t, tt.field+"="+tt.value, resp.StatusCode, http.StatusBadRequest, page, tt.want, `role="alert"`, `value="go web"`)
		}
		toolUnchanged(t, f)
	})
	resp, _ = alice.do("POST", "/projects/tool/edit", edit)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://coop.example/@tool" {
		t.Fatalf("edit: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page = alice.do("GET", "/@tool", nil)
	mustContain(t, "the edited page", resp.StatusCode, 200, page, "#go, #web", `href="https://coop.example/@dave"`, `href="/projects/tool/edit"`)
	if strings.Contains(page, "other.example/users/bob") {
		t.Error("bob is still a maintainer")
	}
	// dave maintains tool now: he sees its Edit link.
	_, page = dave.do("GET", "/@tool", nil)
	mustContain(t, "dave on tool", 200, 200, page, `href="/projects/tool/edit"`)
	if resp, _ := dave.do("GET", "/projects/nope/edit", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown project's edit form: %d", resp.StatusCode)
	}
}

// TestProjectPageLists: a project's page shows what it posted (newest
// first, by pages of 20), the public posts addressed to it from other
// servers with their HTML cleaned (no script, no event handler, no
// javascript: link), and the proposals it decides.
func TestProjectPageLists(t *testing.T) {
	f := newFixture(t)
	ctx := coop.AsAdmin(context.Background())
	tool, err := f.svc.Project(ctx, "tool")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	err = f.svc.Store.Update(ctx, func(tx coop.Tx) error {
		for i := range coop.ProjectPostsPerPage + 1 {
			body := fmt.Sprintf(`{"type":"Create","object":{"type":"Note","id":"https://coop.example/notes/%d","content":"<p>tool post %d</p>"}}`, i, i)
			if _, err := tx.AppendOutbox(ctx, tool.ID, fmt.Sprintf("https://coop.example/c/%d", i), "Create", []byte(body), at.Add(time.Duration(i)*time.Minute)); err != nil {
				return err
			}
		}
		_, err := tx.(*store.Tx).InsertReceivedNote(ctx, store.ReceivedNote{ActivityID: "https://x.example/c/1", ObjectID: "https://x.example/notes/1",
			ActorURI: "https://x.example/users/ann", RecipientIDs: []int64{tool.ID},
			Content: `<p onclick="steal()">Hello <strong>tool</strong><script>alert(1)</script> <a href="javascript:steal()">click</a> <a href="https://x.example/t">link</a></p>`,
			Raw:     []byte(`{"to":["https://www.w3.org/ns/activitystreams#Public"]}`), Published: at, ReceivedAt: at})
		if err != nil {
			return err
		}
		// bo's actor is at hand: the page names bo, with @bo@y.example.
		if err := tx.(*store.Tx).PutRemoteActor(ctx, store.RemoteActor{ID: "https://y.example/users/bo", Type: "Person", PreferredUsername: "bo",
			Name: "Bo <b>Bold</b>", Inbox: "https://y.example/users/bo/inbox", KeyID: "https://y.example/users/bo#main-key",
			PublicKeyPEM: "-", Host: "y.example", FetchedAt: at}); err != nil {
			return err
		}
		_, err = tx.(*store.Tx).InsertReceivedNote(ctx, store.ReceivedNote{ActivityID: "https://y.example/c/1", ObjectID: "https://y.example/notes/1",
			ActorURI: "https://y.example/users/bo", RecipientIDs: []int64{tool.ID}, Content: `<p>From bo</p>`,
			Raw: []byte(`{"cc":["https://www.w3.org/ns/activitystreams#Public"]}`), Published: at.Add(time.Minute), ReceivedAt: at})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{"Adopt a logo", "Move the forge"} {
		if _, err := f.svc.OpenProposal(ctx, coop.NewProposal{Group: "tool", Title: title, Method: governance.Consent,
			ClosesIn: time.Hour, Threshold: governance.Consensus}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.OpenProposal(ctx, coop.NewProposal{Group: coop.CoopGroup, Title: "The co-op's own", Method: governance.Consent,
		ClosesIn: time.Hour, Threshold: governance.Consensus}); err != nil {
		t.Fatal(err)
	}
	v := newBrowser(t, f.handler)
	resp, page := v.do("GET", "/@tool", nil)
	mustContain(t, "the project page", resp.StatusCode, 200, page, "<p>tool post 20</p>", "<p>tool post 1</p>", "Older posts",
		"Posts to the project", `<a href="https://x.example/users/ann" rel="nofollow noopener noreferrer">https://x.example/users/ann</a>`, "Hello <strong>tool</strong>",
		`<a href="https://y.example/users/bo" rel="nofollow noopener noreferrer">Bo &lt;b&gt;Bold&lt;/b&gt;</a> <span class="acct">@bo@y.example</span>`, "<p>From bo</p>", `href="https://x.example/t"`,
		`<a href="/proposals/1">Adopt a logo</a>`, `<a href="/proposals/2">Move the forge</a>`)
	for _, bad := range []string{"<script", "alert(1)", "onclick", "steal()", "javascript:", "<p>tool post 0</p>", "The co-op&#39;s own"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page shows %q", bad)
		}
	}
	if i, j := strings.Index(page, "tool post 20"), strings.Index(page, "tool post 19"); i < 0 || j < i {
		t.Error("posts are not newest first")
	}
	older := regexpFind(t, `href="(/@tool\?before=[0-9]+)#posts"`, page)
	resp, page = v.do("GET", older, nil)
	mustContain(t, "the older posts", resp.StatusCode, 200, page, "<p>tool post 0</p>")
	if strings.Contains(page, "tool post 1<") || strings.Contains(page, "Older posts") {
		t.Error("the older page repeats newer posts or offers more")
	}
}

func regexpFind(t *testing.T, expr, s string) string {
	t.Helper()
	m := regexp.MustCompile(expr).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %s in:\n%s", expr, s)
	}
	return m[1]
}
