package federation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"github.com/google/go-cmp/cmp"
)

// testContribution is record 5 of "tool": bob's review, recorded at t0.
func testContribution(status, reason string) coop.Contribution {
	c := coop.Contribution{ID: 5, ProjectID: 2, Project: "tool", Contributor: testSite.ActorID("bob"), Kind: coop.KindReview,
		Minutes: 90, Evidence: []string{"https://git.example/tool/pull/42"}, Day: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC),
		Note: "members only: never sent", Status: coop.StatusPending, RecordedBy: testSite.ActorID("bob"), Created: t0, Updated: t0, LogIndex: 11}
	if status != coop.StatusPending {
		c.Status, c.Reason, c.DecidedBy, c.Updated, c.LogIndex = status, reason, "https://peer.example/users/zoe", t0.Add(time.Hour), 12
	}
	return c
}

func TestContributionText(t *testing.T) {
	for _, tt := range []struct {
		c    coop.Contribution
		want string
	}{
		{testContribution(coop.StatusPending, ""), "bob@coop.example: 1 h 30 min of review for tool, pending"},
		{coop.Contribution{Project: "tool", Kind: "code", Points: 3, Status: "approved"}, "bob@coop.example: 3 points of code for tool, approved"},
		{coop.Contribution{Project: "tool", Kind: "docs", Minutes: 120, Points: 1, Status: "rejected", Reason: "twice"},
			"bob@coop.example: 2 h and 1 point of docs for tool, rejected: twice"},
		{coop.Contribution{Project: "tool", Kind: "care", Minutes: 45, Status: "pending"}, "bob@coop.example: 45 min of care for tool, pending"},
	} {
		if got := contributionLine("bob@coop.example", tt.c); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

// TestContributionDocuments pins every document of a contribution record
// and checks that each survives go-fed's streams with its coop: terms.
func TestContributionDocuments(t *testing.T) {
	zoe := "https://peer.example/users/zoe"
	to := []string{zoe}
	member := coop.Actor{ID: 3, Handle: "alice", Kind: coop.KindPerson}
	rc := coop.RemoteContribution{URI: "https://peer.example/contributions/7", Project: "https://peer.example/users/kit"}
	imported := func() []coop.Contribution {
		var cs []coop.Contribution
		for i, who := range []string{"bob", "bob", "carol"} {
			c := testContribution(coop.StatusPending, "")
			c.ID, c.LogIndex, c.Kind, c.Minutes, c.Points = int64(20+i), int64(30+i), coop.KindCode, 0, 2
			c.Contributor, c.Evidence = testSite.ActorID(who), []string{fmt.Sprintf("https://git.example/tool/commit/%040x", i)}
			cs = append(cs, c)
		}
		return cs
	}
	for _, tt := range []struct {
		name, golden, typ string
		doc               func() (string, []byte, error)
		terms             []string
		wantID            string
	}{
		{"a new record: Create{Note} to those who take part", "contribution-create.golden.json", "Create",
			func() (string, []byte, error) {
				return contributionActivity(testSite, testContribution(coop.StatusPending, ""), "bob@coop.example", to)
			}, []string{"coop:contribution"}, "https://coop.example/contributions/5#create"},
		{"a decision: Update{Note} with the status and the reason", "contribution-update.golden.json", "Update",
			func() (string, []byte, error) {
				return contributionActivity(testSite, testContribution(coop.StatusRejected, "not <this> project"), "bob@coop.example", to)
			}, []string{"coop:contribution"}, "https://coop.example/contributions/5#updates/12"},
		{"an import: one digest Note", "contribution-digest.golden.json", "Create",
			func() (string, []byte, error) {
				return digestActivity(testSite, "tool", imported(), 1, 1, to, t0)
			}, []string{"coop:contributions"}, "https://coop.example/users/tool/imports/20/activity"},
		{"a remote maintainer's approval: Accept of the record", "contribution-accept.golden.json", "Accept",
			func() (string, []byte, error) {
				return contributionDecisionActivity(testSite, member, rc, true, "")
			}, nil, ""},
		{"a remote maintainer's rejection: Reject with the reason", "contribution-reject.golden.json", "Reject",
			func() (string, []byte, error) {
				return contributionDecisionActivity(testSite, member, rc, false, "not <this> project")
			}, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id, body, err := tt.doc()
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, body)
			roundTrip(t, body, tt.typ, tt.terms...)
			m := decode(t, body)
			if m["id"] != id || (tt.wantID != "" && id != tt.wantID) {
				t.Errorf("id %q, document id %v, want %q", id, m["id"], tt.wantID)
			}
			if s := string(body); strings.Contains(s, asPublic) || strings.Contains(s, "followers") || strings.Contains(s, "members only") {
				t.Errorf("a members-only record is public, to the followers, or carries the note:\n%s", s)
			}
		})
	}
	t.Run("the Note's id is the record's URL, which Site.ContributionID reads", func(t *testing.T) {
		_, body, _ := contributionActivity(testSite, testContribution(coop.StatusPending, ""), "bob@coop.example", to)
		note := decode(t, body)["object"].(map[string]any)
		id, ok := testSite.ContributionID(note["id"].(string))
		if !ok || id != 5 || note["coop:contribution"].(map[string]any)["id"] != note["id"] {
			t.Fatalf("note id %v: %d %v", note["id"], id, ok)
		}
	})
	t.Run("an import of more records than a Note carries is sent in parts", func(t *testing.T) {
		cs := make([]coop.Contribution, maxDigestRecords+1)
		for i := range cs {
			cs[i] = testContribution(coop.StatusPending, "")
			cs[i].ID = int64(i + 1)
		}
		if got := digestHTML(testSite, "tool", cs[:maxDigestRecords], 1, 2); !strings.Contains(got, "500 commits by 1 member imported into tool (0 points), pending a maintainer&#39;s approval (part 1 of 2).") {
			t.Fatalf("digest: %s", got)
		}
	})
}

