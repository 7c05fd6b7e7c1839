package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/testpeer"
	"github.com/google/go-cmp/cmp"
)

// TestFedifySignsIntoOurInbox: the Fedify peer's signed Create{Note}s,
// public and a direct message to the co-op at the shared inbox, verify in
// coopfed (202) and are stored; the same with one byte of the body
// changed is refused with 401 and stores nothing. coopfed runs in
// development mode on loopback, where it fetches the peer's keys.
func TestFedifySignsIntoOurInbox(t *testing.T) {
	peer := testpeer.Start(t)
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	site := coop.Site{Scheme: "http", Host: ln.Addr().String()}
	n := newInboxNode(t, site, nodeOptions{real: true}, "alice")
	hs := httptest.NewUnstartedServer(n.router)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	coopURI := site.ActorID("coop")

	type sendResult struct {
		ID     string `json:"id"`
		Object string `json:"object"`
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	send := func(t *testing.T, req map[string]any) sendResult {
		t.Helper()
		var out sendResult
		if err := peer.Call("send", req, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	notes := func(t *testing.T) int {
		t.Helper()
		n.process(t)
		ns, err := n.db.ReceivedNotes(ctx, n.ids["coop"])
		if err != nil {
			t.Fatal(err)
		}
		return len(ns)
	}

	t.Run("a public Create{Note} verifies and is stored", func(t *testing.T) {
		r := send(t, map[string]any{"user": "peer", "to": []string{coopURI}, "note": map[string]any{"content": "hello co-op"}})
		if r.Status != http.StatusAccepted {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		if got := notes(t); got != 1 {
			t.Fatalf("%d notes stored", got)
		}
	})
	t.Run("a DM to the co-op at the shared inbox verifies and is stored as direct", func(t *testing.T) {
		r := send(t, map[string]any{"user": "peer", "to": []string{coopURI}, "sharedInbox": true,
			"note": map[string]any{"content": "link code 1234", "direct": true, "mention": coopURI}})
		if r.Status != http.StatusAccepted {
			t.Fatalf("status %d: %s", r.Status, r.Body)
		}
		if got := notes(t); got != 2 {
			t.Fatalf("%d notes stored", got)
		}
		ns, _ := n.db.ReceivedNotes(ctx, n.ids["coop"])
		if dm := ns[1]; !dm.Direct || !strings.Contains(dm.Content, "link code 1234") || dm.ActorURI != peer.Actors[0] {
			t.Fatalf("DM = %+v", dm)
		}
		if ins, err := n.db.InboundByActivityID(ctx, r.ID); err != nil || len(ins) != 1 || ins[0].RecipientID != 0 {
			t.Fatalf("the DM did not come by the shared inbox: %+v, %v", ins, err)
		}
	})
	t.Run("one byte changed is refused with 401 and stores nothing", func(t *testing.T) {
		before := n.counts(t)
		for _, direct := range []bool{false, true} {
			r := send(t, map[string]any{"user": "peer", "to": []string{coopURI}, "tamper": true,
				"note": map[string]any{"content": "tampered", "direct": direct}})
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
		}
		n.process(t)
		after := n.counts(t)
		if before["inbound"] != after["inbound"] || before["received_notes"] != after["received_notes"] {
			t.Fatalf("rows changed: %v -> %v", before, after)
		}
	})
	t.Run("its Follow is accepted, and our Accept verifies in Fedify; its Undo removes it", func(t *testing.T) {
		var r struct {
			ID     string `json:"id"`
			Status int    `json:"status"`
			Body   string `json:"body"`
		}
		if err := peer.Call("follow", map[string]any{"user": "peer", "target": coopURI}, &r); err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusAccepted {
			t.Fatalf("follow: status %d: %s", r.Status, r.Body)
		}
		n.process(t)
		fs, _ := n.db.Followers(ctx, n.ids["coop"])
		if len(fs) != 1 || fs[0].Remote != peer.Actors[0] || fs[0].State != "accepted" || fs[0].FollowID != r.ID {
			t.Fatalf("followers = %+v", fs)
		}
		// Deliver the queued Accept as the delivery workers would: the
		// document processing built, signed with the co-op's key.
		ins, err := n.db.InboundByActivityID(ctx, r.ID)
		if err != nil || len(ins) != 1 {
			t.Fatalf("inbound = %+v, %v", ins, err)
		}
		follow, err := decodeActivity(ins[0].Body, DefaultMaxBodyBytes)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := n.db.Coop(ctx)
		accept, _, err := acceptDocument(site, c, follow, peer.Actors[0])
		if err != nil {
			t.Fatal(err)
		}
		pa, _ := n.db.RemoteActor(ctx, peer.Actors[0])
		req, _ := http.NewRequest(http.MethodPost, pa.Inbox, bytes.NewReader(accept))
		req.Header.Set("Content-Type", "application/activity+json")
		if err := sig.Sign(req, site.KeyID("coop"), rsaKey(t, 0), accept, time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("Fedify answered %s to our Accept", resp.Status)
		}
		got, err := peer.Received(url.Values{"type": {"Accept"}, "verified": {"true"}}, 1, 10*time.Second)
		if err != nil || len(got) == 0 {
			t.Fatalf("Fedify did not record a verified Accept: %v", err)
		}
		// Fedify matched it to its Follow by object.id.
		var pa2 struct {
			FollowingList []struct{ Target, State string } `json:"followingList"`
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			if err := peer.Call("actor?user=peer", nil, &pa2); err != nil {
				t.Fatal(err)
			}
			if len(pa2.FollowingList) == 1 && pa2.FollowingList[0].State == "accepted" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Fedify's follow of the co-op: %+v", pa2.FollowingList)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := peer.Call("unfollow", map[string]any{"user": "peer", "target": coopURI}, &r); err != nil {
			t.Fatal(err)
		}
		n.process(t)
		if fs, _ := n.db.Followers(ctx, n.ids["coop"]); len(fs) != 0 {
			t.Fatalf("followers after Undo = %+v", fs)
		}
	})
}

// TestFedifyReadsQuestion: the Fedify peer, looking a proposal up at its
// page as a Mastodon user pasting its URL would, gets a Question that it
// parses with its own vocabulary, with the options in order and the
// counts now; a ranked proposal is a Note.
func TestFedifyReadsQuestion(t *testing.T) {
	peer := testpeer.Start(t)
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	site := coop.Site{Scheme: "http", Host: ln.Addr().String()}
	n := newInboxNode(t, site, nodeOptions{real: true}, "alice", "bob")
	hs := httptest.NewUnstartedServer(n.router)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	svc := &coop.Service{Store: n.db, Site: site}
	open := func(t *testing.T, method governance.Method) coop.Proposal {
		t.Helper()
		p, err := svc.OpenProposal(coop.AsAdmin(ctx), coop.NewProposal{Group: coop.CoopGroup, Title: "Adopt the tool",
			Body: "Shall we **adopt** it?", Method: method, ClosesIn: time.Hour, Quorum: governance.Ratio{Num: 1, Den: 2},
			Threshold: governance.Majority,
			Options:   []governance.Option{{Key: "yes", Label: "Yes"}, {Key: "later", Label: "Later"}, {Key: "no", Label: "No"}}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	vote := func(t *testing.T, handle string, num int64, args ...string) {
		t.Helper()
		pr := coop.WithPrincipal(ctx, coop.Principal{ID: site.ActorID(handle), Channel: "cli"})
		if _, err := svc.Vote(pr, num, args); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("a single choice proposal is a Question with its options and counts", func(t *testing.T) {
		p := open(t, governance.SingleChoice)
		vote(t, "alice", p.Num, "yes")
		vote(t, "bob", p.Num, "no")
		got, err := peer.Lookup(site.ProposalURL(p.Num))
		if err != nil {
			t.Fatal(err)
		}
		if got.Type != "Question" || got.ID != site.ProposalURL(p.Num) {
			t.Fatalf("Fedify read a %s %s:\n%s", got.Type, got.ID, got.Raw)
		}
		// Fedify's own compacted JSON-LD of what it parsed.
		var raw struct {
			OneOf []struct {
				Type    string `json:"type"`
				Name    string `json:"name"`
				Replies struct {
					TotalItems int `json:"totalItems"`
				} `json:"replies"`
			} `json:"oneOf"`
			VotersCount int    `json:"votersCount"`
			EndTime     string `json:"endTime"`
		}
		if err := json.Unmarshal(got.Raw, &raw); err != nil {
			t.Fatalf("%v: %s", err, got.Raw)
		}
		type option struct {
			Name  string
			Count int
		}
		var opts []option
		for _, o := range raw.OneOf {
			opts = append(opts, option{o.Name, o.Replies.TotalItems})
		}
		want := []option{{"Yes", 1}, {"Later", 0}, {"No", 1}}
		if diff := cmp.Diff(want, opts); diff != "" || raw.VotersCount != 2 || raw.EndTime == "" {
			t.Fatalf("Fedify's Question (-want +got):\n%s\nvotersCount %d endTime %q\n%s", diff, raw.VotersCount, raw.EndTime, got.Raw)
		}
	})
	t.Run("a ranked proposal is a Note", func(t *testing.T) {
		p := open(t, governance.InstantRunoff)
		got, err := peer.Lookup(site.ProposalURL(p.Num))
		if err != nil {
			t.Fatal(err)
		}
		if got.Type != "Note" || got.ID != site.ProposalURL(p.Num) {
			t.Fatalf("Fedify read a %s %s:\n%s", got.Type, got.ID, got.Raw)
		}
	})
}
