package handlers

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coopfed/coopfed/store"
)

// TestBrowserAdminOps: an admin blocks a domain and sees it listed with
// what the block did, admits a co-op to the federation, and retries a
// dead delivery; each page is photographed at 360 and 1280 px.
func TestBrowserAdminOps(t *testing.T) {
	for _, width := range []int{360, 1280} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			ctx := browse(t, width)
			f, base := servedFixture(t)
			withAdmin(t, f)
			ids := queueFixture(t, f)
			ownPasswords(t, f, "ada")
			must(t, ctx, signIn(base+"/signin", "ada"), waitSignedIn)
			w := strconv.Itoa(width)

			// Block a domain, from the form prefilled by ?target=.
			must(t, ctx,
				chromedp.Navigate(base+"/admin/blocks?target=later.example"),
				chromedp.WaitVisible(chromedp.ID("reason")),
				chromedp.SendKeys(chromedp.ID("reason"), "Spam, again and again"),
				chromedp.Click(chromedp.CSS(`form[action="/admin/blocks"] button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(".notice")),
				screenshot(t, "admin-blocks-"+w),
			)
			notice, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".notice")))
			if err != nil || !strings.Contains(notice, "Blocked the domain later.example: 0 follows removed, 1 queued delivery dropped.") {
				t.Fatalf("notice %q, %v", notice, err)
			}
			listed, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("table.blocks tbody")))
			if err != nil || !strings.Contains(listed, "later.example") || !strings.Contains(listed, "Spam, again and again") {
				t.Fatalf("the list %q, %v", listed, err)
			}

			// A name that is no domain is refused next to the field, the
			// input kept.
			must(t, ctx,
				chromedp.SendKeys(chromedp.ID("target"), "bad name.example"),
				chromedp.Click(chromedp.CSS(`form[action="/admin/blocks"] button[type=submit]`)),
				chromedp.WaitVisible(chromedp.ID("target-error")),
				screenshot(t, "admin-blocks-error-"+w),
			)
			if bs := blockList(t, f); len(bs) != 1 {
				t.Fatalf("blocks: %+v", bs)
			}

			// Admit a co-op; the remove form waits behind its summary.
			must(t, ctx,
				chromedp.Navigate(base+"/admin/federation"),
				chromedp.WaitVisible(chromedp.ID("target")),
				chromedp.SendKeys(chromedp.ID("target"), "@coop@b.example\r"),
				chromedp.WaitVisible(chromedp.CSS(".notice")),
				chromedp.Click(chromedp.CSS("details.confirm summary")),
				chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/federation/remove"] button`)),
				screenshot(t, "admin-federation-"+w),
			)
			if ps := peers(t, f); len(ps) != 1 || ps[0].Actor != "https://b.example/users/coop" {
				t.Fatalf("peers: %+v", ps)
			}

			// Retry the dead delivery from the dead tab.
			must(t, ctx,
				chromedp.Navigate(base+"/admin/deliveries"),
				chromedp.WaitVisible(chromedp.CSS("nav.tabs")),
				screenshot(t, "admin-deliveries-"+w),
				chromedp.Click(chromedp.CSS(`nav.tabs a[href="/admin/deliveries?state=dead"]`)),
				chromedp.WaitVisible(chromedp.CSS(`a[aria-current=page][href="/admin/deliveries?state=dead"]`)),
				screenshot(t, "admin-deliveries-dead-"+w),
				chromedp.Click(chromedp.CSS(`form[action="/admin/deliveries/`+strconv.FormatInt(ids[0], 10)+`/retry"] button`)),
				chromedp.WaitVisible(chromedp.CSS(".notice")),
			)
			notice, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".notice")))
			if err != nil || !strings.Contains(notice, "queued again") {
				t.Fatalf("notice %q, %v", notice, err)
			}
			if s := deliveryState(t, f, ids[0]); s != store.DeliveryQueued {
				t.Fatalf("the retried delivery is %s", s)
			}
		})
	}
}
