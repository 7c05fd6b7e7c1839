package coop

import (
	"context"
	"encoding/base32"
	"fmt"
	"github.com/coopfed/coopfed/payout"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxPostLength is the longest post, in characters, as on Mastodon's
// default.
const MaxPostLength = 5000

// Recipient is a remote (or local) actor a post or a follow is sent to.
type Recipient struct {
	Actor       string // actor id
	Type        string // its ActivityStreams type: "Person", "Organization" ...
	Acct        string // name@host
	URL         string // profile page, for mention links
	Inbox       string
	SharedInbox string
}

// Post is a post by a local actor, as the Publisher records and sends it.
type Post struct {
	Author Actor
	Text   string
	To     []Recipient // mentioned; for a direct message, the only audience
	Direct bool
	// InReplyTo is the object the post replies to (a proposal's
	// Question), "" for none.
	InReplyTo string
	Published time.Time
	Serial    string // unique, for the ids of the Note and its Create
}

// Publisher turns what the use cases decide into activities: it records
// them in the actor's outbox and queues their delivery inside the use
// case's transaction, so that nothing is recorded and left unsent, or sent
// and not recorded. Package federation implements it.
type Publisher interface {
	// Recipient looks up a remote actor (WebFinger for an account, then
	// its actor document) to address it. It does network I/O: call it
	// outside a transaction.
	Recipient(ctx context.Context, accountOrURL string) (Recipient, error)
	// PublishPost records p in its author's outbox and queues its
	// delivery to the author's followers (unless direct) and to p.To.
	// It returns the id of the Create: its Note's id + "/activity".
	PublishPost(ctx context.Context, tx Tx, p Post) (activityID string, err error)
	// PublishFollow records and queues a Follow of target by follower.
	PublishFollow(ctx context.Context, tx Tx, follower Actor, target Recipient, at time.Time) (followID string, err error)
	// PublishUndoFollow queues the Undo of follower's Follow of target.
	PublishUndoFollow(ctx context.Context, tx Tx, follower Actor, target Recipient, at time.Time) error
	// PublishActorUpdate sends a changed actor's document to its
	// followers.
	PublishActorUpdate(ctx context.Context, tx Tx, a Actor, at time.Time) error
	// PublishFollowAnswer queues a's Accept (accept true) or Reject of f's
	// Follow to the follower's inbox. It reads only what the node keeps
	// (no network I/O). When the follower's actor is gone, an Accept is an
	// error wrapping ErrGone and a Reject is not sent.
	PublishFollowAnswer(ctx context.Context, tx Tx, a Actor, f Follower, accept bool, at time.Time) error
	// PublishProject announces a new project from the co-op's actor c: the
	// Add of its Group to c's coop:projects collection, for coopfed peers,
	// and a Create{Note} that a Mastodon follower reads. Both go into c's
	// outbox and to c's followers and the federation's peers. It reads
	// only what the node keeps (no network I/O).
	PublishProject(ctx context.Context, tx Tx, c Actor, p Project, at time.Time) error
	// PublishProjectUpdate sends a changed project's Group, in an Update
	// from the co-op's actor c, to c's followers and the federation's
	// peers. It reads only what the node keeps.
	PublishProjectUpdate(ctx context.Context, tx Tx, c Actor, p Project, at time.Time) error
	// PublishEvidence tells the co-op's followers and the federation's
	// members, from the co-op's actor c, that a log showed two
	// inconsistent checkpoints, with both in full. It reads only what the
	// node keeps.
	PublishEvidence(ctx context.Context, tx Tx, c Actor, e LogEvidence, at time.Time) error
	// PublishProjectRemoval announces that p, now removed, is gone: a
	// Remove of its Group from c's coop:projects, from c, to c's
	// followers and the federation's peers (and into c's outbox, for a
	// backfill), and a Delete of the Group by the Group itself to its
	// followers and the same audience. It reads only what the node keeps.
	PublishProjectRemoval(ctx context.Context, tx Tx, c Actor, p Project, at time.Time) error
	// PublishProposal announces an opened proposal from the group that
	// decides it (the co-op's Organization or a project's Group): a
	// Create{Question} for the methods a Mastodon poll expresses (single
	// choice, multiple choice, consent), a Create{Note} linking to its
	// page for the others (ranked, score), each with the coop: data. To
	// the group's followers, public, and into the group's outbox. It reads
	// only what the node keeps.
	PublishProposal(ctx context.Context, tx Tx, group Actor, v ProposalView, at time.Time) error
	// PublishProposalCounts sends a Question's live counts: an
	// Update{Question} that carries no `updated` (Mastodon would show an
	// edit), to the group's followers and to the actors in audience
	// (remote voters, boosters), whose inboxes the node knows. For a Note
	// proposal it sends nothing.
	PublishProposalCounts(ctx context.Context, tx Tx, group Actor, v ProposalView, audience []string, at time.Time) error
	// PublishOutcome announces a closed proposal: the final
	// Update{Question} with `closed` and its counts (for a Question), then
	// a Create{Note} announcing the decision with coop:decision (result,
	// tally, quorum, log index), to the group's followers and audience,
	// and into the group's outbox.
	PublishOutcome(ctx context.Context, tx Tx, group Actor, v ProposalView, audience []string, at time.Time) error
	// PublishDirect sends a direct message (Create{Note} addressed and
	// delivered to them only, with a Mention of each) from a local actor
	// to remote actors whose documents the node holds (no network I/O);
	// an actor it does not know is skipped.
	PublishDirect(ctx context.Context, tx Tx, from Actor, to []string, text string, at time.Time) error
	// PublishContribution sends a contribution record of project from
	// its Group: a Create{Note} while it is new (pending), an
	// Update{Note} with its status after a decision, with the coop:
	// data. Hours and points are members-only: it goes only to the
	// remote actors who take part (the project's remote maintainers, the
	// contributor when remote) whose documents the node holds, never to
	// the public or the followers, and not into the outbox; nothing when
	// none is remote. It reads only what the node keeps.
	PublishContribution(ctx context.Context, tx Tx, project Project, c Contribution, at time.Time) error
	// PublishContributionDigest sends the records an import created as
	// one Create{Note} from the project's Group ("12 commits by 3 members
	// imported"), to the same audience as PublishContribution.
	PublishContributionDigest(ctx context.Context, tx Tx, project Project, created []Contribution, at time.Time) error
	// PublishContributionDecision sends, from a local member, the Accept
	// (approve) or Reject (with the reason) of a remote contribution
	// record to the inbox of its project's Group, which the node holds
	// (ErrGone when it is gone or unknown).
	PublishContributionDecision(ctx context.Context, tx Tx, member Actor, rc RemoteContribution, approve bool, reason string, at time.Time) error
	// PublishPayout sends a final payout round of project from its Group,
	// as a Create{Note} with coop:payout (the shares and the hashes the
	// log holds), to the remote actors who take part only: pay is
	// members-only, never public. It reads only what the node keeps.
	PublishPayout(ctx context.Context, tx Tx, project Project, r PayoutRound, st payout.Statement, at time.Time) error
}

// serial makes a unique, time-ordered suffix for activity ids.
func (s *Service) serial() (string, error) {
	b := make([]byte, 10)
	if _, err := s.rand().Read(b); err != nil {
		return "", fmt.Errorf("serial: %w", err)
	}
	enc := base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)
	return fmt.Sprintf("%x", s.now().UnixMilli()) + enc.EncodeToString(b), nil
}

