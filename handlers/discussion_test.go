package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/store"
)

// postPublisher stands in for package federation where a member posts:
// it keeps the posts and answers with the Create's id as federation
// makes it. The other methods are not called by these tests.
type postPublisher struct {
	coop.Publisher
	site  coop.Site
	posts []coop.Post
}

func (p *postPublisher) PublishPost(_ context.Context, _ coop.Tx, post coop.Post) (string, error) {
	p.posts = append(p.posts, post)
	return p.site.ActorID(post.Author.Handle) + "/notes/" + post.Serial + "/activity", nil
}

// openTestProposal opens a single-choice proposal of the co-op as handle.
func openTestProposal(t *testing.T, f fixture, handle, title string) coop.Proposal {
	t.Helper()
	p, err := f.svc.OpenProposal(coop.WithPrincipal(context.Background(), coop.Principal{ID: f.svc.Site.ActorID(handle), Channel: "web"}),
		coop.NewProposal{Group: coop.CoopGroup, Title: title, Body: "Shall we?",
			Options: []governance.Option{{Key: "yes", Label: "Yes"}, {Key: "no", Label: "No"}}, Method: governance.SingleChoice,
			ClosesIn: 72 * time.Hour, Quorum: governance.Ratio{Num: 0, Den: 1}, Threshold: governance.Majority})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// receiveFixture stores the Note of a captured Create as the inbox does
// (a GoToSocial reply here), with its author's document; the content is
// stored as it came, unsanitized, so that the page alone must clean it.
func receiveFixture(t *testing.T, f fixture, file, name string) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	// The capture's node is https://coop.example: the fixture's node may
	// be served elsewhere (the browser tests').
	body = []byte(strings.ReplaceAll(string(body), "https://coop.example/", f.svc.Site.URL("/")))
	var act struct {
		ID     string `json:"id"`
		Actor  string `json:"actor"`
		Object struct {
			ID        string `json:"id"`
			Content   string `json:"content"`
			Name      string `json:"name"`
			InReplyTo string `json:"inReplyTo"`
			Published string `json:"published"`
		} `json:"object"`
	}
	if err := json.Unmarshal(body, &act); err != nil {
		t.Fatal(err)
	}
	published, err := time.Parse(time.RFC3339, act.Object.Published)
	if err != nil {
		t.Fatal(err)
	}
	storeNote(t, f, store.ReceivedNote{ActivityID: act.ID, ObjectID: act.Object.ID, ActorURI: act.Actor, Content: act.Object.Content,
		Name: act.Object.Name, InReplyTo: act.Object.InReplyTo, Published: published, Raw: body, ReceivedAt: published}, name)
}

