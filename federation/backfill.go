package federation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/coopfed/coopfed/store"
)

// A node that joins a federation late, or was down, catches up from its
// members: it reads each peer's outbox (newest first, page by page, back
// to where its last backfill of that peer began) and its coop:projects
// collection, and puts what it finds into the inbound queue, oldest
// first, where the Processor applies it as it applies what an inbox
// accepted. The inbound table dedupes by activity id, so an activity both
// delivered and backfilled is applied once.
//
// Where the outbox walk stops. Stopping at the first activity already
// stored misses an activity that was lost (its delivery failed while this
// node was down) behind a newer one that was delivered once it was back.
// So the walk keeps a high-water mark per peer (store.BackfillMark): the
// id of the newest outbox item when the peer's last backfill completed.
// Everything older than it was read then, so the next walk reads back to
// it, past any number of activities already stored, and an activity
// missed anywhere in between is found; the mark cannot move past a gap,
// since it only moves to what a walk has just read through. A peer with
// no mark yet (the first backfill) is read until a whole page holds only
// activities already stored. Both are bounded by MaxPages and MaxItems: a
// peer that published more than that while this node was away is read
// only that far back, and the mark then moves to the newest item all the
// same, since a walk that cannot reach it would never finish. Marking by
// id rather than by time keeps it exact for activities without a
// published time (Add, Remove); an outbox that drops the marked item
// (Mastodon's, when a post is deleted) is read to the bounds once, and
// marked anew.

// BackfillConfig is what a Backfiller needs.
type BackfillConfig struct {
	DB      *store.DB
	Fetcher *Fetcher
	Log     *slog.Logger     // nil: discard
	Clock   func() time.Time // nil: time.Now
	// Wake is called when activities were queued (the Processor's Wake);
	// nil: the Processor finds them when it next polls.
	Wake func()
	// MaxPages bounds the pages read of each collection; 0: 10.
	MaxPages int
	// MaxItems bounds the items read of each collection; 0: 200.
	MaxItems int
}

// Backfiller reads the federation's peers' outboxes and coop:projects
// collections into the inbound queue. It is safe for concurrent use.
type Backfiller struct {
	db       *store.DB
	fetcher  *Fetcher
	log      *slog.Logger
	now      func() time.Time
	wake     func()
	maxPages int
	maxItems int
	requests chan string
}

// NewBackfiller builds a Backfiller.
func NewBackfiller(cfg BackfillConfig) *Backfiller {
	b := &Backfiller{
		db: cfg.DB, fetcher: cfg.Fetcher, log: cfg.Log, now: cfg.Clock, wake: cfg.Wake,
		maxPages: cfg.MaxPages, maxItems: cfg.MaxItems, requests: make(chan string, 64),
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.maxPages <= 0 {
		b.maxPages = 10
	}
	if b.maxItems <= 0 {
		b.maxItems = 200
	}
	return b
}

// BackfillResult counts what a backfill of one peer read and queued.
type BackfillResult struct {
	Pages  int // collection pages read
	Items  int // items read
	Queued int // activities newly queued for processing
}

// ErrFollowNotAccepted is a peer whose follow by this co-op is not yet
// accepted: what it sent its followers would find no recipient here, so
// its backfill waits for the Accept.
var ErrFollowNotAccepted = errors.New("our follow of the peer is not accepted yet")

// Request asks Run to backfill a peer. It never blocks; a request that
// finds the queue full is dropped (the next start backfills every peer).
func (b *Backfiller) Request(actorURI string) {
	select {
	case b.requests <- actorURI:
	default:
		b.log.Warn("backfill: queue full; request dropped", "peer", actorURI)
	}
}

// Run backfills every peer once, then each peer Request names, until ctx
// ends. Failures are logged, not returned.
func (b *Backfiller) Run(ctx context.Context) error {
	peers, err := b.db.Peers(ctx)
	if err != nil && ctx.Err() == nil {
		b.log.Error("backfill: list peers", "err", err)
	}
	for _, p := range peers {
		if ctx.Err() != nil {
			return nil
		}
		b.logged(ctx, p.Actor)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case uri := <-b.requests:
			b.logged(ctx, uri)
		}
	}
}

