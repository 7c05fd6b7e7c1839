package store

import (
	"context"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
	"github.com/google/go-cmp/cmp"
)

func TestProposalsRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	p := coop.Proposal{Proposal: governance.Proposal{
		Title: "T", Body: "B", Proposer: "admin", Method: governance.Score, ScoreMin: 0, ScoreMax: 5,
		Options: []governance.Option{{Key: "b", Label: "B"}, {Key: "a", Label: "A"}},
		OpensAt: t0, ClosesAt: t0.Add(time.Hour), Quorum: governance.Ratio{Num: 1, Den: 2},
		Threshold: governance.Majority, Eligibility: governance.CoopMembers,
		Eligible: []string{"https://a.example/users/a", "https://a.example/users/b"}, State: governance.Open,
	}, Created: t0, Updated: t0}
	var num int64
	err := db.Write(ctx, func(tx *Tx) error {
		c, err := tx.InsertActor(ctx, actor(coop.KindOrganization, "coop"), "PRIV")
		if err != nil {
			return err
		}
		p.GroupID = c.ID
		if num, err = tx.InsertProposal(ctx, p); err != nil {
			return err
		}
		for i, v := range []int{1, 4} {
			b := coop.StoredBallot{Ballot: governance.Ballot{Voter: p.Eligible[0], At: t0.Add(time.Duration(i+1) * time.Minute),
				Ratings: []governance.Rating{{Option: "a", Value: v}}}, Channel: "cli", LogIndex: int64(10 + i)}
			if err := tx.InsertBallot(ctx, num, b); err != nil {
				return err
			}
		}
		return tx.InsertRefusal(ctx, num, coop.StoredRefusal{Voter: "x", At: t0, Reason: governance.ReasonNotEligible, Channel: "remote", LogIndex: 9})
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Proposal(ctx, num)
	if err != nil {
		t.Fatal(err)
	}
	want := p
	want.Num, want.ID, want.Group, want.GroupKind = num, "1", "coop", coop.KindOrganization
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("proposal (-want +got):\n%s", d)
	}
	bs, err := db.Ballots(ctx, num)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || !bs[0].Replaced.Equal(bs[1].At) || !bs[1].Replaced.IsZero() || bs[1].Ratings[0].Value != 4 {
		t.Fatalf("ballots: one standing, the replaced one kept: %+v", bs)
	}
	rs, err := db.Refusals(ctx, num)
	if err != nil || len(rs) != 1 || rs[0].Count != 1 || rs[0].Reason != governance.ReasonNotEligible {
		t.Fatalf("refusals %+v, %v", rs, err)
	}
	if due, err := db.DueProposals(ctx, t0.Add(time.Hour)); err != nil || len(due) != 1 {
		t.Fatalf("due at the deadline: %v, %v", due, err)
	}
	if due, err := db.DueProposals(ctx, t0.Add(time.Hour-time.Microsecond)); err != nil || len(due) != 0 {
		t.Fatalf("due before the deadline: %v, %v", due, err)
	}
}
