package handlers

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coopfed/coopfed/coop"
)

// TestBrowserContributionAndPayout: in real Chromium, member alice
// records a contribution in the form; maintainer bea, signed in in
// another browser context (her own cookies), approves it; alice creates
// a payout round and sees its draft split; bea approves the round; the
// CSV statement, fetched by the page's own JavaScript with bea's
// session, is coop's byte for byte; bea verifies the round. At 360 and
// 1280 px, with screenshots of every page.
func TestBrowserContributionAndPayout(t *testing.T) {
	for _, width := range []int{360, 1280} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			ctxA := browse(t, width)
			ctxB := secondBrowser(t, ctxA, width)
			f, base := servedFixture(t)
			contribFixture(t, f)
			admin := coop.AsAdmin(context.Background())
			ownPasswords(t, f, "alice", "bea")
			w := strconv.Itoa(width)
			text := func(ctx context.Context, sel string) string {
				t.Helper()
				s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
				if err != nil {
					t.Fatal(err)
				}
				return s
			}

			// alice records a contribution.
			must(t, ctxA,
				signIn(base+"/signin?next=/@kit", "alice"),
				chromedp.WaitVisible(chromedp.CSS(`a[href="/projects/kit/contributions"]`)),
				screenshot(t, "project-member-"+w),
				chromedp.Click(chromedp.CSS(`a[href="/projects/kit/contributions"]`)),
				chromedp.WaitVisible(chromedp.ID("kind")),
				screenshot(t, "contributions-empty-"+w),
				chromedp.SetValue(chromedp.ID("kind"), "docs"),
				chromedp.SendKeys(chromedp.ID("hours"), "1:30"),
				chromedp.SendKeys(chromedp.ID("points"), "3"),
				chromedp.SetValue(chromedp.ID("day"), "2026-11-24"),
				chromedp.SendKeys(chromedp.ID("evidence"), "https://git.example/kit/pull/7"),
				chromedp.SendKeys(chromedp.ID("note"), "Wrote the install guide"),
				chromedp.Click(chromedp.CSS(`#record-form button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
				screenshot(t, "contributions-recorded-"+w),
			)
			if s := text(ctxA, `#c1`); !strings.Contains(s, "1 h 30") || !strings.Contains(s, "pending") || !strings.Contains(s, "Wrote the install guide") {
				t.Fatalf("alice's record: %q", s)
			}
			if n, err := chromedp.Run(ctxA, chromedp.Evaluate[int](`document.querySelectorAll('form.decide').length`)); err != nil || n != 0 {
				t.Fatalf("alice is offered %d decisions on her own record (%v)", n, err)
			}

			// bea, in her own browser context, approves it.
			must(t, ctxB,
				signIn(base+"/signin?next=/projects/kit/contributions", "bea"),
				chromedp.WaitVisible(chromedp.CSS(`form[action="/contributions/1/decision"] button`)),
				screenshot(t, "contributions-maintainer-"+w),
				chromedp.Click(chromedp.CSS(`form[action="/contributions/1/decision"] button`)),
				chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
			)
			if s := text(ctxB, `#c1 .status`); s != "approved" {
				t.Fatalf("after bea's approval: %q", s)
			}

			// alice creates a round; its draft split shows.
			must(t, ctxA,
				chromedp.Navigate(base+"/projects/kit/payouts"),
				chromedp.WaitVisible(chromedp.ID("budget")),
				screenshot(t, "payouts-empty-"+w),
				chromedp.SetValue(chromedp.ID("from"), "2026-11-01"),
				chromedp.SetValue(chromedp.ID("to"), "2026-11-25"),
				chromedp.SendKeys(chromedp.ID("budget"), "100.00"),
				chromedp.SendKeys(chromedp.ID("rate"), "60"),
				chromedp.Click(chromedp.CSS(`form[action="/projects/kit/payouts"] button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(`table.split`)),
				screenshot(t, "payout-draft-creator-"+w),
			)
			if s := text(ctxA, `table.split tbody`); !strings.Contains(s, "alice") || !strings.Contains(s, "90.00") {
				t.Fatalf("draft split: %q", s)
			}
			if s := text(ctxA, `#main`); !strings.Contains(s, "does not approve it: a second member does") {
				t.Fatalf("the creator is not told why they cannot approve:\n%s", s)
			}

			// bea approves the round, downloads the CSV, verifies.
			must(t, ctxB,
				chromedp.Navigate(base+"/payouts/1"),
				chromedp.WaitVisible(chromedp.CSS(`form[action="/payouts/1/approve"] button`)),
				chromedp.Click(chromedp.CSS(`form[action="/payouts/1/approve"] button`)),
				chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
				screenshot(t, "payout-final-"+w),
			)
			if s := text(ctxB, `h1 .status`); s != "final" {
				t.Fatalf("after bea's approval the round is %q", s)
			}
			csv, err := chromedp.Run(ctxB, chromedp.Evaluate[string](`fetch(document.querySelector('a[href$="statement.csv"]').href).then(r => r.text())`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			_, st, err := f.svc.ShowPayoutRound(admin, 1)
			if err != nil {
				t.Fatal(err)
			}
			if csv != string(st.CSV()) || !strings.Contains(csv, "90.00") {
				t.Fatalf("the CSV the page fetched:\n%s\ncoop's:\n%s", csv, st.CSV())
			}
			must(t, ctxB,
				chromedp.Click(chromedp.CSS(`form[action="/payouts/1/verify"] button`)),
				chromedp.WaitVisible(chromedp.ID("verified")),
				screenshot(t, "payout-verified-"+w),
			)
			if s := text(ctxB, `#verified`); !strings.Contains(s, "It matches") {
				t.Fatalf("verify: %q", s)
			}
			must(t, ctxA, chromedp.Navigate(base+"/projects/kit/payouts"), chromedp.WaitVisible(chromedp.CSS(`a[href="/payouts/1"]`)), screenshot(t, "payouts-list-"+w))
		})
	}
}