func (b *Backfiller) logged(ctx context.Context, uri string) {
	r, err := b.Peer(ctx, uri)
	switch {
	case errors.Is(err, ErrFollowNotAccepted):
		b.log.Debug("backfill: waiting for the Accept", "peer", uri)
	case errors.Is(err, store.ErrNotFound):
		// An Accept from an actor outside the federation.
	case err != nil && ctx.Err() == nil:
		b.log.Warn("backfill failed", "peer", uri, "err", err, "queued", r.Queued)
	case err == nil:
		b.log.Info("backfilled", "peer", uri, "pages", r.Pages, "items", r.Items, "queued", r.Queued)
	}
}

// Peer backfills one member of the federation, given by its Organization
// actor's URI: the activities of its outbox, back to its mark or, before
// the first, to a page of activities all stored (at most MaxPages pages
// and MaxItems items; see the top of this file), and the projects of its
// coop:projects collection, each as an Update of its Group fetched from
// its origin (queued again only when it changed). Only Create, Add,
// Remove, Update and Delete activities of the peer, with ids on its host
// and an embedded object (if any) on its host too, are taken.
func (b *Backfiller) Peer(ctx context.Context, actorURI string) (BackfillResult, error) {
	var r BackfillResult
	p, err := b.db.Peer(ctx, actorURI)
	if err != nil {
		return r, fmt.Errorf("backfill %s: %w", actorURI, err)
	}
	if p.FollowState != "accepted" {
		return r, fmt.Errorf("backfill %s: %w", actorURI, ErrFollowNotAccepted)
	}
	actor, err := b.getOwn(ctx, actorURI, actorURI)
	if err != nil {
		return r, fmt.Errorf("backfill %s: %w", actorURI, err)
	}
	if _, ok := hasType(actor, map[string]bool{"Organization": true}); !ok || str(actor, "id") != actorURI {
		return r, fmt.Errorf("backfill %s: %w", actorURI, errPeerNotOrganization)
	}
	defer func() {
		if r.Queued > 0 && b.wake != nil {
			b.wake()
		}
	}()
	if outbox := idOf(actor["outbox"]); outbox != "" {
		if err := b.outbox(ctx, actorURI, outbox, &r); err != nil {
			return r, fmt.Errorf("backfill %s: outbox: %w", actorURI, err)
		}
	}
	if projects := idOf(actor[propProjects]); projects != "" {
		start := b.now()
		listed := map[string]bool{}
		whole, err := b.walk(ctx, actorURI, projects, &r, func(item any) (bool, error) {
			listed[idOf(item)] = true
			return false, b.projectItem(ctx, actorURI, projects, item, &r)
		}, nil)
		if err == nil && whole {
			err = b.unlisted(ctx, actorURI, projects, listed, start, &r)
		}
		if err != nil {
			return r, fmt.Errorf("backfill %s: projects: %w", actorURI, err)
		}
	}
	return r, nil
}

// unlisted queues a Remove from collection, as the peer sends one, of
// each project the peer announced that its coop:projects, read whole, no
// longer lists: one removed while this node was away, whose own Remove
// is older than the outbox walk reads. Only projects stored before the
// walk began are judged, so that one added meanwhile (and delivered
// before this runs) is not taken for removed; a removal is final.
func (b *Backfiller) unlisted(ctx context.Context, peer, collection string, listed map[string]bool, start time.Time, r *BackfillResult) error {
	ps, err := b.db.RemoteProjects(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.Coop != peer || listed[p.URI] || !sameOrigin(p.URI, peer) || !p.UpdatedAt.Before(start) {
			continue
		}
		body, err := marshalDocument(map[string]any{
			"id":     p.URI + "#backfill-remove",
			"type":   "Remove",
			"actor":  peer,
			"to":     []string{asPublic},
			"object": p.URI,
			"target": collection,
		})
		if err != nil {
			return err
		}
		a, err := decodeActivity(body, int64(len(body))+1)
		if err != nil {
			return err
		}
		inserted, err := b.queue(ctx, a, body)
		if err != nil {
			return err
		}
		if inserted {
			r.Queued++
		}
	}
	return nil
}

