package main

import (
	"context"
	"database/sql"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// TestPayoutVerifiedByAPeer: a payout round final on node A is
// recomputed on node B, a co-op of A's federation that witnesses A's log,
// from A's decision log alone (receipts checked with the log key B
// pinned), with the openings A serves only to signed requests of its
// members and peers; a value changed on A behind a commitment is caught.
func TestPayoutVerifiedByAPeer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two nodes")
	}
	ctx := coop.AsAdmin(context.Background())
	lnA, errA := net.Listen("tcp", "127.0.0.1:0")
	lnB, errB := net.Listen("tcp", "127.0.0.1:0")
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	fast := func(n *node) { n.cfg.Witness.Interval.Duration = time.Second }
	a, sa := startNodeOn(t, lnA, "", map[string]string{"beta.test": lnB.Addr().String()}, fast)
	b, _ := startNodeOn(t, lnB, "beta.test", nil, fast)
	cfgA, cfgB := a.cfg.Dir+"/"+configFile, b.cfg.Dir+"/"+configFile
	withPasswords(t, cfgA, "ann", "cal")
	mustCLI(t, "peer", "add", "@coop@beta.test", "--config", cfgA)
	mustCLI(t, "peer", "add", sa.ActorID("coop"), "--config", cfgB)
	mustCLI(t, "project", "add", "tool", "--name", "Tool", "--maintainer", "cal", "--config", cfgA)

	today := time.Now().UTC().Truncate(24 * time.Hour)
	yesterday := today.AddDate(0, 0, -1).Format(time.DateOnly)
	t.Setenv("COOPFED_PASSWORD", "ann-correct-horse")
	mustCLI(t, "contribution", "add", "--project", "tool", "--kind", "review", "--hours", "1.5", "--day", yesterday, "--as", "ann", "--config", cfgA)
	mustCLI(t, "contribution", "add", "--project", "tool", "--kind", "docs", "--minutes", "30", "--day", yesterday, "--contributor", "cal", "--as", "ann", "--config", cfgA)
	t.Setenv("COOPFED_PASSWORD", "cal-correct-horse")
	mustCLI(t, "contribution", "approve", "1", "--as", "cal", "--config", cfgA)
	t.Setenv("COOPFED_PASSWORD", "ann-correct-horse")
	mustCLI(t, "payout", "create", "--project", "tool", "--from", yesterday, "--to", today.Format(time.DateOnly), "--budget", "500.00",
		"--currency", "EUR", "--formula", "minutes", "--rate", "40", "--as", "ann", "--config", cfgA)
	t.Setenv("COOPFED_PASSWORD", "cal-correct-horse")
	mustCLI(t, "payout", "approve", "1", "--as", "cal", "--config", cfgA)

	t.Run("the openings are for members and peers only", func(t *testing.T) {
		resp, err := http.Get(sa.URL("/payouts/1/openings"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("an unsigned GET: %d", resp.StatusCode)
		}
	})
	origin := sa.Host + "/decision-log"
	eventually(t, 60*time.Second, "beta witnesses alpha's log", func() bool {
		_, err := b.db.WitnessedLog(ctx, origin)
		return err == nil
	})
	// A record is served with a receipt once a checkpoint alpha signed
	// covers it: at its next witnessing round.
	var out string
	eventually(t, 30*time.Second, "beta verifies the round", func() bool {
		var code int
		code, out, _ = cli(t, "payout", "verify", "1", "--node", sa.Base(), "--config", cfgB)
		return code == 0
	})
	if !strings.Contains(out, "matches its decision log: 1 records") {
		t.Fatalf("verify on beta: %s", out)
	}
	t.Run("a value changed behind a commitment is caught by the peer", func(t *testing.T) {
		db, err := sql.Open("sqlite", "file:"+a.db.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`UPDATE log_personal SET value = '900' WHERE field = 'minutes' AND value = '90'`); err != nil {
			t.Fatal(err)
		}
		code, out, errs := cli(t, "payout", "verify", "1", "--node", sa.Base(), "--config", cfgB)
		if code != 1 || !strings.Contains(out, "does not open its commitment") {
			t.Fatalf("verify on beta after the change: exit %d\n%s%s", code, out, errs)
		}
	})
}
