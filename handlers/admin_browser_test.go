package handlers

import (
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coopfed/coopfed/coop"
)

// TestBrowserAdminAddsMember: in real Chromium, admin ada opens the
// admin index from the header's link, then the members; adds dan by the
// form (after an error by field), reads dan's one-time password from the
// page; dan, in another browser context (his own cookies), signs in with
// it and is taken to choose his own; ada removes dan (a confirmation
// step), which ends his session. At 360 and 1280 px, with screenshots of
// each page.
func TestBrowserAdminAddsMember(t *testing.T) {
	for _, width := range []int{360, 1280} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			ctxA := browse(t, width)
			ctxB := secondBrowser(t, ctxA, width)
			f, base := servedFixture(t)
			op := coop.AsAdmin(context.Background())
			if _, _, err := f.svc.AddMember(op, coop.NewMember{Handle: "ada", DisplayName: "Ada Lovelace", Email: "ada@coop.example", Role: coop.RoleAdmin}); err != nil {
				t.Fatal(err)
			}
			ownPasswords(t, f, "ada")
			w := strconv.Itoa(width)
			must(t, ctxA,
				signIn(base+"/signin", "ada"),
				chromedp.WaitVisible(chromedp.CSS(`nav.sections a[href="/admin"]`)),
				chromedp.Click(chromedp.CSS(`nav.sections a[href="/admin"]`)),
				chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/members"]`)),
				screenshot(t, "admin-"+w),
				chromedp.Click(chromedp.CSS(`main a[href="/admin/members"]`)),
				chromedp.WaitVisible(chromedp.ID("handle")),
				screenshot(t, "adminmembers-"+w),
				// A taken handle: the error is shown by the field.
				chromedp.SendKeys(chromedp.ID("handle"), "alice"),
				chromedp.SendKeys(chromedp.ID("name"), "Dan Dare"),
				chromedp.Click(chromedp.CSS(`form[action="/admin/members"] button[type=submit]`)),
				chromedp.WaitVisible(chromedp.ID("handle-error")),
				screenshot(t, "adminmembers-error-"+w),
				chromedp.Clear(chromedp.ID("handle")),
				chromedp.SendKeys(chromedp.ID("handle"), "dan"),
				chromedp.SendKeys(chromedp.ID("email"), "dan@mail.example"),
				chromedp.Click(chromedp.CSS(`form[action="/admin/members"] button[type=submit]`)),
				chromedp.WaitVisible(chromedp.ID("one-time-password")),
				screenshot(t, "adminmembers-added-"+w),
			)
			password, err := chromedp.Run(ctxA, chromedp.Text(chromedp.ID("one-time-password")))
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`^[a-z2-7]{5}(-[a-z2-7]{5}){3}$`).MatchString(password) {
				t.Fatalf("one-time password %q", password)
			}
			if loc, _ := chromedp.Run(ctxA, chromedp.Location()); loc != base+"/admin/members" {
				t.Fatalf("the password page's address %q", loc)
			}
			must(t, ctxA,
				chromedp.Click(chromedp.CSS(`main a[href="/admin/members"]`)),
				chromedp.WaitVisible(chromedp.CSS(`tr#member-dan`)),
			)
			row, err := chromedp.Run(ctxA, chromedp.Text(chromedp.CSS(`tr#member-dan`)))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"Dan Dare", "dan@mail.example", "has not chosen a password yet"} {
				if !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(row) {
					t.Fatalf("dan's row lacks %q: %q", want, row)
				}
			}

			// dan, in his own browser context, signs in with it.
			must(t, ctxB,
				chromedp.Navigate(base+"/signin"),
				signInForm("dan", password),
				chromedp.WaitVisible(chromedp.ID("current")),
			)
			if loc, _ := chromedp.Run(ctxB, chromedp.Location()); loc != base+"/account/password" {
				t.Fatalf("dan after signing in: %q", loc)
			}
			// ada's session is still hers; she removes dan, after the
			// confirmation step.
			must(t, ctxA,
				chromedp.Click(chromedp.CSS(`tr#member-dan a[href="/admin/members/dan/remove"]`)),
				chromedp.WaitVisible(chromedp.ID("confirm")),
				screenshot(t, "adminmembers-remove-"+w),
				chromedp.Click(chromedp.ID("confirm")),
				chromedp.Click(chromedp.CSS(`form[action="/admin/members/dan/remove"] button[type=submit]`)),
				chromedp.WaitVisible(chromedp.ID("done")),
			)
			done, err := chromedp.Run(ctxA, chromedp.Text(chromedp.ID("done")))
			if err != nil || done != "dan was removed. The handle dan will never be given out again." {
				t.Fatalf("after the removal: %q %v", done, err)
			}
			// dan's session ended with his membership.
			must(t, ctxB,
				chromedp.Navigate(base+"/account"),
				chromedp.WaitVisible(chromedp.ID("handle")),
			)
		})
	}
}
