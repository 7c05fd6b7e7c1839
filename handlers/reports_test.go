package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

// reportsFixture adds an admin (ada) to the pages' fixture and stores a
// report of alice and her post, as federation keeps a Mastodon Flag.
func reportsFixture(t *testing.T, f fixture) {
	t.Helper()
	// ada, an admin, unless another fixture made her.
	if _, _, err := f.svc.AddMember(coop.AsAdmin(context.Background()), coop.NewMember{Handle: "ada", DisplayName: "Ada", Role: coop.RoleAdmin}); err != nil && !errors.Is(err, coop.ErrHandleTaken) {
		t.Fatal(err)
	}
	site := f.svc.Site
	err := f.db.Write(context.Background(), func(tx *store.Tx) error {
		_, _, err := tx.InsertReport(context.Background(), coop.Report{FlagID: "https://m.example/0b7ff0cc", Reporter: "https://m.example/actor",
			Accounts: []string{site.ActorID("alice")}, Objects: []string{site.ActorID("alice") + "/notes/19a7abc0"},
			Comment: "Spam & <scam>\nSecond line", ReceivedAt: time.Date(2026, 11, 25, 10, 30, 0, 0, time.UTC)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func reportState(t *testing.T, f fixture) coop.Report {
	t.Helper()
	r, err := f.db.Report(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReportsPage: an admin sees the open report (reporter, what was
// reported with links, the comment escaped, when, the block links) and
// resolves it with a note (post/redirect/get); a form without its token,
// a note too long, a visitor and a plain member change nothing.
func TestReportsPage(t *testing.T) {
	f := newFixture(t)
	reportsFixture(t, f)

	t.Run("a visitor is sent to sign in, and cannot resolve", func(t *testing.T) {
		v := newBrowser(t, f.handler)
		resp, _ := v.do("GET", "/admin/reports", nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Fadmin%2Freports" {
			t.Fatalf("GET: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, page := v.do("POST", "/admin/reports/1/resolve", url.Values{"note": {"x"}})
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(page, "m.example") {
			t.Fatalf("POST: %d\n%s", resp.StatusCode, page)
		}
	})

	t.Run("a plain member is refused", func(t *testing.T) {
		b := signedIn(t, f, "alice")
		resp, page := b.do("GET", "/admin/reports", nil)
		mustContain(t, "alice's GET", resp.StatusCode, http.StatusForbidden, page, "Only an admin")
		if strings.Contains(page, "m.example") || strings.Contains(page, "Spam") {
			t.Fatalf("the refusal shows the report:\n%s", page)
		}
		_, page = b.do("GET", "/account", nil)
		resp, page = b.do("POST", "/admin/reports/1/resolve", url.Values{"csrf": {csrfOf(t, page)}, "note": {"mine"}})
		mustContain(t, "alice's POST", resp.StatusCode, http.StatusForbidden, page, "Only an admin")
	})
	if r := reportState(t, f); r.State != coop.ReportOpen {
		t.Fatalf("refused requests changed the report: %+v", r)
	}

	b := signedIn(t, f, "ada")
	resp, page := b.do("GET", "/admin/reports", nil)
	mustContain(t, "the admin's page", resp.StatusCode, http.StatusOK, page,
		"<h2 id=\"open-h\">Open (1)</h2>", `id="report-1"`,
		`href="https://m.example/actor"`,
		`href="https://coop.example/users/alice"`, `href="https://coop.example/users/alice/notes/19a7abc0"`,
		"<p>Spam &amp; &lt;scam&gt;</p><p>Second line</p>", "25 November 2026, 10:30 UTC",
		`href="/admin/blocks?target=https%3A%2F%2Fm.example%2Factor"`, `href="/admin/blocks?target=m.example"`,
		`<label for="note-1">`, "No resolved reports.")
	token := csrfOf(t, page)

	t.Run("a form without its token is refused", func(t *testing.T) {
		resp, _ := b.do("POST", "/admin/reports/1/resolve", url.Values{"note": {"no token"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
	t.Run("a note too long is shown next to the field, kept", func(t *testing.T) {
		long := strings.Repeat("n", coop.MaxReportNote+1)
		resp, page := b.do("POST", "/admin/reports/1/resolve", url.Values{"csrf": {token}, "note": {long}})
		mustContain(t, "long note", resp.StatusCode, http.StatusBadRequest, page,
			`aria-describedby="note-1-error"`, `id="note-1-error"`, "longer than 2000 characters", ">"+long+"</textarea>")
	})
	t.Run("a report that does not exist", func(t *testing.T) {
		resp, _ := b.do("POST", "/admin/reports/9/resolve", url.Values{"csrf": {token}, "note": {"x"}})
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
	if r := reportState(t, f); r.State != coop.ReportOpen {
		t.Fatalf("refused requests changed the report: %+v", r)
	}

	resp, _ = b.do("POST", "/admin/reports/1/resolve", url.Values{"csrf": {token}, "note": {"Asked alice to delete it."}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/reports#report-1" {
		t.Fatalf("resolve: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page = b.do("GET", "/admin/reports", nil)
	mustContain(t, "after resolving", resp.StatusCode, http.StatusOK, page,
		"No open reports.", "<h2 id=\"resolved-h\">Resolved</h2>", "Resolved by <strong>ada</strong>", "Asked alice to delete it.")
	if strings.Contains(page, `action="/admin/reports/1/resolve"`) {
		t.Fatal("a resolved report still has its form")
	}
	resp, page = b.do("POST", "/admin/reports/1/resolve", url.Values{"csrf": {token}, "note": {"again"}})
	mustContain(t, "resolved twice", resp.StatusCode, http.StatusBadRequest, page, "already resolved")
	if r := reportState(t, f); r.Note != "Asked alice to delete it." || r.ResolvedBy != f.svc.Site.ActorID("ada") {
		t.Fatalf("report %+v", r)
	}

	t.Run("resolved reports come a page at a time, open ones all", func(t *testing.T) {
		ctx := context.Background()
		err := f.db.Write(ctx, func(tx *store.Tx) error {
			for i := 2; i <= 60; i++ { // reports 2..60; 2..54 resolved, 55..60 open
				id, _, err := tx.InsertReport(ctx, coop.Report{FlagID: fmt.Sprintf("https://m.example/flag-%d", i), Reporter: "https://m.example/actor",
					Accounts: []string{f.svc.Site.ActorID("alice")}, Comment: fmt.Sprintf("report number %d.", i), ReceivedAt: time.Date(2026, 11, 25, 11, 0, i, 0, time.UTC)})
				if err != nil {
					return err
				}
				if i <= 54 {
					if err := tx.ResolveReport(ctx, id, coop.AdminPrincipal, "", time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		resp, page := b.do("GET", "/admin/reports", nil)
		mustContain(t, "the first page", resp.StatusCode, http.StatusOK, page, "report number 60.", "report number 55.", "report number 54.", "report number 5.",
			`href="/admin/reports?before=5#resolved-h"`, `id="report-55-h"`)
		for _, older := range []string{"report number 4.", "report number 3.", "report number 2.", "Asked alice"} {
			if strings.Contains(page, older) {
				t.Fatalf("the first page shows %q", older)
			}
		}
		resp, page = b.do("GET", "/admin/reports?before=5", nil)
		mustContain(t, "the older page", resp.StatusCode, http.StatusOK, page, "report number 60.", "report number 4.", "report number 2.", "Asked alice to delete it.",
			"Accounts reported")
		if strings.Contains(page, "report number 5.") || strings.Contains(page, "Older resolved reports") {
			t.Fatal("the last page shows a newer report, or a link further")
		}
	})
}
