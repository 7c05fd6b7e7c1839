package coop_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

// postRecorder is the recorder that also keeps the posts and answers
// with an id, as package federation does.
type postRecorder struct {
	*recorder
	posts []coop.Post
}

func (p *postRecorder) PublishPost(_ context.Context, _ coop.Tx, post coop.Post) (string, error) {
	p.posts = append(p.posts, post)
	return "https://a.example/users/" + post.Author.Handle + "/notes/" + post.Serial + "/activity", nil
}

// remoteReply stores a Note from a remote account, as the inbox stores
// one, with the account's document.
func remoteReply(t *testing.T, s *coop.Service, n store.ReceivedNote, username, name string) {
	t.Helper()
	c, err := s.Store.Coop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	receive(t, s, func(ctx context.Context, tx coop.Tx) error {
		st := tx.(*store.Tx)
		host := strings.Split(strings.TrimPrefix(n.ActorURI, "https://"), "/")[0]
		if err := st.PutRemoteActor(ctx, store.RemoteActor{ID: n.ActorURI, Type: "Person", PreferredUsername: username,
			Name: name, Inbox: n.ActorURI + "/inbox", Host: host, FetchedAt: n.ReceivedAt}); err != nil {
			return err
		}
		n.ActivityID, n.RecipientIDs = n.ObjectID+"/activity", []int64{c.ID}
		if n.Raw == nil {
			n.Raw = []byte(`{"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["` + n.ActorURI + `/followers"]}`)
		}
		_, err := st.InsertReceivedNote(ctx, n)
		return err
	})
}

func TestProposalDiscussion(t *testing.T) {
	s, c, _ := votingNode(t)
	pub := &postRecorder{recorder: &recorder{}}
	s.Publisher = pub
	alice, bob := as(s, "alice"), as(s, "bob")
	p, err := s.OpenProposal(alice, yesNo("coop"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.OpenProposal(alice, yesNo("coop"))
	if err != nil {
		t.Fatal(err)
	}
	uri := s.Site.ProposalURL(p.Num)
	at := c.now()
	// A GoToSocial reply (its shape: statuses/ULID ids, content with a
	// mention), a vote, a direct message, a followers-only reply, a reply
	// to the other proposal: only the first is part of the discussion.
	remoteReply(t, s, store.ReceivedNote{ObjectID: "https://gts.example/users/zed/statuses/01A", ActorURI: "https://gts.example/users/zed",
		Content: `<p>We should, <a href="https://gts.example/tags/agpl">#agpl</a></p>`, InReplyTo: uri,
		Published: at.Add(time.Minute), ReceivedAt: at.Add(time.Minute)}, "zed", "Zed Z")
	remoteReply(t, s, store.ReceivedNote{ObjectID: "https://gts.example/users/zed/statuses/01B", ActorURI: "https://gts.example/users/zed",
		Name: "yes", InReplyTo: uri, Published: at.Add(2 * time.Minute), ReceivedAt: at.Add(2 * time.Minute)}, "zed", "Zed Z")
	remoteReply(t, s, store.ReceivedNote{ObjectID: "https://gts.example/users/zed/statuses/01C", ActorURI: "https://gts.example/users/zed",
		Content: "<p>psst</p>", InReplyTo: uri, Direct: true, Published: at.Add(3 * time.Minute), ReceivedAt: at.Add(3 * time.Minute)}, "zed", "Zed Z")
	remoteReply(t, s, store.ReceivedNote{ObjectID: "https://gts.example/users/zed/statuses/01D", ActorURI: "https://gts.example/users/zed",
		Content: "<p>for my followers</p>", InReplyTo: uri, Raw: []byte(`{"to":["https://gts.example/users/zed/followers"]}`),
		Published: at.Add(3 * time.Minute), ReceivedAt: at.Add(3 * time.Minute)}, "zed", "Zed Z")
	remoteReply(t, s, store.ReceivedNote{ObjectID: "https://fedify.example/notes/9", ActorURI: "https://fedify.example/users/ann",
		Content: "<p>elsewhere</p>", InReplyTo: s.Site.ProposalURL(other.Num), Published: at.Add(4 * time.Minute), ReceivedAt: at.Add(4 * time.Minute)}, "ann", "")

	c.advance(10 * time.Minute)
	if _, err := s.ReplyToProposal(bob, p.Num, "  I agree with Zed.\n\nLet us do it.  "); err != nil {
		t.Fatal(err)
	}
	if len(pub.posts) != 1 || pub.posts[0].InReplyTo != uri || pub.posts[0].Direct || pub.posts[0].Author.Handle != "bob" {
		t.Fatalf("published %+v", pub.posts)
	}
	// A reply to bob's reply, sent later: shown flat, in time order.
	c.advance(time.Minute)
	remoteReply(t, s, store.ReceivedNote{ObjectID: "https://fedify.example/notes/10", ActorURI: "https://fedify.example/users/ann",
		Content: "<p>+1 bob</p>", InReplyTo: "https://a.example/users/bob/notes/" + pub.posts[0].Serial,
		Published: c.now(), ReceivedAt: c.now()}, "ann", "")

	rs, err := s.ProposalDiscussion(context.Background(), p.Num)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.Name+"|"+r.Acct+"|"+r.Profile+"|"+r.HTML+r.Text)
	}
	want := []string{
		`Zed Z|@zed@gts.example|https://gts.example/users/zed|<p>We should, <a href="https://gts.example/tags/agpl">#agpl</a></p>`,
		"bob|@bob@a.example|https://a.example/@bob|I agree with Zed.\n\nLet us do it.",
		"ann|@ann@fedify.example|https://fedify.example/users/ann|<p>+1 bob</p>",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("discussion:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rs[0].ToReply || !rs[1].Member || !rs[2].ToReply {
		t.Errorf("flags: %+v", rs)
	}

	t.Run("only a member replies, in their own name", func(t *testing.T) {
		if _, err := s.ReplyToProposal(context.Background(), p.Num, "x"); !errors.Is(err, coop.ErrNoPrincipal) {
			t.Errorf("no principal: %v", err)
		}
		if _, err := s.ReplyToProposal(coop.AsAdmin(context.Background()), p.Num, "x"); !errors.Is(err, coop.ErrNotAllowed) {
			t.Errorf("the operator: %v", err)
		}
		if _, err := s.ReplyToProposal(bob, p.Num, "   "); !errors.Is(err, coop.ErrInvalidInput) {
			t.Errorf("empty: %v", err)
		}
		if _, err := s.ReplyToProposal(bob, 99, "x"); !errors.Is(err, coop.ErrNotFound) {
			t.Errorf("no such proposal: %v", err)
		}
		if _, err := s.ProposalDiscussion(context.Background(), 99); !errors.Is(err, coop.ErrNotFound) {
			t.Errorf("discussion of no proposal: %v", err)
		}
	})
}
