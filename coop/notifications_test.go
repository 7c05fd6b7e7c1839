package coop_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

func kinds(ns coop.Notifications) string {
	var out []string
	for _, n := range ns.Items {
		k := n.Kind
		if n.Unread {
			k += "*"
		}
		out = append(out, k)
	}
	return strings.Join(out, " ")
}

func notifications(t *testing.T, s *coop.Service, handle string) coop.Notifications {
	t.Helper()
	ns, err := s.Notifications(as(s, handle))
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// TestNotifications: what a member needs to know, derived from what the
// node keeps, newest first, unread after their "read up to" mark.
func TestNotifications(t *testing.T) {
	s, c, _ := votingNode(t)
	s.Publisher = &postRecorder{recorder: &recorder{}}
	ctx := context.Background()
	alice, bob := as(s, "alice"), as(s, "bob")
	if _, err := s.AddProject(coop.AsAdmin(ctx), coop.NewProject{Slug: "lib", Name: "Lib", Maintainers: []string{"alice", "bob"}}); err != nil {
		t.Fatal(err)
	}
	if got := kinds(notifications(t, s, "bob")); got != "" {
		t.Fatalf("a new member: %q", got)
	}

	p, err := s.OpenProposal(alice, yesNo("coop")) // 09:00, closes in 72 h
	if err != nil {
		t.Fatal(err)
	}
	c.advance(time.Minute)
	rec, err := s.AddContribution(bob, coop.NewContribution{Project: "lib", Kind: coop.KindDocs, Minutes: 60})
	if err != nil {
		t.Fatal(err)
	}
	c.advance(time.Minute)
	if _, err := s.DecideContribution(alice, rec.ID, false, "no evidence linked"); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if _, _, err := s.CreatePayoutRound(alice, coop.NewPayoutRound{Project: "lib", From: day, To: day.AddDate(0, 0, 1),
		Budget: "100", Currency: "EUR", Formula: "equal"}); err != nil {
		t.Fatal(err)
	}
	c.advance(time.Minute)
	remoteReply(t, s, store.ReceivedNote{ObjectID: "https://gts.example/users/zed/statuses/01A", ActorURI: "https://gts.example/users/zed",
		Content: "<p>Why?</p>", InReplyTo: s.Site.ProposalURL(p.Num), Published: c.now(), ReceivedAt: c.now()}, "zed", "Zed")
	c.advance(time.Minute)
	code, _, err := s.LinkCode(bob, "bob")
	if err != nil {
		t.Fatal(err)
	}
	direct(t, s, c, "coop", xAccount, "@coop@a.example "+code)

	ns := notifications(t, s, "bob")
	// The payout round waits for bob once its period is over (tomorrow):
	// its time is then.
	if got := kinds(ns); got != "link-pending* contribution-rejected* vote-needed*" || ns.Unread != 3 {
		t.Fatalf("bob's: %q, %d unread", got, ns.Unread)
	}
	if n := ns.Items[1]; n.Detail != "no evidence linked" || n.Path != "/projects/lib/contributions" {
		t.Errorf("rejection %+v", n)
	}
	if n := ns.Items[2]; n.Subject != "Adopt the AGPL" || n.Path != "/proposals/1" {
		t.Errorf("vote needed %+v", n)
	}
	if got := kinds(notifications(t, s, "alice")); got != "reply* vote-needed*" {
		t.Fatalf("alice's: %q", got)
	}
	if n := notifications(t, s, "alice").Items[0]; n.Detail != "Zed (@zed@gts.example)" || n.Path != "/proposals/1#discussion" {
		t.Errorf("reply %+v", n)
	}

	if err := s.MarkNotificationsRead(bob); err != nil {
		t.Fatal(err)
	}
	if ns := notifications(t, s, "bob"); kinds(ns) != "link-pending contribution-rejected vote-needed" || ns.Unread != 0 {
		t.Fatalf("after marking: %q, %d unread", kinds(ns), ns.Unread)
	}
	if got := kinds(notifications(t, s, "alice")); got != "reply* vote-needed*" {
		t.Fatalf("bob's mark changed alice's: %q", got)
	}

	c.advance(72 * time.Hour)
	if _, err := s.CloseProposal(coop.AsAdmin(ctx), p.Num); err != nil {
		t.Fatal(err)
	}
	ns = notifications(t, s, "bob")
	if got := kinds(ns); got != "outcome* payout-approval* link-pending contribution-rejected" || ns.Unread != 2 {
		t.Fatalf("after the close: %q, %d unread", got, ns.Unread)
	}
	if !strings.Contains(ns.Items[0].Detail, "quorum") && ns.Items[0].Detail == "" {
		t.Errorf("outcome %+v", ns.Items[0])
	}
	if n := ns.Items[1]; n.Path != "/payouts/1" || !strings.HasPrefix(n.Subject, "Lib, 2026-03-01") {
		t.Errorf("payout %+v", n)
	}

	t.Run("notifications are a member's own", func(t *testing.T) {
		if _, err := s.Notifications(coop.AsAdmin(ctx)); !errors.Is(err, coop.ErrNotAllowed) {
			t.Errorf("the operator: %v", err)
		}
		if err := s.MarkNotificationsRead(ctx); !errors.Is(err, coop.ErrNoPrincipal) {
			t.Errorf("nobody: %v", err)
		}
	})
}
