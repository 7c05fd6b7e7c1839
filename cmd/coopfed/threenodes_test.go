package main

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"github.com/coopfed/coopfed/testpeer"
)

// TestThreeNodesContributionsAndPayout is issue 8's scenario: a project
// on alpha with a maintainer on beta; a contribution by a member of gamma
// recorded on alpha, federated to beta and gamma only, approved by beta's
// maintainer; a payout round split on alpha (created and approved by two
// of its members), sent to beta and gamma, and recomputed and verified on
// beta and on gamma from alpha's decision log; a stranger following
// alpha's project and co-op (the Fedify peer) sees neither hours nor pay.
func TestThreeNodesContributionsAndPayout(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes and the Fedify peer")
	}
	ctx := coop.AsAdmin(context.Background())
	peer := testpeer.Start(t)
	var lns [3]net.Listener
	for i := range lns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i] = ln
	}
	fast := func(n *node) { n.cfg.Witness.Interval.Duration = time.Second }
	a, sa := startNodeOn(t, lns[0], "", map[string]string{"beta.test": lns[1].Addr().String(), "gamma.test": lns[2].Addr().String()}, fast)
	b, _ := startNodeOn(t, lns[1], "beta.test", nil, fast)
	c, _ := startNodeOn(t, lns[2], "gamma.test", nil, fast)
	cfgA, cfgB, cfgC := a.cfg.Dir+"/"+configFile, b.cfg.Dir+"/"+configFile, c.cfg.Dir+"/"+configFile
	start := time.Now()
	wait := func(what string, cond func() bool) {
		t.Helper()
		eventually(t, 60*time.Second, what, cond)
		t.Logf("%6s %s", time.Since(start).Round(10*time.Millisecond), what)
	}
	withPasswords(t, cfgA, "ann", "cal")
	withPasswords(t, cfgB, "bea")
	withPasswords(t, cfgC, "cid")
	const bea, cid = "http://beta.test/users/bea", "http://gamma.test/users/cid"

	mustCLI(t, "peer", "add", "@coop@beta.test", "--config", cfgA)
	mustCLI(t, "peer", "add", "@coop@gamma.test", "--config", cfgA)
	mustCLI(t, "peer", "add", sa.ActorID("coop"), "--config", cfgB)
	mustCLI(t, "peer", "add", sa.ActorID("coop"), "--config", cfgC)
	following := func(db *store.DB, n int) func() bool {
		return func() bool {
			co, _ := db.Coop(ctx)
			fs, err := db.Following(ctx, co.ID)
			if err != nil || len(fs) != n {
				return false
			}
			for _, f := range fs {
				if f.State != "accepted" {
					return false
				}
			}
			return true
		}
	}
	wait("the co-ops follow each other", func() bool { return following(a.db, 2)() && following(b.db, 1)() && following(c.db, 1)() })

	mustCLI(t, "project", "add", "tool", "--name", "Tool", "--maintainer", "@bea@beta.test", "--config", cfgA)
	tool := sa.ActorID("tool")
	wait("beta holds alpha's project", func() bool {
		ps, err := b.db.RemoteProjects(ctx)
		return err == nil && len(ps) == 1 && ps[0].URI == tool
	})
	for _, target := range []string{tool, sa.ActorID("coop")} {
		if err := peer.Call("follow", map[string]any{"user": "peer", "target": target}, nil); err != nil {
			t.Fatal(err)
		}
	}
	wait("the stranger follows the project and the co-op", func() bool {
		return followersOf(t, a.db, "tool") == 1 && followersOf(t, a.db, "coop") == 3 // beta, gamma and the stranger
	})

	yesterday := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1).Format(time.DateOnly)
	today := time.Now().UTC().Truncate(24 * time.Hour).Format(time.DateOnly)
	t.Setenv("COOPFED_PASSWORD", "ann-correct-horse")
	mustCLI(t, "contribution", "add", "--project", "tool", "--kind", "care", "--hours", "2", "--day", yesterday,
		"--contributor", "@cid@gamma.test", "--as", "ann", "--config", cfgA)
	record := sa.URL("/contributions/1")
	stored := func(db *store.DB, status string) func() bool {
		return func() bool {
			rc, err := db.RemoteContribution(ctx, record)
			return err == nil && rc.Status == status && rc.Contributor == cid && rc.Minutes == 120
		}
	}
	wait("beta, the maintainer's node, stores the record", stored(b.db, coop.StatusPending))
	wait("gamma, the contributor's node, stores the record", stored(c.db, coop.StatusPending))
	t.Setenv("COOPFED_PASSWORD", "bea-correct-horse")
	mustCLI(t, "contribution", "approve", record, "--as", "bea", "--config", cfgB)
	wait("alpha applies beta's approval; beta and gamma learn it", func() bool {
		rec, err := a.db.Contribution(ctx, 1)
		return err == nil && rec.Status == coop.StatusApproved && rec.DecidedBy == bea &&
			stored(b.db, coop.StatusApproved)() && stored(c.db, coop.StatusApproved)()
	})

	t.Setenv("COOPFED_PASSWORD", "ann-correct-horse")
	mustCLI(t, "payout", "create", "--project", "tool", "--from", yesterday, "--to", today, "--budget", "300.00", "--currency", "EUR",
		"--formula", "minutes", "--rate", "50", "--as", "ann", "--config", cfgA)
	t.Setenv("COOPFED_PASSWORD", "cal-correct-horse")
	out := mustCLI(t, "payout", "approve", "1", "--as", "cal", "--config", cfgA)
	// 2 h at 50.00 an hour: 100.00 of the 300.00, the rest unallocated.
	if !strings.Contains(out, cid) || !strings.Contains(out, "100.00") || !strings.Contains(out, "unallocated 200.00") {
		t.Fatalf("approve:\n%s", out)
	}
	payoutNote := func(db *store.DB, handle string) func() bool {
		return func() bool {
			for _, n := range notesTo(t, db, handle) {
				if n.ActorURI == tool && strings.Contains(n.Content, "Payout round 1 of tool is final") {
					return true
				}
			}
			return false
		}
	}
	wait("the payout reaches beta's maintainer and gamma's contributor", func() bool {
		return payoutNote(b.db, "bea")() && payoutNote(c.db, "cid")()
	})
	for _, n := range []struct {
		name string
		cfg  string
	}{{"beta", cfgB}, {"gamma", cfgC}} {
		var out string
		wait(n.name+" recomputes the round from alpha's log", func() bool {
			var code int
			code, out, _ = cli(t, "payout", "verify", "1", "--node", sa.Base(), "--config", n.cfg)
			return code == 0
		})
		if !strings.Contains(out, "matches its decision log: 1 records") {
			t.Fatalf("%s verify: %s", n.name, out)
		}
	}

	// The stranger follows the project and the co-op: it sees neither the
	// record (hours) nor the round (pay).
	mustCLI(t, "post", "--as", "tool", "Tool 2.0 is out", "--config", cfgA)
	if _, err := peer.Received(url.Values{"actor": {tool}, "type": {"Create"}}, 1, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	all, err := peer.Received(url.Values{}, 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		s := string(r.Activity)
		if strings.Contains(s, "coop:contribution") || strings.Contains(s, "coop:payout") || strings.Contains(s, "/contributions/") ||
			strings.Contains(s, "/payouts/") || strings.Contains(s, "2 h of care") {
			t.Fatalf("the stranger received hours or pay:\n%s", s)
		}
	}
}
