package coop

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The discussion of a proposal (issue 9): the public replies that
// fediverse accounts sent to its Question or Note, and those members
// published from its page, in time order. Replies to replies are part of
// it, shown flat. Poll votes (a Note with a name and no content) and
// direct messages are not.

// DiscussionNote is a reply as the store keeps it.
type DiscussionNote struct {
	ID        string // the Note's id
	InReplyTo string
	// Local is true for a reply a local actor published: AuthorHandle is
	// theirs and Text is what they wrote (plain text). Otherwise the
	// author is a remote actor (AuthorURI; AuthorHandle its
	// preferredUsername, AuthorHost its host, empty when its document is
	// not at hand) and HTML its content, cleaned when it was received.
	Local        bool
	AuthorURI    string
	AuthorHandle string
	AuthorName   string
	AuthorHost   string
	Text         string
	HTML         string
	Published    time.Time
}

// LocalReply is a reply a local actor published, recorded so that the
// discussion shows it.
type LocalReply struct {
	NoteID    string
	InReplyTo string
	AuthorID  int64
	Text      string
	Published time.Time
}

// DiscussionReader reads discussions.
type DiscussionReader interface {
	// Discussion lists the public replies to uri, and the replies to
	// those, from remote actors (received Notes with content) and local
	// ones, oldest first.
	Discussion(ctx context.Context, uri string) ([]DiscussionNote, error)
}

// DiscussionWriter records local replies.
type DiscussionWriter interface {
	// InsertLocalReply records a reply a local actor published.
	InsertLocalReply(ctx context.Context, r LocalReply) error
}

// Reply is one reply of a proposal's discussion, as a page shows it.
type Reply struct {
	ID string
	// Name is the author's display name (their handle when they have
	// none), Acct their @name@host, Profile their profile's address.
	Name    string
	Acct    string
	Profile string
	Member  bool // a member of this co-op, replying from its pages
	// HTML is a remote reply's content, cleaned when it was received:
	// show it only through a sanitizer still (it came from elsewhere).
	// Text is a member's reply as written (plain text).
	HTML      string
	Text      string
	Published time.Time
	// ToReply is true for a reply to another reply rather than to the
	// proposal.
	ToReply bool
}

// ProposalDiscussion lists the replies to proposal num, oldest first.
// Anyone who may read the proposal may read them: they are public posts.
func (s *Service) ProposalDiscussion(ctx context.Context, num int64) ([]Reply, error) {
	if _, err := s.Store.Proposal(ctx, num); err != nil {
		return nil, fmt.Errorf("coop: discussion of %d: %w", num, err)
	}
	uri := s.Site.ProposalURL(num)
	notes, err := s.Store.Discussion(ctx, uri)
	if err != nil {
		return nil, fmt.Errorf("coop: discussion of %d: %w", num, err)
	}
	out := make([]Reply, 0, len(notes))
	for _, n := range notes {
		out = append(out, s.reply(n, uri))
	}
	return out, nil
}

func (s *Service) reply(n DiscussionNote, uri string) Reply {
	r := Reply{ID: n.ID, Name: n.AuthorName, Published: n.Published, ToReply: n.InReplyTo != uri}
	if n.Local {
		r.Member, r.Text = true, n.Text
		r.Acct = "@" + s.Site.Acct(n.AuthorHandle)
		r.Profile = s.Site.ProfileURL(n.AuthorHandle)
		if r.Name == "" {
			r.Name = n.AuthorHandle
		}
		return r
	}
	r.HTML, r.Profile = n.HTML, n.AuthorURI
	r.Name, r.Acct = authorCard(n.AuthorURI, n.AuthorHandle, n.AuthorName, n.AuthorHost)
	return r
}

// authorCard is what a page shows of a remote author: their display
// name (else their handle, else their actor URI) and @handle@host when
// both are known.
func authorCard(uri, handle, name, host string) (shown, acct string) {
	if handle != "" && host != "" {
		acct = "@" + handle + "@" + host
	}
	switch {
	case name != "":
		return name, acct
	case handle != "":
		return handle, acct
	}
	return uri, acct
}

// ReplyToProposal publishes a public reply by the principal, a live
// member, to proposal num: a Note in reply to the proposal's Question (or
// Note), to the member's followers, as any post. It returns the Create's
// id. The discussion shows it at once.
func (s *Service) ReplyToProposal(ctx context.Context, num int64, text string) (string, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return "", ErrNoPrincipal
	}
	m, isMember, err := s.principalMember(ctx, s.Store, pr)
	if err != nil {
		return "", fmt.Errorf("coop: reply to proposal %d: %w", num, err)
	}
	if !isMember || pr.For != "" {
		return "", fmt.Errorf("coop: reply to proposal %d: %w: a member replies in their own name", num, ErrNotAllowed)
	}
	if _, err := s.Store.Proposal(ctx, num); err != nil {
		return "", fmt.Errorf("coop: reply to proposal %d: %w", num, err)
	}
	return s.Post(ctx, NewPost{AuthorHandle: m.Handle, Text: text, InReplyTo: s.Site.ProposalURL(num)})
}

// noteOf is the id of the Note of a Create whose id PublishPost returned.
func noteOf(activityID string) string { return strings.TrimSuffix(activityID, "/activity") }
