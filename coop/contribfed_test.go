package coop_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/store"
)

const remoteBob = "https://b.example/users/bob" // a maintainer of "tool", a member elsewhere

// logSize is the size of the node's open log.
func logSize(t *testing.T, s *coop.Service) int64 {
	t.Helper()
	l, err := s.Store.OpenLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return l.Size
}

// TestContributionPublishing: a new record and each decision are sent
// (in the transaction that logs them), an import once as a digest, and
// nothing for an import that creates nothing.
func TestContributionPublishing(t *testing.T) {
	s, c, pub := votingNode(t)
	alice, bob := as(s, "alice"), as(s, "bob")
	rec, err := s.AddContribution(bob, coop.NewContribution{Project: "tool", Kind: coop.KindReview, Minutes: 90})
	if err != nil {
		t.Fatal(err)
	}
	if got := pub.take(); !slices.Equal(got, []string{fmt.Sprintf("contribution tool %d pending ", rec.ID)}) {
		t.Fatalf("sent %q", got)
	}
	if _, err := s.DecideContribution(alice, rec.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if got := pub.take(); !slices.Equal(got, []string{fmt.Sprintf("contribution tool %d approved %s", rec.ID, s.Site.ActorID("alice"))}) {
		t.Fatalf("sent %q", got)
	}
	if _, err := s.DecideContribution(alice, rec.ID, false, "no"); !errors.Is(err, coop.ErrInvalidInput) {
		t.Fatalf("decided twice: %v", err)
	}
	if got := pub.take(); len(got) != 0 {
		t.Fatalf("a refused decision sent %q", got)
	}
	if err := s.AddAlias(as(s, "bob"), "bob", "bob@old.example"); err != nil {
		t.Fatal(err)
	}
	var commits []coop.Commit
	for i := range 5 {
		commits = append(commits, coop.Commit{Hash: fmt.Sprintf("%040x", i+1), AuthorName: "Bob", AuthorEmail: "bob@old.example",
			When: c.now().Add(-time.Hour), Subject: "commit"})
	}
	if _, err := s.ImportCommits(alice, "tool", commits, 2); err != nil {
		t.Fatal(err)
	}
	if got := pub.take(); !slices.Equal(got, []string{"digest tool 5"}) {
		t.Fatalf("an import sent %q, want one digest", got)
	}
	if _, err := s.ImportCommits(alice, "tool", commits, 2); err != nil {
		t.Fatal(err)
	}
	if got := pub.take(); len(got) != 0 {
		t.Fatalf("an import of nothing new sent %q", got)
	}
}

// TestReceiveContributionDecision: a remote maintainer's Accept or
// Reject is decided by the rules of DecideContribution, logged with the
// remote actor as principal, and sent again; a refused one is neither
// applied nor logged nor sent.
func TestReceiveContributionDecision(t *testing.T) {
	s, c, pub := votingNode(t) // "tool": alice and remoteBob
	ctx := context.Background()
	bob := as(s, "bob")
	add := func(t *testing.T) coop.Contribution {
		t.Helper()
		rec, err := s.AddContribution(bob, coop.NewContribution{Project: "tool", Kind: coop.KindDocs, Minutes: 30})
		if err != nil {
			t.Fatal(err)
		}
		pub.take()
		return rec
	}
	decide := func(id int64, actor string, approve bool, reason string) error {
		return s.Store.Update(ctx, func(tx coop.Tx) error {
			return s.ReceiveContributionDecision(ctx, tx, id, actor, approve, reason, c.now())
		})
	}
	t.Run("a remote maintainer approves: logged as theirs, over the remote channel, and sent", func(t *testing.T) {
		rec := add(t)
		if err := decide(rec.ID, remoteBob, true, ""); err != nil {
			t.Fatal(err)
		}
		got, err := s.Store.Contribution(ctx, rec.ID)
		if err != nil || got.Status != coop.StatusApproved || got.DecidedBy != remoteBob {
			t.Fatalf("%+v %v", got, err)
		}
		r, _ := lastRecord(t, s)
		if r.Type != "contribution.approved" || r.Principal != remoteBob || r.Channel != ledger.ChannelRemote ||
			r.Subject != rec.URL(s.Site) || got.LogIndex != logSize(t, s)-1 {
			t.Fatalf("record %+v, log index %d", r, got.LogIndex)
		}
		if sent := pub.take(); !slices.Equal(sent, []string{fmt.Sprintf("contribution tool %d approved %s", rec.ID, remoteBob)}) {
			t.Fatalf("sent %q", sent)
		}
	})
	t.Run("a remote maintainer rejects, with the reason", func(t *testing.T) {
		rec := add(t)
		if err := decide(rec.ID, remoteBob, false, "  not docs  "); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Store.Contribution(ctx, rec.ID)
		if got.Status != coop.StatusRejected || got.Reason != "not docs" {
			t.Fatalf("%+v", got)
		}
		if r, _ := lastRecord(t, s); r.Type != "contribution.rejected" || r.Principal != remoteBob {
			t.Fatalf("record %+v", r)
		}
	})
	for _, tc := range []struct {
		name    string
		actor   string
		approve bool
		reason  string
		decided bool // on a record decided before
		want    error
	}{
		{"a stranger is not a maintainer", "https://y.example/users/zed", true, "", false, coop.ErrNotAllowed},
		{"a local actor decides here, not by an activity", s.Site.ActorID("alice"), true, "", false, coop.ErrNotAllowed},
		{"a rejection says why", remoteBob, false, " ", false, coop.ErrInvalidInput},
		{"a decided record stays decided", remoteBob, false, "changed my mind", true, coop.ErrInvalidInput},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			rec := add(t)
			if tc.decided {
				if err := decide(rec.ID, remoteBob, true, ""); err != nil {
					t.Fatal(err)
				}
				pub.take()
			}
			before, size := func() coop.Contribution { g, _ := s.Store.Contribution(ctx, rec.ID); return g }(), logSize(t, s)
			if err := decide(rec.ID, tc.actor, tc.approve, tc.reason); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			after, _ := s.Store.Contribution(ctx, rec.ID)
			if after.Status != before.Status || after.LogIndex != before.LogIndex || logSize(t, s) != size {
				t.Fatalf("a refused decision changed the record or the log: %+v, log %d → %d", after, size, logSize(t, s))
			}
			if sent := pub.take(); len(sent) != 0 {
				t.Fatalf("a refused decision sent %q", sent)
			}
		})
	}
	t.Run("refused: a remote maintainer on their own record", func(t *testing.T) {
		if err := s.Store.(*store.DB).Write(ctx, func(tx *store.Tx) error {
			return tx.InsertPeer(ctx, coop.Peer{Actor: "https://b.example/users/coop", AddedAt: c.now(), AddedBy: "cli"})
		}); err != nil {
			t.Fatal(err)
		}
		rec, err := s.AddContribution(bob, coop.NewContribution{Project: "tool", Kind: coop.KindCode, Points: 2, Contributor: remoteBob})
		if err != nil {
			t.Fatal(err)
		}
		if sent := pub.take(); !slices.Equal(sent, []string{fmt.Sprintf("contribution tool %d pending ", rec.ID)}) {
			t.Fatalf("sent %q", sent)
		}
		if err := decide(rec.ID, remoteBob, true, ""); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("got %v", err)
		}
		if got, _ := s.Store.Contribution(ctx, rec.ID); got.Status != coop.StatusPending {
			t.Fatalf("%+v", got)
		}
	})
	t.Run("refused: an unknown record", func(t *testing.T) {
		if err := decide(9999, remoteBob, true, ""); !errors.Is(err, coop.ErrNotFound) {
			t.Fatalf("got %v", err)
		}
	})
}

