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
)

// getNodeStatus reads a document from a test node as a peer would, with
// its status.
func getNodeStatus(t *testing.T, ln net.Listener, host, url string) (int, map[string]any) {
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
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, body)
	}
	return resp.StatusCode, m
}

// TestTwoNodesProjects: a project added on alpha reaches beta, which
// follows alpha's co-op, as a readable Note; beta stores the project
// itself, with its summary and maintainers, only once alpha's co-op is a
// member of its federation, and follows its changes; once alpha removes
// it, its Group answers 410 with a Tombstone and beta drops it.
//
// Every wait is on a condition, with a bound far above what a loaded
// machine needs: a delivery is polled for each second, and the first
// retry of one that failed comes 30 s later.
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
	if _, _, err := a.svc.AddMember(ctx, coop.NewMember{Handle: "ann", Role: coop.RoleMember}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	wait := func(what string, cond func() bool) {
		t.Helper()
		eventually(t, 60*time.Second, what, cond)
		t.Logf("%6s %s", time.Since(start).Round(10*time.Millisecond), what)
	}

	// beta follows alpha's co-op, as anyone may: read access only.
	mustCLI(t, "follow", "coop", "@coop@alpha.test", "--config", cfgB)
	wait("alpha accepts beta's follow", func() bool {
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
	wait("beta reads the announcement of early", func() bool {
		for _, n := range notesTo(t, b.db, "coop") {
			if n.ActorURI == "http://alpha.test/users/coop" && strings.Contains(n.Content, "New project: Early Bird — Comes first.") &&
				strings.Contains(n.Content, "https://git.example/early") && strings.Contains(n.Content, "MIT") {
				return true
			}
		}
		return false
	})
	wait("beta processes the Add of early", func() bool { return processed("http://alpha.test/users/early#add") })
	if out := mustCLI(t, "projects", "--config", cfgB); strings.Contains(out, "early") {
		t.Errorf("beta stored a project from a co-op outside its federation:\n%s", out)
	}

	// Once alpha is a member of beta's federation, its projects are stored.
	mustCLI(t, "peer", "add", "@coop@alpha.test", "--config", cfgB)
	mustCLI(t, "project", "add", "later", "--name", "Later", "--repo", "https://git.example/later",
		"--summary", "Does <later> things.\n\nIn two paragraphs.", "--maintainer", "ann",
		"--licence", "AGPL-3.0-or-later", "--tag", "go", "--tag", "fediverse", "--need", "review", "--config", cfgA)
	mustCLI(t, "project", "add", "home", "--name", "Home", "--tag", "go", "--config", cfgB)
	wait("beta processes the Add of later", func() bool { return processed("http://alpha.test/users/later#add") })

	out := mustCLI(t, "projects", "--config", cfgB)
	if !regexp.MustCompile(`@home@beta.test\s+Home`).MatchString(out) ||
		!regexp.MustCompile(`@later@alpha.test\s+Later\s+AGPL-3.0-or-later\s+fediverse,go\s+review\s+https://git.example/later\s+`+
			`http://alpha.test/users/ann\s+Does <later> things. In two paragraphs.\n`).MatchString(out) ||
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
	out = mustCLI(t, "project", "set", "later", "--name", "Later, renamed", "--need", "design", "--need", "review",
		"--summary", "Now <b>sooner</b>.", "--config", cfgA)
	if !strings.Contains(out, "revision 2") {
		t.Errorf("project set:\n%s", out)
	}
	changed := regexp.MustCompile(`@later@alpha.test\s+Later, renamed\s+AGPL-3.0-or-later\s+fediverse,go\s+design,review\s+\S+\s+\S+\s+Now <b>sooner</b>.\n`)
	wait("beta stores the change of later", func() bool {
		ps, err := b.db.RemoteProjects(ctx)
		return err == nil && len(ps) == 1 && ps[0].Name == "Later, renamed"
	})
	if out := mustCLI(t, "projects", "--need", "design", "--config", cfgB); !changed.MatchString(out) {
		t.Errorf("projects on beta after the change:\n%s", out)
	}

	// alpha's co-op lists its projects in coop:projects.
	doc := getNodeJSON(t, lnA, "alpha.test", "http://alpha.test/users/coop")
	if doc["coop:projects"] != "http://alpha.test/users/coop/projects" {
		t.Fatalf("coop:projects = %v", doc["coop:projects"])
	}
	projectsPage := func() string {
		page := getNodeJSON(t, lnA, "alpha.test", "http://alpha.test/users/coop/projects?page=true")
		return fmt.Sprint(page["orderedItems"])
	}
	if got, want := projectsPage(), fmt.Sprint([]any{"http://alpha.test/users/later", "http://alpha.test/users/early"}); got != want {
		t.Errorf("projects page = %s, want %s", got, want)
	}

	// Removed on alpha: a Tombstone, out of coop:projects and the lists;
	// beta drops it on the Remove, and marks the Group gone on its Delete
	// (whose key, fetched, answers 410: the inbox takes that as the proof).
	out = mustCLI(t, "project", "remove", "later", "--config", cfgA)
	if !strings.Contains(out, "removed project @later@alpha.test") {
		t.Errorf("project remove:\n%s", out)
	}
	status, tomb := getNodeStatus(t, lnA, "alpha.test", "http://alpha.test/users/later")
	if status != http.StatusGone || tomb["type"] != "Tombstone" || tomb["formerType"] != "Group" {
		t.Errorf("GET the removed project: %d %v", status, tomb)
	}
	if got, want := projectsPage(), fmt.Sprint([]any{"http://alpha.test/users/early"}); got != want {
		t.Errorf("projects page after the removal = %s, want %s", got, want)
	}
	if out := mustCLI(t, "project", "list", "--config", cfgA); strings.Contains(out, "later") || !strings.Contains(out, "1 projects") {
		t.Errorf("project list on alpha after the removal:\n%s", out)
	}
	wait("beta processes the Remove of later", func() bool { return processed("http://alpha.test/users/later#remove") })
	wait("beta takes the Delete of the Group", func() bool {
		g, err := b.db.RemoteActor(ctx, "http://alpha.test/users/later")
		return err == nil && g.Gone()
	})
	if out := mustCLI(t, "projects", "--config", cfgB); strings.Contains(out, "later") || !strings.Contains(out, "1 projects") {
		t.Errorf("projects on beta after the removal:\n%s", out)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"project", "remove", "later"}, "gone"},
		{[]string{"project", "set", "later", "--name", "Back"}, "gone"},
		{[]string{"project", "add", "later", "--name", "Later again"}, "taken"},
		{[]string{"project", "remove", "nothing"}, "not found"},
	} {
		code, out, errs := cli(t, append(tt.args, "--config", cfgA)...)
		if code != 1 || !strings.Contains(errs, tt.want) {
			t.Errorf("coopfed %s: exit %d, want 1 with %q\n%s%s", strings.Join(tt.args, " "), code, tt.want, out, errs)
		}
	}
}

func TestProjectRemoveUsage(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"without a slug", []string{"project", "remove"}, "missing"},
		{"with two slugs", []string{"project", "remove", "a", "b"}, "unexpected arguments"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := cli(t, tt.args...)
			if code != 2 || !strings.Contains(out+errs, tt.want) {
				t.Errorf("coopfed %s: exit %d, want 2 with %q\n%s%s", strings.Join(tt.args, " "), code, tt.want, out, errs)
			}
		})
	}
}
