package handlers

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
)

func mustContain(t *testing.T, what string, status, wantStatus int, page string, wants ...string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("%s: status %d, want %d:\n%s", what, status, wantStatus, page)
	}
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Fatalf("%s: lacks %q:\n%s", what, w, page)
		}
	}
}

var openedAt = regexp.MustCompile(`^/proposals/([0-9]+)$`)

// TestNewProposalForm: the form is for members; it previews the body,
// keeps the input with the errors by field, and opens the proposal as
// the member.
func TestNewProposalForm(t *testing.T) {
	f := newFixture(t)
	visitor := newBrowser(t, f.handler)
	resp, _ := visitor.do("GET", "/proposals/new", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Fproposals%2Fnew" {
		t.Fatalf("a visitor: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = visitor.do("POST", "/proposals/new", url.Values{"title": {"x"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a visitor's POST: %d", resp.StatusCode)
	}
	alice := signedIn(t, f, "alice")
	resp, page := alice.do("GET", "/proposals/new", nil)
	mustContain(t, "the form", resp.StatusCode, 200, page, `<option value="coop" selected>Example Co-op (all members)</option>`,
		`<option value="tool">The Tool (its maintainers)</option>`, `<label for="options">`, `name="preview"`)
	csrf := csrfOf(t, page)
	form := url.Values{"csrf": {csrf}, "group": {"coop"}, "title": {"Pick a <logo>"}, "body": {"Which **logo**?\n\n<script>x()</script>"},
		"options": {"round=Round one\nSquare & bold\n"}, "method": {"irv"}, "closes_in": {"3"}, "closes_unit": {"days"},
		"quorum": {"1/2"}, "threshold": {"majority"}}

	t.Run("without the CSRF token the form is refused", func(t *testing.T) {
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Del("csrf")
		resp, _ := alice.do("POST", "/proposals/new", bad)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%d", resp.StatusCode)
		}
		if ps, _ := f.svc.ListProposals(context.Background()); len(ps) != 0 {
			t.Fatalf("opened: %+v", ps)
		}
	})
	t.Run("preview renders the body on the server and keeps the input", func(t *testing.T) {
		pv := url.Values{"preview": {"1"}}
		for k, v := range form {
			pv[k] = v
		}
		resp, page := alice.do("POST", "/proposals/new", pv)
		mustContain(t, "preview", resp.StatusCode, 200, page, `<h2 id="preview-h">Preview</h2>`, "<p>Which <strong>logo</strong>?</p>",
			`value="Pick a &lt;logo&gt;"`, "round=Round one\nSquare &amp; bold", `<option value="irv" selected>`)
		if strings.Contains(page, "<script>x()") {
			t.Fatal("the preview holds a script")
		}
	})
	t.Run("errors are shown by their field, the input kept", func(t *testing.T) {
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("options", "only one")
		bad.Set("quorum", "half")
		resp, page := alice.do("POST", "/proposals/new", bad)
		mustContain(t, "one option, a bad quorum", resp.StatusCode, 400, page, `id="quorum-error"`, "1/2, 2/3 or 50%", `value="half"`)
		bad.Set("quorum", "1/2")
		resp, page = alice.do("POST", "/proposals/new", bad)
		mustContain(t, "one option", resp.StatusCode, 400, page, `id="options-error"`, "1 options; want 2 to 64", ">only one</textarea>")
		bad.Set("options", form.Get("options"))
		bad.Set("group", "nosuch")
		resp, page = alice.do("POST", "/proposals/new", bad)
		mustContain(t, "an unknown group", resp.StatusCode, 400, page, `id="group-error"`, `No project &#34;nosuch&#34;`)
	})
	resp, _ = alice.do("POST", "/proposals/new", form)
	m := openedAt.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("open: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	ps, err := f.svc.ListProposals(context.Background())
	if err != nil || len(ps) != 1 {
		t.Fatal(ps, err)
	}
	p := ps[0]
	if p.Proposer != "https://coop.example/users/alice" || p.Method != governance.InstantRunoff || len(p.Options) != 2 ||
		p.Options[0] != (governance.Option{Key: "round", Label: "Round one"}) || p.Options[1].Key != "square-bold" ||
		p.ClosesAt.Sub(p.OpensAt) != 72*time.Hour || p.Quorum != (governance.Ratio{Num: 1, Den: 2}) {
		t.Fatalf("%+v", p)
	}
}

// TestProposalListPage: the open and closed proposals for everyone, and
// for a member those waiting for their vote.
func TestProposalListPage(t *testing.T) {
	f := newFixture(t)
	open := openYesNo(t, f, governance.SingleChoice)
	other := openYesNo(t, f, governance.Approval)
	alice := signedIn(t, f, "alice")
	voteAs(t, f, "alice", other.Num, "yes")
	resp, page := newBrowser(t, f.handler).do("GET", "/proposals", nil)
	mustContain(t, "a visitor", resp.StatusCode, 200, page, `<h2 id="open">Open</h2>`, `href="/proposals/1"`, "Sign in</a> to vote")
	if strings.Contains(page, "Waiting for your vote") {
		t.Fatal("a visitor is shown what waits for their vote")
	}
	resp, page = alice.do("GET", "/proposals", nil)
	mustContain(t, "a member", resp.StatusCode, 200, page, "Waiting for your vote", `href="/proposals/new"`)
	needs := page[strings.Index(page, `id="needs"`):strings.Index(page, `id="open"`)]
	if !strings.Contains(needs, `href="/proposals/1"`) || strings.Contains(needs, `href="/proposals/2"`) {
		t.Fatalf("waiting for alice's vote (%d, %d):\n%s", open.Num, other.Num, needs)
	}
}