// NewPost is what a member or admin writes.
type NewPost struct {
	AuthorHandle string
	Text         string
	To           []string // @name@host accounts or actor URLs to mention
	Direct       bool     // only To see it
	// InReplyTo is the object the post replies to; a public reply is
	// recorded for the discussion of what it replies to.
	InReplyTo string
}

// liveActor finds a live local actor of any kind.
func liveActor(ctx context.Context, r Reader, handle string) (Actor, error) {
	a, err := r.ActorByHandle(ctx, handle)
	if err != nil {
		return Actor{}, err
	}
	if a.Removed() {
		return Actor{}, fmt.Errorf("%w: %q was removed", ErrGone, handle)
	}
	return a, nil
}

// Post publishes a post by a local actor (a member, a project or the
// co-op): to its followers and the mentioned accounts, or, when direct, to
// the mentioned accounts only.
func (s *Service) Post(ctx context.Context, n NewPost) (string, error) {
	text := strings.TrimSpace(n.Text)
	switch {
	case text == "":
		return "", fmt.Errorf("%w: the post is empty", ErrInvalidInput)
	case utf8.RuneCountInString(text) > MaxPostLength:
		return "", fmt.Errorf("%w: the post is longer than %d characters", ErrInvalidInput, MaxPostLength)
	case n.Direct && len(n.To) == 0:
		return "", fmt.Errorf("%w: a direct message needs a recipient", ErrInvalidInput)
	case s.Publisher == nil:
		return "", fmt.Errorf("%w: this node cannot publish", ErrInvalidInput)
	}
	author, err := liveActor(ctx, s.Store, n.AuthorHandle)
	if err != nil {
		return "", err
	}
	p := Post{Author: author, Text: text, Direct: n.Direct, InReplyTo: n.InReplyTo, Published: s.now()}
	for _, to := range n.To {
		r, err := s.Publisher.Recipient(ctx, to)
		if err != nil {
			return "", fmt.Errorf("recipient %q: %w", to, err)
		}
		p.To = append(p.To, r)
	}
	if p.Serial, err = s.serial(); err != nil {
		return "", err
	}
	var id string
	err = s.Store.Update(ctx, func(tx Tx) error {
		var err error
		id, err = s.Publisher.PublishPost(ctx, tx, p)
		if err != nil || p.InReplyTo == "" || p.Direct {
			return err
		}
		return tx.InsertLocalReply(ctx, LocalReply{NoteID: noteOf(id), InReplyTo: p.InReplyTo,
			AuthorID: author.ID, Text: text, Published: p.Published})
	})
	if err != nil {
		return "", fmt.Errorf("coop: post as %q: %w", n.AuthorHandle, err)
	}
	return id, nil
}

