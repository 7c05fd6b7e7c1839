package coop_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/coopfed/coopfed/payout"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"github.com/google/go-cmp/cmp"
)

// recorder is a coop.Publisher that records what it is asked to send.
type recorder struct {
	sent []string
	gone map[string]bool // followers whose actor is gone
	fail error           // returned by PublishFollowAnswer when set
}

func (r *recorder) Recipient(context.Context, string) (coop.Recipient, error) {
	return coop.Recipient{}, errors.New("no network here")
}

func (r *recorder) PublishPost(context.Context, coop.Tx, coop.Post) (string, error) { return "", nil }

func (r *recorder) PublishFollow(context.Context, coop.Tx, coop.Actor, coop.Recipient, time.Time) (string, error) {
	return "", nil
}

func (r *recorder) PublishUndoFollow(context.Context, coop.Tx, coop.Actor, coop.Recipient, time.Time) error {
	return nil
}

func (r *recorder) PublishActorUpdate(_ context.Context, _ coop.Tx, a coop.Actor, _ time.Time) error {
	r.sent = append(r.sent, fmt.Sprintf("Update %s rev %d manual %v", a.Handle, a.Revision, a.ManuallyApprovesFollowers))
	return nil
}

func (r *recorder) PublishFollowAnswer(_ context.Context, _ coop.Tx, a coop.Actor, f coop.Follower, accept bool, _ time.Time) error {
	if r.fail != nil {
		return r.fail
	}
	typ := "Accept"
	if !accept {
		typ = "Reject"
	}
	if r.gone[f.Actor] {
		if accept {
			return fmt.Errorf("%w: %s", coop.ErrGone, f.Actor)
		}
		return nil
	}
	r.sent = append(r.sent, fmt.Sprintf("%s %s of %s to %s", typ, f.FollowID, a.Handle, f.Actor))
	return nil
}

func (r *recorder) PublishProject(_ context.Context, _ coop.Tx, c coop.Actor, p coop.Project, _ time.Time) error {
	r.sent = append(r.sent, fmt.Sprintf("Add %s to projects of %s", p.Handle, c.Handle))
	return nil
}

func (r *recorder) PublishProjectUpdate(_ context.Context, _ coop.Tx, c coop.Actor, p coop.Project, _ time.Time) error {
	r.sent = append(r.sent, fmt.Sprintf("Update %s rev %d by %s", p.Handle, p.Revision, c.Handle))
	return nil
}

func (r *recorder) PublishEvidence(_ context.Context, _ coop.Tx, c coop.Actor, e coop.LogEvidence, _ time.Time) error {
	r.sent = append(r.sent, fmt.Sprintf("Evidence #%d against %s by %s", e.ID, e.Origin, c.Handle))
	return nil
}

func (r *recorder) PublishProjectRemoval(_ context.Context, _ coop.Tx, c coop.Actor, p coop.Project, _ time.Time) error {
	r.sent = append(r.sent, fmt.Sprintf("Remove %s from projects of %s, removed %v", p.Handle, c.Handle, p.Removed()))
	return nil
}

func (r *recorder) PublishProposal(_ context.Context, _ coop.Tx, g coop.Actor, v coop.ProposalView, _ time.Time) error {
	r.sent = append(r.sent, "proposal "+g.Handle+" "+v.ID)
	return nil
}

func (r *recorder) PublishProposalCounts(_ context.Context, _ coop.Tx, g coop.Actor, v coop.ProposalView, audience []string, _ time.Time) error {
	r.sent = append(r.sent, fmt.Sprintf("counts %s %s %d %v", g.Handle, v.ID, v.Standing, audience))
	return nil
}

func (r *recorder) PublishOutcome(_ context.Context, _ coop.Tx, g coop.Actor, v coop.ProposalView, audience []string, _ time.Time) error {
	r.sent = append(r.sent, fmt.Sprintf("outcome %s %s %v", g.Handle, v.ID, audience))
	return nil
}

func (r *recorder) PublishDirect(_ context.Context, _ coop.Tx, from coop.Actor, to []string, text string, _ time.Time) error {
	r.sent = append(r.sent, fmt.Sprintf("direct %s %v %s", from.Handle, to, text))
	return nil
}