var errPeerNotOrganization = errors.New("the peer's actor is not an Organization")

// getOwn fetches uri, which must be on peer's host, and returns the
// document, whose id must be uri (less any query for a page) and which
// must come from that host after redirects.
func (b *Backfiller) getOwn(ctx context.Context, peer, uri string) (map[string]any, error) {
	if !sameOrigin(uri, peer) {
		return nil, fmt.Errorf("%w: %s is not on %s", errForeignOrigin, uri, hostOf(peer))
	}
	body, final, err := b.fetcher.Get(ctx, uri)
	if err != nil {
		return nil, err
	}
	if !sameOrigin(final.String(), peer) {
		return nil, fmt.Errorf("%w: %s redirected to %s", errForeignOrigin, uri, final)
	}
	return decodeActivityJSON(body, maxFetchBytes+1)
}

// walk reads an OrderedCollection's pages from its first, newest first,
// and gives each item to f until f says stop or the bounds are reached.
// pageDone, if set, is called after each page's items and may say stop.
// It reports whether it read the collection whole.
func (b *Backfiller) walk(ctx context.Context, peer, collection string, r *BackfillResult,
	f func(item any) (bool, error), pageDone func() bool) (whole bool, err error) {
	c, err := b.getOwn(ctx, peer, collection)
	if err != nil {
		return false, err
	}
	var page map[string]any
	next := collection
	first := c["first"]
	if m, ok := first.(map[string]any); ok {
		page = m
	} else if first != nil {
		next = idOf(first)
	} else {
		page = c // items inline, unpaged
	}
	items := 0
	for pages := 0; pages < b.maxPages; pages++ {
		if page == nil {
			if next == "" {
				return true, nil
			}
			if page, err = b.getOwn(ctx, peer, next); err != nil {
				return false, err
			}
		}
		r.Pages++
		list, ok := page["orderedItems"].([]any)
		if !ok {
			list, _ = page["items"].([]any)
		}
		for i, it := range list {
			if items == b.maxItems {
				return false, nil
			}
			items++
			r.Items++
			stop, err := f(it)
			if err != nil || stop {
				return err == nil && i == len(list)-1 && idOf(page["next"]) == "", err
			}
		}
		if pageDone != nil && pageDone() {
			return idOf(page["next"]) == "", nil
		}
		if next = idOf(page["next"]); next == "" {
			return true, nil
		}
		page = nil
	}
	return false, nil
}

// backfillTypes are the activities of an outbox that a backfill takes.
var backfillTypes = map[string]bool{"Create": true, "Add": true, "Remove": true, "Update": true, "Delete": true}

// backfilled is an outbox activity a walk found, to queue.
type backfilled struct {
	a    activity
	body []byte
}

// outbox walks a peer's outbox back to its mark (see the top of this
// file), then queues what it found that is not stored yet, oldest first,
// so that the Processor applies a peer's activities in the order it
// published them (an Add before the Remove of the same project). What was
// found before a failure is queued too; the mark moves only after a walk
// that did not fail.
func (b *Backfiller) outbox(ctx context.Context, peer, outbox string, r *BackfillResult) error {
	mark, err := b.db.BackfillMark(ctx, peer)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var (
		found         []backfilled
		newest        string
		fresh, stored int // on the current page
	)
	_, walkErr := b.walk(ctx, peer, outbox, r, func(item any) (bool, error) {
		id := idOf(item)
		if newest == "" {
			newest = id
		}
		if mark != "" && id == mark {
			return true, nil
		}
		a, body, ok, err := b.outboxItem(ctx, peer, item)
		if err != nil || !ok {
			return false, err
		}
		ins, err := b.db.InboundByActivityID(ctx, a.ID)
		if err != nil {
			return false, err
		}
		if len(ins) > 0 && a.Type != "Update" {
			stored++
			return false, nil
		}
		// An Update is keyed by its content too: queued again, the
		// inbound table keeps it once.
		if len(ins) > 0 {
			stored++
		} else {
			fresh++
		}
		found = append(found, backfilled{a, body})
		return false, nil
	}, func() bool {
		// Without a mark: stop after a page of nothing new.
		stop := mark == "" && stored > 0 && fresh == 0
		fresh, stored = 0, 0
		return stop
	})
	for i := len(found) - 1; i >= 0; i-- {
		inserted, err := b.queue(ctx, found[i].a, found[i].body)
		if err != nil {
			return errors.Join(walkErr, err)
		}
		if inserted {
			r.Queued++
		}
	}
	if walkErr != nil || newest == "" || newest == mark {
		return walkErr
	}
	return b.db.SetBackfillMark(ctx, peer, newest, b.now())
}

