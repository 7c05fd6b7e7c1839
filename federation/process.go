package federation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/store"
)

// ProcessorConfig is what a Processor needs.
type ProcessorConfig struct {
	Site    coop.Site
	DB      *store.DB
	Fetcher *Fetcher         // the same as the Server's, so that they share the actor cache's locks
	Log     *slog.Logger     // nil: discard
	Clock   func() time.Time // nil: time.Now
	// Workers is how many activities are processed at once; 0: 2.
	Workers int
	// Lease is how long a claimed activity is held before another worker
	// may take it (after a crash); 0: five minutes.
	Lease time.Duration
	// Poll is how often the queue is read when nothing wakes the
	// workers; 0: one second.
	Poll time.Duration
	// MaxAttempts is how often an activity is tried before it ends
	// failed; 0: 10.
	MaxAttempts int
	// Exclusive says this process is the only one processing DB's inbound
	// queue (SQLite: one serve per database). Run then re-queues, when it
	// starts, every activity left in flight, which can only be a crashed
	// run's, instead of waiting for its lease: an actor's later
	// activities wait behind it.
	Exclusive bool
	// Accepted, when set, is called with the sender of each Accept of one
	// of our follows once it is applied (serve backfills a peer then).
	// It must not block.
	Accepted func(actorURI string)
	// Proposals takes the votes on local proposals, the direct messages
	// to local actors and the boosts of proposals, in the transaction
	// that applies their activity (see pollVote); nil: a vote is a Note
	// like any other, and nothing more is done with the rest.
	Proposals ProposalInbox
	// Contributions takes remote maintainers' decisions (an Accept or a
	// Reject of a local contribution record's URL), in the transaction
	// that applies them (see contributionDecision); nil: they are
	// dropped.
	Contributions ContributionInbox
}

// Processor applies the activities the inboxes accepted, from the inbound
// queue in the database: a pool of workers, each claiming runs of an
// actor's consecutive activities with a lease, so that an activity in
// flight when the process dies is taken again once its lease ends. A
// worker prepares a claim's activities one by one (what needs the
// network first) and applies them in groups, one transaction per group
// with a savepoint per activity (see apply): an activity's effects commit
// in the transaction that marks it done, so nothing is applied twice, and
// one that fails is undone alone. It runs apart from Server: `coopfed
// serve` starts Run beside the HTTP server, and gives the Server
// (*Processor).Wake as Config.Wake and the Processor as Config.Processor,
// with which the inbox applies, in the transaction that stores it, an
// activity that needs nothing fetched and waits for nothing of its actor
// (see inline); the workers take the rest.
type Processor struct {
	site          coop.Site
	db            *store.DB
	fetcher       *Fetcher
	log           *slog.Logger
	now           func() time.Time
	workers       int
	lease         time.Duration
	poll          time.Duration
	maxAttempts   int
	exclusive     bool
	accepted      func(actorURI string)
	proposals     ProposalInbox
	contributions ContributionInbox
	wake          chan struct{}

	localMu sync.Mutex
	locals  map[string]cachedLocal // by URI: see localActor

	// generations count the processor's apply transactions by the
	// actors of the activities they apply, hashed into a few counters:
	// each adds one to its actors' inside its transaction, so that an
	// activity prepared before one of its actor's committed is not applied
	// as it was prepared (see inline). Two actors that share a counter
	// only send some activities the slow way.
	generations [generationShards]atomic.Uint64
}

// generationShards is how many counters the actors share.
const generationShards = 256

var generationSeed = maphash.MakeSeed()

// generation is the counter of an actor's applied activities.
func (p *Processor) generation(actor string) *atomic.Uint64 {
	return &p.generations[maphash.String(generationSeed, actor)%generationShards]
}

// applying counts, inside an apply transaction, the activities it applies
// in their actors' generations.
func (p *Processor) applying(group []prepared) {
	for i := range group {
		p.generation(group[i].in.ActorURI).Add(1)
	}
}

// localActorTTL is how long the processor uses a local actor it read
// while preparing activities: a member added or removed (by the CLI, in
// another process) is seen within it. Effects read through their
// transaction, never through this.
const localActorTTL = time.Second

type cachedLocal struct {
	a      coop.Actor
	ok     bool
	loaded time.Time
}

