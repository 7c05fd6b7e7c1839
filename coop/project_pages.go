package coop

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/coopfed/coopfed/governance"
)

// A project's page (issue 9) lists what the project posted, the posts
// other servers' accounts addressed to it publicly, and the proposals it
// decides. Everything listed here is public: the Group's outbox holds no
// direct message, and a received Note shows only when it was addressed
// to the public.

// ProjectPostsPerPage is how many posts a project's page lists at once.
const ProjectPostsPerPage = 20

// OutboxEntry is one activity in a local actor's outbox, as stored.
type OutboxEntry struct {
	Cursor    int64 // its row, for paging
	Type      string
	Body      []byte // the activity's JSON
	Published time.Time
}

// ReceivedPost is a public Note a remote actor addressed to a local
// actor. Content is the HTML cleaned when it was received (package
// federation's sanitizer); a page cleans it again before showing it.
type ReceivedPost struct {
	Cursor   int64
	ObjectID string
	ActorURI string
	// AuthorHandle, AuthorName and AuthorHost are the author's, from the
	// stored remote actor ("" when it is not at hand); Name and Acct what
	// a page shows of them (authorCard).
	AuthorHandle, AuthorName, AuthorHost string
	Name, Acct                           string
	Content                              string
	InReplyTo                            string
	Published                            time.Time // when it says it was published, else when it came
}

// ProjectPageReader is what the project page's lists read.
type ProjectPageReader interface {
	// OutboxPosts lists the Create{Note} and Announce activities of a
	// local actor's outbox with rows below before (all when 0), newest
	// first, at most limit.
	OutboxPosts(ctx context.Context, actorID, before int64, limit int) ([]OutboxEntry, error)
	// PublicNotesTo lists the received Notes addressed to a local actor
	// that are public (the public collection in their to or cc), neither
	// direct messages nor poll votes, with rows below before (all when
	// 0), newest first, at most limit.
	PublicNotesTo(ctx context.Context, actorID, before int64, limit int) ([]ReceivedPost, error)
}

// ProjectPost is a post of a project: a Note it published, or another
// account's post it announced (boosted).
type ProjectPost struct {
	Cursor    int64
	URL       string // the Note's id, or the announced post's
	Content   string // the Note's HTML (empty for an announce of a post not at hand)
	Author    string // the announced post's author, when known
	Published time.Time
	Announce  bool
}

// ProjectPostPage is one page of a project's posts, newest first; Next
// is the cursor of the older page, 0 on the last.
type ProjectPostPage struct {
	Posts []ProjectPost
	Next  int64
}

// liveProject finds a live project for a page.
func (s *Service) liveProject(ctx context.Context, slug string) (Project, error) {
	p, err := s.Store.ProjectByHandle(ctx, slug)
	if err != nil {
		return Project{}, err
	}
	if p.Removed() {
		return Project{}, fmt.Errorf("%w: project %q was removed", ErrGone, slug)
	}
	return p, nil
}

// ProjectPosts returns a page of what the project posted, newest first:
// the Notes it published (contributions, payouts, posts) and the posts it
// announced; before is a cursor from an earlier page (0 for the newest).
func (s *Service) ProjectPosts(ctx context.Context, slug string, before int64) (ProjectPostPage, error) {
	r := s.Store
	p, err := s.liveProject(ctx, slug)
	if err != nil {
		return ProjectPostPage{}, fmt.Errorf("coop: posts of %q: %w", slug, err)
	}
	es, err := r.OutboxPosts(ctx, p.ID, before, ProjectPostsPerPage+1)
	if err != nil {
		return ProjectPostPage{}, fmt.Errorf("coop: posts of %q: %w", slug, err)
	}
	var out ProjectPostPage
	if len(es) > ProjectPostsPerPage {
		es = es[:ProjectPostsPerPage]
		out.Next = es[len(es)-1].Cursor
	}
	for _, e := range es {
		out.Posts = append(out.Posts, projectPost(e))
	}
	return out, nil
}

// projectPost reads what a page shows of an outbox activity: its object's
// id, content and author, embedded or named by id.
func projectPost(e OutboxEntry) ProjectPost {
	p := ProjectPost{Cursor: e.Cursor, Published: e.Published, Announce: e.Type == "Announce"}
	var act struct {
		Object json.RawMessage `json:"object"`
	}
	if json.Unmarshal(e.Body, &act) != nil {
		return p
	}
	var id string
	if json.Unmarshal(act.Object, &id) == nil {
		p.URL = id
		return p
	}
	var obj struct {
		ID           string          `json:"id"`
		URL          json.RawMessage `json:"url"`
		Content      string          `json:"content"`
		AttributedTo json.RawMessage `json:"attributedTo"`
	}
	if json.Unmarshal(act.Object, &obj) != nil {
		return p
	}
	p.URL, p.Content = obj.ID, obj.Content
	if p.Announce {
		var author string
		if json.Unmarshal(obj.AttributedTo, &author) == nil {
			p.Author = author
		}
	}
	return p
}

// ProjectMentions returns the newest public posts that remote accounts
// addressed to the project (at most ProjectPostsPerPage).
func (s *Service) ProjectMentions(ctx context.Context, slug string) ([]ReceivedPost, error) {
	r := s.Store
	p, err := s.liveProject(ctx, slug)
	if err != nil {
		return nil, fmt.Errorf("coop: posts to %q: %w", slug, err)
	}
	ps, err := r.PublicNotesTo(ctx, p.ID, 0, ProjectPostsPerPage)
	if err != nil {
		return nil, fmt.Errorf("coop: posts to %q: %w", slug, err)
	}
	for i, x := range ps {
		ps[i].Name, ps[i].Acct = authorCard(x.ActorURI, x.AuthorHandle, x.AuthorName, x.AuthorHost)
	}
	return ps, nil
}

// ProjectProposals returns the proposals the project decides: the open
// ones, then the closed and withdrawn ones, newest first in each.
func (s *Service) ProjectProposals(ctx context.Context, slug string) (open, closed []Proposal, err error) {
	p, err := s.liveProject(ctx, slug)
	if err != nil {
		return nil, nil, fmt.Errorf("coop: proposals of %q: %w", slug, err)
	}
	all, err := s.Store.Proposals(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("coop: proposals of %q: %w", slug, err)
	}
	for _, pr := range all {
		if pr.GroupID != p.ID {
			continue
		}
		if pr.State == governance.Open {
			open = append(open, pr)
		} else {
			closed = append(closed, pr)
		}
	}
	return open, closed, nil
}
