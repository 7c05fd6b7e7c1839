package handlers

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
)

// TestHomeForAMember: the home page shows a member the open proposals
// waiting for their vote, and everyone the recent decisions.
func TestHomeForAMember(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.svc.Clock = func() time.Time { return now }
	admin := coop.AsAdmin(context.Background())
	open := func(title string) coop.Proposal {
		t.Helper()
		p, err := f.svc.OpenProposal(admin, coop.NewProposal{Group: coop.CoopGroup, Title: title,
			Options: []governance.Option{{Key: "yes", Label: "Yes"}, {Key: "no", Label: "No"}}, Method: governance.SingleChoice,
			ClosesIn: time.Hour, Quorum: governance.Ratio{Num: 1, Den: 2}, Threshold: governance.Majority})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	decided := open("Adopt the AGPL")
	alice := coop.WithPrincipal(context.Background(), f.svc.WebPrincipal(coop.Member{Actor: coop.Actor{Handle: "alice"}}))
	if _, err := f.svc.Vote(alice, decided.Num, []string{"yes"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	if _, err := f.svc.CloseProposal(admin, decided.Num); err != nil {
		t.Fatal(err)
	}
	open("Meet on Fridays")

	b := signedIn(t, f, "alice")
	_, page := b.do("GET", "/", nil)
	for _, want := range []string{"Waiting for your vote", `<a href="/proposals/2">Meet on Fridays</a>`,
		"Recent decisions", `<a href="/proposals/1">Adopt the AGPL</a>`, `&#34;Yes&#34; won`} {
		if !strings.Contains(page, want) {
			t.Fatalf("home lacks %q:\n%s", want, page)
		}
	}
	_, page = newBrowser(t, f.handler).do("GET", "/", nil)
	if strings.Contains(page, "Waiting for your vote") || !strings.Contains(page, "Adopt the AGPL") {
		t.Fatalf("a visitor's home:\n%s", page)
	}
}