// contributionNode is a node at coop.example with members alice and bob,
// and a project "tool" maintained by alice and two remote actors.
type contributionNode struct {
	*inboxNode
	pub     *Publisher
	project coop.Project
}

const (
	maintainerA = "https://peer.example/users/zoe"  // shared inbox
	maintainerB = "https://solo.example/users/max"  // own inbox only
	unknownM    = "https://nowhere.example/users/u" // never seen
	remoteDoer  = "https://peer.example/users/ivy"  // a contributor elsewhere, on zoe's server
	follower    = "https://fan.example/users/fan"   // follows the Group: a stranger to its records
)

func newContributionNode(t *testing.T, maintainers ...string) *contributionNode {
	t.Helper()
	ctx := context.Background()
	n := newInboxNode(t, testSite, nodeOptions{}, "alice", "bob")
	for _, a := range []store.RemoteActor{
		{ID: maintainerA, PreferredUsername: "zoe", Inbox: maintainerA + "/inbox", SharedInbox: "https://peer.example/inbox"},
		{ID: maintainerB, PreferredUsername: "max", Inbox: maintainerB + "/inbox"},
		{ID: remoteDoer, PreferredUsername: "ivy", Inbox: remoteDoer + "/inbox", SharedInbox: "https://peer.example/inbox"},
		{ID: follower, PreferredUsername: "fan", Inbox: follower + "/inbox"},
	} {
		a.Type, a.KeyID, a.PublicKeyPEM = "Person", a.ID+"#main-key", "KEY"
		n.cacheActor(t, a)
	}
	svc := &coop.Service{Store: n.db, Site: testSite, Clock: n.clock}
	p, err := svc.AddProject(coop.AsAdmin(ctx), coop.NewProject{Slug: "tool", Name: "Tool", Maintainers: maintainers})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.db.Write(ctx, func(tx *store.Tx) error {
		return tx.AddFollower(ctx, p.ID, follower, follower+"/follows/1", "accepted", t0)
	}); err != nil {
		t.Fatal(err)
	}
	return &contributionNode{inboxNode: n, pub: NewPublisher(testSite, nil, n.fetcher), project: p}
}