// localActor is localActor through a cache of a second: a Note's
// recipients were a query each, for every Note.
func (p *Processor) localActor(ctx context.Context, uri string) (coop.Actor, bool, error) {
	now := time.Now()
	p.localMu.Lock()
	c, hit := p.locals[uri]
	p.localMu.Unlock()
	if hit && now.Sub(c.loaded) < localActorTTL {
		return c.a, c.ok, nil
	}
	a, ok, err := localActor(ctx, p.db, p.site, uri)
	if err != nil {
		return a, ok, err
	}
	p.localMu.Lock()
	if p.locals == nil || len(p.locals) >= 10000 {
		p.locals = map[string]cachedLocal{}
	}
	p.locals[uri] = cachedLocal{a, ok, now}
	p.localMu.Unlock()
	return a, ok, nil
}

// NewProcessor builds a Processor.
func NewProcessor(cfg ProcessorConfig) *Processor {
	p := &Processor{
		site: cfg.Site, db: cfg.DB, fetcher: cfg.Fetcher, log: cfg.Log, now: cfg.Clock,
		workers: cfg.Workers, lease: cfg.Lease, poll: cfg.Poll, maxAttempts: cfg.MaxAttempts,
		exclusive: cfg.Exclusive, accepted: cfg.Accepted, proposals: cfg.Proposals, contributions: cfg.Contributions,
		wake: make(chan struct{}, 1),
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.workers <= 0 {
		p.workers = 2
	}
	if p.lease <= 0 {
		p.lease = 5 * time.Minute
	}
	if p.poll <= 0 {
		p.poll = time.Second
	}
	if p.maxAttempts <= 0 {
		p.maxAttempts = 10
	}
	return p
}

// Wake tells the workers that an activity is waiting. It never blocks.
func (p *Processor) Wake() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run processes the queue until ctx ends, then waits for the activities in
// flight to finish (each within its own transaction; one cut short is
// taken again after its lease).
func (p *Processor) Run(ctx context.Context) error {
	if p.exclusive {
		n, err := p.db.RequeueInFlightInbound(ctx, p.now())
		if err != nil {
			return fmt.Errorf("inbound: %w", err)
		}
		if n > 0 {
			p.log.Info("re-queued activities left in flight by an earlier run", "count", n)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < p.workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(p.poll)
			defer t.Stop()
			for {
				n, err := p.processSome(ctx, claimBatch)
				if err != nil && ctx.Err() == nil {
					p.log.Error("inbound: claim", "err", err)
				}
				if n >= claimBatch/2 {
					continue
				}
				if n > 0 {
					// A small claim: activities are arriving about as fast
					// as they are applied. Let a few more come, so that the
					// next claim and its transaction carry more than one
					// (each claim is a pass over the queue and two commits).
					select {
					case <-ctx.Done():
						return
					case <-time.After(gatherDelay):
					}
					continue
				}
				select {
				case <-ctx.Done():
					return
				case <-p.wake:
				case <-t.C:
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// ProcessDue processes every activity due now, one after the other, and
// returns how many it took. Tests call it instead of Run.
func (p *Processor) ProcessDue(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := p.processSome(ctx, 16)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// claimBatch is how many activities a worker claims at once: runs of an
// actor's consecutive activities, processed in order.
const claimBatch = 128

// gatherDelay is how long a worker waits after a small claim before the
// next: at most this much latency added to an activity, for claims and
// transactions that carry many.
const gatherDelay = 2 * time.Millisecond

func (p *Processor) processSome(ctx context.Context, limit int) (int, error) {
	ins, err := p.db.ClaimInbound(ctx, p.now(), p.lease, limit)
	if err != nil {
		return 0, err
	}
	// A claim is runs of consecutive activities per actor, in order. Each
	// is prepared (decoded, checked, what it needs fetched) and its effect
	// waits in a group that one transaction applies. When one fails, the
	// rest of its actor's run goes back to wait for it.
	failed := map[string]bool{}
	var release []int64
	var group []prepared
	flush := func() {
		if len(group) == 0 {
			return
		}
		for actor := range p.apply(context.WithoutCancel(ctx), group) {
			failed[actor] = true
		}
		for _, g := range group {
			if g.skipped {
				release = append(release, g.in.ID)
			}
		}
		group = group[:0]
	}
	for _, in := range ins {
		if failed[in.ActorURI] || ctx.Err() != nil {
			release = append(release, in.ID)
			continue
		}
		g := p.prepare(ctx, in)
		if g.err != nil && ctx.Err() != nil {
			// Cut short: the lease (or the next run's re-queue) brings it back.
			failed[in.ActorURI] = true
			continue
		}
		if g.err != nil {
			failed[in.ActorURI] = true
		}
		group = append(group, g)
		if !sharesTransaction[g.a.Type] {
			flush()
		}
	}
	flush()
	if len(release) > 0 {
		if err := p.db.ReleaseInbound(context.WithoutCancel(ctx), release); err != nil {
			return len(ins), err
		}
	}
	return len(ins), nil
}

// sharesTransaction are the activity types whose effects no later
// activity's preparation reads (preparation reads through the pool, so it
// does not see a group's writes until they commit): they are applied in
// one transaction with those after them. Any other type (an Accept, which
// changes whom a post to followers reaches; an Update or a Delete, which
// change the cached actor; a project's Add) ends its group, which commits
// before the next activity is prepared.
var sharesTransaction = map[string]bool{
	"Create": true, "Follow": true, "Undo": true, "Like": true, "Announce": true,
	"Flag": true, // a report: nothing reads it but the admins' pages
}

// errPermanent marks an activity that no retry will make processable.
var errPermanent = errors.New("cannot be processed")

// effect is what an activity does to the database, applied in the
// transaction that marks it done.
type effect func(ctx context.Context, t *store.Tx) error

// prepared is a claimed activity, ready to apply: its effect, or why it
// could not be prepared.
type prepared struct {
	in      store.Inbound
	a       activity
	eff     effect
	prepErr error // preparing failed
	err     error // preparing or applying failed
	skipped bool  // not applied: an earlier activity of its actor failed
}

// apply applies a group of prepared activities in one transaction, each
// in a savepoint of its own, so that one whose effect fails is undone
// alone and recorded as failed (to retry, or for good), and the rest
// commit; an activity after a failed one of the same actor is skipped, to
// keep each actor's order. It returns the actors that had a failure. When
// the transaction itself fails, each activity is applied on its own.
func (p *Processor) apply(ctx context.Context, group []prepared) map[string]bool {
	failed := map[string]bool{}
	err := p.db.Write(ctx, func(t *store.Tx) error {
		p.applying(group)
		clear(failed)
		for i := range group {
			g := &group[i]
			g.err, g.skipped = g.prepErr, failed[g.in.ActorURI]
			if g.skipped {
				continue
			}
			if g.err == nil {
				g.err = t.Savepoint(ctx, func() error { return p.applyOne(ctx, t, *g) })
				if errors.Is(g.err, store.ErrSavepoint) {
					return g.err
				}
			}
			if g.err != nil {
				failed[g.in.ActorURI] = true
				if err := t.RetryInbound(ctx, g.in.ID, g.err.Error(), p.nextAttempt(*g)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		p.log.Warn("inbound: a group failed; applying its activities one by one", "count", len(group), "err", err)
		return p.applyEach(ctx, group)
	}
	for _, g := range group {
		p.report(g)
	}
	return failed
}

// applyEach applies a group one activity per transaction: the path when
// a group's transaction failed as a whole.
func (p *Processor) applyEach(ctx context.Context, group []prepared) map[string]bool {
	failed := map[string]bool{}
	for i := range group {
		g := &group[i]
		g.err, g.skipped = g.prepErr, failed[g.in.ActorURI]
		if g.skipped {
			continue
		}
		if g.err == nil {
			g.err = p.db.Write(ctx, func(t *store.Tx) error {
				p.applying(group[i : i+1])
				return p.applyOne(ctx, t, *g)
			})
		}
		if g.err != nil {
			failed[g.in.ActorURI] = true
			if rerr := p.db.RetryInbound(ctx, g.in.ID, g.err.Error(), p.nextAttempt(*g)); rerr != nil {
				p.log.Error("inbound: record failure", "activity_id", g.in.ActivityID, "err", rerr)
			}
		}
		p.report(*g)
	}
	return failed
}

// applyOne writes one activity's effect and marks it done.
func (p *Processor) applyOne(ctx context.Context, t *store.Tx, g prepared) error {
	if g.eff != nil {
		if err := g.eff(ctx, t); err != nil {
			return err
		}
	}
	return t.FinishInbound(ctx, g.in.ID, p.now())
}

// nextAttempt is when a failed activity is tried again; zero when never.
func (p *Processor) nextAttempt(g prepared) time.Time {
	if errors.Is(g.err, errPermanent) || g.in.Attempts >= p.maxAttempts {
		return time.Time{}
	}
	backoff := 10 * time.Second << min(g.in.Attempts, 9)
	return p.now().Add(min(backoff, time.Hour))
}

// report logs an applied activity, and tells Accepted of an Accept of one
// of our follows; it runs once the group committed.
func (p *Processor) report(g prepared) {
	if g.skipped {
		return
	}
	log := p.log.With("activity_id", g.in.ActivityID, "type", g.in.ActivityType, "actor", g.in.ActorURI, "attempt", g.in.Attempts)
	if g.err != nil {
		log.Warn("inbound processing failed", "err", g.err, "retry_at", p.nextAttempt(g))
		return
	}
	log.Debug("inbound processed")
	if _, decision := p.site.ContributionID(idOf(g.a.object())); decision {
		return // not an Accept of one of our follows
	}
	if g.a.Type == "Accept" && g.eff != nil && p.accepted != nil {
		p.accepted(g.a.Actor)
	}
}

// prepare readies one activity: what needs the network (fetching an
// actor or an object) and the reads that decide its effect, which
// applyOne then writes with its "done", in the group's transaction.
func (p *Processor) prepare(ctx context.Context, in store.Inbound) prepared {
	g := prepared{in: in}
	g.a, g.eff, g.prepErr = p.process(ctx, in)
	g.err = g.prepErr
	return g
}

// process decodes an activity and finds its effect.
func (p *Processor) process(ctx context.Context, in store.Inbound) (activity, effect, error) {
	a, err := decodeActivity(in.Body, int64(len(in.Body))+1)
	if err != nil {
		return activity{Type: in.ActivityType, Actor: in.ActorURI}, nil, fmt.Errorf("%w: %v", errPermanent, err)
	}
	eff, err := p.effectOf(ctx, a, in)
	return a, eff, err
}

// effectOf finds a decoded activity's effect.
func (p *Processor) effectOf(ctx context.Context, a activity, in store.Inbound) (effect, error) {
	// Stored before its sender was blocked: not applied.
	if err := checkBlocked(ctx, p.db, a.Actor); errors.Is(err, coop.ErrBlocked) {
		return nil, fmt.Errorf("%w: %v", errPermanent, err)
	} else if err != nil {
		return nil, err
	}
	var (
		eff effect
		err error
	)
	switch a.Type {
	case "Follow":
		eff, err = p.follow(ctx, a)
	case "Undo":
		eff, err = p.undo(a)
	case "Accept", "Reject":
		var decision bool
		if eff, decision = p.contributionDecision(a, in); !decision {
			eff = p.answer(a)
		}
	case "Update":
		eff, err = p.update(ctx, a, in)
	case "Delete":
		eff = p.delete(a)
		eff, err = p.deleteProject(ctx, a, eff)
	case "Create":
		var c created
		c, err = p.create(ctx, a, in)
		eff = p.createEffect(c)
	case "Announce":
		eff, err = p.boost(ctx, a, in)
	case "Add":
		eff, err = p.addProject(ctx, a)
	case "Remove":
		eff, err = p.removeProject(ctx, a)
	case "Flag":
		eff, err = p.flag(ctx, a, in) // a report (reports.go)
	default:
		// Like and the rest are kept in the inbound table for later
		// issues, and need nothing now.
	}
	return eff, err
}

// localActor returns the live local actor with the given URI.
func localActor(ctx context.Context, r coop.Reader, site coop.Site, uri string) (coop.Actor, bool, error) {
	h, ok := site.HandleFromActorID(uri)
	if !ok {
		return coop.Actor{}, false, nil
	}
	a, err := r.ActorByHandle(ctx, h)
	if errors.Is(err, coop.ErrNotFound) {
		return coop.Actor{}, false, nil
	}
	if err != nil {
		return coop.Actor{}, false, err
	}
	return a, !a.Removed(), nil
}

// follow: a Follow of a local actor records the follower, accepted at once
// unless the actor approves followers by hand (then pending, until
// coop.Service.ApproveFollower), and queues a signed Accept that embeds
// the Follow to the follower's inbox. A follower already accepted stays
// accepted when it follows again (Mastodon repeats Follows), and is
// answered again.
func (p *Processor) follow(ctx context.Context, a activity) (effect, error) {
	local, ok, err := p.localActor(ctx, idOf(a.object()))
	if err != nil || !ok {
		return nil, err
	}
	follower, err := p.fetcher.Actor(ctx, a.Actor, false)
	if errors.Is(err, ErrRemoteGone) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("follower %s: %w", a.Actor, err)
	}
	accept, acceptID, err := acceptDocument(p.site, local, a, follower.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errPermanent, err)
	}
	return func(ctx context.Context, t *store.Tx) error {
		state := "accepted"
		if local.ManuallyApprovesFollowers {
			state = "pending"
			prev, err := t.Follower(ctx, local.ID, follower.ID)
			switch {
			case err == nil && !prev.Pending:
				state = "accepted"
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return err
			}
		}
		if err := t.AddFollower(ctx, local.ID, follower.ID, a.ID, state, p.now()); err != nil {
			return err
		}
		if state != "accepted" {
			return nil
		}
		return t.EnqueueDeliveries(ctx, local.ID, acceptID, accept, []string{follower.Inbox}, p.now())
	}, nil
}

// acceptDocument is the Accept of a Follow: see answerDocument.
func acceptDocument(site coop.Site, local coop.Actor, follow activity, follower string) ([]byte, string, error) {
	return answerDocument(site, local, follow, follower, true)
}

// answerDocument is the Accept (or Reject) of a Follow: the Follow
// embedded as received (Fedify and Mastodon match it by object.id), less
// its JSON-LD context and body signatures, which belong to the sender's
// document. Its id is derived from the Follow's, so that answering twice
// queues one.
func answerDocument(site coop.Site, local coop.Actor, follow activity, follower string, accept bool) ([]byte, string, error) {
	obj := make(map[string]any, len(follow.m))
	for k, v := range follow.m {
		switch k {
		case "@context", "signature", "proof":
			continue
		}
		obj[k] = v
	}
	typ, path := "Accept", "#accepts/follows/"
	if !accept {
		typ, path = "Reject", "#rejects/follows/"
	}
	sum := sha256.Sum256([]byte(follow.ID))
	id := site.ActorID(local.Handle) + path + hex.EncodeToString(sum[:12])
	body, err := json.Marshal(map[string]any{
		"@context": nsActivityStreams,
		"id":       id,
		"type":     typ,
		"actor":    site.ActorID(local.Handle),
		"object":   obj,
		"to":       follower,
	})
	return body, id, err
}

// undo: an Undo{Follow} removes the follower. The Follow may be embedded
// (its actor must be the Undo's) or named by id.
func (p *Processor) undo(a activity) (effect, error) {
	obj := a.object()
	followID := idOf(obj)
	m, embedded := obj.(map[string]any)
	if embedded {
		if t, _ := hasType(m, map[string]bool{"Follow": true}); t == "" {
			return nil, nil // Undo{Like}, Undo{Announce}: nothing kept
		}
		if by := idsOf(m["actor"]); len(by) != 1 || by[0] != a.Actor {
			return nil, fmt.Errorf("%w: the undone Follow is not the actor's", errPermanent)
		}
	}
	return func(ctx context.Context, t *store.Tx) error {
		if embedded {
			local, ok, err := localActor(ctx, t, p.site, idOf(m["object"]))
			if err != nil || !ok {
				return err
			}
			_, err = t.RemoveFollower(ctx, local.ID, a.Actor, followID)
			return err
		}
		if followID == "" {
			return nil
		}
		_, err := t.RemoveFollowerByFollowID(ctx, a.Actor, followID)
		return err
	}, nil
}

// answer: an Accept or Reject of one of our Follows, matched by the
// object's id whether the Follow is embedded or named, and by its target
// being the sender, sets the follow accepted or removes it.
func (p *Processor) answer(a activity) effect {
	followID := idOf(a.object())
	if followID == "" {
		return nil
	}
	state := "accepted"
	if a.Type == "Reject" {
		state = "removed"
	}
	return func(ctx context.Context, t *store.Tx) error {
		_, err := t.SetFollowingState(ctx, followID, a.Actor, state)
		return err
	}
}

// update: an Update of the sender's own actor refreshes the cache: from
// the body when the actor's document is on the sender's origin and its key
// is the one cached (a new key is fetched from the origin), else by a
// refetch. An Update of a Group from a member co-op changes the stored
// project; Updates of other objects are kept for later issues.
func (p *Processor) update(ctx context.Context, a activity, in store.Inbound) (effect, error) {
	m, embedded := a.object().(map[string]any)
	id := idOf(a.object())
	if eff, ok, err := p.updateContribution(ctx, a, in); ok || err != nil {
		// A contribution record's new status (contributions.go).
		return eff, err
	}
	if id != a.Actor {
		// A member co-op's Update of one of its projects (projects.go).
		return p.storeProject(ctx, a)
	}
	if embedded {
		if _, isActor := hasType(m, actorTypes); !isActor {
			return nil, nil
		}
		if sameOrigin(id, a.Actor) {
			fresh, err := actorFromMap(m)
			if err == nil && fresh.ID == a.Actor {
				cached, cerr := p.db.RemoteActor(ctx, a.Actor)
				if cerr == nil && cached.KeyID == fresh.KeyID && samePEM(cached.PublicKeyPEM, fresh.PublicKeyPEM) {
					fresh.FetchedAt = p.now()
					return func(ctx context.Context, t *store.Tx) error { return t.PutRemoteActor(ctx, fresh) }, nil
				}
			}
		}
	}
	if _, err := p.fetcher.Actor(ctx, a.Actor, true); err != nil && !errors.Is(err, ErrRemoteGone) {
		return nil, fmt.Errorf("refetch %s: %w", a.Actor, err)
	}
	return nil, nil
}

// delete: a Delete of the sender's own actor marks it gone and removes its
// follows; a Delete of a Note it sent us removes the Note.
func (p *Processor) delete(a activity) effect {
	id := idOf(a.object())
	if id == "" {
		return nil
	}
	return func(ctx context.Context, t *store.Tx) error {
		if id == a.Actor {
			if err := t.MarkRemoteActorGone(ctx, a.Actor, "", hostOf(a.Actor), p.now()); err != nil {
				return err
			}
			_, err := t.RemoveFollowsOf(ctx, a.Actor)
			return err
		}
		_, err := t.DeleteReceivedNote(ctx, id, a.Actor)
		return err
	}
}

// publicAddresses are the forms of the public collection peers send.
var publicAddresses = map[string]bool{
	"https://www.w3.org/ns/activitystreams#Public": true,
	"as:Public": true,
	"Public":    true,
}

// create: each Note of a Create (one object, or several in an array) that
// is addressed to local actors (to, cc, bto, bcc, audience, a Mention tag;
// or sent to a personal inbox) is stored as received (see createEffect).
// An object given by id only is fetched from its origin. With a
// ProposalInbox, a Note that is a poll vote on a local proposal (see
// pollVote) is a vote instead, not stored as a Note; and a direct Note to
// local actors is, besides being stored, a coop.DirectMessage to each.
func (p *Processor) create(ctx context.Context, a activity, in store.Inbound) (created, error) {
	var c created
	for _, o := range createObjects(a) {
		m, embedded := o.(map[string]any)
		if !embedded {
			id := idOf(o)
			if !sameOrigin(id, a.Actor) {
				continue // not the sender's to create
			}
			body, final, err := p.fetcher.Get(ctx, id)
			if errors.Is(err, ErrRemoteGone) || errors.Is(err, ErrRemoteNotFound) {
				continue
			}
			if err != nil {
				return created{}, err
			}
			if m, err = decodeJSON(body); err != nil || str(m, "id") != id || !sameOrigin(final.String(), id) {
				continue
			}
		}
		if t, _ := hasType(m, map[string]bool{"Note": true}); t == "" {
			continue
		}
		if by := idsOf(m["attributedTo"]); len(by) > 0 && by[0] != a.Actor {
			continue
		}
		cs, err := p.receivedContributions(ctx, a, m, in.ReceivedAt)
		if err != nil {
			return created{}, err
		}
		c.contributions = append(c.contributions, cs...)
		if p.proposals != nil {
			if v, ok := pollVote(p.site, a, m); ok {
				exists, err := p.proposalExists(ctx, v.Proposal)
				if err != nil {
					return created{}, err
				}
				if exists {
					v.AcceptedAt = in.ReceivedAt
					c.votes = append(c.votes, v)
					continue
				}
			}
		}
		var raw []byte
		if embedded {
			if _, one := a.object().(map[string]any); one {
				raw = a.rawObject // the only object: m is its decoding
			}
		}
		n, direct, err := p.receivedNote(ctx, a, m, raw, in)
		if err != nil {
			return created{}, err
		}
		if len(n.RecipientIDs) == 0 {
			continue
		}
		c.notes = append(c.notes, n)
		if p.proposals == nil || !n.Direct {
			continue
		}
		text := messageText(textOrMap(m, "content"))
		for _, to := range direct {
			c.direct = append(c.direct, coop.DirectMessage{To: to, Account: a.Actor, Text: text,
				NoteID: n.ObjectID, AcceptedAt: in.ReceivedAt})
		}
	}
	return c, nil
}

// created is what a Create brings: Notes to store, votes and direct
// messages for the ProposalInbox.
type created struct {
	notes         []store.ReceivedNote
	votes         []coop.RemoteVote
	direct        []coop.DirectMessage
	contributions []coop.RemoteContribution // records a project's Group sent (contributions.go)
}

// toProposals reports whether a Create's effect calls the ProposalInbox
// (which may queue deliveries).
func (c created) toProposals() bool { return len(c.votes) > 0 || len(c.direct) > 0 }

// createEffect is the effect of a Create: its received Notes stored (one
// stored before is left as it is), then its votes, all in one call, then
// its direct messages given to the ProposalInbox: those of Notes stored
// now (a Note sent again in another Create is not a new message).
func (p *Processor) createEffect(c created) effect {
	if len(c.notes) == 0 && !c.toProposals() && len(c.contributions) == 0 {
		return nil
	}
	return func(ctx context.Context, t *store.Tx) error {
		if err := storeContributions(c.contributions)(ctx, t); err != nil {
			return err
		}
		stored := map[string]bool{} // now
		for _, n := range c.notes {
			_, err := t.InsertReceivedNote(ctx, n)
			switch {
			case err == nil:
				stored[n.ObjectID] = true
			case !errors.Is(err, store.ErrDuplicate):
				return err
			}
		}
		if len(c.votes) > 0 {
			if err := p.proposals.ReceiveVotes(ctx, t, c.votes); err != nil {
				return fmt.Errorf("votes: %w", err)
			}
		}
		given := map[coop.DirectMessage]bool{}
		for _, m := range c.direct {
			if !stored[m.NoteID] || given[m] {
				continue
			}
			given[m] = true
			if err := p.proposals.ReceiveDirect(ctx, t, m); err != nil {
				return fmt.Errorf("direct message to %s: %w", m.To.Handle, err)
			}
		}
		return nil
	}
}

// receivedNote reads a Note and finds its local recipients. Its content
// is kept cleaned (sanitizeHTML) and its name as plain text; Raw keeps the
// document as received, for the record, and must never be shown as HTML:
// raw, its bytes in the activity (nil when not at hand: it is encoded
// from m then).
// names are the live local actors the Note names (addressed or
// mentioned): a direct Note's are those it is a message to. (The actor of
// a personal inbox that a Note reached without naming it is a recipient,
// not one it names.)
func (p *Processor) receivedNote(ctx context.Context, a activity, m map[string]any, raw []byte, in store.Inbound) (n store.ReceivedNote, names []coop.Actor, err error) {
	n = store.ReceivedNote{
		InboundID: in.ID, ActivityID: a.ID, ObjectID: str(m, "id"), ActorURI: a.Actor,
		Content: sanitizeHTML(textOrMap(m, "content")), InReplyTo: idOf(m["inReplyTo"]), Name: plainText(textOrMap(m, "name")),
		ReceivedAt: in.ReceivedAt,
	}
	if t, err := time.Parse(time.RFC3339, str(m, "published")); err == nil {
		n.Published = t.UTC()
	}
	if raw == nil || !utf8.Valid(raw) {
		// Not at hand, or not UTF-8 (encoding/json decoded it with
		// U+FFFD in place of the bad bytes): encoded from the decoding.
		if raw, err = json.Marshal(m); err != nil {
			return n, nil, err
		}
	}
	n.Raw = raw
	var addressed []string
	for _, src := range []map[string]any{a.m, m} {
		for _, k := range []string{"to", "cc", "bto", "bcc", "audience"} {
			addressed = append(addressed, idsOf(src[k])...)
		}
	}
	public, toFollowers := false, false
	follower, _ := p.db.RemoteActor(ctx, a.Actor)
	for _, id := range addressed {
		public = public || publicAddresses[id]
		toFollowers = toFollowers || (follower.Followers != "" && id == follower.Followers) || id == a.Actor+"/followers"
	}
	n.Direct = !public && !toFollowers
	candidates := addressed
	tags, ok := m["tag"].([]any)
	if !ok && m["tag"] != nil {
		tags = []any{m["tag"]}
	}
	for _, tag := range tags {
		if tm, ok := tag.(map[string]any); ok && str(tm, "type") == "Mention" {
			candidates = append(candidates, idOf(tm["href"]))
		}
	}
	seen := map[int64]bool{}
	if in.RecipientID != 0 {
		seen[in.RecipientID] = true
		n.RecipientIDs = append(n.RecipientIDs, in.RecipientID)
	}
	if toFollowers {
		// A post to the sender's followers is for the local actors who
		// follow the sender.
		ids, err := p.db.LocalFollowersOf(ctx, a.Actor)
		if err != nil {
			return n, nil, err
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				n.RecipientIDs = append(n.RecipientIDs, id)
			}
		}
	}
	asked, named := map[string]bool{}, map[int64]bool{}
	for _, id := range candidates {
		if asked[id] {
			continue // to and the Note's to name the same actors
		}
		asked[id] = true
		local, ok, err := p.localActor(ctx, id)
		if err != nil {
			return n, nil, err
		}
		if !ok || named[local.ID] {
			continue
		}
		named[local.ID] = true
		names = append(names, local)
		if !seen[local.ID] {
			seen[local.ID] = true
			n.RecipientIDs = append(n.RecipientIDs, local.ID)
		}
	}
	return n, names, nil
}

// textOrMap returns m[k], or the first value of its language map m[k+"Map"].
func textOrMap(m map[string]any, k string) string {
	if s := str(m, k); s != "" {
		return s
	}
	if lm, ok := m[k+"Map"].(map[string]any); ok {
		for _, v := range lm {
			if s, ok := v.(string); ok {
				return s
			}
		}
	}
	return ""
}

// samePEM reports whether two PEM texts hold the same public key.
func samePEM(a, b string) bool {
	ka, err1 := sig.ParsePublicKey(a)
	kb, err2 := sig.ParsePublicKey(b)
	return err1 == nil && err2 == nil && ka.Equal(kb)
}

// inlineTypes are the activities an inbox may apply in the transaction
// that stores it (store.DB.InsertInboundApplying), prepared by the inbox
// handler: those that share a transaction (no later activity's
// preparation reads their effects; see sharesTransaction). The rest (an
// Accept, an Update, a Delete, a project's Add) are only stored, and
// the processor applies them, with their actor's later activities after
// them.
var inlineTypes = sharesTransaction

// inlineEffect is an activity the inbox prepared, for the transaction
// that stores it to apply: see inline.
type inlineEffect struct {
	gen        *atomic.Uint64 // the generation of the activity's actor
	generation uint64         // its value when preparing began
	eff        effect
	notes      []store.ReceivedNote // a Create's, which eff stores: they need the row's id
	wake       bool                 // eff may queue deliveries
}

var _ store.InboundEffect = (*inlineEffect)(nil)

// Current reports whether no apply transaction of the processor with an
// activity of the same actor began since the preparation did: the
// processor applies what may change a preparation (an Accept changes whom
// the actor's posts to its followers reach, an Update or a Delete the
// cached actor; each only for its own actor), and adds to the actors'
// generations inside each of its transactions, which the storing
// transaction cannot overlap (one writer connection).
func (e *inlineEffect) Current() bool { return e.gen.Load() == e.generation }

// Apply writes the effect, as the processor's applyOne would.
func (e *inlineEffect) Apply(ctx context.Context, t *store.Tx, id int64) error {
	for i := range e.notes {
		e.notes[i].InboundID = id
	}
	if e.eff == nil {
		return nil
	}
	return e.eff(ctx, t)
}

// inline prepares an activity the inbox accepted so that the transaction
// that stores it also applies it; nil when it must wait for the
// processor: its type is not in inlineTypes, a Create's object must be
// fetched, or preparing it failed (the processor prepares it again, and
// records the failure). The preparation is the processor's own (effectOf),
// made before storing rather than after a claim: the store applies it
// only when the actor has nothing unfinished stored before it, and
// Current, so that an actor's activities are still applied in the order
// they came, each on the state its predecessors left.
func (p *Processor) inline(ctx context.Context, a activity, in store.Inbound) *inlineEffect {
	if !inlineTypes[a.Type] {
		return nil
	}
	if a.Type == "Create" {
		for _, o := range createObjects(a) {
			if _, embedded := o.(map[string]any); !embedded {
				return nil // to fetch: not while the sender waits
			}
		}
	}
	gen := p.generation(a.Actor)
	e := &inlineEffect{gen: gen, generation: gen.Load(), wake: a.Type == "Follow"}
	var err error
	if a.Type == "Create" {
		// effectOf's block check is skipped: the inbox has just made it.
		var c created
		if c, err = p.create(ctx, a, in); err == nil {
			e.notes, e.eff = c.notes, p.createEffect(c)
			// The ProposalInbox may queue deliveries (a poll's counts).
			e.wake = c.toProposals()
		}
	} else {
		e.eff, err = p.effectOf(ctx, a, in)
		e.wake = e.wake || a.Type == "Announce" && e.eff != nil
	}
	if err != nil {
		return nil
	}
	return e
}
