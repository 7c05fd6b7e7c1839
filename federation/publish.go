package federation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/delivery"
	"github.com/coopfed/coopfed/store"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// Publisher implements coop.Publisher: it renders what the use cases
// decide as activities, records public posts in the outbox, and queues
// every delivery in the use case's transaction. The delivery workers
// (package federation/delivery) send them.
type Publisher struct {
	site     coop.Site
	resolver *Resolver
	fetcher  *Fetcher
}

var _ coop.Publisher = (*Publisher)(nil)

// NewPublisher builds a Publisher that finds recipients with resolver
// (WebFinger) and fetcher (their actor documents).
func NewPublisher(site coop.Site, resolver *Resolver, fetcher *Fetcher) *Publisher {
	return &Publisher{site: site, resolver: resolver, fetcher: fetcher}
}

// Recipient implements coop.Publisher: an account (@name@host) is found by
// WebFinger, then its actor document is read (from the cache, or by a
// signed GET) for its inboxes.
func (p *Publisher) Recipient(ctx context.Context, accountOrURL string) (coop.Recipient, error) {
	uri := accountOrURL
	if !strings.HasPrefix(uri, "https://") && !strings.HasPrefix(uri, "http://") {
		var err error
		if uri, err = p.resolver.ResolveAccount(ctx, strings.TrimPrefix(accountOrURL, "@")); err != nil {
			return coop.Recipient{}, err
		}
	}
	a, err := p.fetcher.Actor(ctx, uri, false)
	if err != nil {
		return coop.Recipient{}, err
	}
	if a.Inbox == "" {
		return coop.Recipient{}, fmt.Errorf("%w: %s has no inbox", coop.ErrInvalidInput, a.ID)
	}
	return coop.Recipient{Actor: a.ID, Type: a.Type, Acct: a.PreferredUsername + "@" + a.Host, URL: a.ID, Inbox: a.Inbox, SharedInbox: a.SharedInbox}, nil
}

// inboxesOf lists where an activity goes: the inboxes given (followers'),
// then each recipient's shared inbox, else its own, once each.
func inboxesOf(inboxes []string, rs []coop.Recipient) []string {
	all := make([]delivery.Recipient, 0, len(inboxes)+len(rs))
	for _, in := range inboxes {
		all = append(all, delivery.Recipient{Inbox: in})
	}
	for _, r := range rs {
		all = append(all, delivery.Recipient{Inbox: r.Inbox, SharedInbox: r.SharedInbox})
	}
	return delivery.Inboxes(all)
}

// PublishPost implements coop.Publisher. A public post goes into the
// author's outbox and to its followers and mentions; a direct message goes
// to its recipients only and is not in the (public) outbox.
func (p *Publisher) PublishPost(ctx context.Context, tx coop.Tx, post coop.Post) (string, error) {
	fp := Post{Author: post.Author, Text: post.Text, Direct: post.Direct, InReplyTo: post.InReplyTo, Published: post.Published, Serial: post.Serial}
	for _, r := range post.To {
		fp.Mentions = append(fp.Mentions, Mention{Actor: r.Actor, Acct: r.Acct, URL: r.URL})
	}
	body, err := noteActivity(p.site, fp)
	if err != nil {
		return "", err
	}
	id := fp.ActivityID(p.site)
	var inboxes []string
	if !post.Direct {
		if _, err := tx.AppendOutbox(ctx, post.Author.ID, id, "Create", body, post.Published); err != nil {
			return "", err
		}
		if inboxes, err = tx.FollowerInboxes(ctx, post.Author.ID); err != nil {
			return "", err
		}
	}
	inboxes = inboxesOf(inboxes, post.To)
	if err := tx.EnqueueDeliveries(ctx, post.Author.ID, id, body, inboxes, post.Published); err != nil {
		return "", err
	}
	return id, nil
}

