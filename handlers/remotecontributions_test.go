package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

// decisionsSent is a publisher that keeps the decisions on remote records
// it is asked to send.
type decisionsSent struct {
	coop.Publisher
	mu   sync.Mutex
	sent []string
}

func (d *decisionsSent) PublishContributionDecision(_ context.Context, _ coop.Tx, by coop.Actor, rc coop.RemoteContribution, approve bool, reason string, _ time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	verb := "reject"
	if approve {
		verb = "approve"
	}
	d.sent = append(d.sent, by.Handle+" "+verb+" "+rc.URI+" "+reason)
	return nil
}

// TestRemoteContributionsPage: the records other co-ops' projects sent
// here, for members only; the decide forms only where coop's rules let
// the member decide; a decision sent, CSRF-checked, with a reason for a
// rejection; a maintainer never decides their own record.
func TestRemoteContributionsPage(t *testing.T) {
	f := newFixture(t)
	contribFixture(t, f) // bea, a member
	pub := &decisionsSent{}
	f.svc.Publisher = pub
	remoteContribFixture(t, f)
	// A record of a project this node does not hold, for the project
	// filter.
	if err := f.db.Write(context.Background(), func(tx *store.Tx) error {
		return tx.PutRemoteContribution(context.Background(), coop.RemoteContribution{URI: "https://c.example/contributions/1",
			Project: "https://c.example/users/other", Number: 1, Contributor: f.svc.Site.ActorID("bea"), Kind: coop.KindDocs, Minutes: 250,
			Day: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), Status: coop.StatusPending, LogIndex: 1, Received: f.svc.Clock()})
	}); err != nil {
		t.Fatal(err)
	}
	const page = "/contributions/elsewhere"

	t.Run("visitors are sent to sign in, and never see hours", func(t *testing.T) {
		v := newBrowser(t, f.handler)
		resp, body := v.do("GET", page, nil)
		if resp.StatusCode != http.StatusSeeOther || strings.Contains(body, "1 h 35") {
			t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := v.do("POST", page+"/decision", url.Values{"uri": {"https://b.example/contributions/1"}, "decision": {"approve"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a visitor's decision: %d", resp.StatusCode)
		}
	})
	a, b := contribSignIn(t, f, "alice"), contribSignIn(t, f, "bea")
	resp, body := a.do("GET", page, nil)
	mustContain(t, "alice's view", resp.StatusCode, 200, body, "Kit of B", "1 h 35", "0 h 30", `href="https://git.example/kit/pull/1"`,
		`aria-label="Approve the record https://b.example/contributions/1"`)
	if strings.Contains(body, `aria-label="Approve the record https://b.example/contributions/2"`) {
		t.Fatal("alice is offered to decide her own record")
	}
	token := csrfOf(t, body)
	_, body = b.do("GET", page+"?status=pending&project="+url.QueryEscape(remoteGroup), nil)
	mustContain(t, "bea's view", http.StatusOK, 200, body, "Kit of B", "1 h 35", `<option value="https://c.example/users/other">`)
	if strings.Contains(body, "4 h 10") {
		t.Fatal("the project filter shows another project's record")
	}
	if strings.Contains(body, "/contributions/elsewhere/decision") {
		t.Fatal("bea, no maintainer of Kit, is offered a decision")
	}
	beaToken := csrfOf(t, body)
	_, body = a.do("GET", page+"?status=approved", nil)
	mustContain(t, "filtered by status", http.StatusOK, 200, body, "No records match")

	t.Run("refusals change nothing and send nothing", func(t *testing.T) {
		for _, c := range []struct {
			who    *browser
			form   url.Values
			status int
			reason string
		}{
			{a, url.Values{"uri": {"https://b.example/contributions/1"}, "decision": {"approve"}}, 403, "did not come from this site"},
			{a, url.Values{"csrf": {token}, "uri": {"https://b.example/contributions/2"}, "decision": {"approve"}}, 403, "never approves or rejects their own"},
			{a, url.Values{"csrf": {token}, "uri": {"https://b.example/contributions/1"}, "decision": {"reject"}}, 400, "A rejection says why"},
			{b, url.Values{"csrf": {beaToken}, "uri": {"https://b.example/contributions/1"}, "decision": {"approve"}}, 403, "nly a maintainer of"},
		} {
			resp, page := c.who.do("POST", page+"/decision", c.form)
			if resp.StatusCode != c.status || !strings.Contains(page, c.reason) {
				t.Fatalf("%v: %d, want %d %q:\n%s", c.form, resp.StatusCode, c.status, c.reason, page)
			}
		}
		if len(pub.sent) != 0 {
			t.Fatalf("sent %q", pub.sent)
		}
	})
	resp, _ = a.do("POST", page+"/decision", url.Values{"csrf": {token}, "uri": {"https://b.example/contributions/1"}, "decision": {"reject"},
		"reason": {"not this project's work"}, "project": {remoteGroup}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), page+"?sent=1") {
		t.Fatalf("decide: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if len(pub.sent) != 1 || pub.sent[0] != "alice reject https://b.example/contributions/1 not this project's work" {
		t.Fatalf("sent %q", pub.sent)
	}
	_, body = a.do("GET", resp.Header.Get("Location"), nil)
	mustContain(t, "after the decision", http.StatusOK, 200, body, "Your decision was sent", "Rejection sent, waiting for the project's node")
	if strings.Contains(body, `aria-label="Reject the record https://b.example/contributions/1"`) {
		t.Fatal("a second decision is offered while the first is on its way")
	}
	if resp, _ := a.do("POST", page+"/decision", url.Values{"csrf": {token}, "uri": {"https://b.example/contributions/1"}, "decision": {"approve"}}); resp.StatusCode != http.StatusBadRequest || len(pub.sent) != 1 {
		t.Fatalf("a second decision: %d, sent %q", resp.StatusCode, pub.sent)
	}
}

const remoteGroup = "https://b.example/users/kit"

// remoteContribFixture stores a project of another co-op (Kit of B,
// maintained by alice and zoe of b.example) and two of its records sent
// here: bea's (1 h 35) and alice's (0 h 30), both pending. bea must be a
// member (contribFixture).
func remoteContribFixture(t *testing.T, f fixture) {
	t.Helper()
	ctx := context.Background()
	group := remoteGroup
	alice, bea := f.svc.Site.ActorID("alice"), f.svc.Site.ActorID("bea")
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	rc := func(n int64, contributor string, minutes int64) coop.RemoteContribution {
		return coop.RemoteContribution{URI: "https://b.example/contributions/" + string(rune('0'+n)), Project: group, Number: n, Contributor: contributor,
			Kind: coop.KindReview, Minutes: minutes, Evidence: []string{"https://git.example/kit/pull/" + string(rune('0'+n))}, Day: day,
			Status: coop.StatusPending, LogIndex: n, Received: f.svc.Clock()}
	}
	err := f.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.PutRemoteProject(ctx, coop.RemoteProject{URI: group, Coop: "https://b.example/users/coop", Handle: "kit", Name: "Kit of B",
			Maintainers: []string{alice, "https://b.example/users/zoe"}, UpdatedAt: f.svc.Clock()}); err != nil {
			return err
		}
		for _, c := range []coop.RemoteContribution{rc(1, bea, 95), rc(2, alice, 30)} {
			if err := tx.PutRemoteContribution(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBrowserRemoteContributions: in real Chromium, alice opens the
// records of other co-ops' projects from the projects directory, rejects
// bea's with a reason typed in the form, and sees the decision on its
// way; at 360 and 1280 px, with screenshots.
func TestBrowserRemoteContributions(t *testing.T) {
	for _, width := range []int{360, 1280} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			ctx := browse(t, width)
			f, base := servedFixture(t)
			contribFixture(t, f)
			remoteContribFixture(t, f)
			pub := &decisionsSent{}
			f.svc.Publisher = pub
			ownPasswords(t, f, "alice")
			w := strconv.Itoa(width)
			must(t, ctx,
				signIn(base+"/signin?next=/projects", "alice"),
				chromedp.WaitVisible(chromedp.CSS(`a[href="/contributions/elsewhere"]`)),
				chromedp.Click(chromedp.CSS(`a[href="/contributions/elsewhere"]`)),
				chromedp.WaitVisible(chromedp.ID("reason-0")),
				screenshot(t, "remotecontributions-"+w),
				chromedp.SendKeys(chromedp.ID("reason-0"), "not this project's work\r"),
				chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
				screenshot(t, "remotecontributions-sent-"+w),
			)
			notice, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("p.notice")))
			if err != nil || !strings.Contains(notice, "Your decision was sent") {
				t.Fatalf("notice %q, %v", notice, err)
			}
			if len(pub.sent) != 1 || pub.sent[0] != "alice reject https://b.example/contributions/1 not this project's work" {
				t.Fatalf("sent %q", pub.sent)
			}
		})
	}
}
