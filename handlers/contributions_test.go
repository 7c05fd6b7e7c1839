package handlers

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// contribFixture is the pages' fixture with a second member, bea, and a
// project "kit" that alice and bea maintain.
func contribFixture(t *testing.T, f fixture) {
	t.Helper()
	admin := coop.AsAdmin(context.Background())
	if _, _, err := f.svc.AddMember(admin, coop.NewMember{Handle: "bea", DisplayName: "Bea"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AddProject(admin, coop.NewProject{Slug: "kit", Name: "The Kit", Repository: "https://git.example/kit",
		Maintainers: []string{"alice", "bea"}}); err != nil {
		t.Fatal(err)
	}
}

// contribSignIn signs handle in through the pages (a one-time password,
// then their own) and returns their browser.
func contribSignIn(t *testing.T, f fixture, handle string) *browser {
	t.Helper()
	one, err := f.svc.ResetPassword(coop.AsAdmin(context.Background()), handle)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, f.handler)
	_, page := b.do("GET", "/signin", nil)
	if resp, _ := b.do("POST", "/signin", url.Values{"csrf": {csrfOf(t, page)}, "handle": {handle}, "password": {one}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d", handle, resp.StatusCode)
	}
	_, page = b.do("GET", "/account/password", nil)
	pw := handle + "-correct-horse"
	if resp, _ := b.do("POST", "/account/password", url.Values{"csrf": {csrfOf(t, page)}, "current": {one}, "new": {pw}, "again": {pw}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password of %s: %d", handle, resp.StatusCode)
	}
	return b
}

// visitorSees fetches path with no session and fails if the answer
// holds any of secrets or is not a redirect to sign in (GET) or a 401
// (POST).
func visitorSees(t *testing.T, f fixture, method, path string, secrets ...string) {
	t.Helper()
	v := newBrowser(t, f.handler)
	var form url.Values
	if method == "POST" {
		form = url.Values{"decision": {"approve"}}
	}
	resp, body := v.do(method, path, form)
	switch method {
	case "GET":
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin?next=") {
			t.Errorf("visitor GET %s: %d → %q", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	default:
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("visitor %s %s: %d", method, path, resp.StatusCode)
		}
	}
	for _, s := range secrets {
		if strings.Contains(body, s) {
			t.Errorf("visitor %s %s sees %q:\n%s", method, path, s, body)
		}
	}
}

// TestContributionPages: a member records a contribution in the form,
// with CSRF checked; the list filters; only a maintainer who is not the
// contributor is offered approve and reject, and coop refuses the
// contributor anyway; a visitor sees nothing of it.
func TestContributionPages(t *testing.T) {
	f := newFixture(t)
	contribFixture(t, f)
	alice := contribSignIn(t, f, "alice")
	bea := contribSignIn(t, f, "bea")
	const list = "/projects/kit/contributions"

	resp, page := alice.do("GET", list, nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "Record a contribution") || !strings.Contains(page, "No records match") {
		t.Fatalf("empty list: %d\n%s", resp.StatusCode, page)
	}
	token := csrfOf(t, page)
	form := url.Values{"kind": {"code"}, "hours": {"1:30"}, "minutes": {"7"}, "points": {"3"}, "day": {"2026-11-24"},
		"evidence": {"https://git.example/kit/pull/1\r\n\r\nhttps://git.example/kit/issues/2"}, "note": {"Fixed the <parser>"}}

	t.Run("the form without its token is refused", func(t *testing.T) {
		resp, _ := alice.do("POST", list, form)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
	withToken := func(v url.Values, tok string) url.Values {
		out := url.Values{"csrf": {tok}}
		for k, x := range v {
			out[k] = x
		}
		return out
	}
	t.Run("a bad field is said, the form kept", func(t *testing.T) {
		bad := withToken(form, token)
		bad.Set("hours", "lots")
		resp, page := alice.do("POST", list, bad)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Hours: write them like 1.5 or 1:30") || !strings.Contains(page, "Fixed the &lt;parser&gt;") {
			t.Fatalf("%d\n%s", resp.StatusCode, page)
		}
		bad = withToken(form, token)
		bad.Set("day", "2027-01-01")
		if resp, page := alice.do("POST", list, bad); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "is in the future") {
			t.Fatalf("a day in the future: %d\n%s", resp.StatusCode, page)
		}
	})
	t.Run("a contributor who is no member is refused", func(t *testing.T) {
		bad := withToken(form, token)
		bad.Set("contributor", "nobody")
		if resp, page := alice.do("POST", list, bad); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `role="alert"`) {
			t.Fatalf("%d\n%s", resp.StatusCode, page)
		}
	})
	resp, _ = alice.do("POST", list, withToken(form, token))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != list+"?recorded=1" {
		t.Fatalf("record: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	forBea := withToken(form, token)
	forBea.Set("contributor", "bea")
	forBea.Set("hours", "")
	forBea.Set("minutes", "45")
	forBea.Set("note", "Reviewed")
	forBea.Set("kind", "review")
	if resp, _ := alice.do("POST", list, forBea); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("record for bea: %d", resp.StatusCode)
	}

	_, page = alice.do("GET", list+"?recorded=1", nil)
	for _, want := range []string{"Recorded, pending", "1 h 37", "0 h 45", "Fixed the &lt;parser&gt;", `href="https://git.example/kit/issues/2"`, "2 h 22"} {
		if !strings.Contains(page, want) {
			t.Fatalf("list lacks %q:\n%s", want, page)
		}
	}
	cs, err := f.svc.ListContributions(coop.AsAdmin(context.Background()), coop.ContributionFilter{Project: "kit"})
	if err != nil || len(cs) != 2 || cs[0].Minutes != 97 || cs[0].Contributor != "https://coop.example/users/alice" || len(cs[0].Evidence) != 2 {
		t.Fatalf("stored: %+v %v", cs, err)
	}
	mine, beas := cs[0], cs[1]
	if !strings.Contains(page, `action="/contributions/2/decision"`) || strings.Contains(page, `action="/contributions/1/decision"`) {
		t.Fatalf("alice is offered to decide her own record, or not bea's:\n%s", page)
	}

	t.Run("the contributor cannot approve their own record, even by posting", func(t *testing.T) {
		resp, page := alice.do("POST", "/contributions/1/decision", url.Values{"csrf": {token}, "decision": {"approve"}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "A maintainer never approves or rejects their own contribution") {
			t.Fatalf("%d\n%s", resp.StatusCode, page)
		}
	})
	_, page = bea.do("GET", list, nil)
	beaToken := csrfOf(t, page)
	if !strings.Contains(page, `action="/contributions/1/decision"`) || strings.Contains(page, `action="/contributions/2/decision"`) {
		t.Fatalf("bea's offers:\n%s", page)
	}
	t.Run("a decision needs its token, and a rejection a reason", func(t *testing.T) {
		if resp, _ := bea.do("POST", "/contributions/1/decision", url.Values{"decision": {"approve"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("without token: %d", resp.StatusCode)
		}
		if resp, _ := bea.do("POST", "/contributions/1/decision", url.Values{"csrf": {token}, "decision": {"approve"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("with alice's token: %d", resp.StatusCode)
		}
		resp, page := bea.do("POST", "/contributions/1/decision", url.Values{"csrf": {beaToken}, "decision": {"reject"}, "reason": {"  "}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "A rejection says why.") {
			t.Fatalf("reject without reason: %d\n%s", resp.StatusCode, page)
		}
	})
	resp, _ = bea.do("POST", "/contributions/1/decision", url.Values{"csrf": {beaToken}, "decision": {"approve"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bea approves: %d", resp.StatusCode)
	}
	resp, _ = alice.do("POST", "/contributions/2/decision", url.Values{"csrf": {token}, "decision": {"reject"}, "reason": {"not <this> one"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("alice rejects bea's: %d", resp.StatusCode)
	}
	t.Run("a decided record is not decided again", func(t *testing.T) {
		resp, page := bea.do("POST", "/contributions/1/decision", url.Values{"csrf": {beaToken}, "decision": {"approve"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "already approved") {
			t.Fatalf("%d\n%s", resp.StatusCode, page)
		}
	})

	t.Run("filters", func(t *testing.T) {
		for _, tt := range []struct {
			query      string
			has, hasnt []string
		}{
			{"?status=approved", []string{"#c1", "Fixed the"}, []string{"Reviewed"}},
			{"?status=rejected", []string{"not &lt;this&gt; one", "Reviewed"}, []string{"Fixed the"}},
			{"?member=bea", []string{"Reviewed"}, []string{"Fixed the"}},
			{"?kind=review", []string{"Reviewed"}, []string{"Fixed the"}},
			{"?kind=code&status=approved", []string{"Fixed the"}, []string{"Reviewed"}},
			{"?kind=care", []string{"No records match"}, []string{"Fixed the", "Reviewed"}},
			{"?from=2026-11-25", []string{"No records match"}, []string{"Fixed the", "Reviewed"}},
			{"?from=2026-11-24&to=2026-11-25", []string{"Fixed the", "Reviewed"}, nil},
			{"?to=yesterday", []string{"is not a date"}, nil},
		} {
			resp, page := alice.do("GET", list+tt.query, nil)
			page = strings.ReplaceAll(page, `id="c1"`, "#c1")
			for _, s := range tt.has {
				if resp.StatusCode != 200 || !strings.Contains(page, s) {
					t.Errorf("%s: %d lacks %q", tt.query, resp.StatusCode, s)
				}
			}
			for _, s := range tt.hasnt {
				if strings.Contains(page, s) {
					t.Errorf("%s: holds %q", tt.query, s)
				}
			}
		}
	})

	t.Run("a visitor sees nothing of hours or notes", func(t *testing.T) {
		visitorSees(t, f, "GET", list, "1 h 37", "Fixed the", "Reviewed")
		visitorSees(t, f, "GET", list+"?status=approved", "1 h 37", "Fixed the")
		visitorSees(t, f, "POST", list, "1 h 37")
		visitorSees(t, f, "POST", "/contributions/2/decision")
		visitorSees(t, f, "POST", list+"/import")
		rec := newBrowser(t, f.handler)
		resp, page := rec.do("GET", "/@kit", nil)
		if resp.StatusCode != 200 || strings.Contains(page, "/contributions") || strings.Contains(page, "/payouts") {
			t.Fatalf("project page for a visitor: %d\n%s", resp.StatusCode, page)
		}
		_, page = alice.do("GET", "/@kit", nil)
		if !strings.Contains(page, `href="/projects/kit/contributions"`) || !strings.Contains(page, `href="/projects/kit/payouts"`) {
			t.Fatalf("project page for a member lacks the links:\n%s", page)
		}
	})
	if mine.ID != 1 || beas.ID != 2 {
		t.Fatalf("ids %d %d", mine.ID, beas.ID)
	}
	t.Run("an unknown project", func(t *testing.T) {
		if resp, _ := alice.do("GET", "/projects/nope/contributions", nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
}

// TestContributionImportPage: a member imports a clone on the node's
// disk through the form; the CLI's logic (coop.ImportHistory).
func TestContributionImportPage(t *testing.T) {
	f := newFixture(t)
	contribFixture(t, f)
	if err := f.svc.AddAlias(coop.AsAdmin(context.Background()), "bea", "bea@home.example"); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "kit")
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	for i, a := range []struct{ name, email string }{{"Bea", "Bea@Home.example"}, {"Zed", "zed@else.example"}, {"Bea", "bea@home.example"}} {
		sig := &object.Signature{Name: a.name, Email: a.email, When: when.Add(time.Duration(i) * time.Hour)}
		if _, err := wt.Commit("change "+string(rune('a'+i)), &git.CommitOptions{Author: sig, AllowEmptyCommits: true}); err != nil {
			t.Fatal(err)
		}
	}
	alice := contribSignIn(t, f, "alice")
	_, page := alice.do("GET", "/projects/kit/contributions", nil)
	if !strings.Contains(page, "on this server's disk") {
		t.Fatalf("the import form does not say where the path is:\n%s", page)
	}
	token := csrfOf(t, page)
	if resp, _ := alice.do("POST", "/projects/kit/contributions/import", url.Values{"path": {dir}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("without token: %d", resp.StatusCode)
	}
	resp, page := alice.do("POST", "/projects/kit/contributions/import", url.Values{"csrf": {token}, "path": {t.TempDir()}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "not a git repository") {
		t.Fatalf("not a repository: %d\n%s", resp.StatusCode, page)
	}
	resp, page = alice.do("POST", "/projects/kit/contributions/import", url.Values{"csrf": {token}, "path": {dir}, "points": {"2"}})
	for _, want := range []string{"3 commits read: 2 recorded as pending, 0 already imported", "Zed &lt;zed@else.example&gt;: 1 commits", "https://git.example/kit/commit/"} {
		if resp.StatusCode != 200 || !strings.Contains(page, want) {
			t.Fatalf("import: %d lacks %q\n%s", resp.StatusCode, want, page)
		}
	}
	_, page = alice.do("POST", "/projects/kit/contributions/import", url.Values{"csrf": {token}, "path": {dir}})
	if !strings.Contains(page, "0 recorded as pending, 2 already imported") {
		t.Fatalf("again:\n%s", page)
	}
}
