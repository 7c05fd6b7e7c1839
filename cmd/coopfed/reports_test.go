package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/testpeer"
	"github.com/google/go-cmp/cmp"
)

// TestFedifyFlagsAMembersPost: the Fedify peer reports a member's post as
// Mastodon forwards a report (a Flag from the reporting server's actor,
// the account then its post as objects, the comment as content, to the
// account's inbox: ReportService#forward_to_origin! and
// ActivityPub::FlagSerializer). The report shows up for an admin, with
// only what is ours (the foreign object is left out), on the page's use
// case and the CLI, and is resolved with a note.
func TestFedifyFlagsAMembersPost(t *testing.T) {
	peer := testpeer.Start(t)
	n, s := startNode(t)
	cfg := n.cfg.Dir + "/" + configFile
	mustCLI(t, "member", "add", "alice", "--config", cfg)
	mustCLI(t, "member", "add", "ada", "--role", "admin", "--config", cfg)
	out := mustCLI(t, "post", "--as", "alice", "Cheap pills, click here", "--config", cfg)
	m := regexp.MustCompile(`posted (\S+)/activity`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("post: %s", out)
	}
	post := m[1]

	id, status, err := peer.Flag("peer", "Spam: this account sells pills.",
		s.ActorID("alice"), post, peer.Actors[0]) // the last is the peer's own: not ours
	if err != nil || status != 202 {
		t.Fatalf("the Flag: %d, %v", status, err)
	}
	ada := coop.WithPrincipal(context.Background(), coop.Principal{ID: s.ActorID("ada"), Channel: ledger.ChannelWeb})
	var got []coop.Report
	eventually(t, 20*time.Second, "the report is stored", func() bool {
		got, err = n.svc.Reports(ada, coop.ReportQuery{State: coop.ReportOpen})
		if err != nil {
			t.Fatal(err)
		}
		return len(got) == 1
	})
	want := coop.Report{ID: 1, FlagID: id, Reporter: peer.Actors[0], Accounts: []string{s.ActorID("alice")}, Objects: []string{post},
		Comment: "Spam: this account sells pills.", State: coop.ReportOpen}
	if diff := cmp.Diff(want, got[0], cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".ReceivedAt" }, cmp.Ignore())); diff != "" {
		t.Fatalf("report (-want +got):\n%s", diff)
	}
	// As Mastodon does, Fedify delivered it to the account's own inbox.
	ins, err := n.db.InboundByActivityID(context.Background(), id)
	if err != nil || len(ins) != 1 || ins[0].ActivityType != "Flag" || ins[0].RecipientID == 0 {
		t.Fatalf("inbound %+v, %v", ins, err)
	}
	t.Logf("Fedify's Flag: %s", ins[0].Body)
	alice := coop.WithPrincipal(context.Background(), coop.Principal{ID: s.ActorID("alice"), Channel: ledger.ChannelWeb})
	if _, err := n.svc.Reports(alice, coop.ReportQuery{State: ""}); err == nil {
		t.Fatal("a plain member read the reports")
	}

	out = mustCLI(t, "reports", "list", "--config", cfg)
	for _, w := range []string{"1   open", peer.Actors[0], s.ActorID("alice"), post, "Spam: this account sells pills.", "1 reports"} {
		if !strings.Contains(out, w) {
			t.Errorf("reports list lacks %q:\n%s", w, out)
		}
	}
	if code, _, errs := cli(t, "reports", "resolve", "x", "--config", cfg); code != 2 {
		t.Errorf("resolve x: exit %d %s", code, errs)
	}
	mustCLI(t, "reports", "resolve", "1", "--note", "Post removed.", "--config", cfg)
	if code, _, errs := cli(t, "reports", "resolve", "1", "--config", cfg); code != 1 || !strings.Contains(errs, "already resolved") {
		t.Errorf("resolved twice: exit %d %s", code, errs)
	}
	out = mustCLI(t, "reports", "list", "--state", "resolved", "--config", cfg)
	if !strings.Contains(out, "resolved by admin") || !strings.Contains(out, "Post removed.") {
		t.Errorf("resolved list:\n%s", out)
	}
}
