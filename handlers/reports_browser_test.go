package handlers

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coopfed/coopfed/coop"
)

// TestBrowserResolveReport: an admin opens the reports received, reaches
// the note by keyboard, resolves the report with it, and finds it among
// the resolved ones; at 360 and 1280 px wide.
func TestBrowserResolveReport(t *testing.T) {
	for _, width := range []int{360, 1280} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			ctx := browse(t, width)
			f, base := servedFixture(t)
			reportsFixture(t, f)
			admin := coop.AsAdmin(context.Background())
			ownPasswords(t, f, "ada")
			w := strconv.Itoa(width)
			must(t, ctx,
				signIn(base+"/admin/reports", "ada"), // to sign in first, then back
				chromedp.WaitVisible(chromedp.ID("report-1")),
				screenshot(t, "adminreports-open-"+w),
				tabTo("note-1"),
				chromedp.KeyEvent("Asked alice to take it down."),
				chromedp.KeyEvent("\t"), // to the button
				chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(chromedp.CSS("p.resolution")),
				screenshot(t, "adminreports-resolved-"+w),
			)
			text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("p.resolution")))
			if err != nil || !strings.Contains(text, "Resolved by ada") || !strings.Contains(text, "Asked alice to take it down.") {
				t.Fatalf("resolution %q, %v", text, err)
			}
			rs, err := f.svc.Reports(admin, coop.ReportQuery{State: coop.ReportResolved})
			if err != nil || len(rs) != 1 || rs[0].Note != "Asked alice to take it down." {
				t.Fatalf("resolved %+v, %v", rs, err)
			}
		})
	}
}
