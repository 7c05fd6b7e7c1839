package main

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

func TestPeerUsage(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"add without a peer", []string{"peer", "add"}, 2, "missing"},
		{"remove with two peers", []string{"peer", "remove", "a", "b"}, 2, "unexpected arguments"},
		{"list with an argument", []string{"peer", "list", "x"}, 2, "unexpected arguments"},
		{"backfill with two peers", []string{"peer", "backfill", "a", "b"}, 2, "unexpected arguments"},
		{"no subcommand", []string{"peer"}, 2, "add"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := cli(t, tt.args...)
			if code != tt.code || !strings.Contains(out+errs, tt.want) {
				t.Errorf("coopfed %s: exit %d, want %d with %q\n%s%s", strings.Join(tt.args, " "), code, tt.code, tt.want, out, errs)
			}
		})
	}
}

func TestPeerListEmpty(t *testing.T) {
	dir := t.TempDir()
	mustCLI(t, "init", "--dir", dir, "--host", "coop.example", "--name", "Example")
	out := mustCLI(t, "peer", "list", "--config", dir+"/"+configFile)
	if !strings.Contains(out, "PEER") || !strings.Contains(out, "0 peers") {
		t.Errorf("peer list:\n%s", out)
	}
}

// getNodeJSON reads a document from a test node as a peer would; anything
// but 200 fails the test.
func getNodeJSON(t *testing.T, ln net.Listener, host, url string) map[string]any {
	t.Helper()
	status, m := getNodeStatus(t, ln, host, url)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d", url, status)
	}
	return m
}

// TestTwoNodesPeer: alpha lists beta's co-op as a member of its
// federation: alpha follows beta, beta accepts, alpha's Organization
// publishes beta in coop:federation; removing it undoes the follow.
func TestTwoNodesPeer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two nodes")
	}
	ctx := coop.AsAdmin(context.Background())
	lnA, errA := net.Listen("tcp", "127.0.0.1:0")
	lnB, errB := net.Listen("tcp", "127.0.0.1:0")
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	a, _ := startNodeOn(t, lnA, "alpha.test", map[string]string{"beta.test": lnB.Addr().String()})
	b, _ := startNodeOn(t, lnB, "beta.test", map[string]string{"alpha.test": lnA.Addr().String()})
	cfgA := a.cfg.Dir + "/" + configFile
	const betaCoop = "http://beta.test/users/coop"
	if _, _, err := b.svc.AddMember(ctx, coop.NewMember{Handle: "bea", Role: coop.RoleMember}); err != nil {
		t.Fatal(err)
	}

	t.Run("a person is not a peer", func(t *testing.T) {
		code, out, errs := cli(t, "peer", "add", "@bea@beta.test", "--config", cfgA)
		if code != 1 || !strings.Contains(errs, "not a co-op (Organization) actor") {
			t.Errorf("peer add a Person: exit %d\n%s%s", code, out, errs)
		}
	})

	before, err := a.db.Coop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "peer", "add", "@coop@beta.test", "--config", cfgA)
	if !strings.Contains(out, betaCoop) {
		t.Errorf("peer add:\n%s", out)
	}
	following := func(db *store.DB) []store.Follow {
		c, _ := db.Coop(ctx)
		fs, err := db.Following(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	eventually(t, 20*time.Second, "beta accepts alpha's follow", func() bool {
		fs := following(a.db)
		return len(fs) == 1 && fs[0].State == "accepted" && followersOf(t, b.db, "coop") == 1
	})
	if ok, err := a.svc.IsFederationMember(ctx, betaCoop); !ok || err != nil {
		t.Errorf("IsFederationMember(beta) = %v, %v", ok, err)
	}
	if ok, err := a.svc.IsFederationMember(ctx, "http://beta.test/users/bea"); ok || err != nil {
		t.Errorf("IsFederationMember(bea) = %v, %v", ok, err)
	}
	after, err := a.db.Coop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Revision != before.Revision+1 {
		t.Errorf("co-op revision %d, want %d", after.Revision, before.Revision+1)
	}

	doc := getNodeJSON(t, lnA, "alpha.test", "http://alpha.test/users/coop")
	fed, _ := doc["coop:federation"].(string)
	if fed != "http://alpha.test/users/coop/federation" {
		t.Fatalf("coop:federation = %v", doc["coop:federation"])
	}
	page := getNodeJSON(t, lnA, "alpha.test", fed+"?page=true")
	if items, _ := page["orderedItems"].([]any); len(items) != 1 || items[0] != betaCoop {
		t.Errorf("federation page = %v", page)
	}

	out = mustCLI(t, "peer", "list", "--config", cfgA)
	if !regexp.MustCompile(regexp.QuoteMeta(betaCoop)+`\s+accepted\s+\S+ \S+\s+cli`).MatchString(out) || !strings.Contains(out, "1 peers") {
		t.Errorf("peer list:\n%s", out)
	}

	code, _, errs := cli(t, "peer", "add", betaCoop, "--config", cfgA)
	if code != 1 || !strings.Contains(errs, "already a member") {
		t.Errorf("peer add twice: exit %d\n%s", code, errs)
	}

	mustCLI(t, "peer", "remove", "@coop@beta.test", "--config", cfgA)
	eventually(t, 20*time.Second, "beta drops alpha's follow", func() bool {
		return len(following(a.db)) == 0 && followersOf(t, b.db, "coop") == 0
	})
	if ok, _ := a.svc.IsFederationMember(ctx, betaCoop); ok {
		t.Error("beta is still a member after peer remove")
	}
	page = getNodeJSON(t, lnA, "alpha.test", fed+"?page=true")
	if items, _ := page["orderedItems"].([]any); len(items) != 0 {
		t.Errorf("federation page after remove = %v", page)
	}
	if out := mustCLI(t, "peer", "list", "--config", cfgA); !strings.Contains(out, "0 peers") {
		t.Errorf("peer list after remove:\n%s", out)
	}
}