// outboxItem reads one outbox activity (embedded, or fetched by id from
// the peer's host) and reports whether a backfill takes it.
func (b *Backfiller) outboxItem(ctx context.Context, peer string, item any) (activity, []byte, bool, error) {
	m, ok := item.(map[string]any)
	if !ok {
		id := idOf(item)
		if !sameOrigin(id, peer) {
			return activity{}, nil, false, nil
		}
		doc, err := b.getOwn(ctx, peer, id)
		if errors.Is(err, ErrRemoteGone) || errors.Is(err, ErrRemoteNotFound) {
			return activity{}, nil, false, nil
		}
		if err != nil {
			return activity{}, nil, false, err
		}
		if str(doc, "id") != id {
			return activity{}, nil, false, nil
		}
		m = doc
	}
	body, err := json.Marshal(m)
	if err != nil {
		return activity{}, nil, false, nil
	}
	a, err := decodeActivity(body, int64(len(body))+1)
	if err != nil || a.Actor != peer || !backfillTypes[a.Type] || !sameOrigin(a.ID, peer) {
		return activity{}, nil, false, nil
	}
	// An embedded object is trusted only from the peer's own host.
	if err := checkOrigins(a); err != nil {
		return activity{}, nil, false, nil
	}
	if om, ok := a.object().(map[string]any); ok && !sameOrigin(str(om, "id"), peer) {
		return activity{}, nil, false, nil
	}
	return a, body, true, nil
}

// projectItem fetches one project Group of the peer's coop:projects from
// its origin and queues it as an Update of the Group by the peer, whose
// id names the Group and whose content hash its document, so that the
// same document is applied once.
func (b *Backfiller) projectItem(ctx context.Context, peer, collection string, item any, r *BackfillResult) error {
	id := idOf(item)
	if !sameOrigin(id, peer) || id == peer {
		return nil
	}
	g, err := b.getOwn(ctx, peer, id)
	if errors.Is(err, ErrRemoteGone) || errors.Is(err, ErrRemoteNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, ok := hasType(g, map[string]bool{"Group": true}); !ok || str(g, "id") != id {
		return nil
	}
	delete(g, "@context")
	body, err := marshalDocument(map[string]any{
		"id":     id + "#backfill",
		"type":   "Update",
		"actor":  peer,
		"to":     []string{asPublic},
		"object": g,
		"target": collection,
	})
	if err != nil {
		return nil
	}
	a, err := decodeActivity(body, int64(len(body))+1)
	if err != nil {
		return nil
	}
	inserted, err := b.queue(ctx, a, body)
	if inserted {
		r.Queued++
	}
	return err
}

// queue stores a backfilled activity in the inbound table as an inbox
// would (an Update keyed by its content too), marked by the key id
// "backfill".
func (b *Backfiller) queue(ctx context.Context, a activity, body []byte) (bool, error) {
	in := store.Inbound{
		ActivityID: a.ID, ActivityType: a.Type, ActorURI: a.Actor, KeyID: backfillKeyID,
		Body: body, ReceivedAt: b.now(),
	}
	if a.Type == "Update" {
		sum := sha256.Sum256(body)
		in.ContentHash = hex.EncodeToString(sum[:])
	}
	_, inserted, err := b.db.InsertInbound(ctx, in)
	return inserted, err
}

// backfillKeyID is the key id of an activity a backfill stored: it was
// fetched with a signed GET from its origin, not delivered signed.
const backfillKeyID = "backfill"
