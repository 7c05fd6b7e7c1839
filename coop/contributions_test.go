package coop_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/store"
)

// lastRecord is the newest record of the node's open log.
func lastRecord(t *testing.T, s *coop.Service) (ledger.Record, string) {
	t.Helper()
	ctx := context.Background()
	l, err := s.Store.OpenLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.Store.(*store.DB).LogRecords(ctx, l.ID, l.Size-1, l.Size)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ledger.ParseRecord(raw[0])
	if err != nil {
		t.Fatal(err)
	}
	return rec, string(raw[0])
}

func TestContributions(t *testing.T) {
	s, c, _ := votingNode(t) // alice maintains "tool" with @bob@b.example
	ctx := context.Background()
	alice, bob, carol := as(s, "alice"), as(s, "bob"), as(s, "carol")

	rec, err := s.AddContribution(bob, coop.NewContribution{Project: "tool", Kind: coop.KindReview, Minutes: 90,
		Evidence: []string{"https://git.example/tool/pull/42"}, Note: "reviewed the parser"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Contributor != s.Site.ActorID("bob") || rec.Status != coop.StatusPending || !rec.Day.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("recorded %+v", rec)
	}
	t.Run("hours, points and the note are commitments in the log", func(t *testing.T) {
		r, raw := lastRecord(t, s)
		if r.Type != "contribution.recorded" || r.Principal != s.Site.ActorID("bob") || strings.Contains(raw, "reviewed the parser") ||
			strings.Contains(raw, `"minutes":90`) || !strings.Contains(raw, "pull/42") {
			t.Fatalf("record %s", raw)
		}
	})
	for _, tc := range []struct {
		name string
		n    coop.NewContribution
	}{
		{"an unknown kind", coop.NewContribution{Project: "tool", Kind: "lunch", Minutes: 10}},
		{"neither minutes nor points", coop.NewContribution{Project: "tool", Kind: coop.KindDocs}},
		{"negative minutes", coop.NewContribution{Project: "tool", Kind: coop.KindDocs, Minutes: -5}},
		{"a day in the future", coop.NewContribution{Project: "tool", Kind: coop.KindDocs, Minutes: 5, Day: c.now().Add(48 * time.Hour)}},
		{"evidence that is not a web link", coop.NewContribution{Project: "tool", Kind: coop.KindDocs, Minutes: 5, Evidence: []string{"javascript:alert(1)"}}},
		{"an unknown project", coop.NewContribution{Project: "nope", Kind: coop.KindDocs, Minutes: 5}},
		{"a contributor of no co-op of the federation", coop.NewContribution{Project: "tool", Kind: coop.KindDocs, Minutes: 5, Contributor: "https://elsewhere.example/users/x"}},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			if _, err := s.AddContribution(bob, tc.n); !errors.Is(err, coop.ErrInvalidInput) {
				t.Fatalf("got %v", err)
			}
		})
	}
	t.Run("only a maintainer approves, never their own, never the operator", func(t *testing.T) {
		if _, err := s.DecideContribution(carol, rec.ID, true, ""); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("carol (no maintainer) approved: %v", err)
		}
		if _, err := s.DecideContribution(coop.AsAdmin(ctx), rec.ID, true, ""); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("the operator approved: %v", err)
		}
		forAlice := coop.WithPrincipal(ctx, coop.Principal{ID: coop.AdminPrincipal, Channel: ledger.ChannelCLI, For: s.Site.ActorID("alice")})
		if _, err := s.DecideContribution(forAlice, rec.ID, true, ""); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("the operator approved for alice: %v", err)
		}
		own, err := s.AddContribution(alice, coop.NewContribution{Project: "tool", Kind: coop.KindCode, Points: 3})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DecideContribution(alice, own.ID, true, ""); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("alice approved her own: %v", err)
		}
		got, err := s.DecideContribution(alice, rec.ID, true, "")
		if err != nil || got.Status != coop.StatusApproved || got.DecidedBy != s.Site.ActorID("alice") {
			t.Fatalf("%+v %v", got, err)
		}
		if _, err := s.DecideContribution(alice, rec.ID, false, "changed my mind"); !errors.Is(err, coop.ErrInvalidInput) {
			t.Fatalf("decided twice: %v", err)
		}
		if r, _ := lastRecord(t, s); r.Type != "contribution.approved" || r.Principal != s.Site.ActorID("alice") {
			t.Fatalf("record %+v", r)
		}
	})
	t.Run("a rejection says why", func(t *testing.T) {
		other, err := s.AddContribution(carol, coop.NewContribution{Project: "tool", Kind: coop.KindCare, Minutes: 30, Contributor: "bob"})
		if err != nil {
			t.Fatal(err)
		}
		if other.Contributor != s.Site.ActorID("bob") || other.RecordedBy != s.Site.ActorID("carol") {
			t.Fatalf("recorded %+v", other)
		}
		if _, err := s.DecideContribution(alice, other.ID, false, " "); !errors.Is(err, coop.ErrInvalidInput) {
			t.Fatalf("rejected without a reason: %v", err)
		}
		got, err := s.DecideContribution(alice, other.ID, false, "not this project's work")
		if err != nil || got.Status != coop.StatusRejected || got.Reason != "not this project's work" {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("hours are for members", func(t *testing.T) {
		stranger := coop.WithPrincipal(ctx, coop.Principal{ID: "https://elsewhere.example/users/x", Channel: ledger.ChannelRemote})
		if _, err := s.ListContributions(stranger, coop.ContributionFilter{Project: "tool"}); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("a stranger listed: %v", err)
		}
		all, err := s.ListContributions(carol, coop.ContributionFilter{Project: "tool"})
		if err != nil || len(all) != 3 {
			t.Fatalf("%d records, %v", len(all), err)
		}
		approved, err := s.ListContributions(carol, coop.ContributionFilter{Project: "tool", Status: coop.StatusApproved})
		if err != nil || len(approved) != 1 || approved[0].ID != rec.ID {
			t.Fatalf("approved %+v %v", approved, err)
		}
		care, err := s.ListContributions(carol, coop.ContributionFilter{Project: "tool", Kind: coop.KindCare})
		if err != nil || len(care) != 1 || care[0].Kind != coop.KindCare {
			t.Fatalf("care %+v %v", care, err)
		}
		if _, err := s.ListContributions(carol, coop.ContributionFilter{Project: "tool", Kind: "gardening"}); !errors.Is(err, coop.ErrInvalidInput) {
			t.Fatalf("an unknown kind: %v", err)
		}
	})
}

func TestImportCommits(t *testing.T) {
	s, c, _ := votingNode(t)
	ctx := context.Background()
	admin := coop.AsAdmin(ctx)
	if err := s.AddAlias(as(s, "bob"), "bob", "Bob@Old.Example"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAlias(as(s, "carol"), "carol", "bob@old.example"); !errors.Is(err, coop.ErrInvalidInput) {
		t.Fatalf("an address given to two members: %v", err)
	}
	if err := s.AddAlias(as(s, "carol"), "bob", "x@y.example"); !errors.Is(err, coop.ErrNotAllowed) {
		t.Fatalf("carol added bob's address: %v", err)
	}
	if err := s.AddAlias(admin, "alice", "alice@work.example"); err != nil {
		t.Fatal(err)
	}
	var commits []coop.Commit
	for i := range 10 {
		email := []string{"alice@work.example", "BOB@old.example", "stranger@x.example"}[i%3]
		commits = append(commits, coop.Commit{Hash: fmt.Sprintf("%040x", i+1), AuthorName: "Author", AuthorEmail: email,
			When: c.now().Add(-time.Duration(i) * time.Hour), Subject: fmt.Sprintf("commit %d", i),
			URL: fmt.Sprintf("https://git.example/tool/commit/%040x", i+1)})
	}
	res, err := s.ImportCommits(as(s, "carol"), "tool", commits, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 7 || res.Already != 0 || res.Unmatched["Author <stranger@x.example>"] != 3 {
		t.Fatalf("created %d, already %d, unmatched %v", len(res.Created), res.Already, res.Unmatched)
	}
	byWho := map[string]int{}
	for _, c := range res.Created {
		byWho[c.Contributor]++
		if c.Kind != coop.KindCode || c.Status != coop.StatusPending || c.Points != 1 || len(c.Evidence) != 1 || c.CommitHash == "" {
			t.Fatalf("record %+v", c)
		}
	}
	if byWho[s.Site.ActorID("alice")] != 4 || byWho[s.Site.ActorID("bob")] != 3 {
		t.Fatalf("by contributor %v", byWho)
	}
	again, err := s.ImportCommits(as(s, "carol"), "tool", commits, 1)
	if err != nil || len(again.Created) != 0 || again.Already != 7 || len(again.Unmatched) != 1 {
		t.Fatalf("re-import: %+v %v", again, err)
	}
}
