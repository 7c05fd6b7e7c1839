package handlers

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coopfed/coopfed/coop"
)

// servedFixtureAt is servedFixture with a clock the test moves: now
// reads it (atomically: the server's goroutines read it too).
func servedFixtureAt(t *testing.T, now *atomic.Int64) (fixture, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureAt(t, coop.Site{Scheme: "http", Host: ln.Addr().String()})
	f.svc.Clock = func() time.Time { return time.Unix(0, now.Load()).UTC() }
	srv := &http.Server{Handler: f.handler, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return f, "http://" + ln.Addr().String()
}

// tabTo presses Tab until the element with id has the focus (at most 40
// times): how a keyboard user reaches a button.
func tabTo(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for range 40 {
			got, err := chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`)(ctx, tg)
			if err != nil {
				return err
			}
			if got == id {
				return nil
			}
			if _, err := chromedp.KeyEvent("\t")(ctx, tg); err != nil {
				return err
			}
		}
		return context.DeadlineExceeded
	})
}

// rankingIs waits until the page's ranking (its hidden fields) is keys,
// and the focus is on the element with id.
func rankingIs(keys, focus string) chromedp.Action[chromedp.Void] {
	js := `Array.from(document.querySelectorAll('input[name=rank]')).map(e => e.value).join(' ') === '` + keys +
		`' && document.activeElement && document.activeElement.id === '` + focus + `'`
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		// While the form's answer loads, the old page's context goes
		// away: try again until the new page says so.
		var err error
		for range 100 {
			var ok bool
			if ok, err = chromedp.Evaluate[bool](js)(ctx, tg); err == nil && ok {
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		order, _ := chromedp.Evaluate[string](`Array.from(document.querySelectorAll('input[name=rank]')).map(e => e.value).join(' ') + ' focus ' + (document.activeElement && document.activeElement.id)`)(ctx, tg)
		return fmt.Errorf("ranking %q, want %q focused on %q (%v)", order, keys, focus, err)
	})
}

// TestBrowserRankedProposal: a member opens an instant-runoff proposal
// through the form, ranks its options with the keyboard only (Tab to a
// button, Enter or Space to move an option; the page comes back with the
// focus on the moved option's button), casts the ranking, and after the
// close sees the outcome with its chart; at 360 and 1280 px.
func TestBrowserRankedProposal(t *testing.T) {
	for _, width := range []int{360, 1280} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			ctx := browse(t, width)
			var now atomic.Int64
			now.Store(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixNano())
			f, base := servedFixtureAt(t, &now)
			admin := coop.AsAdmin(context.Background())
			ownPasswords(t, f, "alice")
			w := strconv.Itoa(width)
			must(t, ctx,
				signIn(base+"/signin?next=/proposals", "alice"),
				chromedp.WaitVisible(chromedp.ID("needs")),
				chromedp.Click(chromedp.CSS(`a[href="/proposals/new"]`)),
				chromedp.WaitVisible(chromedp.ID("title")),
				chromedp.SendKeys(chromedp.ID("title"), "Which fruit for the stand?"),
				chromedp.SendKeys(chromedp.ID("body"), "We pick **one** fruit."),
				chromedp.SendKeys(chromedp.ID("options"), "Apple\rBanana\rCherry"),
				chromedp.SetValue(chromedp.ID("method"), "irv"),
				chromedp.SetValue(chromedp.ID("closes_in"), "1"),
				chromedp.SetValue(chromedp.ID("closes_unit"), "hours"),
				chromedp.Click(chromedp.CSS(`button[name=preview]`)),
				chromedp.WaitVisible(chromedp.ID("preview-h")),
				screenshot(t, "proposal-new-"+w),
				chromedp.Click(chromedp.CSS(`button[name=open]`)),
				chromedp.WaitVisible(chromedp.ID("ballot-h")),
			)
			location, err := chromedp.Run(ctx, chromedp.Location())
			if err != nil || !strings.HasSuffix(location, "/proposals/1") {
				t.Fatalf("after the form: %q %v", location, err)
			}
			// By keyboard only: Tab to Cherry's "up", Enter; the page
			// comes back focused on it; Space moves it up again (the
			// focus then on its "down", its "up" being disabled); Tab to
			// "Cast this ranking", Enter.
			must(t, ctx,
				rankingIs("apple banana cherry", ""),
				screenshot(t, "proposal-ballot-"+w),
				tabTo("up-cherry"),
				chromedp.KeyEvent("\r"),
				rankingIs("apple cherry banana", "up-cherry"),
				chromedp.KeyEvent(" "),
				rankingIs("cherry apple banana", "down-cherry"),
				screenshot(t, "proposal-ranked-"+w),
				tabTo("cast"),
				chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
				screenshot(t, "proposal-voted-"+w),
			)
			mine, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#your-ballot strong`)))
			if err != nil || mine != "cherry apple banana" {
				t.Fatalf("the current ballot %q: %v", mine, err)
			}
			// The deadline passes; the scheduler's close, here by hand.
			now.Add(int64(2 * time.Hour))
			if _, err := f.svc.CloseProposal(admin, 1); err != nil {
				t.Fatal(err)
			}
			must(t, ctx,
				chromedp.Navigate(base+"/proposals/1"),
				chromedp.WaitVisible(chromedp.CSS(`svg.chart`)),
				screenshot(t, "proposal-outcome-"+w),
			)
			chart, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('svg.chart title').textContent + ' | ' + document.querySelector('svg.chart desc').textContent`))
			if err != nil || chart != "Proposal 1: first preferences per option | Apple: 0; Banana: 0; Cherry: 1." {
				t.Fatalf("the chart: %q %v", chart, err)
			}
			must(t, ctx,
				chromedp.Navigate(base+"/proposals"),
				chromedp.WaitVisible(chromedp.ID("closed")),
				screenshot(t, "proposals-"+w),
			)
		})
	}
}

// TestBrowserBallotForms: the consent and score ballots, and a visitor's
// read-only view, at 360 and 1280 px (screenshots); a consent ballot is
// cast by keyboard (Space on the radio, Enter on the button).
func TestBrowserBallotForms(t *testing.T) {
	for _, width := range []int{360, 1280} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			ctx := browse(t, width)
			var now atomic.Int64
			now.Store(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC).UnixNano())
			f, base := servedFixtureAt(t, &now)
			consent := openYesNo(t, f, "consent")
			score := openYesNo(t, f, "score")
			ownPasswords(t, f, "alice")
			w := strconv.Itoa(width)
			path := func(n int64) string { return base + "/proposals/" + strconv.FormatInt(n, 10) }
			must(t, ctx,
				chromedp.Navigate(path(consent.Num)),
				chromedp.WaitVisible(chromedp.CSS(`a[href^="/signin?next="]`)),
				screenshot(t, "proposal-visitor-"+w),
				chromedp.Click(chromedp.CSS(`a[href^="/signin?next="]`)),
				signInForm("alice", ownPassword("alice")),
				chromedp.WaitVisible(chromedp.ID("stance-block")),
				screenshot(t, "proposal-consent-"+w),
				chromedp.Focus(chromedp.ID("stance-agree")),
				chromedp.KeyEvent(" "),
				tabTo("cast"),
				chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
				chromedp.Navigate(path(score.Num)),
				chromedp.WaitVisible(chromedp.ID("score-yes")),
				screenshot(t, "proposal-score-"+w),
			)
			mv, err := f.svc.MyVote(coop.WithPrincipal(context.Background(), coop.Principal{ID: f.svc.Site.ActorID("alice"), Channel: "cli"}), consent.Num)
			if err != nil || mv.Ballot == nil || mv.Ballot.Stance.String() != "agree" {
				t.Fatalf("alice's consent ballot: %+v %v", mv.Ballot, err)
			}
		})
	}
}
