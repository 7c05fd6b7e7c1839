package federation

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/store"
	"github.com/go-fed/activity/streams"
	"github.com/google/go-cmp/cmp"
)

var (
	alice = testSite.ActorID("alice")
	bea   = testSite.ActorID("bea")
	carl  = testSite.ActorID("carl")
)

// testProposal is proposal 3 of the co-op, opened at t0 for an hour, with
// the ballots given counted as a provisional tally (or, closed, as the
// outcome, record 17 of the log).
func testProposal(t testing.TB, method governance.Method, hide, closed bool, ballots ...governance.Ballot) coop.ProposalView {
	t.Helper()
	gp := governance.Proposal{
		ID: "3", Title: "Adopt the <tool>", Proposer: alice,
		Body:   "We should **adopt** it.\n\n- it is [free](https://tool.example/licence)\n- it is fast\n\n<script>alert(1)</script>",
		Method: method, OpensAt: t0, ClosesAt: t0.Add(time.Hour),
		Quorum: governance.Ratio{Num: 1, Den: 2}, Threshold: governance.Majority, Eligibility: governance.CoopMembers,
		Eligible: []string{alice, bea, carl}, State: governance.Open, HideCounts: hide,
	}
	switch method {
	case governance.Consent:
		gp.Threshold = governance.Consensus
	case governance.Score:
		gp.ScoreMin, gp.ScoreMax = 0, 5
		fallthrough
	default:
		gp.Options = []governance.Option{{Key: "yes", Label: "Yes"}, {Key: "later", Label: "Later"}, {Key: "no", Label: "No"}}
	}
	for i := range ballots {
		ballots[i].At = t0.Add(time.Duration(i+1) * time.Minute)
	}
	v := coop.ProposalView{Proposal: coop.Proposal{Proposal: gp, Num: 3, Group: "coop", GroupKind: coop.KindOrganization,
		Created: t0, Updated: t0}, URL: testSite.ProposalURL(3), Standing: len(ballots)}
	if closed {
		v.State = governance.Closed
		o := governance.Tally(v.Proposal.Proposal, ballots, nil)
		v.Outcome = &coop.StoredOutcome{Outcome: o, LogID: 1, LogIndex: 17, Closed: t0.Add(time.Hour + time.Second)}
		v.Counts = &v.Outcome.Outcome
	} else if !hide {
		o := governance.Tally(v.Proposal.Proposal, ballots, nil)
		v.Counts = &o
	}
	return v
}

func choose(voter string, keys ...string) governance.Ballot {
	return governance.Ballot{Voter: voter, Choices: keys}
}

