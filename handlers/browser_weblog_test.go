package handlers

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coopfed/coopfed/coop"
)

// TestBrowserLinkAccountAndVerifyReceipt: a member signs in, makes a link
// code on "my account", sends it from their other account (the test
// delivers the direct message through coop.ReceiveDirect, as the inbox
// does), confirms the link in the page and sees it linked; then reads the
// decision log, opens the link's record, and verifies its receipt by
// pasting it into the form; at 360 and 1280 px wide.
func TestBrowserLinkAccountAndVerifyReceipt(t *testing.T) {
	for _, width := range []int{360, 1280} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			ctx := browse(t, width)
			f, base := servedFixture(t)
			admin := coop.AsAdmin(context.Background())
			ownPasswords(t, f, "alice")
			w := strconv.Itoa(width)
			must(t, ctx,
				signIn(base+"/signin?next=/account", "alice"),
				chromedp.WaitVisible(chromedp.ID("make-code")),
				screenshot(t, "account-"+w),
				chromedp.Click(chromedp.ID("make-code")),
				chromedp.WaitVisible(chromedp.ID("link-code")),
				screenshot(t, "account-code-"+w),
			)
			code, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("link-code")))
			if err != nil || len(code) != 19 {
				t.Fatalf("link code %q, %v", code, err)
			}
			sendDirect(t, f, annAccount, "@coop "+code)
			must(t, ctx,
				chromedp.Navigate(base+"/account"),
				chromedp.WaitVisible(chromedp.CSS(`form[action="/account/links/confirm"] button`)),
				screenshot(t, "account-pending-"+w),
				chromedp.Click(chromedp.CSS(`form[action="/account/links/confirm"] button`)),
				chromedp.WaitVisible(chromedp.ID("linked")),
				screenshot(t, "account-linked-"+w),
			)
			linked, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("linked")))
			if err != nil || !strings.Contains(linked, annAccount) {
				t.Fatalf("linked accounts %q, %v", linked, err)
			}
			if _, _, err := f.svc.SignCheckpoint(admin); err != nil {
				t.Fatal(err)
			}
			info, err := f.svc.LogInfo(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			idx := info.Size - 1
			receipt, err := f.svc.LogReceipt(context.Background(), idx)
			if err != nil {
				t.Fatal(err)
			}
			must(t, ctx,
				chromedp.Navigate(base+"/decisions"),
				chromedp.WaitVisible(chromedp.ID("witnesses")),
				screenshot(t, "decisions-"+w),
				chromedp.Click(chromedp.CSS(`a[href="/decisions/`+strconv.FormatInt(idx, 10)+`"]`)),
				chromedp.WaitVisible(chromedp.ID("proof")),
				screenshot(t, "decision-"+w),
				chromedp.Navigate(base+"/decisions/verify"),
				chromedp.WaitVisible(chromedp.ID("receipt")),
				chromedp.SetValue(chromedp.ID("receipt"), string(receipt.Marshal())),
				chromedp.Click(chromedp.CSS(`form[action="/decisions/verify"] button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(`div.ok`)),
				screenshot(t, "verify-"+w),
			)
			ok, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`div.ok`)))
			if err != nil || !strings.Contains(ok, "The receipt verifies") || !strings.Contains(ok, "member.account_linked") {
				t.Fatalf("verification %q, %v", ok, err)
			}
		})
	}
}

// TestBrowserDecisionsWithWitnesses: a visitor reads the decision log of
// a node that a federation member witnesses, with an inconsistency found
// in the member's log; screenshots at 360 and 1280 px.
func TestBrowserDecisionsWithWitnesses(t *testing.T) {
	for _, width := range []int{360, 1280} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			ctx := browse(t, width)
			f, _, idx := witnessedFixture(t)
			srv := httptest.NewServer(f.handler)
			t.Cleanup(srv.Close)
			w := strconv.Itoa(width)
			must(t, ctx,
				chromedp.Navigate(srv.URL+"/decisions"),
				chromedp.WaitVisible(chromedp.ID("witnesses")),
				screenshot(t, "decisions-witnessed-"+w),
				chromedp.Navigate(srv.URL+"/decisions/"+strconv.FormatInt(idx, 10)),
				chromedp.WaitVisible(chromedp.ID("proof")),
				screenshot(t, "decision-witnessed-"+w),
			)
			text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`section[aria-labelledby=proof]`)))
			if err != nil || !strings.Contains(text, "b.example/witness") {
				t.Fatalf("proof section %q, %v", text, err)
			}
		})
	}
}