// sent returns the deliveries queued, oldest first.
func (n *contributionNode) sent(t *testing.T) []store.Delivery {
	t.Helper()
	ds, err := n.db.Deliveries(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(ds)
	return ds
}

// TestContributionDeliveries: a record goes only to the remote actors who
// take part (remote maintainers, a remote contributor) that the node
// holds, each server once; never to the Group's followers, never into
// its outbox; nothing when nobody remote takes part.
func TestContributionDeliveries(t *testing.T) {
	ctx := context.Background()
	n := newContributionNode(t, "alice", maintainerA, maintainerB, unknownM)
	publish := func(t *testing.T, fn func(tx *store.Tx) error) {
		t.Helper()
		if err := n.db.Write(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	c := testContribution(coop.StatusPending, "")
	c.ProjectID = n.project.ID
	publish(t, func(tx *store.Tx) error { return n.pub.PublishContribution(ctx, tx, n.project, c, t0) })
	ds := n.sent(t)
	var inboxes []string
	for _, d := range ds {
		inboxes = append(inboxes, d.Inbox)
	}
	if want := []string{"https://peer.example/inbox", maintainerB + "/inbox"}; !slices.Equal(inboxes, want) {
		t.Fatalf("delivered to %v, want %v", inboxes, want)
	}
	m := decode(t, ds[0].Body)
	if ds[0].SenderID != n.project.ID || !sameList(m["to"], []any{maintainerA, maintainerB}) || m["cc"] != nil ||
		!sameList(m["object"].(map[string]any)["to"], []any{maintainerA, maintainerB}) {
		t.Fatalf("sender %d, to %v, cc %v", ds[0].SenderID, m["to"], m["cc"])
	}
	if !strings.Contains(string(ds[0].Body), "bob@coop.example: 1 h 30 min of review for tool, pending") {
		t.Fatalf("content: %s", ds[0].Body)
	}
	page, err := n.db.CollectionPage(ctx, n.project.ID, coop.Outbox, coop.PageRequest{Limit: 10})
	if err != nil || page.Total != 0 {
		t.Fatalf("the outbox holds %d, %v", page.Total, err)
	}

	t.Run("a remote contributor takes part", func(t *testing.T) {
		decided := testContribution(coop.StatusApproved, "")
		decided.Contributor = remoteDoer
		publish(t, func(tx *store.Tx) error { return n.pub.PublishContribution(ctx, tx, n.project, decided, t0) })
		ds := n.sent(t)[2:]
		if len(ds) != 2 || decode(t, ds[0].Body)["type"] != "Update" {
			t.Fatalf("%d deliveries", len(ds))
		}
		if to := decode(t, ds[0].Body)["to"]; !sameList(to, []any{maintainerA, maintainerB, remoteDoer}) {
			t.Fatalf("to %v", to)
		}
		if !strings.Contains(string(ds[0].Body), "ivy@peer.example: 1 h 30 min of review for tool, approved") {
			t.Fatalf("content: %s", ds[0].Body)
		}
	})
	t.Run("an import is one digest", func(t *testing.T) {
		var cs []coop.Contribution
		for i := range 12 {
			c := testContribution(coop.StatusPending, "")
			c.ID, c.Contributor = int64(100+i), testSite.ActorID([]string{"alice", "bob"}[i%2])
			cs = append(cs, c)
		}
		publish(t, func(tx *store.Tx) error { return n.pub.PublishContributionDigest(ctx, tx, n.project, cs, t0) })
		ds := n.sent(t)[4:]
		if len(ds) != 2 || !strings.Contains(string(ds[0].Body), "12 commits by 2 members imported into tool") {
			t.Fatalf("%d deliveries: %s", len(ds), ds[0].Body)
		}
	})
	t.Run("nobody remote takes part: nothing is sent", func(t *testing.T) {
		local := newContributionNode(t, "alice", unknownM)
		if err := local.db.Write(ctx, func(tx *store.Tx) error {
			if err := local.pub.PublishContribution(ctx, tx, local.project, c, t0); err != nil {
				return err
			}
			return local.pub.PublishContributionDigest(ctx, tx, local.project, []coop.Contribution{c}, t0)
		}); err != nil {
			t.Fatal(err)
		}
		if ds := local.sent(t); len(ds) != 0 {
			t.Fatalf("queued %d", len(ds))
		}
	})
	t.Run("the follower receives none of it", func(t *testing.T) {
		for _, d := range n.sent(t) {
			if d.Inbox == follower+"/inbox" {
				t.Fatalf("%s went to the follower", d.ActivityID)
			}
		}
	})
	t.Run("a member's decision goes to the Group's own inbox, signed as the member", func(t *testing.T) {
		group := "https://peer.example/users/kit"
		n.cacheActor(t, store.RemoteActor{ID: group, Type: "Group", PreferredUsername: "kit", Inbox: group + "/inbox",
			SharedInbox: "https://peer.example/inbox", KeyID: group + "#main-key", PublicKeyPEM: "KEY"})
		alice, _ := n.db.ActorByHandle(ctx, "alice")
		rc := coop.RemoteContribution{URI: "https://peer.example/contributions/7", Project: group}
		publish(t, func(tx *store.Tx) error {
			return n.pub.PublishContributionDecision(ctx, tx, alice, rc, false, "not this project", t0)
		})
		ds := n.sent(t)
		d := ds[len(ds)-1]
		m := decode(t, d.Body)
		if d.Inbox != group+"/inbox" || d.SenderID != alice.ID || m["type"] != "Reject" || m["object"] != rc.URI || m["content"] != "not this project" {
			t.Fatalf("%s to %s by %d", d.Body, d.Inbox, d.SenderID)
		}
		rc.Project = "https://peer.example/users/unknown"
		err := n.db.Write(ctx, func(tx *store.Tx) error { return n.pub.PublishContributionDecision(ctx, tx, alice, rc, true, "", t0) })
		if !errors.Is(err, coop.ErrGone) {
			t.Fatalf("to an unknown Group: %v", err)
		}
	})
}

// fakeContributions is a ContributionInbox that records what it is given
// and answers err.
type fakeContributions struct {
	mu    sync.Mutex
	err   error
	calls []string
}

func (f *fakeContributions) ReceiveContributionDecision(ctx context.Context, tx coop.Tx, id int64, actor string, approve bool, reason string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%d %s %v %q", id, actor, approve, reason))
	return f.err
}

func (f *fakeContributions) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// TestContributionDecisionInbox: an Accept or a Reject of a local
// record's URL is a remote maintainer's decision, given to the
// ContributionInbox; a refused one is done, not retried, and does not
// count as an Accept of a follow; an Accept of one of our Follows is
// still one.
func TestContributionDecisionInbox(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	peer.serveActor("zoe", &key.PublicKey)
	zoe := peer.actorURI("zoe")
	n := newInboxNode(t, testSite, nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}}, "alice")
	fake := &fakeContributions{}
	n.proc.contributions = fake // as ProcessorConfig.Contributions sets it
	var accepted []string
	n.proc.accepted = func(a string) { accepted = append(accepted, a) }
	serial := 0
	send := func(t *testing.T, typ string, object any, extra map[string]any) string {
		t.Helper()
		serial++
		act := map[string]any{"@context": nsActivityStreams, "id": fmt.Sprintf("%s#decisions/%d", zoe, serial), "type": typ,
			"actor": zoe, "object": object, "to": testSite.ActorID("tool")}
		for k, v := range extra {
			act[k] = v
		}
		wantAccepted(t, n.post(signedPost(t, n, "/users/alice/inbox", mustJSON(t, act), zoe+"#main-key", key)))
		n.process(t)
		return act["id"].(string)
	}
	state := func(t *testing.T, id string) string {
		t.Helper()
		ins, err := n.db.InboundByActivityID(ctx, id)
		if err != nil || len(ins) != 1 {
			t.Fatalf("inbound %s: %+v %v", id, ins, err)
		}
		return ins[0].State
	}
	record := testSite.URL("/contributions/5")

	send(t, "Accept", record, nil)
	send(t, "Reject", map[string]any{"id": record, "type": "Note"}, map[string]any{"content": "<p>not <b>this</b> project</p>"})
	send(t, "Reject", record, map[string]any{"summary": "twice"})
	want := []string{
		fmt.Sprintf("5 %s true %q", zoe, ""),
		fmt.Sprintf("5 %s false %q", zoe, "not this project"),
		fmt.Sprintf("5 %s false %q", zoe, "twice"),
	}
	if diff := cmp.Diff(want, fake.take()); diff != "" {
		t.Fatalf("given (-want +got):\n%s", diff)
	}
	if len(accepted) != 0 {
		t.Fatalf("a decision counted as an Accept of a follow: %v", accepted)
	}
	send(t, "Accept", testSite.URL("/contributions/05"), nil)
	send(t, "Accept", "https://elsewhere.test/contributions/5", nil)
	if got := fake.take(); len(got) != 0 {
		t.Fatalf("given %v for objects that are no local record", got)
	}

	t.Run("a refusal is done, not retried", func(t *testing.T) {
		fake.err = fmt.Errorf("coop: %w: not a maintainer", coop.ErrNotAllowed)
		id := send(t, "Accept", record, nil)
		if got := state(t, id); got != "done" {
			t.Fatalf("state %s", got)
		}
	})
	t.Run("a failure is retried", func(t *testing.T) {
		fake.err = errors.New("disk full")
		id := send(t, "Accept", record, nil)
		if got := state(t, id); got == "done" {
			t.Fatalf("state %s", got)
		}
		fake.err = nil
		n.advance(time.Hour)
		n.process(t)
		if got := state(t, id); got != "done" {
			t.Fatalf("state after the retry %s", got)
		}
		fake.take()
	})
	t.Run("an Accept of one of our Follows is still one", func(t *testing.T) {
		alice, _ := n.db.ActorByHandle(ctx, "alice")
		followID := testSite.ActorID("alice") + "/follows/1"
		if err := n.db.Write(ctx, func(tx *store.Tx) error {
			return tx.AddFollowing(ctx, alice.ID, zoe, followID, "pending", t0)
		}); err != nil {
			t.Fatal(err)
		}
		accepted = nil
		send(t, "Accept", followID, nil)
		fs, err := n.db.Following(ctx, alice.ID)
		if err != nil || len(fs) != 1 || fs[0].State != "accepted" || !slices.Equal(accepted, []string{zoe}) {
			t.Fatalf("following %+v %v, accepted %v", fs, err, accepted)
		}
	})
}

// TestReceivedContributions: records from a project Group of a co-op of
// the federation, addressed to a local member, are stored, the latest
// status winning; from anyone else, or to nobody here, they are not.
func TestReceivedContributions(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	site := coop.Site{Scheme: "https", Host: "coop.test"}
	n := newInboxNode(t, site, nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}}, "alice")
	group, person, outsider := peer.actorURI("kit"), peer.actorURI("zoe"), "http://other.test/users/kit"
	for _, a := range []store.RemoteActor{{ID: group, Type: "Group"}, {ID: person, Type: "Person"}, {ID: outsider, Type: "Group"}} {
		a.Inbox, a.KeyID, a.PublicKeyPEM = a.ID+"/inbox", a.ID+"#main-key", publicPEM(&key.PublicKey)
		n.cacheActor(t, a)
	}
	if err := n.db.Write(ctx, func(tx *store.Tx) error {
		return tx.InsertPeer(ctx, coop.Peer{Actor: peer.actorURI("coop"), AddedAt: t0, AddedBy: "cli"})
	}); err != nil {
		t.Fatal(err)
	}
	alice := site.ActorID("alice")
	terms := func(sender string, num int, status string) map[string]any {
		host := sender[:strings.Index(sender, "/users/")]
		m := map[string]any{"id": fmt.Sprintf("%s/contributions/%d", host, num), "type": "coop:Contribution", "coop:number": num,
			"coop:project": sender, "coop:contributor": alice, "coop:kind": "review", "coop:minutes": 90, "coop:points": 0,
			"coop:evidence": []any{"https://git.example/kit/pull/1", "javascript:alert(1)"}, "coop:day": "2026-11-24",
			"coop:status": status, "coop:logIndex": 11}
		if status == coop.StatusRejected {
			m["coop:reason"] = "<b>not</b> this"
		}
		return m
	}
	serial := 0
	send := func(t *testing.T, sender, typ string, to string, note map[string]any) {
		t.Helper()
		serial++
		note["type"], note["attributedTo"], note["to"], note["content"] = "Note", sender, to, "<p>a record</p>"
		act := map[string]any{"@context": nsActivityStreams, "id": fmt.Sprintf("%s#activities/%d", sender, serial), "type": typ,
			"actor": sender, "to": to, "object": note}
		wantAccepted(t, n.post(signedPost(t, n, "/inbox", mustJSON(t, act), sender+"#main-key", key)))
		n.process(t)
	}
	single := func(sender string, num int, status string) map[string]any {
		tm := terms(sender, num, status)
		return map[string]any{"id": tm["id"], "coop:contribution": tm}
	}
	stored := func(t *testing.T) map[string]coop.RemoteContribution {
		t.Helper()
		cs, err := n.db.RemoteContributions(ctx, coop.RemoteContributionFilter{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]coop.RemoteContribution{}
		for _, c := range cs {
			out[c.URI] = c
		}
		return out
	}

	send(t, outsider, "Create", alice, single(outsider, 1, coop.StatusPending))
	send(t, person, "Create", alice, single(person, 2, coop.StatusPending))
	send(t, group, "Create", "https://elsewhere.test/users/x", single(group, 3, coop.StatusPending))
	if got := stored(t); len(got) != 0 {
		t.Fatalf("stored %v: from outside the federation, from a Person, or to nobody here", got)
	}

	send(t, group, "Create", alice, single(group, 5, coop.StatusPending))
	want := coop.RemoteContribution{URI: "http://peer.test/contributions/5", Project: group, Number: 5, Contributor: alice,
		Kind: "review", Minutes: 90, Evidence: []string{"https://git.example/kit/pull/1"}, Day: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC),
		Status: coop.StatusPending, LogIndex: 11, Received: t0}
	if diff := cmp.Diff(want, stored(t)[want.URI]); diff != "" {
		t.Fatalf("stored (-want +got):\n%s", diff)
	}
	rejected := single(group, 5, coop.StatusRejected)
	rejected["coop:contribution"].(map[string]any)["coop:logIndex"] = 12
	send(t, group, "Update", alice, rejected)
	want.Status, want.Reason, want.LogIndex = coop.StatusRejected, "not this", 12
	if diff := cmp.Diff(want, stored(t)[want.URI]); diff != "" {
		t.Fatalf("after the Update (-want +got):\n%s", diff)
	}
	send(t, group, "Update", alice, single(group, 5, coop.StatusPending))
	if got := stored(t)[want.URI]; got.Status != coop.StatusRejected {
		t.Fatalf("a decided record went back to %s", got.Status)
	}

	t.Run("a digest's records are stored, the invalid ones left out", func(t *testing.T) {
		bad := terms(group, 9, coop.StatusPending)
		bad["coop:kind"] = "lunch"
		foreign := terms(outsider, 10, coop.StatusPending)
		send(t, group, "Create", alice, map[string]any{"id": group + "/imports/6",
			"coop:contributions": []any{terms(group, 6, coop.StatusPending), terms(group, 7, coop.StatusPending), bad, foreign, "x"}})
		got := stored(t)
		if len(got) != 3 || got["http://peer.test/contributions/6"].Status != coop.StatusPending || got["http://peer.test/contributions/7"].Number != 7 {
			t.Fatalf("stored %v", got)
		}
	})
	t.Run("the Note is also kept for the member", func(t *testing.T) {
		a, _ := n.db.ActorByHandle(ctx, "alice")
		ns, err := n.db.ReceivedNotes(ctx, a.ID)
		if err != nil || len(ns) == 0 {
			t.Fatalf("%d notes, %v", len(ns), err)
		}
	})
}