// TestRemoteContributions: records of another co-op's project, as its
// Group sent them: listed for members only; decided by a maintainer here
// (per the project its co-op announced), never by the operator nor by
// their contributor, only while pending; a decided record never goes back
// to pending.
func TestRemoteContributions(t *testing.T) {
	s, c, pub := votingNode(t)
	ctx := context.Background()
	db := s.Store.(*store.DB)
	const (
		group = "https://b.example/users/kit"
		other = "https://b.example/users/unknown-project"
	)
	rc := func(uri, project, status, contributor string) coop.RemoteContribution {
		return coop.RemoteContribution{URI: uri, Project: project, Number: 7, Contributor: contributor, Kind: coop.KindCode,
			Minutes: 60, Evidence: []string{"https://git.example/kit/1"}, Day: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
			Status: status, LogIndex: 3, Received: c.now()}
	}
	put := func(t *testing.T, cs ...coop.RemoteContribution) {
		t.Helper()
		if err := db.Write(ctx, func(tx *store.Tx) error {
			for _, c := range cs {
				if err := tx.PutRemoteContribution(ctx, c); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Write(ctx, func(tx *store.Tx) error {
		return tx.PutRemoteProject(ctx, coop.RemoteProject{URI: group, Coop: "https://b.example/users/coop", Handle: "kit", Name: "Kit",
			Maintainers: []string{s.Site.ActorID("alice"), s.Site.ActorID("carol")}, UpdatedAt: c.now()})
	}); err != nil {
		t.Fatal(err)
	}
	first, second := group[:len("https://b.example")]+"/contributions/7", "https://b.example/contributions/8"
	put(t, rc(first, group, coop.StatusPending, remoteBob), rc(second, group, coop.StatusPending, s.Site.ActorID("carol")),
		rc("https://b.example/contributions/9", other, coop.StatusPending, remoteBob))

	t.Run("members only", func(t *testing.T) {
		all, err := s.RemoteContributions(as(s, "bob"), coop.RemoteContributionFilter{})
		if err != nil || len(all) != 3 || all[0].Minutes != 60 || all[0].Evidence[0] != "https://git.example/kit/1" {
			t.Fatalf("%+v %v", all, err)
		}
		some, err := s.RemoteContributions(as(s, "bob"), coop.RemoteContributionFilter{Project: group})
		if err != nil || len(some) != 2 {
			t.Fatalf("%+v %v", some, err)
		}
		stranger := coop.WithPrincipal(ctx, coop.Principal{ID: "https://y.example/users/zed", Channel: ledger.ChannelRemote})
		if _, err := s.RemoteContributions(stranger, coop.RemoteContributionFilter{}); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("a stranger listed: %v", err)
		}
	})
	t.Run("the views say who may decide, by the same rules", func(t *testing.T) {
		for _, who := range []struct {
			name string
			ctx  context.Context
			want []string // the records they may decide
		}{
			{"alice", as(s, "alice"), []string{first, second}},
			{"carol", as(s, "carol"), []string{first}}, // not her own
			{"bob", as(s, "bob"), nil},                 // no maintainer
			{"the operator", coop.AsAdmin(ctx), nil},
		} {
			vs, err := s.RemoteContributionViews(who.ctx, coop.RemoteContributionFilter{})
			if err != nil || len(vs) != 3 {
				t.Fatalf("%s: %d views, %v", who.name, len(vs), err)
			}
			var may []string
			for _, v := range vs {
				if v.Decidable {
					may = append(may, v.URI)
				}
				if (v.Project == group) != (v.ProjectInfo.Name == "Kit") {
					t.Fatalf("%s: %s has project %+v", who.name, v.URI, v.ProjectInfo)
				}
			}
			slices.Sort(may)
			if want := slices.Sorted(slices.Values(who.want)); !slices.Equal(may, want) {
				t.Fatalf("%s may decide %q, want %q", who.name, may, want)
			}
		}
	})
	for _, tc := range []struct {
		name string
		ctx  context.Context
		uri  string
	}{
		{"not a maintainer of the project", as(s, "bob"), first},
		{"the operator", coop.AsAdmin(ctx), first},
		{"their own record", as(s, "carol"), second},
		{"a project this node does not hold", as(s, "alice"), "https://b.example/contributions/9"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			if _, err := s.DecideRemoteContribution(tc.ctx, tc.uri, true, ""); !errors.Is(err, coop.ErrNotAllowed) {
				t.Fatalf("got %v", err)
			}
			if sent := pub.take(); len(sent) != 0 {
				t.Fatalf("sent %q", sent)
			}
		})
	}
	t.Run("a maintainer here approves: the Accept is sent, the decision kept", func(t *testing.T) {
		got, err := s.DecideRemoteContribution(as(s, "alice"), first, true, "")
		if err != nil || got.Sent != coop.SentApprove || got.SentBy != s.Site.ActorID("alice") {
			t.Fatalf("%+v %v", got, err)
		}
		if sent := pub.take(); !slices.Equal(sent, []string{"decision alice " + first + " true "}) {
			t.Fatalf("sent %q", sent)
		}
		kept, err := db.RemoteContribution(ctx, first)
		if err != nil || kept.Sent != coop.SentApprove || kept.Status != coop.StatusPending {
			t.Fatalf("%+v %v", kept, err)
		}
	})
	t.Run("the new status comes back; an older pending one changes nothing", func(t *testing.T) {
		approved := rc(first, group, coop.StatusApproved, remoteBob)
		approved.LogIndex = 4
		put(t, approved, rc(first, group, coop.StatusPending, remoteBob))
		kept, err := db.RemoteContribution(ctx, first)
		if err != nil || kept.Status != coop.StatusApproved || kept.LogIndex != 4 || kept.Sent != coop.SentApprove {
			t.Fatalf("%+v %v", kept, err)
		}
		if _, err := s.DecideRemoteContribution(as(s, "alice"), first, false, "late"); !errors.Is(err, coop.ErrInvalidInput) {
			t.Fatalf("decided a decided record: %v", err)
		}
	})
	t.Run("another project's Group cannot overwrite a record", func(t *testing.T) {
		put(t, rc(second, other, coop.StatusRejected, remoteBob))
		if kept, _ := db.RemoteContribution(ctx, second); kept.Project != group || kept.Status != coop.StatusPending {
			t.Fatalf("%+v", kept)
		}
	})
	t.Run("a rejection says why", func(t *testing.T) {
		if _, err := s.DecideRemoteContribution(as(s, "alice"), second, false, ""); !errors.Is(err, coop.ErrInvalidInput) {
			t.Fatalf("got %v", err)
		}
	})
}