// Follow makes a local actor follow a remote one; the follow stays pending
// until the remote server accepts it.
func (s *Service) Follow(ctx context.Context, followerHandle, target string) (string, error) {
	if s.Publisher == nil {
		return "", fmt.Errorf("%w: this node cannot publish", ErrInvalidInput)
	}
	follower, err := liveActor(ctx, s.Store, followerHandle)
	if err != nil {
		return "", err
	}
	r, err := s.Publisher.Recipient(ctx, target)
	if err != nil {
		return "", fmt.Errorf("follow %q: %w", target, err)
	}
	var id string
	err = s.Store.Update(ctx, func(tx Tx) error {
		var err error
		id, err = s.Publisher.PublishFollow(ctx, tx, follower, r, s.now())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("coop: %q follows %q: %w", followerHandle, target, err)
	}
	return id, nil
}

// Unfollow undoes a local actor's follow of a remote one.
func (s *Service) Unfollow(ctx context.Context, followerHandle, target string) error {
	if s.Publisher == nil {
		return fmt.Errorf("%w: this node cannot publish", ErrInvalidInput)
	}
	follower, err := liveActor(ctx, s.Store, followerHandle)
	if err != nil {
		return err
	}
	r, err := s.Publisher.Recipient(ctx, target)
	if err != nil {
		return fmt.Errorf("unfollow %q: %w", target, err)
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		return s.Publisher.PublishUndoFollow(ctx, tx, follower, r, s.now())
	})
	if err != nil {
		return fmt.Errorf("coop: %q unfollows %q: %w", followerHandle, target, err)
	}
	return nil
}