// openYesNo opens a yes/no proposal as alice (the admin's fixture clock:
// closing in an hour).
func openYesNo(t *testing.T, f fixture, m governance.Method) coop.Proposal {
	t.Helper()
	ctx := coop.WithPrincipal(context.Background(), coop.Principal{ID: f.svc.Site.ActorID("alice"), Channel: "cli"})
	n := coop.NewProposal{Group: coop.CoopGroup, Title: "Adopt it", Body: "Shall we?", Method: m,
		Options:  []governance.Option{{Key: "yes", Label: "Yes"}, {Key: "no", Label: "No"}},
		ClosesIn: time.Hour, Quorum: governance.Ratio{Num: 1, Den: 2}, Threshold: governance.Majority}
	switch m {
	case governance.Consent:
		n.Options, n.Threshold = nil, governance.Consensus
	case governance.Score:
		n.ScoreMin, n.ScoreMax = 0, 5
	}
	p, err := f.svc.OpenProposal(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func voteAs(t *testing.T, f fixture, handle string, num int64, args ...string) {
	t.Helper()
	ctx := coop.WithPrincipal(context.Background(), coop.Principal{ID: f.svc.Site.ActorID(handle), Channel: "cli"})
	if _, err := f.svc.Vote(ctx, num, args); err != nil {
		t.Fatal(err)
	}
}

// TestProposalBallots: a member votes on the page by every method and
// replaces their ballot; a visitor cannot vote; a form without its token
// is refused; an ineligible member is refused with the reason; only the
// proposer withdraws; after the close the outcome has its chart and the
// voter's receipt.
func TestProposalBallots(t *testing.T) {
	f := newFixture(t)
	var now time.Time = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.svc.Clock = func() time.Time { return now }
	single := openYesNo(t, f, governance.SingleChoice)
	// bob joins after the opening: not one of its voters.
	if _, _, err := f.svc.AddMember(coop.AsAdmin(context.Background()), coop.NewMember{Handle: "bob"}); err != nil {
		t.Fatal(err)
	}
	alice, bob, visitor := signedIn(t, f, "alice"), signedIn(t, f, "bob"), newBrowser(t, f.handler)
	path := "/proposals/1"

	resp, page := visitor.do("GET", path, nil)
	mustContain(t, "a visitor's view", resp.StatusCode, 200, page, `Sign in to vote</a>`)
	if strings.Contains(page, `action="/proposals/1/vote"`) {
		t.Fatal("a visitor is shown the ballot form")
	}
	resp, _ = visitor.do("POST", path+"/vote", url.Values{"choice": {"yes"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a visitor's vote: %d", resp.StatusCode)
	}
	resp, page = alice.do("GET", path, nil)
	mustContain(t, "alice's view", resp.StatusCode, 200, page, `type="radio" id="choice-yes" name="choice" value="yes"`, "You have not voted yet", "Withdraw")
	csrf := csrfOf(t, page)
	resp, _ = alice.do("POST", path+"/vote", url.Values{"choice": {"yes"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a vote without the CSRF token: %d", resp.StatusCode)
	}
	resp, page = alice.do("POST", path+"/vote", url.Values{"csrf": {csrf}, "cast": {"1"}})
	mustContain(t, "nothing chosen", resp.StatusCode, 400, page, "Choose an answer first, or abstain.")
	if v, _ := f.svc.ShowProposal(context.Background(), single.Num); len(v.Refusals) != 0 {
		t.Fatalf("an empty form was recorded as a refusal: %+v", v.Refusals)
	}
	resp, _ = alice.do("POST", path+"/vote", url.Values{"csrf": {csrf}, "choice": {"yes"}, "cast": {"1"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path+"?done=cast#your-ballot" {
		t.Fatalf("vote: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = alice.do("POST", path+"/vote", url.Values{"csrf": {csrf}, "choice": {"no"}, "cast": {"1"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path+"?done=replaced#your-ballot" {
		t.Fatalf("replace: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page = alice.do("GET", path+"?done=replaced", nil)
	mustContain(t, "the replaced ballot", resp.StatusCode, 200, page, "Your ballot replaced your earlier one", "Your current ballot: <strong>no</strong>",
		`id="choice-no" name="choice" value="no" checked`, "coopfed log prove ", `href="/log/receipt/`)

	t.Run("an ineligible member is refused with the reason", func(t *testing.T) {
		_, page := bob.do("GET", path, nil)
		resp, page := bob.do("POST", path+"/vote", url.Values{"csrf": {csrfOf(t, page)}, "choice": {"yes"}, "cast": {"1"}})
		mustContain(t, "bob", resp.StatusCode, 403, page, "Your ballot was refused: you are not one of this proposal&#39;s voters", "Your refused ballots")
	})
	t.Run("only the proposer withdraws", func(t *testing.T) {
		_, page := bob.do("GET", path, nil)
		if strings.Contains(page, "/withdraw") {
			t.Fatal("bob is shown the withdraw form")
		}
		resp, page := bob.do("POST", path+"/withdraw", url.Values{"csrf": {csrfOf(t, page)}, "confirm": {"yes"}})
		mustContain(t, "bob withdraws", resp.StatusCode, 403, page, "Only the proposer withdraws a proposal")
		resp, _ = alice.do("POST", path+"/withdraw", url.Values{"csrf": {csrf}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("a withdrawal unconfirmed: %d", resp.StatusCode)
		}
	})
	t.Run("the proposer extends", func(t *testing.T) {
		resp, _ := alice.do("POST", path+"/extend", url.Values{"csrf": {csrf}, "closes_in": {"2"}, "closes_unit": {"hours"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("extend: %d", resp.StatusCode)
		}
		v, _ := f.svc.ShowProposal(context.Background(), single.Num)
		if !v.ClosesAt.Equal(now.Add(2 * time.Hour)) {
			t.Fatalf("closes at %v", v.ClosesAt)
		}
	})
	t.Run("past the deadline, before the close is recorded, no ballot form", func(t *testing.T) {
		v, _ := f.svc.ShowProposal(context.Background(), single.Num)
		saved := now
		now = v.ClosesAt
		defer func() { now = saved }()
		resp, page := alice.do("GET", path, nil)
		mustContain(t, "after the deadline", resp.StatusCode, 200, page, "no more ballots are taken, and the outcome is being counted",
			"Your ballot: <strong>no</strong>")
		for _, form := range []string{`action="/proposals/1/vote"`, `action="/proposals/1/extend"`, `action="/proposals/1/withdraw"`} {
			if strings.Contains(page, form) {
				t.Fatalf("the page offers %s after the deadline", form)
			}
		}
		resp, page = alice.do("POST", path+"/vote", url.Values{"csrf": {csrf}, "choice": {"yes"}, "cast": {"1"}})
		mustContain(t, "a vote after the deadline", resp.StatusCode, 409, page, "the proposal is closed: its deadline passed")
	})
	t.Run("every method has its ballot form", func(t *testing.T) {
		for _, c := range []struct {
			m    governance.Method
			form url.Values
			want string
		}{
			{governance.Approval, url.Values{"choice": {"yes", "no"}}, "yes no"},
			{governance.InstantRunoff, url.Values{"rank": {"no", "yes"}}, "no yes"},
			{governance.Schulze, url.Values{"rank": {"yes", "no"}}, "yes no"},
			{governance.Score, url.Values{"score-yes": {"4"}, "score-no": {"1"}}, "yes=4 no=1"},
			{governance.Consent, url.Values{"stance": {"block"}}, "block"},
			{governance.SingleChoice, url.Values{"abstain": {"1"}, "choice": {"yes"}}, "abstain"},
		} {
			p := openYesNo(t, f, c.m)
			pp := "/proposals/" + f.svc.Site.ProposalURL(p.Num)[len("https://coop.example/proposals/"):]
			c.form.Set("csrf", csrf)
			resp, _ := alice.do("POST", pp+"/vote", c.form)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: %d", c.m, resp.StatusCode)
			}
			_, page := alice.do("GET", pp, nil)
			mustContain(t, string(c.m), 200, 200, page, "Your current ballot: <strong>"+c.want+"</strong>")
		}
	})
	t.Run("a ranking is reordered on the server", func(t *testing.T) {
		pp := "/proposals/3" // the irv proposal above
		resp, page := alice.do("POST", pp+"/vote", url.Values{"csrf": {csrf}, "rank": {"no", "yes"}, "move": {"up:yes"}})
		mustContain(t, "move", resp.StatusCode, 200, page, `id="up-yes" formnovalidate aria-label="Move Yes up" disabled>`, `id="down-yes" formnovalidate aria-label="Move Yes down" autofocus>`)
		if strings.Index(page, `name="rank" value="yes"`) > strings.Index(page, `name="rank" value="no"`) {
			t.Fatalf("yes not moved up:\n%s", page)
		}
	})
	now = now.Add(3 * time.Hour)
	if _, err := f.svc.CloseProposal(coop.AsAdmin(context.Background()), single.Num); err != nil {
		t.Fatal(err)
	}
	resp, page = alice.do("GET", path, nil)
	mustContain(t, "the outcome", resp.StatusCode, 200, page, "<h2 id=\"counts-h\">Outcome</h2>", `<svg class="chart" role="img"`,
		`<title id="chart-1-title">Proposal 1: votes per option</title>`, "<desc id=\"chart-1-desc\">Yes: 0; No: 1.</desc>",
		"Your ballot: <strong>no</strong>", "coopfed log prove ", "quorum met")
	if strings.Contains(page, `action="/proposals/1/vote"`) {
		t.Fatal("a closed proposal shows its ballot form")
	}
}
