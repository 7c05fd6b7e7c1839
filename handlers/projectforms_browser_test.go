package handlers

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/store"
)

// TestBrowserProjectCreateAndEdit: a member signs in, follows the New
// project link on /projects, sends the form with a bad tag and sees the
// error next to the field, corrects it and lands on the project's page;
// then follows its Edit link, changes its tags and sees them on the page;
// at 360 and 1280 px. Tool's page, with posts, a remote post and a
// proposal, is photographed too.
func TestBrowserProjectCreateAndEdit(t *testing.T) {
	for _, width := range []int{360, 1280} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			ctx := browse(t, width)
			f, base := servedFixture(t)
			ownPasswords(t, f, "alice")
			seedToolPosts(t, f)
			w := strconv.Itoa(width)
			must(t, ctx,
				signIn(base+"/signin?next=/projects", "alice"),
				chromedp.WaitVisible(chromedp.CSS(`a[href="/projects/new"]`)),
				chromedp.Click(chromedp.CSS(`a[href="/projects/new"]`)),
				chromedp.WaitVisible(chromedp.ID("slug")),
				screenshot(t, "projectnew-"+w),
				chromedp.SendKeys(chromedp.ID("slug"), "kit"),
				chromedp.SendKeys(chromedp.ID("name"), "The Kit"),
				chromedp.SendKeys(chromedp.ID("summary"), "Parts for co-ops' tools."),
				chromedp.SendKeys(chromedp.ID("repository"), "https://git.example/kit"),
				chromedp.SendKeys(chromedp.ID("licence"), "MIT"),
				chromedp.SendKeys(chromedp.ID("tags"), "go, no-dash"),
				chromedp.SendKeys(chromedp.ID("needs"), "review"),
				chromedp.Click(chromedp.CSS(`form.project button[type=submit]`)),
				chromedp.WaitVisible(chromedp.ID("tags-error")),
				screenshot(t, "projectnew-error-"+w),
			)
			msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("tags-error")))
			if err != nil || !strings.Contains(msg, "no-dash") {
				t.Fatalf("tags error %q, %v", msg, err)
			}
			must(t, ctx,
				chromedp.Evaluate[chromedp.Void](`document.getElementById("tags").value = ""`),
				chromedp.SendKeys(chromedp.ID("tags"), "go, tools"),
				chromedp.Click(chromedp.CSS(`form.project button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(`a[href="/projects/kit/edit"]`)),
				screenshot(t, "project-created-"+w),
				chromedp.Click(chromedp.CSS(`a[href="/projects/kit/edit"]`)),
				chromedp.WaitVisible(chromedp.ID("maintainers")),
				screenshot(t, "projectedit-"+w),
				chromedp.Evaluate[chromedp.Void](`document.getElementById("tags").value = ""`),
				chromedp.SendKeys(chromedp.ID("tags"), "go web"),
				chromedp.Click(chromedp.CSS(`form.project button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(`a[href="/projects/kit/edit"]`)),
			)
			facts, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`dl.facts`)))
			if err != nil || !strings.Contains(facts, "#go, #web") || strings.Contains(facts, "#tools") {
				t.Fatalf("the facts after the edit: %q, %v", facts, err)
			}
			p, err := f.svc.Project(context.Background(), "kit")
			if err != nil || strings.Join(p.Tags, " ") != "go web" || len(p.Maintainers) != 1 || !strings.HasSuffix(p.Maintainers[0], "/users/alice") {
				t.Fatalf("kit = %+v, %v", p, err)
			}
			must(t, ctx,
				chromedp.Navigate(base+"/@tool"),
				chromedp.WaitVisible(chromedp.ID("posts-h")),
				screenshot(t, "project-page-"+w),
			)
			// The remote post's script and handler are gone: nothing ran.
			title, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.title + " " + document.querySelectorAll("script, [onclick]").length`))
			if err != nil || strings.Contains(title, "pwned") || !strings.HasSuffix(title, " 0") {
				t.Fatalf("the project page's title and scripts: %q, %v", title, err)
			}
		})
	}
}

// seedToolPosts gives project tool two posts, a public post from another
// server (with a script the page must not run) and a proposal.
func seedToolPosts(t *testing.T, f fixture) {
	t.Helper()
	ctx := coop.AsAdmin(context.Background())
	tool, err := f.svc.Project(ctx, "tool")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
	err = f.svc.Store.Update(ctx, func(tx coop.Tx) error {
		for i, text := range []string{"alice: 6 h review of #42", "Payout round 3: 40 h shared by 3 contributors"} {
			body := `{"type":"Create","object":{"type":"Note","id":"https://coop.example/notes/` + strconv.Itoa(i) + `","content":"<p>` + text + `</p>"}}`
			if _, err := tx.AppendOutbox(ctx, tool.ID, "https://coop.example/c/"+strconv.Itoa(i), "Create", []byte(body), at.Add(time.Duration(i)*time.Hour)); err != nil {
				return err
			}
		}
		_, err := tx.(*store.Tx).InsertReceivedNote(ctx, store.ReceivedNote{ActivityID: "https://x.example/c/1", ObjectID: "https://x.example/notes/1",
			ActorURI: "https://x.example/users/ann", RecipientIDs: []int64{tool.ID},
			Content: `<p onclick="document.title='pwned'">Great release, <span class="h-card"><a href="https://coop.example/@tool" class="u-url mention">@tool</a></span>!<script>document.title='pwned'</script></p>`,
			Raw:     []byte(`{"to":["https://www.w3.org/ns/activitystreams#Public"]}`), Published: at, ReceivedAt: at})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.OpenProposal(ctx, coop.NewProposal{Group: "tool", Title: "Adopt a logo", Method: governance.Consent,
		ClosesIn: 24 * time.Hour, Threshold: governance.Consensus}); err != nil {
		t.Fatal(err)
	}
}