// newID makes a random id suffix: 128 bits, hex.
func newID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("federation: random id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// followActivity renders a Follow of target by follower.
func followActivity(site coop.Site, follower coop.Actor, followID, target string) (vocab.ActivityStreamsFollow, error) {
	var u urls
	f := streams.NewActivityStreamsFollow()
	f.SetJSONLDId(u.id(followID))
	actor := streams.NewActivityStreamsActorProperty()
	actor.AppendIRI(u.parse(site.ActorID(follower.Handle)))
	f.SetActivityStreamsActor(actor)
	obj := streams.NewActivityStreamsObjectProperty()
	obj.AppendIRI(u.parse(target))
	f.SetActivityStreamsObject(obj)
	return f, u.err
}

// PublishFollow implements coop.Publisher: the follow is recorded pending
// until the target's Accept arrives.
func (p *Publisher) PublishFollow(ctx context.Context, tx coop.Tx, follower coop.Actor, target coop.Recipient, at time.Time) (string, error) {
	serial, err := newID()
	if err != nil {
		return "", err
	}
	id := p.site.ActorID(follower.Handle) + "/follows/" + serial
	f, err := followActivity(p.site, follower, id, target.Actor)
	if err != nil {
		return "", err
	}
	m, err := streams.Serialize(f)
	if err != nil {
		return "", fmt.Errorf("federation: serialize follow: %w", err)
	}
	body, err := marshalDocument(m)
	if err != nil {
		return "", err
	}
	if err := tx.AddFollowing(ctx, follower.ID, target.Actor, id, "pending", at); err != nil {
		return "", err
	}
	// A Follow goes to the target's own inbox: it is addressed to one actor.
	if err := tx.EnqueueDeliveries(ctx, follower.ID, id, body, []string{target.Inbox}, at); err != nil {
		return "", err
	}
	return id, nil
}

// PublishUndoFollow implements coop.Publisher: it forgets the follow and
// sends an Undo embedding the Follow that was sent, which is how Mastodon
// matches it.
func (p *Publisher) PublishUndoFollow(ctx context.Context, tx coop.Tx, follower coop.Actor, target coop.Recipient, at time.Time) error {
	followID, err := tx.RemoveFollowing(ctx, follower.ID, target.Actor)
	if errors.Is(err, coop.ErrNotFound) {
		return fmt.Errorf("%w: %s does not follow %s", coop.ErrInvalidInput, follower.Handle, target.Actor)
	}
	if err != nil {
		return err
	}
	f, err := followActivity(p.site, follower, followID, target.Actor)
	if err != nil {
		return err
	}
	var u urls
	undo := streams.NewActivityStreamsUndo()
	undo.SetJSONLDId(u.id(followID + "/undo"))
	actor := streams.NewActivityStreamsActorProperty()
	actor.AppendIRI(u.parse(p.site.ActorID(follower.Handle)))
	undo.SetActivityStreamsActor(actor)
	obj := streams.NewActivityStreamsObjectProperty()
	obj.AppendActivityStreamsFollow(f)
	undo.SetActivityStreamsObject(obj)
	if u.err != nil {
		return u.err
	}
	m, err := streams.Serialize(undo)
	if err != nil {
		return fmt.Errorf("federation: serialize undo: %w", err)
	}
	body, err := marshalDocument(m)
	if err != nil {
		return err
	}
	return tx.EnqueueDeliveries(ctx, follower.ID, followID+"/undo", body, []string{target.Inbox}, at)
}

// PublishActorUpdate implements coop.Publisher: the actor's document, as
// served, goes to its followers in an Update, so that their servers show
// the new name and summary without refetching. The id carries the
// revision, so that queuing twice delivers once.
func (p *Publisher) PublishActorUpdate(ctx context.Context, tx coop.Tx, a coop.Actor, at time.Time) error {
	var proj *coop.Project
	if a.Kind == coop.KindGroup {
		pr, err := tx.ProjectByHandle(ctx, a.Handle)
		if err != nil {
			return err
		}
		proj = &pr
	}
	var dl *coop.LogInfo
	if a.Kind == coop.KindOrganization {
		var err error
		if dl, err = decisionLogOf(ctx, tx, p.site); err != nil {
			return err
		}
	}
	doc, err := actorDocument(p.site, a, proj, dl)
	if err == nil {
		doc, err = withImages(ctx, tx, p.site, a, doc) // as served (actor.go)
	}
	if err != nil {
		return err
	}
	var object map[string]any
	if err := json.Unmarshal(doc, &object); err != nil {
		return fmt.Errorf("federation: actor update: %w", err)
	}
	delete(object, "@context")
	actorID := p.site.ActorID(a.Handle)
	id := fmt.Sprintf("%s#updates/%d", actorID, a.Revision)
	body, err := marshalDocument(map[string]any{
		"id":     id,
		"type":   "Update",
		"actor":  actorID,
		"to":     []string{asPublic},
		"cc":     []string{p.site.Followers(a.Handle)},
		"object": object,
	})
	if err != nil {
		return err
	}
	inboxes, err := tx.FollowerInboxes(ctx, a.ID)
	if err != nil {
		return err
	}
	return tx.EnqueueDeliveries(ctx, a.ID, id, body, inboxes, at)
}

// followRecords is what PublishFollowAnswer reads beside coop.Tx: the
// Follow as received and the follower's cached actor, both federation's
// own records, which the use cases never see. *store.Tx has them.
type followRecords interface {
	InboundByActivityID(ctx context.Context, activityID string) ([]store.Inbound, error)
	RemoteActor(ctx context.Context, uri string) (store.RemoteActor, error)
}

// PublishFollowAnswer implements coop.Publisher: the Accept or Reject
// embeds the Follow as the inbox received it (as the automatic Accept
// does); a Follow no longer kept is rebuilt as {id, type, actor, object},
// which Mastodon, GoToSocial and Fedify match by id. It goes to the
// follower's own inbox, from the actor cache the Follow's processing
// filled: no network I/O inside the transaction.
func (p *Publisher) PublishFollowAnswer(ctx context.Context, tx coop.Tx, a coop.Actor, f coop.Follower, accept bool, at time.Time) error {
	r, ok := tx.(followRecords)
	if !ok {
		return fmt.Errorf("federation: answer follow %s: the transaction (%T) keeps no received activities", f.FollowID, tx)
	}
	follower, err := r.RemoteActor(ctx, f.Actor)
	switch {
	case err == nil && !follower.Gone() && follower.Inbox != "":
	case !accept && (err == nil || errors.Is(err, store.ErrNotFound)):
		return nil // nowhere to send the Reject: removing the follower is all
	case err == nil:
		return fmt.Errorf("%w: follower %s", coop.ErrGone, f.Actor)
	default:
		return fmt.Errorf("federation: answer follow %s: %w", f.FollowID, err)
	}
	follow := activity{ID: f.FollowID, Type: "Follow", Actor: f.Actor, m: map[string]any{
		"id": f.FollowID, "type": "Follow", "actor": f.Actor, "object": p.site.ActorID(a.Handle),
	}}
	if f.FollowID != "" {
		ins, err := r.InboundByActivityID(ctx, f.FollowID)
		if err != nil {
			return err
		}
		for _, in := range ins {
			got, err := decodeActivity(in.Body, int64(len(in.Body))+1)
			if err == nil && got.Type == "Follow" && got.Actor == f.Actor {
				follow = got
			}
		}
	}
	body, id, err := answerDocument(p.site, a, follow, f.Actor, accept)
	if err != nil {
		return fmt.Errorf("federation: answer follow %s: %w", f.FollowID, err)
	}
	return tx.EnqueueDeliveries(ctx, a.ID, id, body, []string{follower.Inbox}, at)
}
