package handlers

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/ledger"
)

// TestProposalPage: a proposal's page at its url shows what it asks, its
// counts while open (or that they are hidden), the refused votes, and
// after the close the outcome and the log record that holds it.
func TestProposalPage(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.svc.Clock = func() time.Time { return now }
	admin := coop.AsAdmin(context.Background())
	alice := coop.WithPrincipal(context.Background(), coop.Principal{ID: "https://coop.example/users/alice", Channel: ledger.ChannelCLI})
	open := func(hide bool) coop.Proposal {
		t.Helper()
		p, err := f.svc.OpenProposal(admin, coop.NewProposal{Group: coop.CoopGroup, Title: "Adopt the <tool>", Body: "Shall **we**?\n\nYes & no.\n\n- see [the tool](https://tool.example/)\n\n<script>alert(1)</script> [x](javascript:alert(2))",
			Options: []governance.Option{{Key: "yes", Label: "Yes"}, {Key: "no", Label: "No"}}, Method: governance.SingleChoice,
			ClosesIn: time.Hour, Quorum: governance.Ratio{Num: 1, Den: 2}, Threshold: governance.Majority, HideCounts: hide})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	get := func(path string) (int, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b)
	}
	p := open(false)
	if _, err := f.svc.Vote(alice, p.Num, []string{"yes"}); err != nil {
		t.Fatal(err)
	}
	hidden := open(true)
	if _, err := f.svc.Vote(alice, hidden.Num, []string{"maybe"}); err == nil {
		t.Fatal("a vote for an unknown option was accepted")
	}

	path := strings.TrimPrefix(f.svc.Site.ProposalURL(p.Num), "https://coop.example")
	code, body := get(path)
	for _, want := range []string{"Adopt the &lt;tool&gt;", "<p>Shall <strong>we</strong>?</p>", "<p>Yes &amp; no.</p>",
		`<li>see <a href="https://tool.example/" rel="nofollow noopener" target="_blank">the tool</a></li>`,
		"Counts so far", "<td>Yes</td><td>1</td>", "Example Co-op"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("open proposal page: %d, lacks %q:\n%s", code, want, body)
		}
	}
	// The body is Markdown rendered and sanitized: no script, no
	// javascript: link, and its HTML is not escaped twice.
	for _, bad := range []string{"<script", "alert(1)", "javascript:", "&lt;p&gt;", "&lt;strong&gt;"} {
		if strings.Contains(body, bad) {
			t.Fatalf("open proposal page holds %q:\n%s", bad, body)
		}
	}
	code, body = get(strings.TrimPrefix(f.svc.Site.ProposalURL(hidden.Num), "https://coop.example"))
	if code != 200 || !strings.Contains(body, "hidden until the proposal closes") || !strings.Contains(body, "Refused votes") || !strings.Contains(body, "unknown-option") {
		t.Fatalf("hidden proposal page: %d\n%s", code, body)
	}

	// A stranger's poll vote: held while open, refused in aggregate at
	// the close, and shown so.
	if err := f.svc.Store.Update(context.Background(), func(tx coop.Tx) error {
		return f.svc.ReceiveVotes(context.Background(), tx, []coop.RemoteVote{{Proposal: p.Num, Account: "https://x.example/users/zed",
			Option: "Yes", NoteID: "https://x.example/users/zed#votes/1", AcceptedAt: now}})
	}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	o, err := f.svc.CloseProposal(admin, p.Num)
	if err != nil {
		t.Fatal(err)
	}
	code, body = get(path)
	for _, want := range []string{"Outcome", "Decided: <strong>Yes</strong>", "/log/receipt/", "no member's", "<li>not-eligible: 1</li>"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("closed proposal page: %d, lacks %q (outcome record %d):\n%s", code, want, o.LogIndex, body)
		}
	}
	if code, _ := get("/proposals/999"); code != 404 {
		t.Fatalf("an unknown proposal: %d", code)
	}
}