// roundTrip checks that streams reads a document and writes it back with
// the same meaning, keeping the coop: terms given.
func roundTrip(t *testing.T, body []byte, typ string, terms ...string) {
	t.Helper()
	ty := parse(t, body)
	if ty.GetTypeName() != typ {
		t.Fatalf("type = %s, want %s", ty.GetTypeName(), typ)
	}
	m, err := streams.Serialize(ty)
	if err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(normalize(decode(t, body)), normalize(decode(t, again))); diff != "" {
		t.Errorf("meaning changed through streams (-served +reserialized):\n%s", diff)
	}
	if len(terms) == 0 {
		return
	}
	// The coop: terms are on the object an activity carries.
	obj := ty
	if m, ok := decode(t, body)["object"].(map[string]any); ok {
		m["@context"] = nsActivityStreams
		inner, err := streams.ToType(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		obj = inner
	}
	unknown := obj.(unknownProperties).GetUnknownProperties()
	for _, term := range terms {
		if _, ok := unknown[term]; !ok {
			t.Errorf("%s is not among the extension properties streams kept: %v", term, unknown)
		}
	}
}

// TestProposalDocuments pins every document a proposal sends, and checks
// that each survives go-fed's streams with its coop: terms.
func TestProposalDocuments(t *testing.T) {
	group := coop.Actor{ID: 1, Handle: "coop", Kind: coop.KindOrganization}
	single := testProposal(t, governance.SingleChoice, false, false, choose(alice, "yes"), choose(bea, "no"))
	closedSingle := testProposal(t, governance.SingleChoice, false, true, choose(alice, "yes"), choose(bea, "yes"), choose(carl, "no"))
	blocked := testProposal(t, governance.Consent, false, true,
		governance.Ballot{Voter: alice, Stance: governance.Block}, governance.Ballot{Voter: bea, Stance: governance.Agree})
	for _, tt := range []struct {
		name, golden, typ string
		doc               func() ([]byte, error)
		terms             []string
	}{
		{"single choice: Create{Question} with oneOf and counts", "question-single.golden.json", "Create",
			func() ([]byte, error) { return proposalActivity(testSite, single, "Create", createID(single), t0) },
			[]string{"coop:method", "coop:quorum", "coop:proposer", "coop:opensAt", "coop:options"}},
		{"approval: Create{Question} with anyOf", "question-approval.golden.json", "Create",
			func() ([]byte, error) {
				v := testProposal(t, governance.Approval, false, false, choose(alice, "yes", "later"), choose(bea, "later"))
				return proposalActivity(testSite, v, "Create", createID(v), t0)
			}, []string{"coop:method"}},
		{"consent, counts hidden: oneOf without totals, the block's meaning", "question-consent.golden.json", "Create",
			func() ([]byte, error) {
				v := testProposal(t, governance.Consent, true, false, governance.Ballot{Voter: alice, Stance: governance.Agree})
				return proposalActivity(testSite, v, "Create", createID(v), t0)
			}, []string{"coop:block", "coop:hideCounts"}},
		{"counts: Update{Question}", "question-counts.golden.json", "Update",
			func() ([]byte, error) {
				return proposalActivity(testSite, single, "Update", countsID(single, "0001"), t0.Add(10*time.Minute))
			}, []string{"coop:method"}},
		{"outcome: final Update{Question} with closed", "question-closed.golden.json", "Update",
			func() ([]byte, error) {
				return proposalActivity(testSite, closedSingle, "Update", closedID(closedSingle), t0.Add(time.Hour))
			}, []string{"coop:state"}},
		{"outcome: the decision Note", "decision-note.golden.json", "Create",
			func() ([]byte, error) {
				post := decisionPost(testSite, group, closedSingle, []string{"https://peer.example/users/zoe"}, "0002", t0.Add(time.Hour))
				return decisionActivity(testSite, closedSingle, post)
			}, []string{"coop:decision"}},
		{"outcome: a consent blocked", "decision-blocked.golden.json", "Create",
			func() ([]byte, error) {
				return decisionActivity(testSite, blocked, decisionPost(testSite, group, blocked, nil, "0003", t0.Add(time.Hour)))
			}, []string{"coop:decision"}},
		{"ranked: Create{Note} linking to the page", "proposal-ranked.golden.json", "Create",
			func() ([]byte, error) {
				v := testProposal(t, governance.Schulze, false, false)
				return proposalActivity(testSite, v, "Create", createID(v), t0)
			}, []string{"coop:method", "coop:options"}},
		{"a direct message", "direct-note.golden.json", "Create",
			func() ([]byte, error) {
				zoe := Mention{Actor: "https://peer.example/users/zoe", Acct: "zoe@peer.example", URL: "https://peer.example/users/zoe"}
				return noteActivity(testSite, Post{Author: group, Text: "Your code: 1234 <b>\nIt expires in 10 minutes.", Direct: true,
					Mentions: []Mention{zoe}, Published: t0, Serial: "0004"})
			}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body, err := tt.doc()
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, body)
			roundTrip(t, body, tt.typ, tt.terms...)
			if strings.Contains(string(body), "<script") || strings.Contains(string(body), "alert(1)") {
				t.Error("the body's script came through")
			}
		})
	}
}

