package coop_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/githistory"
	"github.com/coopfed/coopfed/ledger"
)

func TestCommitsOf(t *testing.T) {
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	hash := "0123456789abcdef0123456789abcdef01234567"
	read := []githistory.Commit{{Hash: hash, AuthorName: "Ann", AuthorEmail: "ann@x.example", RawAuthorEmail: "Ann@X.example", AuthorTime: when, Subject: "fix"}}
	got := coop.CommitsOf(read, "https://codeberg.org/coop/tool")
	want := coop.Commit{Hash: hash, AuthorName: "Ann", AuthorEmail: "ann@x.example", When: when, Subject: "fix", URL: "https://codeberg.org/coop/tool/commit/" + hash}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if got := coop.CommitsOf(read, ""); got[0].URL != "" {
		t.Fatalf("no repository, a link %q", got[0].URL)
	}
}

// TestImportHistoryMembersOnly: a principal who is no member is refused
// before the disk is read (a path that is no repository gives the
// refusal, not githistory's error).
func TestImportHistoryMembersOnly(t *testing.T) {
	s, _, _ := votingNode(t)
	stranger := coop.WithPrincipal(context.Background(), coop.Principal{ID: "https://y.example/users/zed", Channel: ledger.ChannelWeb})
	dir := t.TempDir()
	if _, err := s.ImportHistory(stranger, "tool", dir, githistory.Options{}, 1); !errors.Is(err, coop.ErrNotAllowed) {
		t.Fatalf("a stranger: %v", err)
	}
	if _, err := s.ImportHistory(as(s, "bob"), "tool", dir, githistory.Options{}, 1); !errors.Is(err, githistory.ErrNotRepository) {
		t.Fatalf("a member, no repository: %v", err)
	}
	if _, err := s.ImportHistory(as(s, "bob"), "nope", filepath.Join(dir, "x"), githistory.Options{}, 1); !errors.Is(err, coop.ErrInvalidInput) {
		t.Fatalf("no project: %v", err)
	}
}

// TestPayoutRoundsListAndApprovable: the rounds list is members-only;
// who may approve a round is said before they try.
func TestPayoutRoundsListAndApprovable(t *testing.T) {
	s, _, _ := votingNode(t) // clock at 2026-03-01 09:00
	alice, bob := as(s, "alice"), as(s, "bob")
	day := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	r, _, err := s.CreatePayoutRound(alice, coop.NewPayoutRound{Project: "tool", From: day, To: day.AddDate(0, 1, 0), Budget: "10", Currency: "EUR", Formula: "equal"})
	if err != nil {
		t.Fatal(err)
	}
	later, _, err := s.CreatePayoutRound(alice, coop.NewPayoutRound{Project: "tool", From: day, To: day.AddDate(0, 2, 0), Budget: "10", Currency: "EUR", Formula: "equal"})
	if err != nil {
		t.Fatal(err)
	}
	stranger := coop.WithPrincipal(context.Background(), coop.Principal{ID: "https://y.example/users/zed", Channel: ledger.ChannelWeb})
	if _, err := s.ListPayoutRounds(stranger, "tool"); !errors.Is(err, coop.ErrNotAllowed) {
		t.Fatalf("a stranger lists rounds: %v", err)
	}
	rounds, err := s.ListPayoutRounds(bob, "tool")
	if err != nil || len(rounds) != 2 || rounds[0].ID != later.ID {
		t.Fatalf("rounds %+v %v", rounds, err)
	}
	for _, tt := range []struct {
		name  string
		ctx   context.Context
		round coop.PayoutRound
		want  error
	}{
		{"the creator does not approve", alice, r, coop.ErrNotAllowed},
		{"nor the operator", coop.AsAdmin(context.Background()), r, coop.ErrNotAllowed},
		{"a second member does", bob, r, nil},
		{"not before the period ends", bob, later, coop.ErrInvalidInput},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.CanApprovePayoutRound(tt.ctx, tt.round); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("%v, want %v", err, tt.want)
			}
		})
	}
}