func (r *recorder) PublishContribution(_ context.Context, _ coop.Tx, p coop.Project, c coop.Contribution, _ time.Time) error {
	r.sent = append(r.sent, fmt.Sprintf("contribution %s %d %s %s", p.Handle, c.ID, c.Status, c.DecidedBy))
	return nil
}

func (r *recorder) PublishContributionDigest(_ context.Context, _ coop.Tx, p coop.Project, created []coop.Contribution, _ time.Time) error {
	r.sent = append(r.sent, fmt.Sprintf("digest %s %d", p.Handle, len(created)))
	return nil
}

func (r *recorder) PublishContributionDecision(_ context.Context, _ coop.Tx, m coop.Actor, rc coop.RemoteContribution, approve bool, reason string, _ time.Time) error {
	r.sent = append(r.sent, fmt.Sprintf("decision %s %s %v %s", m.Handle, rc.URI, approve, reason))
	return nil
}

func (r *recorder) PublishPayout(_ context.Context, _ coop.Tx, p coop.Project, pr coop.PayoutRound, st payout.Statement, _ time.Time) error {
	r.sent = append(r.sent, fmt.Sprintf("payout %s %d %d", p.Handle, pr.ID, st.Total))
	return nil
}

func (r *recorder) take() []string {
	s := r.sent
	r.sent = nil
	return s
}