// TestQuestionShape checks, beside the golden files, what Mastodon and
// GoToSocial read of a Question.
func TestQuestionShape(t *testing.T) {
	open := testProposal(t, governance.SingleChoice, false, false, choose(alice, "yes"), choose(bea, "no"))
	closed := testProposal(t, governance.SingleChoice, false, true, choose(alice, "yes"))
	hidden := testProposal(t, governance.Approval, true, false, choose(alice, "yes"))
	obj := func(t *testing.T, v coop.ProposalView, typ string) map[string]any {
		t.Helper()
		body, err := proposalActivity(testSite, v, typ, "https://coop.example/x", t0)
		if err != nil {
			t.Fatal(err)
		}
		m := decode(t, body)
		if _, ok := m["updated"]; ok {
			t.Errorf("the %s carries updated", typ)
		}
		if typ == "Update" {
			if _, ok := m["published"]; ok {
				t.Error("the Update carries published")
			}
		}
		ctx := m["@context"].([]any)[2].(map[string]any)
		if ctx["votersCount"] != "toot:votersCount" || ctx["toot"] != "http://joinmastodon.org/ns#" {
			t.Errorf("@context lacks votersCount: %v", ctx)
		}
		return m["object"].(map[string]any)
	}
	t.Run("an Update carries no updated", func(t *testing.T) {
		for _, v := range []coop.ProposalView{open, closed, hidden} {
			q := obj(t, v, "Update")
			if _, ok := q["updated"]; ok {
				t.Errorf("the Question carries updated: %v", q["updated"])
			}
		}
	})
	t.Run("id and url are the page; no name", func(t *testing.T) {
		q := obj(t, open, "Create")
		if q["id"] != open.URL || q["url"] != open.URL || q["type"] != "Question" {
			t.Errorf("id %v url %v type %v", q["id"], q["url"], q["type"])
		}
		if _, ok := q["name"]; ok {
			t.Error("the Question has a name")
		}
		if q["attributedTo"] != testSite.ActorID("coop") || q["endTime"] != "2026-11-25T13:00:00Z" {
			t.Errorf("attributedTo %v endTime %v", q["attributedTo"], q["endTime"])
		}
	})
	t.Run("counts while open, no closed", func(t *testing.T) {
		q := obj(t, open, "Update")
		if _, ok := q["closed"]; ok {
			t.Error("closed while open")
		}
		if q["votersCount"] != 2.0 {
			t.Errorf("votersCount = %v", q["votersCount"])
		}
		var got []float64
		for _, o := range q["oneOf"].([]any) {
			got = append(got, o.(map[string]any)["replies"].(map[string]any)["totalItems"].(float64))
		}
		if !slices.Equal(got, []float64{1, 0, 1}) {
			t.Errorf("totals = %v", got)
		}
	})
	t.Run("closed is a date-time", func(t *testing.T) {
		q := obj(t, closed, "Update")
		if q["closed"] != "2026-11-25T13:00:01Z" {
			t.Errorf("closed = %#v", q["closed"])
		}
	})
	t.Run("hidden counts: anyOf without totals or votersCount", func(t *testing.T) {
		q := obj(t, hidden, "Create")
		if _, ok := q["votersCount"]; ok {
			t.Error("votersCount while hidden")
		}
		for _, o := range q["anyOf"].([]any) {
			if _, ok := o.(map[string]any)["replies"]; ok {
				t.Errorf("an option has a total while hidden: %v", o)
			}
		}
	})
}