// FuzzContributionsOf decodes the records a remote project's Note
// carries (remote input) and checks what it keeps: each of the sender's
// own project, on its origin, with bounded fields.
func FuzzContributionsOf(f *testing.F) {
	const sender = "https://peer.example/users/tool"
	f.Add([]byte(`{"coop:contribution":{"id":"https://peer.example/contributions/1","coop:project":"https://peer.example/users/tool",
		"coop:contributor":"https://peer.example/users/ivy","coop:kind":"review","coop:status":"approved","coop:number":1,
		"coop:minutes":90,"coop:points":0,"coop:logIndex":7,"coop:day":"2026-01-10","coop:evidence":["https://git.example/pr/1"]}}`))
	f.Add([]byte(`{"coop:contributions":[{"id":"https://peer.example/contributions/2","coop:project":"https://peer.example/users/tool",
		"coop:contributor":"https://peer.example/users/ivy","coop:kind":"code","coop:status":"rejected","coop:reason":"<b>no</b>",
		"coop:number":2,"coop:minutes":0,"coop:points":1,"coop:logIndex":8,"coop:day":"2026-01-11"}, 5, null]}`))
	f.Add([]byte(`{"coop:contribution":{"coop:minutes":1e400}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeJSON(data)
		if err != nil {
			return
		}
		cs, _ := contributionsOf(sender, m, t0)
		if len(cs) > maxDigestRecords {
			t.Fatalf("%d records kept", len(cs))
		}
		for _, c := range cs {
			if c.Project != sender || !sameOrigin(c.URI, sender) || c.Minutes < 0 || c.Minutes > coop.MaxContributionMin ||
				c.Points < 0 || c.Points > coop.MaxPoints || len(c.Evidence) > coop.MaxEvidence || len(c.Reason) > coop.MaxNoteLength ||
				!slices.Contains(coop.ContributionKinds, c.Kind) {
				t.Fatalf("kept %+v", c)
			}
		}
	})
}