func TestFollowRequests(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	s := newService(t)
	pub := &recorder{gone: map[string]bool{}}
	s.Publisher = pub
	c, err := s.EnsureCoop(ctx, "coop", "Example Co-op", "")
	if err != nil {
		t.Fatal(err)
	}
	db := s.Store.(*store.DB)
	follows := func(t *testing.T, state string, names ...string) {
		t.Helper()
		err := db.Write(ctx, func(tx *store.Tx) error {
			for _, n := range names {
				if err := tx.AddFollower(ctx, c.ID, "https://p.test/u/"+n, "https://p.test/f/"+n, state, time.Now()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	pending := func(t *testing.T) []string {
		t.Helper()
		p, err := s.PendingFollowers(ctx, "coop")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("turning manual approval on moves the revision and sends an Update", func(t *testing.T) {
		if err := s.SetManualApproval(ctx, "COOP", true); err != nil {
			t.Fatal(err)
		}
		a, _ := s.Coop(ctx)
		if !a.ManuallyApprovesFollowers || a.Revision != c.Revision+1 {
			t.Fatalf("actor = %+v", a)
		}
		want := []string{fmt.Sprintf("Update coop rev %d manual true", a.Revision)}
		if diff := cmp.Diff(want, pub.take()); diff != "" {
			t.Fatalf("sent (-want +got):\n%s", diff)
		}
	})
	t.Run("setting it again changes nothing and sends nothing", func(t *testing.T) {
		before, _ := s.Coop(ctx)
		if err := s.SetManualApproval(ctx, "coop", true); err != nil {
			t.Fatal(err)
		}
		if a, _ := s.Coop(ctx); a.Revision != before.Revision || len(pub.take()) != 0 {
			t.Fatalf("revision %d -> %d", before.Revision, a.Revision)
		}
	})

	follows(t, "pending", "ann", "bob", "cid")
	follows(t, "accepted", "dot")
	if diff := cmp.Diff([]string{"https://p.test/u/ann", "https://p.test/u/bob", "https://p.test/u/cid"}, pending(t)); diff != "" {
		t.Fatalf("pending (-want +got):\n%s", diff)
	}

	t.Run("approving accepts and answers with Accept", func(t *testing.T) {
		if err := s.ApproveFollower(ctx, "coop", "https://p.test/u/ann"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"Accept https://p.test/f/ann of coop to https://p.test/u/ann"}, pub.take()); diff != "" {
			t.Fatalf("sent (-want +got):\n%s", diff)
		}
		if f, _ := db.Follower(ctx, c.ID, "https://p.test/u/ann"); f.Pending {
			t.Fatal("still pending")
		}
	})
	t.Run("rejecting removes and answers with Reject", func(t *testing.T) {
		if err := s.RejectFollower(ctx, "coop", "https://p.test/u/bob"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"Reject https://p.test/f/bob of coop to https://p.test/u/bob"}, pub.take()); diff != "" {
			t.Fatalf("sent (-want +got):\n%s", diff)
		}
		if _, err := db.Follower(ctx, c.ID, "https://p.test/u/bob"); !errors.Is(err, coop.ErrNotFound) {
			t.Fatalf("rejected follower still there: %v", err)
		}
	})
	t.Run("an accepted follower can be removed with a Reject", func(t *testing.T) {
		if err := s.RejectFollower(ctx, "coop", "https://p.test/u/dot"); err != nil {
			t.Fatal(err)
		}
		if got := pub.take(); len(got) != 1 {
			t.Fatalf("sent %v", got)
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			do   func() error
			want error
		}{
			{"approve an accepted follower", func() error { return s.ApproveFollower(ctx, "coop", "https://p.test/u/ann") }, coop.ErrNotPending},
			{"approve a stranger", func() error { return s.ApproveFollower(ctx, "coop", "https://p.test/u/zed") }, coop.ErrNotFollower},
			{"reject a stranger", func() error { return s.RejectFollower(ctx, "coop", "https://p.test/u/bob") }, coop.ErrNotFollower},
			{"unknown actor", func() error { return s.ApproveFollower(ctx, "nobody", "https://p.test/u/cid") }, coop.ErrNotFound},
			{"pending of an unknown actor", func() error { _, err := s.PendingFollowers(ctx, "nobody"); return err }, coop.ErrNotFound},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if err := tt.do(); !errors.Is(err, tt.want) {
					t.Fatalf("err = %v, want %v", err, tt.want)
				}
				if got := pub.take(); len(got) != 0 {
					t.Fatalf("sent %v", got)
				}
			})
		}
	})
	t.Run("a publisher failure leaves the follow request as it was", func(t *testing.T) {
		pub.fail = errors.New("disk full")
		err := s.ApproveFollower(ctx, "coop", "https://p.test/u/cid")
		pub.fail = nil
		if err == nil {
			t.Fatal("approved")
		}
		if f, _ := db.Follower(ctx, c.ID, "https://p.test/u/cid"); !f.Pending {
			t.Fatal("accepted though the Accept was not queued")
		}
	})
	t.Run("turning manual approval off accepts those waiting, drops the gone", func(t *testing.T) {
		follows(t, "pending", "eve")
		pub.gone["https://p.test/u/eve"] = true
		if err := s.SetManualApproval(ctx, "coop", false); err != nil {
			t.Fatal(err)
		}
		a, _ := s.Coop(ctx)
		want := []string{
			"Accept https://p.test/f/cid of coop to https://p.test/u/cid",
			fmt.Sprintf("Update coop rev %d manual false", a.Revision),
		}
		if diff := cmp.Diff(want, pub.take()); diff != "" {
			t.Fatalf("sent (-want +got):\n%s", diff)
		}
		if p := pending(t); len(p) != 0 {
			t.Fatalf("still pending: %v", p)
		}
		fs, _ := s.Followers(ctx, "coop")
		if len(fs) != 2 || fs[0].Actor != "https://p.test/u/ann" || fs[1].Actor != "https://p.test/u/cid" {
			t.Fatalf("followers = %+v", fs)
		}
	})
	t.Run("a removed actor cannot be changed", func(t *testing.T) {
		if _, _, err := s.AddMember(ctx, coop.NewMember{Handle: "gone"}); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveMember(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetManualApproval(ctx, "gone", true); !errors.Is(err, coop.ErrGone) {
			t.Fatalf("err = %v, want ErrGone", err)
		}
	})
	t.Run("without a publisher nothing is changed", func(t *testing.T) {
		s2 := *s
		s2.Publisher = nil
		if err := s2.SetManualApproval(ctx, "coop", true); !errors.Is(err, coop.ErrInvalidInput) {
			t.Fatalf("err = %v", err)
		}
	})
}
