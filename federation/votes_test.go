package federation

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/store"
	"github.com/google/go-cmp/cmp"
)

// fakeProposals is a ProposalInbox that records what it is given; it
// fails the first fail calls.
type fakeProposals struct {
	mu     sync.Mutex
	fail   int
	votes  [][]coop.RemoteVote
	direct []coop.DirectMessage
	boosts []coop.Boost
}

func (f *fakeProposals) failing() error {
	if f.fail > 0 {
		f.fail--
		return errors.New("the proposal inbox failed")
	}
	return nil
}

func (f *fakeProposals) ReceiveVotes(ctx context.Context, tx coop.Tx, votes []coop.RemoteVote) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failing(); err != nil {
		return err
	}
	f.votes = append(f.votes, append([]coop.RemoteVote(nil), votes...))
	return nil
}

func (f *fakeProposals) ReceiveDirect(ctx context.Context, tx coop.Tx, m coop.DirectMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failing(); err != nil {
		return err
	}
	m.To = coop.Actor{Handle: m.To.Handle} // enough to name it
	f.direct = append(f.direct, m)
	return nil
}

func (f *fakeProposals) ReceiveBoost(ctx context.Context, tx coop.Tx, b coop.Boost) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failing(); err != nil {
		return err
	}
	f.boosts = append(f.boosts, b)
	return nil
}

// calls is what a fakeProposals was given.
type calls struct {
	Votes  [][]coop.RemoteVote
	Direct []coop.DirectMessage
	Boosts []coop.Boost
}

func (f *fakeProposals) calls() calls {
	f.mu.Lock()
	defer f.mu.Unlock()
	return calls{f.votes, f.direct, f.boosts}
}

const votesDir = "testdata/votes"

var voteSite = coop.Site{Scheme: "https", Host: "coop.test"}

// voteNode is a node at coop.test with proposals 1 and 2 (the co-op's) and
// a fakeProposals, and a peer at peer.test whose voter, fedi and alice
// sign with test key 1.
type voteNode struct {
	*inboxNode
	peer *remote
	fake *fakeProposals
}

