package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/store"
	"github.com/coopfed/coopfed/testpeer"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// TestTwoNodesContributions: alpha's project "tool" has a maintainer who
// is a member of beta (the co-ops peers of each other). A member of alpha
// records a contribution: beta stores it, members-only; beta's maintainer
// approves it with `contribution approve URL`; alpha applies it, logged
// with the remote principal, and beta receives the new status. A stranger
// who follows the project's Group (the Fedify peer) receives none of it,
// though it receives the Group's public posts. An import reaches beta
// as one digest.
//
// alpha serves its loopback address, which the Fedify peer (loopback
// only) can reach; beta a name that alpha maps to its address.
func TestTwoNodesContributions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two nodes and the Fedify peer")
	}
	ctx := coop.AsAdmin(context.Background())
	peer := testpeer.Start(t)
	lnA, errA := net.Listen("tcp", "127.0.0.1:0")
	lnB, errB := net.Listen("tcp", "127.0.0.1:0")
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	a, sa := startNodeOn(t, lnA, "", map[string]string{"beta.test": lnB.Addr().String()})
	b, _ := startNodeOn(t, lnB, "beta.test", nil)
	cfgA, cfgB := a.cfg.Dir+"/"+configFile, b.cfg.Dir+"/"+configFile
	start := time.Now()
	wait := func(what string, cond func() bool) {
		t.Helper()
		eventually(t, 60*time.Second, what, cond)
		t.Logf("%6s %s", time.Since(start).Round(10*time.Millisecond), what)
	}
	withPasswords(t, cfgA, "ann")
	withPasswords(t, cfgB, "bea")
	const bea = "http://beta.test/users/bea"

	mustCLI(t, "peer", "add", "@coop@beta.test", "--config", cfgA)
	mustCLI(t, "peer", "add", sa.ActorID("coop"), "--config", cfgB)
	accepted := func(db *store.DB) bool {
		c, _ := db.Coop(ctx)
		fs, err := db.Following(ctx, c.ID)
		return err == nil && len(fs) == 1 && fs[0].State == "accepted"
	}
	wait("the co-ops follow each other", func() bool { return accepted(a.db) && accepted(b.db) })

	mustCLI(t, "project", "add", "tool", "--name", "Tool", "--maintainer", "@bea@beta.test", "--config", cfgA)
	tool := sa.ActorID("tool")
	wait("beta holds alpha's project and its maintainers", func() bool {
		ps, err := b.db.RemoteProjects(ctx)
		return err == nil && len(ps) == 1 && ps[0].URI == tool && len(ps[0].Maintainers) == 1 && ps[0].Maintainers[0] == bea
	})

	// The stranger follows the project: read access only.
	var follow struct {
		Status int `json:"status"`
	}
	if err := peer.Call("follow", map[string]any{"user": "peer", "target": tool}, &follow); err != nil || follow.Status != 202 {
		t.Fatalf("the peer follows the project: %v, %d", err, follow.Status)
	}
	wait("the stranger follows the project", func() bool { return followersOf(t, a.db, "tool") == 1 })

	t.Setenv("COOPFED_PASSWORD", "ann-correct-horse")
	out := mustCLI(t, "contribution", "add", "--project", "tool", "--kind", "review", "--hours", "1.5",
		"--evidence", "https://git.example/tool/pull/42", "--as", "ann", "--config", cfgA)
	if !strings.Contains(out, "recorded contribution 1 (review") {
		t.Fatalf("add: %s", out)
	}
	record := sa.URL("/contributions/1")
	remote := func(status string) func() bool {
		return func() bool {
			rc, err := b.db.RemoteContribution(ctx, record)
			return err == nil && rc.Status == status
		}
	}
	wait("beta stores the record", remote(coop.StatusPending))
	rc, _ := b.db.RemoteContribution(ctx, record)
	if rc.Project != tool || rc.Contributor != sa.ActorID("ann") || rc.Minutes != 90 || rc.Kind != coop.KindReview ||
		len(rc.Evidence) != 1 || rc.Number != 1 {
		t.Fatalf("stored %+v", rc)
	}

	t.Setenv("COOPFED_PASSWORD", "bea-correct-horse")
	out = mustCLI(t, "contribution", "list", "--remote", "--as", "bea", "--config", cfgB)
	if !strings.Contains(out, record) || !strings.Contains(out, "pending") || !strings.Contains(out, "90") {
		t.Fatalf("list --remote:\n%s", out)
	}
	if code, _, errs := cli(t, "contribution", "list", "--remote", "--config", cfgB); code != 0 {
		t.Fatalf("the operator lists: exit %d %s", code, errs)
	}
	out = mustCLI(t, "contribution", "approve", record, "--as", "bea", "--config", cfgB)
	if !strings.Contains(out, "sent your approval of "+record) {
		t.Fatalf("approve: %s", out)
	}

	wait("alpha applies bea's approval", func() bool {
		c, err := a.db.Contribution(ctx, 1)
		return err == nil && c.Status == coop.StatusApproved
	})
	c, _ := a.db.Contribution(ctx, 1)
	l, err := a.db.OpenLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := a.db.LogRecords(ctx, l.ID, c.LogIndex, c.LogIndex+1)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ledger.ParseRecord(raw[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.DecidedBy != bea || rec.Type != "contribution.approved" || rec.Principal != bea || rec.Channel != ledger.ChannelRemote ||
		rec.Subject != record {
		t.Fatalf("decided by %s; log record %d: %+v", c.DecidedBy, c.LogIndex, rec)
	}
	wait("beta receives the approved status", remote(coop.StatusApproved))
	if out := mustCLI(t, "contribution", "list", "--remote", "--status", "approved", "--as", "bea", "--config", cfgB); !strings.Contains(out, record) {
		t.Fatalf("list --remote --status approved:\n%s", out)
	}
	code, _, errs := cli(t, "contribution", "reject", record, "--reason", "late", "--as", "bea", "--config", cfgB)
	if code != 1 || !strings.Contains(errs, "already approved") {
		t.Fatalf("reject after the approval: exit %d %s", code, errs)
	}

	// An import reaches beta as one digest Note carrying its records.
	repoDir := filepath.Join(t.TempDir(), "tool")
	repo, err := git.PlainInit(repoDir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		sig := &object.Signature{Name: "Ann", Email: "ann@coop.example", When: time.Date(2026, 1, 5, 10+i, 0, 0, 0, time.UTC)}
		if _, err := wt.Commit(fmt.Sprintf("change %d", i), &git.CommitOptions{Author: sig, AllowEmptyCommits: true}); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("COOPFED_PASSWORD", "ann-correct-horse")
	mustCLI(t, "contributions", "import", "--project", "tool", "--repo", repoDir, "--as", "ann", "--config", cfgA)
	wait("beta stores the imported records", func() bool {
		cs, err := b.db.RemoteContributions(ctx, coop.RemoteContributionFilter{Project: tool, Status: coop.StatusPending})
		return err == nil && len(cs) == 3
	})
	digests := 0
	for _, n := range notesTo(t, b.db, "bea") {
		if n.ActorURI == tool && strings.Contains(n.Content, "imported") {
			digests++
			if !strings.Contains(n.Content, "3 commits by 1 member imported into tool") {
				t.Errorf("digest: %s", n.Content)
			}
		}
	}
	if digests != 1 {
		t.Fatalf("%d digests at beta, want 1", digests)
	}

	// The Group's public post reaches the stranger; the records never do.
	mustCLI(t, "post", "--as", "tool", "Tool 1.0 is out", "--config", cfgA)
	posts, err := peer.Received(url.Values{"actor": {tool}, "type": {"Create"}}, 1, 30*time.Second)
	if err != nil || len(posts) == 0 {
		t.Fatalf("the public post at the stranger: %v, %d", err, len(posts))
	}
	all, err := peer.Received(url.Values{"actor": {tool}}, 0, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		if s := string(r.Activity); strings.Contains(s, "coop:contribution") || strings.Contains(s, "/contributions/") {
			t.Fatalf("the stranger received a record:\n%s", s)
		}
	}
	if !strings.Contains(string(posts[0].Activity), "Tool 1.0 is out") {
		t.Fatalf("the stranger received %s", posts[0].Activity)
	}
}
