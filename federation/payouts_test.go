package federation

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/payout"
	"github.com/coopfed/coopfed/store"
)

func TestPayoutDeliveries(t *testing.T) {
	ctx := context.Background()
	n := newContributionNode(t, "alice", maintainerA, maintainerB, unknownM)
	eur, err := payout.LookupCurrency("EUR")
	if err != nil {
		t.Fatal(err)
	}
	round := payout.Round{Budget: 10000, Currency: eur, Formula: payout.Points}
	st, err := payout.Split(round, []payout.Record{
		{ID: "1", Contributor: testSite.ActorID("bob"), Points: 3, Date: t0},
		{ID: "2", Contributor: remoteDoer, Points: 1, Date: t0},
	})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := coop.PayoutRound{ID: 7, ProjectID: n.project.ID, Project: n.project.Handle, From: day, To: day.AddDate(0, 1, 0), Round: round,
		State: coop.RoundFinal, CreatedBy: testSite.ActorID("alice"), ApprovedBy: testSite.ActorID("bob"), Records: []int64{1, 2},
		Statement: st.JSON(), InputHash: "00", Finalized: t0, FinalLogIndex: 42}
	if err := n.db.Write(ctx, func(tx *store.Tx) error { return n.pub.PublishPayout(ctx, tx, n.project, r, st, t0) }); err != nil {
		t.Fatal(err)
	}
	ds := n.sent(t)
	var inboxes []string
	for _, d := range ds {
		inboxes = append(inboxes, d.Inbox)
	}
	if len(ds) != 2 || !slices.Contains(inboxes, maintainerB+"/inbox") {
		t.Fatalf("delivered to %v", inboxes)
	}
	m := decode(t, ds[0].Body)
	if !sameList(m["to"], []any{maintainerA, maintainerB, remoteDoer}) || m["cc"] != nil {
		t.Fatalf("to %v cc %v", m["to"], m["cc"])
	}
	body := string(ds[0].Body)
	for _, want := range []string{`"coop:payout"`, `"coop:share":"75.00"`, `"coop:share":"25.00"`, `"coop:statementHash":"sha256:`, "Payout round 7 of tool is final: 100.00 EUR"} {
		if !strings.Contains(body, want) {
			t.Fatalf("lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "as:Public") || strings.Contains(body, "#Public") || strings.Contains(body, "/followers") {
		t.Fatalf("pay addressed beyond those taking part:\n%s", body)
	}
	page, err := n.db.CollectionPage(ctx, n.project.ID, coop.Outbox, coop.PageRequest{Limit: 10})
	if err != nil || page.Total != 0 {
		t.Fatalf("the outbox holds %d, %v", page.Total, err)
	}
}
