package coop_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
)

// linkedRecord is the index of the member.account_linked record of
// alice's link to xAccount.
func linkedRecord(t *testing.T, s *coop.Service) int64 {
	t.Helper()
	page, err := s.DecisionRecords(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range page.Entries {
		if e.Record.Type == "member.account_linked" {
			return e.Index
		}
	}
	t.Fatal("no member.account_linked record")
	return 0
}

func TestDecisionRecordOpenings(t *testing.T) {
	s, c, _ := votingNode(t)
	if _, _, err := s.AddMember(coop.AsAdmin(context.Background()), coop.NewMember{Handle: "dora", Role: coop.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	link(t, s, c, "alice", xAccount)
	idx := linkedRecord(t, s)
	for _, tc := range []struct {
		name string
		ctx  context.Context
		sees bool
	}{
		{"a visitor sees the commitment only", context.Background(), false},
		{"the member it is about sees the value", as(s, "alice"), true},
		{"another member sees the commitment only", as(s, "bob"), false},
		{"an admin member sees the value", as(s, "dora"), true},
		{"the operator sees the value", coop.AsAdmin(context.Background()), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := s.DecisionRecord(tc.ctx, idx)
			if err != nil {
				t.Fatal(err)
			}
			if commit, _ := e.Record.Data["account"].(string); !strings.HasPrefix(commit, "sha256:") {
				t.Fatalf("the record holds %q, not a commitment", commit)
			}
			got, ok := e.Openings["account"]
			if ok != tc.sees || ok && got != xAccount {
				t.Fatalf("openings %v, want the value shown: %v", e.Openings, tc.sees)
			}
		})
	}
	t.Run("newest first", func(t *testing.T) {
		page, err := s.DecisionRecords(context.Background(), 0, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entries) != 2 || page.Entries[0].Index != page.Size-1 || page.Entries[1].Index != page.Size-2 {
			t.Fatalf("entries %+v of %d", page.Entries, page.Size)
		}
		older, err := s.DecisionRecords(context.Background(), page.Entries[1].Index, 2)
		if err != nil || older.Entries[0].Index != page.Size-3 {
			t.Fatalf("the next page starts at %+v, %v", older.Entries, err)
		}
	})
}

func TestVerifyReceiptText(t *testing.T) {
	s, _, _ := votingNode(t)
	ctx := coop.AsAdmin(context.Background())
	if _, _, err := s.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := s.LogReceipt(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	text := r.Marshal()
	got, err := s.VerifyReceipt(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	if got.Index != 1 || got.Size < 2 || got.Record.Type == "" {
		t.Fatalf("check %+v", got)
	}
	t.Run("a tampered record is refused as not included", func(t *testing.T) {
		bad := r
		bad.Record = bytes.Replace(r.Record, []byte(`"type":"`), []byte(`"type":"x`), 1)
		_, err := s.VerifyReceipt(ctx, bad.Marshal())
		var re *coop.ReceiptError
		if !errors.As(err, &re) || !errors.Is(err, ledger.ErrInclusion) {
			t.Fatalf("tampered: %v", err)
		}
	})
	t.Run("text that is no receipt is refused", func(t *testing.T) {
		var re *coop.ReceiptError
		if _, err := s.VerifyReceipt(ctx, []byte("hello")); !errors.As(err, &re) {
			t.Fatalf("garbage: %v", err)
		}
	})
}

func TestMyData(t *testing.T) {
	s, c, _ := votingNode(t)
	link(t, s, c, "alice", xAccount)
	alice := as(s, "alice")
	p, err := s.OpenProposal(alice, yesNo("coop"))
	if err != nil {
		t.Fatal(err)
	}
	for _, choice := range []string{"no", "yes"} {
		if _, err := s.Vote(alice, p.Num, []string{choice}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Vote(as(s, "bob"), p.Num, []string{"no"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddContribution(alice, coop.NewContribution{Project: "tool", Kind: coop.KindReview, Minutes: 90, Note: "review of #42"}); err != nil {
		t.Fatal(err)
	}
	d, err := s.MyData(alice)
	if err != nil {
		t.Fatal(err)
	}
	if d.Profile.Handle != "alice" || len(d.Links) != 1 || d.Links[0].Account != xAccount || d.Links[0].Confirmed == nil {
		t.Fatalf("alice's data %+v", d)
	}
	if len(d.Ballots) != 2 || d.Ballots[0].Choices[0] != "no" || d.Ballots[0].Replaced == nil || d.Ballots[1].Choices[0] != "yes" || d.Ballots[1].Replaced != nil {
		t.Fatalf("alice's ballots %+v", d.Ballots)
	}
	if len(d.Contributions) != 1 || d.Contributions[0].Minutes != 90 || d.Contributions[0].Project != "tool" {
		t.Fatalf("alice's contributions %+v", d.Contributions)
	}
	b, err := s.MyData(as(s, "bob"))
	if err != nil || b.Profile.Handle != "bob" || len(b.Links) != 0 || len(b.Ballots) != 1 || len(b.Contributions) != 0 {
		t.Fatalf("bob's data %+v, %v", b, err)
	}
	if _, err := s.MyData(context.Background()); !errors.Is(err, coop.ErrNoPrincipal) {
		t.Fatalf("a visitor: %v", err)
	}
	if _, err := s.MyData(coop.AsAdmin(context.Background())); !errors.Is(err, coop.ErrNotAllowed) {
		t.Fatalf("the operator: %v", err)
	}
	forAlice := coop.WithPrincipal(context.Background(), coop.Principal{ID: coop.AdminPrincipal, Channel: ledger.ChannelCLI, For: s.Site.ActorID("alice")})
	if _, err := s.MyData(forAlice); !errors.Is(err, coop.ErrNotAllowed) {
		t.Fatalf("an admin for alice: %v", err)
	}
}
