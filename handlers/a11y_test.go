package handlers

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
)

// axeScript is axe-core (from npm, installed by `make test` into
// testdata/a11y with its lockfile), injected into each page.
const axeScript = "testdata/a11y/node_modules/axe-core/axe.min.js"

// violation is one failed axe rule, as the test reports it.
type violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// auditResult is what the page's axe run returns: how many rules passed
// (the audit ran) and the serious and critical violations.
type auditResult struct {
	Passes     int         `json:"passes"`
	Violations []violation `json:"violations"`
}

// unsafeName is what a page's path may not keep in a file's name.
var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// TestAccessibility runs axe-core's audit in Chromium on every page, as a
// visitor and as a signed-in member, at 1280 and 360 px: no serious or
// critical violation.
func TestAccessibility(t *testing.T) {
	chromium(t)
	axe, err := os.ReadFile(axeScript)
	if err != nil {
		t.Skipf("axe-core is not installed (make test runs npm ci in handlers/testdata/a11y): %v", err)
	}
	f, base := servedFixture(t)
	admin := coop.AsAdmin(context.Background())
	if _, err := f.svc.OpenProposal(admin, coop.NewProposal{Group: coop.CoopGroup, Title: "Adopt the AGPL", Body: "Shall **we**?",
		Options: []governance.Option{{Key: "yes", Label: "Yes"}, {Key: "no", Label: "No"}}, Method: governance.SingleChoice,
		ClosesIn: time.Hour, Quorum: governance.Ratio{Num: 1, Den: 2}, Threshold: governance.Majority}); err != nil {
		t.Fatal(err)
	}
	seedToolPosts(t, f) // /@tool with its posts, a remote post and a proposal
	ownPasswords(t, f, "alice")
	// alice is an admin too, for the admin pages (the member pages are
	// the same, with the header's Admin link).
	if err := f.svc.SetRole(admin, "alice", coop.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	// The co-op's images, so that the home page's are audited too.
	if _, err := f.svc.UpdateCoopProfile(admin, coop.ProfileChange{Avatar: pngImage(t, 32, 32), Header: pngImage(t, 90, 30)}); err != nil {
		t.Fatal(err)
	}
	// An admin (ada), a co-op of the federation, a block, the delivery
	// queue's states and a report, for the admin's pages.
	contribFixture(t, f)       // bea and the project kit
	remoteContribFixture(t, f) // records of another co-op's project, for /contributions/elsewhere
	// A payout round of kit (alice's approved work), for /payouts/1.
	web := func(h string) context.Context {
		return coop.WithPrincipal(context.Background(), coop.Principal{ID: f.svc.Site.ActorID(h), Channel: "web"})
	}
	c, err := f.svc.AddContribution(web("alice"), coop.NewContribution{Project: "kit", Kind: coop.KindCode, Minutes: 97, Day: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DecideContribution(web("bea"), c.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreatePayoutRound(web("alice"), coop.NewPayoutRound{Project: "kit", From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), Budget: "100.00", Currency: "EUR", Formula: "minutes", Rate: "60"}); err != nil {
		t.Fatal(err)
	}
	withAdmin(t, f)
	queueFixture(t, f)
	reportsFixture(t, f)
	if _, err := f.svc.AddPeer(admin, "@coop@b.example", "ada"); err != nil {
		t.Fatal(err)
	}
	if _, err := (&coop.Blocks{Store: f.db}).Add(admin, "ada", "spam.example", "Spam"); err != nil {
		t.Fatal(err)
	}
	visitorPages := []string{"/", "/signin", "/projects", "/projects?tag=go", "/@alice", "/@tool", "/proposals", "/proposals/1", "/decisions", "/decisions/0", "/decisions/verify", "/no-such-page"}
	memberPages := []string{"/", "/account", "/account/password", "/proposals/new", "/proposals/1",
		"/projects/tool/contributions", "/projects/tool/payouts", "/projects/new", "/projects/tool/edit", "/account/notifications", "/contributions/elsewhere",
		"/projects/kit/contributions", "/projects/kit/payouts", "/payouts/1"}
	adminPages := []string{"/admin", "/admin/members", "/admin/members/alice/remove", "/admin/reports", "/admin/profile",
		"/admin/federation", "/admin/blocks?target=@bob@b.example", "/admin/deliveries", "/admin/deliveries?state=dead"}
	for _, width := range []int{1280, 360} {
		ctx := browse(t, width)
		audit := func(who, path string) {
			t.Helper()
			err := chromedp.Do(ctx, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("main")))
			if err != nil {
				t.Fatalf("%s %s: %v", who, path, err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](string(axe))); err != nil {
				t.Fatalf("inject axe on %s: %v", path, err)
			}
			res, err := chromedp.Run(ctx, chromedp.Evaluate[auditResult](`axe.run(document).then(r => ({
				passes: r.passes.length,
				violations: r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
					id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')) }))}))`,
				chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("axe on %s: %v", path, err)
			}
			if res.Passes == 0 {
				t.Fatalf("axe checked nothing on %s", path) // the audit did not run
			}
			for _, v := range res.Violations {
				t.Errorf("%d px, %s, %s: %s (%s): %s at %s", width, who, path, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "; "))
			}
			// Every audited page is photographed too, at both widths, to be
			// looked at: all-<who>-<path>-<width>.png.
			name := "all-" + strings.Fields(who)[0] + "-" + strings.Trim(unsafeName.ReplaceAllString(path, "-"), "-") + "-" + strconv.Itoa(width)
			if err := chromedp.Do(ctx, screenshot(t, name)); err != nil {
				t.Fatalf("screenshot of %s: %v", path, err)
			}
		}
		for _, p := range visitorPages {
			audit("visitor", p)
		}
		must(t, ctx,
			signIn(base+"/signin", "alice"),
			waitSignedIn,
		)
		for _, p := range memberPages {
			audit("alice", p)
		}
		for _, p := range adminPages {
			audit("admin alice", p)
			if h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1"))); err != nil || strings.Contains(h1, "Forbidden") {
				t.Fatalf("%s as an admin: %q, %v", p, h1, err)
			}
		}
	}
}
