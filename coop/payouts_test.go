package coop_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/payout"
	"github.com/coopfed/coopfed/store"
)

func TestPayoutRound(t *testing.T) {
	s, c, pub := votingNode(t) // alice maintains "tool"; clock at 2026-03-01 09:00
	ctx := context.Background()
	alice, bob, carol := as(s, "alice"), as(s, "bob"), as(s, "carol")
	for _, n := range []struct {
		who     context.Context
		minutes int64
	}{{bob, 90}, {carol, 30}} {
		rec, err := s.AddContribution(n.who, coop.NewContribution{Project: "tool", Kind: coop.KindReview, Minutes: n.minutes})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DecideContribution(alice, rec.ID, true, ""); err != nil {
			t.Fatal(err)
		}
	}
	// Pending records are not split.
	if _, err := s.AddContribution(bob, coop.NewContribution{Project: "tool", Kind: coop.KindDocs, Minutes: 600}); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	nr := coop.NewPayoutRound{Project: "tool", From: day, To: day.AddDate(0, 0, 1), Budget: "100.00", Currency: "EUR", Formula: "minutes", Rate: "60"}
	if _, _, err := s.CreatePayoutRound(coop.AsAdmin(ctx), nr); !errors.Is(err, coop.ErrNotAllowed) {
		t.Fatalf("the operator created a round: %v", err)
	}
	for _, bad := range []coop.NewPayoutRound{
		{Project: "tool", From: day, To: day.AddDate(0, 0, 1), Budget: "100.001", Currency: "EUR", Formula: "minutes", Rate: "60"},
		{Project: "tool", From: day, To: day.AddDate(0, 0, 1), Budget: "100", Currency: "XXX", Formula: "minutes", Rate: "60"},
		{Project: "tool", From: day, To: day.AddDate(0, 0, 1), Budget: "100", Currency: "EUR", Formula: "minutes"},
		{Project: "tool", From: day, To: day, Budget: "100", Currency: "EUR", Formula: "points"},
	} {
		if _, _, err := s.CreatePayoutRound(alice, bad); !errors.Is(err, coop.ErrInvalidInput) {
			t.Fatalf("created %+v: %v", bad, err)
		}
	}
	r, draft, err := s.CreatePayoutRound(alice, nr)
	if err != nil || draft.Why != nil {
		t.Fatal(err, draft.Why)
	}
	// 90 and 30 minutes at 60.00 an hour are 90.00 and 30.00: 120.00,
	// above the budget of 100.00, so both are scaled by 100/120.
	if len(draft.Statement.Lines) != 2 || draft.Statement.Lines[0].Share != 7500 || draft.Statement.Lines[1].Share != 2500 {
		t.Fatalf("draft %+v", draft.Statement.Lines)
	}
	t.Run("the creator, the operator and the early do not approve", func(t *testing.T) {
		if _, _, err := s.ApprovePayoutRound(alice, r.ID); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("the creator approved: %v", err)
		}
		forCarol := coop.WithPrincipal(ctx, coop.Principal{ID: coop.AdminPrincipal, Channel: ledger.ChannelCLI, For: s.Site.ActorID("carol")})
		if _, _, err := s.ApprovePayoutRound(forCarol, r.ID); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("the operator approved for carol: %v", err)
		}
		if _, _, err := s.ApprovePayoutRound(carol, r.ID); !errors.Is(err, coop.ErrInvalidInput) || !strings.Contains(err.Error(), "period ends") {
			t.Fatalf("approved before the period ended: %v", err)
		}
	})
	c.advance(24 * time.Hour)
	final, st, err := s.ApprovePayoutRound(carol, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.State != coop.RoundFinal || len(final.Records) != 2 || st.Total != 10000 || st.Unallocated != 0 {
		t.Fatalf("final %+v %+v", final, st)
	}
	if got := pub.take(); len(got) == 0 || got[len(got)-1] != "payout tool 1 10000" {
		t.Fatalf("published %q", got)
	}
	if _, _, err := s.ApprovePayoutRound(bob, r.ID); !errors.Is(err, coop.ErrInvalidInput) {
		t.Fatalf("approved twice: %v", err)
	}
	t.Run("members recompute it from the log", func(t *testing.T) {
		v, err := s.VerifyPayoutRound(bob, r.ID)
		if err != nil || !v.OK() || v.Records != 2 || v.Statement.Lines[0].Share != 7500 {
			t.Fatalf("%+v %v", v, err)
		}
		stranger := coop.WithPrincipal(ctx, coop.Principal{ID: "https://x.example/users/x", Channel: ledger.ChannelRemote})
		if _, err := s.VerifyPayoutRound(stranger, r.ID); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("a stranger saw pay: %v", err)
		}
	})
	t.Run("the openings are for members and peers", func(t *testing.T) {
		stranger := coop.WithPrincipal(ctx, coop.Principal{ID: "https://x.example/users/coop", Channel: ledger.ChannelPeer})
		if _, err := s.PayoutOpenings(stranger, r.ID); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("a stranger read the openings: %v", err)
		}
		o, err := s.PayoutOpenings(bob, r.ID)
		if err != nil || len(o.RecordIndex) != 2 || len(o.Openings) != 2 {
			t.Fatalf("%+v %v", o, err)
		}
		for _, fields := range o.Openings {
			if len(fields["minutes"].Salt) != ledger.SaltSize || fields["minutes"].Value == "" {
				t.Fatalf("openings %+v", o.Openings)
			}
		}
	})
	t.Run("a changed value behind a commitment is found", func(t *testing.T) {
		db, err := sql.Open("sqlite", "file:"+s.Store.(*store.DB).Path())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`UPDATE log_personal SET value = '900' WHERE field = 'minutes' AND value = '90'`); err != nil {
			t.Fatal(err)
		}
		v, err := s.VerifyPayoutRound(bob, r.ID)
		if err != nil || v.OK() || !strings.Contains(strings.Join(v.Problems, "; "), "does not open its commitment") {
			t.Fatalf("%+v %v", v.Problems, err)
		}
	})
	t.Run("a round that requires a proposal waits for it to pass", func(t *testing.T) {
		p, err := s.OpenProposal(alice, yesNo("coop"))
		if err != nil {
			t.Fatal(err)
		}
		nr2 := nr
		nr2.RequiresProposal, nr2.Formula, nr2.Rate, nr2.Budget = p.Num, string(payout.Points), "", "50"
		if _, err := s.AddContribution(bob, coop.NewContribution{Project: "tool", Kind: coop.KindCode, Points: 2, Day: day}); err != nil {
			t.Fatal(err)
		}
		r2, _, err := s.CreatePayoutRound(bob, nr2)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ApprovePayoutRound(carol, r2.ID); !errors.Is(err, coop.ErrInvalidInput) || !strings.Contains(err.Error(), "has not closed") {
			t.Fatalf("approved before the proposal closed: %v", err)
		}
		for _, v := range []context.Context{alice, bob} {
			if _, err := s.Vote(v, p.Num, []string{"no"}); err != nil {
				t.Fatal(err)
			}
		}
		c.advance(72 * time.Hour)
		if _, err := s.CloseDue(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ApprovePayoutRound(carol, r2.ID); !errors.Is(err, coop.ErrInvalidInput) || !strings.Contains(err.Error(), "did not pass") {
			t.Fatalf("approved after the proposal failed: %v", err)
		}
	})
}
