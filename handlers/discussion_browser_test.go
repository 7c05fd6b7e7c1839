package handlers

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coopfed/coopfed/coop"
)

// TestBrowserDiscussionAndNotifications: a member reads a remote reply
// on a proposal's page, sanitized, and publishes a reply from the page;
// makes a link code, which a reload shows again rather than making
// another; opens their notifications from /account and marks them read;
// at 360 and 1280 px wide.
func TestBrowserDiscussionAndNotifications(t *testing.T) {
	for _, width := range []int{360, 1280} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			ctx := browse(t, width)
			f, base := servedFixture(t)
			admin := coop.AsAdmin(context.Background())
			openTestProposal(t, f, "alice", "Move our repositories to Forgejo")
			receiveFixture(t, f, "discussion-gts-reply.json", "Vera Voter")
			f.svc.Publisher = &postPublisher{site: f.svc.Site}
			if err := f.svc.AddAlias(admin, "alice", "alice@old.example"); err != nil {
				t.Fatal(err)
			}
			ownPasswords(t, f, "alice")
			w := strconv.Itoa(width)
			must(t, ctx,
				signIn(base+"/signin?next=/proposals/1", "alice"),
				chromedp.WaitVisible(chromedp.ID("discussion")),
			)
			reply, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#reply-1 .reply-body`)))
			if err != nil || !strings.Contains(reply, "I would rather wait.") {
				t.Fatalf("the remote reply reads %q: %v", reply, err)
			}
			unsafe, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(
				'#discussion script, #discussion [onclick], #discussion a[href^="javascript:"]').length`))
			if err != nil || unsafe != 0 {
				t.Fatalf("%d unsafe elements in the discussion: %v", unsafe, err)
			}
			must(t, ctx,
				chromedp.SendKeys(chromedp.ID("reply-text"), "Agreed, after the release.\n\nMarch?"),
				chromedp.Click(chromedp.ID("send-reply")),
				chromedp.WaitVisible(chromedp.CSS(`li.by-member`)),
				screenshot(t, "proposal-discussion-"+w),
			)
			mine, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`li.by-member`)))
			if err != nil || !strings.Contains(mine, "Agreed, after the release.") || !strings.Contains(mine, "member") {
				t.Fatalf("alice's reply reads %q: %v", mine, err)
			}

			// A link code survives a reload, and the URL does not carry it.
			must(t, ctx,
				chromedp.Navigate(base+"/account"),
				chromedp.Click(chromedp.ID("make-code")),
				chromedp.WaitVisible(chromedp.ID("link-code")),
			)
			code, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("link-code")))
			if err != nil {
				t.Fatal(err)
			}
			err = chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("link-code")), screenshot(t, "account-"+w))
			if err != nil {
				t.Fatal(err)
			}
			again, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("link-code")))
			location, _ := chromedp.Run(ctx, chromedp.Location())
			if err != nil || again != code || strings.Contains(location, code) {
				t.Fatalf("after a reload: %q (was %q) at %s: %v", again, code, location, err)
			}

			must(t, ctx,
				chromedp.Click(chromedp.ID("notifications-link")),
				chromedp.WaitVisible(chromedp.ID("unread-count")),
				screenshot(t, "notifications-"+w),
			)
			unread, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("unread-count")))
			if err != nil || unread != "2 unread" {
				t.Fatalf("unread %q: %v", unread, err)
			}
			must(t, ctx,
				chromedp.Click(chromedp.ID("mark-read")),
				chromedp.WaitVisible(chromedp.CSS(`p.ok`)),
			)
			unread, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("unread-count")))
			if err != nil || unread != "All read" {
				t.Fatalf("after marking: %q: %v", unread, err)
			}
		})
	}
}