func newVoteNode(t *testing.T, queueAll, withInbox bool) *voteNode {
	t.Helper()
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	for _, name := range []string{"voter", "fedi", "alice"} {
		peer.serveActor(name, &key.PublicKey)
	}
	n := newInboxNode(t, voteSite, nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}, queueAll: queueAll}, "alice")
	fake := &fakeProposals{}
	if withInbox {
		n.proc.proposals = fake // as ProcessorConfig.Proposals sets it
	}
	err := n.db.Write(ctx, func(tx *store.Tx) error {
		for _, m := range []governance.Method{governance.SingleChoice, governance.Approval} {
			_, err := tx.InsertProposal(ctx, coop.Proposal{Proposal: governance.Proposal{
				Title: "T", Body: "B", Proposer: n.site.ActorID("alice"), Method: m,
				Options: []governance.Option{{Key: "a", Label: "Blue"}, {Key: "b", Label: "beta"}},
				OpensAt: t0, ClosesAt: t0.Add(time.Hour), Quorum: governance.Ratio{Num: 1, Den: 2},
				Threshold: governance.Majority, Eligibility: governance.CoopMembers, State: governance.Open,
			}, GroupID: n.ids["coop"], Created: t0, Updated: t0})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return &voteNode{inboxNode: n, peer: peer, fake: fake}
}

// voteBody reads a file of testdata/votes, changed by edit when not nil.
func voteBody(t testing.TB, file string, edit func(m map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(votesDir, file))
	if err != nil {
		t.Fatal(err)
	}
	if edit == nil {
		return b
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	return mustJSON(t, m)
}

// send posts body to the shared inbox, signed by its actor.
func (n *voteNode) send(t testing.TB, body []byte) string {
	t.Helper()
	var m struct{ ID, Actor string }
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	wantAccepted(t, n.post(signedPost(t, n.inboxNode, "/inbox", body, m.Actor+"#main-key", rsaKey(t, 1))))
	return m.ID
}

func (n *voteNode) state(t testing.TB, id string) string {
	t.Helper()
	ins, err := n.db.InboundByActivityID(context.Background(), id)
	if err != nil || len(ins) != 1 {
		t.Fatalf("inbound %s: %+v, %v", id, ins, err)
	}
	return ins[0].State
}

func (n *voteNode) notes(t testing.TB) []string {
	t.Helper()
	ns, err := n.db.ReceivedNotes(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range ns {
		ids = append(ids, x.ObjectID)
	}
	return ids
}

// TestProposalInbox: the votes, boosts and direct messages that servers
// send as they send them, through the inbox, applied inline (in the
// transaction that stores them) and by the processor: what the
// ProposalInbox is given, and which Notes are stored.
func TestProposalInbox(t *testing.T) {
	const (
		voter = "http://peer.test/users/voter"
		fedi  = "http://peer.test/users/fedi"
		alice = "http://peer.test/users/alice"
	)
	// at is when the inbox accepted what it was sent: the node's fixed
	// clock.
	at := t0
	vote := func(num int64, account, option, activity, note string) coop.RemoteVote {
		return coop.RemoteVote{Proposal: num, Account: account, Option: option, ActivityID: activity, NoteID: note, AcceptedAt: at}
	}
	// dm is the direct message a Note sent to the co-op alone is.
	dm := func(account, note, text string) []coop.DirectMessage {
		return []coop.DirectMessage{{To: coop.Actor{Handle: "coop"}, Account: account, Text: text, NoteID: note, AcceptedAt: at}}
	}
	inReplyTo := func(to string, content any) func(m map[string]any) {
		return func(m map[string]any) {
			m["id"] = m["id"].(string) + "/edited"
			o := m["object"].(map[string]any)
			o["id"] = o["id"].(string) + "/edited"
			if to != "" {
				o["inReplyTo"] = to
			}
			if content != nil {
				o["content"] = content
			}
		}
	}
	type post struct {
		file string
		edit func(m map[string]any)
	}
	cases := []struct {
		name    string
		posts   []post
		noInbox bool // no ProposalInbox configured
		fetched bool // the processor applies it even where the inbox could (a fetch)
		want    calls
		notes   []string // the Notes stored
	}{
		{name: "a single vote (GoToSocial, oneOf)",
			posts: []post{{file: "gts-vote-oneof.json"}},
			want: calls{Votes: [][]coop.RemoteVote{{vote(1, voter, "beta",
				"http://peer.test/users/voter/activity#vote0/https://coop.test/proposals/1",
				"http://peer.test/users/voter#01M8926TZ8SMYM07BMXPV0BS1W/votes/1")}}}},
		{name: "two Creates for two options of a multiple-choice poll are two votes",
			posts: []post{{file: "gts-vote-anyof-1of2.json"}, {file: "gts-vote-anyof-2of2.json"}},
			want: calls{Votes: [][]coop.RemoteVote{
				{vote(2, voter, "red", "http://peer.test/users/voter/activity#vote0/https://coop.test/proposals/2",
					"http://peer.test/users/voter#01M8926TZ8FH9XFCKKH10QVQ7Q/votes/0")},
				{vote(2, voter, "blue", "http://peer.test/users/voter/activity#vote1/https://coop.test/proposals/2",
					"http://peer.test/users/voter#01M8926TZ8FH9XFCKKH10QVQ7Q/votes/2")},
			}}},
		{name: "one Create with two vote Notes is two votes, in one call, in order",
			posts: []post{{file: "peer-vote-array.json"}},
			want: calls{Votes: [][]coop.RemoteVote{{
				vote(2, alice, "https", "http://peer.test/users/alice#votes/301/activity", "http://peer.test/users/alice#votes/301"),
				vote(2, alice, "gopher", "http://peer.test/users/alice#votes/301/activity", "http://peer.test/users/alice#votes/302"),
			}}}},
		{name: "Fedify's vote shaped as Mastodon's",
			posts: []post{{file: "fedify-vote-mastodon-style.json"}},
			want: calls{Votes: [][]coop.RemoteVote{{vote(1, fedi, "Blue",
				"http://peer.test/users/fedi#votes/1795602076421/activity", "http://peer.test/users/fedi#votes/1795602076421")}}}},
		{name: "Fedify's own vote, with LD signature and proof",
			posts: []post{{file: "fedify-vote.json"}},
			want: calls{Votes: [][]coop.RemoteVote{{vote(1, fedi, "Blue",
				"http://peer.test/users/fedi#votes/1795602076422/activity", "http://peer.test/users/fedi#votes/1795602076422")}}}},
		{name: "a name that is no option is still a vote, kept exactly (the inbox refuses and counts it)",
			posts: []post{{file: "fedify-vote-mastodon-style.json", edit: func(m map[string]any) {
				m["object"].(map[string]any)["name"] = "  blue <b>"
			}}},
			want: calls{Votes: [][]coop.RemoteVote{{vote(1, fedi, "  blue <b>",
				"http://peer.test/users/fedi#votes/1795602076421/activity", "http://peer.test/users/fedi#votes/1795602076421")}}}},
		{name: "a reply with content is not a vote: it is a Note (here a direct message to the co-op)",
			posts: []post{{file: "fedify-vote-mastodon-style.json", edit: inReplyTo("", "<p>Blue, because it is calm</p>")}},
			want:  calls{Direct: dm(fedi, "http://peer.test/users/fedi#votes/1795602076421/edited", "Blue, because it is calm")},
			notes: []string{"http://peer.test/users/fedi#votes/1795602076421/edited"}},
		{name: "a vote on another server's poll is not one for us: a Note (to the co-op alone: direct)",
			posts: []post{{file: "gts-vote-oneof.json", edit: inReplyTo("http://peer.test/users/alice/statuses/poll-one", nil)}},
			want:  calls{Direct: dm(voter, "http://peer.test/users/voter#01M8926TZ8SMYM07BMXPV0BS1W/votes/1/edited", "")},
			notes: []string{"http://peer.test/users/voter#01M8926TZ8SMYM07BMXPV0BS1W/votes/1/edited"}},
		{name: "a vote on a proposal number that names none is not one for us",
			posts: []post{{file: "gts-vote-oneof.json", edit: inReplyTo("https://coop.test/proposals/99", nil)}},
			want:  calls{Direct: dm(voter, "http://peer.test/users/voter#01M8926TZ8SMYM07BMXPV0BS1W/votes/1/edited", "")},
			notes: []string{"http://peer.test/users/voter#01M8926TZ8SMYM07BMXPV0BS1W/votes/1/edited"}},
		{name: "a vote on a URL that names no proposal number is not one for us",
			posts: []post{{file: "gts-vote-oneof.json", edit: inReplyTo("https://coop.test/proposals/01", nil)}},
			want:  calls{Direct: dm(voter, "http://peer.test/users/voter#01M8926TZ8SMYM07BMXPV0BS1W/votes/1/edited", "")},
			notes: []string{"http://peer.test/users/voter#01M8926TZ8SMYM07BMXPV0BS1W/votes/1/edited"}},
		{name: "the same activity twice is applied once",
			posts: []post{{file: "gts-vote-oneof.json"}, {file: "gts-vote-oneof.json"}},
			want: calls{Votes: [][]coop.RemoteVote{{vote(1, voter, "beta",
				"http://peer.test/users/voter/activity#vote0/https://coop.test/proposals/1",
				"http://peer.test/users/voter#01M8926TZ8SMYM07BMXPV0BS1W/votes/1")}}}},
		{name: "a vote given by id is fetched from its origin",
			posts: []post{{file: "gts-vote-oneof.json", edit: func(m map[string]any) {
				m["id"] = voter + "/activity/fetched"
				m["object"] = voter + "/votes/fetched"
			}}},
			fetched: true,
			want:    calls{Votes: [][]coop.RemoteVote{{vote(1, voter, "beta", voter+"/activity/fetched", voter+"/votes/fetched")}}}},
		{name: "an Announce of a proposal is a boost",
			posts: []post{{file: "gts-announce.json"}},
			want:  calls{Boosts: []coop.Boost{{Proposal: 1, Account: voter, AcceptedAt: at}}}},
		{name: "an Announce of something else is not",
			posts: []post{{file: "gts-announce.json", edit: func(m map[string]any) { m["object"] = "https://coop.test/proposals/99" }}}},
		{name: "a direct message to the co-op is stored and given as plain text",
			posts: []post{{file: "gts-create-note-direct.json"}},
			want: calls{Direct: []coop.DirectMessage{{To: coop.Actor{Handle: "coop"}, Account: voter,
				Text: "@coop psst, this is a direct message.", NoteID: "http://peer.test/users/voter/statuses/01M895P9GYBMG1Z00PB7BGP3JA", AcceptedAt: at}}},
			notes: []string{"http://peer.test/users/voter/statuses/01M895P9GYBMG1Z00PB7BGP3JA"}},
		{name: "a direct Note sent again in another Create is not a new message",
			posts: []post{{file: "gts-create-note-direct.json"}, {file: "gts-create-note-direct.json", edit: func(m map[string]any) {
				m["id"] = m["id"].(string) + "/again"
			}}},
			want: calls{Direct: []coop.DirectMessage{{To: coop.Actor{Handle: "coop"}, Account: voter,
				Text: "@coop psst, this is a direct message.", NoteID: "http://peer.test/users/voter/statuses/01M895P9GYBMG1Z00PB7BGP3JA", AcceptedAt: at}}},
			notes: []string{"http://peer.test/users/voter/statuses/01M895P9GYBMG1Z00PB7BGP3JA"}},
		{name: "a public post mentioning the co-op is no direct message",
			posts: []post{{file: "gts-create-note-direct.json", edit: func(m map[string]any) {
				m["object"].(map[string]any)["cc"] = nsPublic
			}}},
			notes: []string{"http://peer.test/users/voter/statuses/01M895P9GYBMG1Z00PB7BGP3JA"}},
		{name: "without a ProposalInbox a vote is a Note as before",
			posts:   []post{{file: "gts-vote-oneof.json"}},
			noInbox: true,
			notes:   []string{"http://peer.test/users/voter#01M8926TZ8SMYM07BMXPV0BS1W/votes/1"}},
	}
	for _, path := range []string{"inline", "processor"} {
		for _, c := range cases {
			t.Run(path+"/"+c.name, func(t *testing.T) {
				n := newVoteNode(t, path == "processor", !c.noInbox)
				n.peer.set("/users/voter/votes/fetched", http.StatusOK, string(voteBody(t, "gts-vote-oneof.json", func(m map[string]any) {
					o := m["object"].(map[string]any)
					o["id"] = voter + "/votes/fetched"
					for k, v := range o {
						m[k] = v
					}
				})))
				var ids []string
				for _, p := range c.posts {
					ids = append(ids, n.send(t, voteBody(t, p.file, p.edit)))
				}
				wantState := "done"
				if path == "processor" || c.fetched {
					wantState = "queued"
					if got := n.fake.calls(); !cmp.Equal(got, calls{}) {
						t.Errorf("before processing: %+v", got)
					}
				}
				for _, id := range ids {
					if got := n.state(t, id); got != wantState {
						t.Errorf("%s is %s before processing, want %s", id, got, wantState)
					}
				}
				n.process(t)
				for _, id := range ids {
					if got := n.state(t, id); got != "done" {
						t.Errorf("%s is %s after processing", id, got)
					}
				}
				if diff := cmp.Diff(c.want, n.fake.calls()); diff != "" {
					t.Errorf("given to the ProposalInbox (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(c.notes, n.notes(t)); diff != "" {
					t.Errorf("stored Notes (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// nsPublic is the public collection.
const nsPublic = "https://www.w3.org/ns/activitystreams#Public"

// TestProposalInboxFailure: when the ProposalInbox fails, the activity is
// not lost: the inbox stores it for the processor, which retries it until
// it is taken, once.
func TestProposalInboxFailure(t *testing.T) {
	for _, path := range []string{"inline", "processor"} {
		t.Run(path, func(t *testing.T) {
			n := newVoteNode(t, path == "processor", true)
			n.fake.fail = 2
			if path == "processor" {
				n.fake.fail = 1
			}
			id := n.send(t, voteBody(t, "gts-vote-oneof.json", nil))
			if got := n.state(t, id); got != "queued" {
				t.Fatalf("%s before processing, want queued", got)
			}
			n.process(t)
			ins, err := n.db.InboundByActivityID(context.Background(), id)
			if err != nil || len(ins) != 1 {
				t.Fatal(ins, err)
			}
			if ins[0].State != "queued" || !strings.Contains(ins[0].LastError, "the proposal inbox failed") {
				t.Fatalf("after a failure: %s, %q", ins[0].State, ins[0].LastError)
			}
			if got := n.fake.calls(); len(got.Votes) != 0 {
				t.Fatalf("votes given by a failed attempt: %+v", got)
			}
			n.advance(time.Hour)
			n.process(t)
			if got := n.state(t, id); got != "done" {
				t.Fatalf("after the retry: %s", got)
			}
			if got := n.fake.calls(); len(got.Votes) != 1 || len(got.Votes[0]) != 1 || got.Votes[0][0].Option != "beta" {
				t.Errorf("votes: %+v", got)
			}
			if len(n.notes(t)) != 0 {
				t.Errorf("notes stored: %v", n.notes(t))
			}
		})
	}
}

// TestMessageText: a direct message's content as plain text.
func TestMessageText(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"tags stripped, entities decoded", `<p>code: <b>K7&amp;Q</b> &lt;ok&gt;</p>`, "code: K7&Q <ok>"},
		{"paragraphs and breaks are lines", `<p>one</p><p>two<br>three<br/>four</p>`, "one\ntwo\nthree\nfour"},
		{"controls and bidi overrides dropped", "a\u202eb\x00c\td", "abc d"},
		{"scripts go whole", `<script>alert(1)</script>hi`, "hi"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := messageText(c.in); got != c.want {
				t.Errorf("messageText(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// FuzzDecodeVotes: decoding votes from any activity JSON does not panic,
// and what it returns is a vote on a local proposal by the actor, with a
// bounded, valid name.
func FuzzDecodeVotes(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(votesDir, "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"http://p.test/a","type":"Create","actor":"http://p.test/u","object":{"id":"http://p.test/n","type":"Note","name":"x","inReplyTo":{"id":"https://coop.test/proposals/9"}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		votes, err := decodeVotes(voteSite, body)
		if err != nil && len(votes) > 0 {
			t.Fatal("votes with an error")
		}
		a, _ := decodeActivity(body, int64(len(body))+1)
		for _, v := range votes {
			if v.Proposal <= 0 || v.Account != a.Actor || v.ActivityID != a.ID || !sameOrigin(v.NoteID, a.Actor) {
				t.Fatalf("vote %+v of %s", v, a.Actor)
			}
			if v.Option == "" || len(v.Option) > maxOptionBytes || !utf8.ValidString(v.Option) {
				t.Fatalf("option %q", v.Option)
			}
			if n, ok := voteSite.ProposalNum(voteSite.URL("/proposals/") + strconv.FormatInt(v.Proposal, 10)); !ok || n != v.Proposal {
				t.Fatalf("proposal %d does not round-trip", v.Proposal)
			}
		}
	})
}