// TestProposalDeliveries: a proposal's Create goes to the group's
// followers and into its outbox; its counts and outcome also go to the
// audience the node knows (shared inbox first, each server once),
// skipping unknown, gone and local actors; a direct message goes to its
// known recipients only.
func TestProposalDeliveries(t *testing.T) {
	ctx := context.Background()
	n := newInboxNode(t, testSite, nodeOptions{}, "alice")
	pub := NewPublisher(n.site, nil, n.fetcher)
	const (
		follower1 = "https://peer.example/users/f1" // shared inbox
		follower2 = "https://solo.example/users/f2" // own inbox only
		voter1    = "https://peer.example/users/v1" // the same shared inbox as f1
		voter2    = "https://other.example/users/v2"
		unknown   = "https://nowhere.example/users/u"
		gone      = "https://gone.example/users/g"
	)
	for _, a := range []store.RemoteActor{
		{ID: follower1, PreferredUsername: "f1", Inbox: follower1 + "/inbox", SharedInbox: "https://peer.example/inbox"},
		{ID: follower2, PreferredUsername: "f2", Inbox: follower2 + "/inbox"},
		{ID: voter1, PreferredUsername: "v1", Inbox: voter1 + "/inbox", SharedInbox: "https://peer.example/inbox"},
		{ID: voter2, PreferredUsername: "v2", Inbox: voter2 + "/inbox"},
		{ID: gone, PreferredUsername: "g", Inbox: gone + "/inbox", GoneAt: t0},
	} {
		a.Type, a.KeyID, a.PublicKeyPEM = "Person", a.ID+"#main-key", "KEY"
		n.cacheActor(t, a)
	}
	coopID := n.ids["coop"]
	group, err := n.db.Coop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.db.Write(ctx, func(tx *store.Tx) error {
		for _, f := range []string{follower1, follower2} {
			if err := tx.AddFollower(ctx, coopID, f, f+"/follows/1", "accepted", t0); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, fn func(tx *store.Tx) error) {
		t.Helper()
		if err := n.db.Write(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	// queued returns the inboxes of each activity queued since the last
	// call, by activity id, and the ids in the order queued.
	seen := map[int64]bool{}
	queued := func(t *testing.T) (map[string][]string, []string) {
		t.Helper()
		ds, err := n.db.Deliveries(ctx, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		var ids []string
		for i := len(ds) - 1; i >= 0; i-- {
			d := ds[i]
			if seen[d.ID] {
				continue
			}
			seen[d.ID] = true
			if _, ok := out[d.ActivityID]; !ok {
				ids = append(ids, d.ActivityID)
			}
			out[d.ActivityID] = append(out[d.ActivityID], d.Inbox)
		}
		for _, in := range out {
			slices.Sort(in)
		}
		return out, ids
	}
	outbox := func(t *testing.T) int {
		t.Helper()
		p, err := n.db.CollectionPage(ctx, coopID, coop.Outbox, coop.PageRequest{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		return p.Total
	}
	followers := []string{"https://peer.example/inbox", follower2 + "/inbox"}
	withAudience := []string{"https://peer.example/inbox", voter2 + "/inbox", follower2 + "/inbox"}
	slices.Sort(withAudience)
	audience := []string{voter1, voter2, unknown, gone, alice}
	v := testProposal(t, governance.SingleChoice, false, false, choose(alice, "yes"))

	t.Run("the Create goes to the followers and into the outbox", func(t *testing.T) {
		write(t, func(tx *store.Tx) error { return pub.PublishProposal(ctx, tx, group, v, t0) })
		got, ids := queued(t)
		if len(ids) != 1 || ids[0] != createID(v) || !slices.Equal(got[ids[0]], followers) {
			t.Fatalf("queued %v", got)
		}
		if outbox(t) != 1 {
			t.Fatalf("outbox holds %d", outbox(t))
		}
	})
	t.Run("each counts Update has its own id and reaches the known audience", func(t *testing.T) {
		for range 2 {
			write(t, func(tx *store.Tx) error { return pub.PublishProposalCounts(ctx, tx, group, v, audience, t0) })
		}
		got, ids := queued(t)
		if len(ids) != 2 || ids[0] == ids[1] || !strings.HasPrefix(ids[0], v.URL+"#counts/") {
			t.Fatalf("ids %v", ids)
		}
		for _, id := range ids {
			if !slices.Equal(got[id], withAudience) {
				t.Errorf("%s went to %v, want %v", id, got[id], withAudience)
			}
		}
		if outbox(t) != 1 {
			t.Fatalf("counts went into the outbox")
		}
	})
	t.Run("a Note proposal, or hidden counts, send no counts", func(t *testing.T) {
		ranked := testProposal(t, governance.InstantRunoff, false, false)
		hidden := testProposal(t, governance.Consent, true, false)
		for _, v := range []coop.ProposalView{ranked, hidden} {
			write(t, func(tx *store.Tx) error { return pub.PublishProposalCounts(ctx, tx, group, v, audience, t0) })
		}
		if got, _ := queued(t); len(got) != 0 {
			t.Fatalf("queued %v", got)
		}
	})
	t.Run("the outcome: the final Update, then the decision Note addressed to the known audience", func(t *testing.T) {
		closed := testProposal(t, governance.SingleChoice, false, true, choose(alice, "yes"))
		write(t, func(tx *store.Tx) error {
			return pub.PublishOutcome(ctx, tx, group, closed, audience, t0.Add(time.Hour))
		})
		got, ids := queued(t)
		if len(ids) != 2 || ids[0] != closedID(closed) || !strings.Contains(ids[1], "/users/coop/notes/") {
			t.Fatalf("ids %v", ids)
		}
		for _, id := range ids {
			if !slices.Equal(got[id], withAudience) {
				t.Errorf("%s went to %v, want %v", id, got[id], withAudience)
			}
		}
		if outbox(t) != 3 {
			t.Fatalf("outbox holds %d, want the Create, the final Update and the decision", outbox(t))
		}
		ds, _ := n.db.Deliveries(ctx, "", 1000)
		for _, d := range ds {
			if d.ActivityID != ids[1] {
				continue
			}
			cc := decode(t, d.Body)["object"].(map[string]any)["cc"]
			if !sameList(cc, []any{testSite.Followers("coop"), voter1, voter2}) {
				t.Fatalf("the decision's cc = %v", cc)
			}
			break
		}
	})
	t.Run("a direct message goes to its known recipients only", func(t *testing.T) {
		write(t, func(tx *store.Tx) error {
			return pub.PublishDirect(ctx, tx, group, []string{voter2, unknown, gone}, "Your code: 1234", t0)
		})
		got, ids := queued(t)
		if len(ids) != 1 || !slices.Equal(got[ids[0]], []string{voter2 + "/inbox"}) {
			t.Fatalf("queued %v", got)
		}
		ds, _ := n.db.Deliveries(ctx, "", 1)
		m := decode(t, ds[0].Body)
		if m["to"] != voter2 || m["cc"] != nil || !strings.Contains(string(ds[0].Body), "Your code: 1234") {
			t.Fatalf("the direct message: %s", ds[0].Body)
		}
		if outbox(t) != 3 {
			t.Fatal("the direct message went into the outbox")
		}
		write(t, func(tx *store.Tx) error { return pub.PublishDirect(ctx, tx, group, []string{unknown}, "hello?", t0) })
		if got, _ := queued(t); len(got) != 0 {
			t.Fatalf("a message to nobody known was queued: %v", got)
		}
	})
}

// TestProposalNegotiation: the page of a proposal serves its Question to
// ActivityPub clients, with the counts now, and the page to browsers.
func TestProposalNegotiation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := t0.Add(24 * time.Hour)
	svc := &coop.Service{Store: f.db, Site: testSite, Clock: func() time.Time { return now }}
	p, err := svc.OpenProposal(coop.AsAdmin(ctx), coop.NewProposal{Group: coop.CoopGroup, Title: "Adopt the tool", Body: "Shall we?",
		Options: []governance.Option{{Key: "yes", Label: "Yes"}, {Key: "no", Label: "No"}}, Method: governance.SingleChoice,
		ClosesIn: time.Hour, Quorum: governance.Ratio{Num: 1, Den: 2}, Threshold: governance.Majority})
	if err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(testSite.ProposalURL(p.Num), testSite.Base())
	totals := func(t *testing.T, m map[string]any) []float64 {
		t.Helper()
		var out []float64
		for _, o := range m["oneOf"].([]any) {
			out = append(out, o.(map[string]any)["replies"].(map[string]any)["totalItems"].(float64))
		}
		return out
	}
	for _, tt := range []struct {
		name   string
		accept []string
		json   bool
	}{
		{"Mastodon gets the Question", []string{"Accept", acceptMastodon}, true},
		{"GoToSocial gets the Question", []string{"Accept", acceptGoToSocial}, true},
		{"Fedify gets the Question", []string{"Accept", acceptFedify}, true},
		{"a browser gets the page", []string{"Accept", acceptFirefox}, false},
		{"no Accept gets the page", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := f.get(t, path, tt.accept...)
			wantStatus(t, w, 200)
			isJSON := strings.HasPrefix(w.Header().Get("Content-Type"), "application/activity+json")
			if isJSON != tt.json {
				t.Fatalf("JSON = %v, want %v: %s", isJSON, tt.json, w.Body)
			}
			if !isJSON {
				if w.Body.String() != pageHTML {
					t.Fatalf("page = %s", w.Body)
				}
				return
			}
			wantHeader(t, w, "Vary", "Accept")
			m := decode(t, w.Body.Bytes())
			if m["type"] != "Question" || m["id"] != testSite.ProposalURL(p.Num) || m["attributedTo"] != testSite.ActorID("coop") {
				t.Fatalf("document: %s", w.Body)
			}
			roundTrip(t, w.Body.Bytes(), "Question")
		})
	}
	t.Run("the counts are those of now", func(t *testing.T) {
		if got := totals(t, decode(t, f.get(t, path, "Accept", acceptMastodon).Body.Bytes())); !slices.Equal(got, []float64{0, 0}) {
			t.Fatalf("totals before the vote = %v", got)
		}
		alice := coop.WithPrincipal(ctx, coop.Principal{ID: testSite.ActorID("alice"), Channel: "cli"})
		if _, err := svc.Vote(alice, p.Num, []string{"yes"}); err != nil {
			t.Fatal(err)
		}
		m := decode(t, f.get(t, path, "Accept", acceptMastodon).Body.Bytes())
		if got := totals(t, m); !slices.Equal(got, []float64{1, 0}) || m["votersCount"] != 1.0 {
			t.Fatalf("totals after the vote = %v, voters %v", got, m["votersCount"])
		}
	})
	t.Run("an unknown proposal is 404", func(t *testing.T) {
		w := f.get(t, "/proposals/999", "Accept", acceptMastodon)
		wantError(t, w, 404, "no proposal")
		wantHeader(t, w, "Vary", "Accept")
	})
}