func storeNote(t *testing.T, f fixture, n store.ReceivedNote, name string) {
	t.Helper()
	c, err := f.svc.Store.Coop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(n.ActorURI)
	if err != nil {
		t.Fatal(err)
	}
	err = f.db.Write(context.Background(), func(tx *store.Tx) error {
		if err := tx.PutRemoteActor(context.Background(), store.RemoteActor{ID: n.ActorURI, Type: "Person",
			PreferredUsername: filepath.Base(u.Path), Name: name, Inbox: n.ActorURI + "/inbox", Host: u.Host, FetchedAt: n.ReceivedAt}); err != nil {
			return err
		}
		if n.ActivityID == "" {
			n.ActivityID = n.ObjectID + "/activity"
		}
		if n.Raw == nil {
			n.Raw = []byte(`{"to":"https://www.w3.org/ns/activitystreams#Public"}`)
		}
		n.RecipientIDs = []int64{c.ID}
		_, err := tx.InsertReceivedNote(context.Background(), n)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestProposalDiscussion: the proposal's page shows the replies from the
// fediverse sanitized, oldest first, without the poll votes; a member
// replies from the page, and the reply is published and shown.
func TestProposalDiscussion(t *testing.T) {
	f := newFixture(t)
	p := openTestProposal(t, f, "alice", "Move to Forgejo")
	path := "/proposals/1"
	if p.Num != 1 {
		t.Fatalf("proposal %d", p.Num)
	}
	pub := &postPublisher{site: f.svc.Site}
	f.svc.Publisher = pub

	visitor := newBrowser(t, f.handler)
	resp, page := visitor.do("GET", path, nil)
	mustContain(t, "no replies", resp.StatusCode, 200, page, `id="discussion"`, "No replies yet.", "to reply as a member")

	const hostileName = `Vo <img src=x onerror=alert(1)> Ter`
	receiveFixture(t, f, "discussion-gts-reply.json", hostileName)
	storeNote(t, f, store.ReceivedNote{ObjectID: "http://peer.test/users/voter/statuses/VOTE", ActorURI: "http://peer.test/users/voter",
		Name: "yes", InReplyTo: f.svc.Site.ProposalURL(1), Published: time.Date(2026, 11, 25, 12, 6, 0, 0, time.UTC),
		ReceivedAt: time.Date(2026, 11, 25, 12, 6, 0, 0, time.UTC)}, hostileName)

	resp, page = visitor.do("GET", path, nil)
	mustContain(t, "a remote reply", resp.StatusCode, 200, page,
		`<a href="http://peer.test/users/voter" class="reply-author">Vo &lt;img src=x onerror=alert(1)&gt; Ter</a> <span class="acct">@voter@peer.test</span>`,
		`I would <strong>rather</strong> wait.`, `<a href="https://peer.test/notes" rel="nofollow noreferrer noopener" target="_blank">the source</a>`,
		`datetime="2026-11-25T12:05:00Z"`)
	discussion := page[strings.Index(page, `id="discussion"`):]
	for _, bad := range []string{"<script", "steal()", "onclick", "javascript:", "<img"} {
		if strings.Contains(discussion, bad) {
			t.Errorf("the discussion prints %q:\n%s", bad, discussion)
		}
	}
	if strings.Count(discussion, `class="reply"`) != 1 {
		t.Errorf("the vote shows as a reply:\n%s", discussion)
	}

	t.Run("visitors and forged forms do not reply", func(t *testing.T) {
		if resp, _ := visitor.do("POST", path+"/replies", url.Values{"text": {"hi"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a visitor's reply: %d", resp.StatusCode)
		}
		bob := signedIn(t, f, "alice")
		if resp, _ := bob.do("POST", path+"/replies", url.Values{"text": {"hi"}, "csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a reply without the token: %d", resp.StatusCode)
		}
		if len(pub.posts) != 0 {
			t.Errorf("published %+v", pub.posts)
		}
	})

	alice := signedIn(t, f, "alice")
	_, page = alice.do("GET", path, nil)
	csrf := csrfOf(t, page)
	mustContain(t, "the reply form", 200, 200, page, `<label for="reply-text">Your reply</label>`, `action="/proposals/1/replies"`)

	resp, page = alice.do("POST", path+"/replies", url.Values{"csrf": {csrf}, "text": {"   "}})
	mustContain(t, "an empty reply", resp.StatusCode, http.StatusBadRequest, page, `id="reply-error">The post is empty.</span>`, `aria-invalid="true"`)

	resp, _ = alice.do("POST", path+"/replies", url.Values{"csrf": {csrf}, "text": {"Agreed, <b>but</b> after the release.\n\nIn March?"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/proposals/1?done=replied#discussion" {
		t.Fatalf("reply: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if len(pub.posts) != 1 || pub.posts[0].InReplyTo != "https://coop.example/proposals/1" || pub.posts[0].Author.Handle != "alice" || pub.posts[0].Direct {
		t.Fatalf("published %+v", pub.posts)
	}
	resp, page = alice.do("GET", "/proposals/1?done=replied", nil)
	mustContain(t, "the member's reply", resp.StatusCode, 200, page, "Your reply was published.",
		`<a href="https://coop.example/@alice" class="reply-author">Alice</a> <span class="acct">@alice@coop.example</span> <span class="badge">member</span>`,
		`<p>Agreed, &lt;b&gt;but&lt;/b&gt; after the release.</p><p>In March?</p>`)
	// Oldest first: the fixture's clock says 12:00 for alice's reply,
	// the GoToSocial reply says 12:05.
	if i, j := strings.Index(page, "Agreed, &lt;b&gt;"), strings.Index(page, "I would <strong>rather</strong>"); i < 0 || j < i {
		t.Errorf("not oldest first")
	}
}

// replyNote is a public reply to proposal 1 from a remote account.
func replyNote(f fixture, id, content string) store.ReceivedNote {
	at := f.svc.Clock().Add(time.Minute)
	return store.ReceivedNote{ObjectID: id, ActorURI: id[:strings.Index(id, "/statuses/")], Content: content,
		InReplyTo: f.svc.Site.ProposalURL(1), Published: at, ReceivedAt: at}
}
