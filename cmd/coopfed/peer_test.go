package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// getNodeJSON reads a document from a test node as a peer would.
func getNodeJSON(t *testing.T, ln net.Listener, host, url string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, strings.Replace(url, "http://"+host, "http://"+ln.Addr().String(), 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("GET %s: %v", url, err)
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

// TestTwoNodesProjects: a project added on alpha reaches beta, which
// follows alpha's co-op, as a readable Note; beta stores the project
// itself only once alpha's co-op is a member of its federation.
func TestTwoNodesProjects(t *testing.T) {
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
	cfgA, cfgB := a.cfg.Dir+"/"+configFile, b.cfg.Dir+"/"+configFile

	// beta follows alpha's co-op, as anyone may: read access only.
	mustCLI(t, "follow", "coop", "@coop@alpha.test", "--config", cfgB)
	eventually(t, 20*time.Second, "alpha accepts beta's follow", func() bool {
		c, _ := b.db.Coop(ctx)
		fs, err := b.db.Following(ctx, c.ID)
		return followersOf(t, a.db, "coop") == 1 && err == nil && len(fs) == 1 && fs[0].State == "accepted"
	})

	processed := func(activityID string) bool {
		ins, err := b.db.InboundByActivityID(ctx, activityID)
		return err == nil && len(ins) == 1 && ins[0].State == "done"
	}
	mustCLI(t, "project", "add", "early", "--name", "Early Bird", "--summary", "Comes first.",
		"--repo", "https://git.example/early", "--licence", "MIT", "--tag", "go", "--config", cfgA)
	eventually(t, 20*time.Second, "beta reads the announcement of early", func() bool {
		for _, n := range notesTo(t, b.db, "coop") {
			if n.ActorURI == "http://alpha.test/users/coop" && strings.Contains(n.Content, "New project: Early Bird — Comes first.") &&
				strings.Contains(n.Content, "https://git.example/early") && strings.Contains(n.Content, "MIT") {
				return true
			}
		}
		return false
	})
	eventually(t, 20*time.Second, "beta processes the Add of early", func() bool { return processed("http://alpha.test/users/early#add") })
	if out := mustCLI(t, "projects", "--config", cfgB); strings.Contains(out, "early") {
		t.Errorf("beta stored a project from a co-op outside its federation:\n%s", out)
	}

	// Once alpha is a member of beta's federation, its projects are stored.
	mustCLI(t, "peer", "add", "@coop@alpha.test", "--config", cfgB)
	mustCLI(t, "project", "add", "later", "--name", "Later", "--repo", "https://git.example/later",
		"--licence", "AGPL-3.0-or-later", "--tag", "go", "--tag", "fediverse", "--need", "review", "--config", cfgA)
	mustCLI(t, "project", "add", "home", "--name", "Home", "--tag", "go", "--config", cfgB)
	eventually(t, 20*time.Second, "beta processes the Add of later", func() bool { return processed("http://alpha.test/users/later#add") })

	out := mustCLI(t, "projects", "--config", cfgB)
	if !regexp.MustCompile(`@home@beta.test\s+Home`).MatchString(out) ||
		!regexp.MustCompile(`@later@alpha.test\s+Later\s+AGPL-3.0-or-later\s+fediverse,go\s+review\s+https://git.example/later`).MatchString(out) ||
		strings.Contains(out, "early") || !strings.Contains(out, "2 projects") {
		t.Errorf("projects on beta:\n%s", out)
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"--coop", "alpha.test"}, []string{"@later@alpha.test"}},
		{[]string{"--tag", "fediverse"}, []string{"@later@alpha.test"}},
		{[]string{"--need", "Review"}, []string{"@later@alpha.test"}},
		{[]string{"--tag", "go"}, []string{"@home@beta.test", "@later@alpha.test"}},
		{[]string{"--coop", "gamma.test"}, nil},
	} {
		out := mustCLI(t, append(append([]string{"projects"}, tt.args...), "--config", cfgB)...)
		if !strings.Contains(out, fmt.Sprintf("%d projects", len(tt.want))) {
			t.Errorf("projects %v:\n%s", tt.args, out)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("projects %v lacks %s:\n%s", tt.args, w, out)
			}
		}
	}

	// A change reaches beta as an Update{Group} from alpha's co-op.
	out = mustCLI(t, "project", "set", "later", "--name", "Later, renamed", "--need", "design", "--need", "review", "--config", cfgA)
	if !strings.Contains(out, "revision 2") {
		t.Errorf("project set:\n%s", out)
	}
	eventually(t, 20*time.Second, "beta stores the change of later", func() bool {
		out := mustCLI(t, "projects", "--need", "design", "--config", cfgB)
		return regexp.MustCompile(`@later@alpha.test\s+Later, renamed\s+AGPL-3.0-or-later\s+fediverse,go\s+design,review`).MatchString(out)
	})

	// alpha's co-op lists its projects in coop:projects.
	doc := getNodeJSON(t, lnA, "alpha.test", "http://alpha.test/users/coop")
	if doc["coop:projects"] != "http://alpha.test/users/coop/projects" {
		t.Fatalf("coop:projects = %v", doc["coop:projects"])
	}
	page := getNodeJSON(t, lnA, "alpha.test", "http://alpha.test/users/coop/projects?page=true")
	want := []any{"http://alpha.test/users/later", "http://alpha.test/users/early"}
	if items, _ := page["orderedItems"].([]any); fmt.Sprint(items) != fmt.Sprint(want) {
		t.Errorf("projects page = %v", page)
	}
}
