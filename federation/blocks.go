package federation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/store"
)

// Blocklist answers whether a remote host or actor is blocked;
// *store.DB implements it from an in-memory copy of the block list: a
// block written through the same DB holds at once, one added by another
// process (`coopfed block add` while serve runs) within
// store.BlockCacheTTL (one second). Every caller (inbox, fetcher, resolver,
// processor, delivery workers) goes through it, so none pays a query per
// check.
type Blocklist interface {
	DomainBlock(ctx context.Context, host string) (coop.Block, error)
	AccountBlock(ctx context.Context, actorURI string) (coop.Block, error)
}

var _ Blocklist = (*store.DB)(nil)

// blockOf returns the block that covers uri: a block of its host's domain
// (or a domain above it) or of the account uri itself. ok is false when
// none does. A host that coop.NormalizeDomain refuses is refused as if
// blocked: a block is compared with normalized names only, and a name that
// does not normalize could slip past one.
func blockOf(ctx context.Context, bl Blocklist, uri string) (b coop.Block, ok bool, err error) {
	if db, ok := bl.(*store.DB); bl == nil || ok && db == nil || uri == "" {
		return coop.Block{}, false, nil
	}
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		return coop.Block{}, false, nil // not a URL: refused elsewhere
	}
	b, err = bl.DomainBlock(ctx, u.Host)
	switch {
	case err == nil:
		return b, true, nil
	case errors.Is(err, coop.ErrInvalidDomain):
		return coop.Block{Kind: coop.BlockDomain, Target: u.Host, Reason: "the host name is not a valid DNS name"}, true, nil
	case !errors.Is(err, coop.ErrNotFound):
		return coop.Block{}, false, err
	}
	norm, err := coop.NormalizeActorURI(uri)
	if err != nil {
		return coop.Block{}, false, nil // not an actor URL: refused elsewhere
	}
	b, err = bl.AccountBlock(ctx, norm)
	switch {
	case err == nil:
		return b, true, nil
	case errors.Is(err, coop.ErrNotFound):
		return coop.Block{}, false, nil
	}
	return coop.Block{}, false, err
}

// blockedError is the error of a refused request to or from a block.
func blockedError(uri string, b coop.Block) error {
	what := "domain " + b.Target
	if b.Kind == coop.BlockAccount {
		what = "account " + b.Target
	}
	if b.Reason != "" {
		return fmt.Errorf("%w: %s is blocked by this node: %s", coop.ErrBlocked, what, b.Reason)
	}
	return fmt.Errorf("%w: %s is blocked by this node", coop.ErrBlocked, what)
}

// checkBlocked returns a blockedError when a block covers uri.
func checkBlocked(ctx context.Context, bl Blocklist, uri string) error {
	b, ok, err := blockOf(ctx, bl, uri)
	if err != nil {
		return err
	}
	if ok {
		return blockedError(uri, b)
	}
	return nil
}

// refuseBlocked refuses, with 403 and the block's reason, an inbox POST
// whose keyId or actor is covered by a block. It runs before the
// signature is checked and before any fetch, so that a blocked peer costs
// no RSA work and makes this node fetch nothing. m is the decoded body,
// nil when it did not decode: that is refused later, in its turn.
func (s *Server) refuseBlocked(ctx context.Context, r *http.Request, m map[string]any) error {
	var uris []string
	if h := r.Header.Get("Signature"); h != "" {
		if p, err := sig.ParseSignature(h); err == nil {
			uris = append(uris, p.KeyID)
		}
	}
	if m != nil {
		uris = append(uris, idsOf(m["actor"])...)
	}
	for _, u := range uris {
		b, ok, err := s.blocks.blockOf(ctx, s.db, u)
		if err != nil {
			return err
		}
		if ok {
			return refuse(http.StatusForbidden, "%v", blockedError(u, b))
		}
	}
	return nil
}

// blockMemo keeps blockOf's answers for the URIs an inbox sees (its
// senders' keys and actors, the same few again and again) for as long as
// the block list they came from is current (store.DB.BlocksVersion):
// parsing and normalizing each URI twice was 4 % of an inbound
// activity's CPU.
type blockMemo struct {
	mu      sync.Mutex
	version uint64
	answers map[string]blockAnswer
}

type blockAnswer struct {
	b  coop.Block
	ok bool
}

// blockMemoSize bounds the answers kept; past it, new URIs are not kept.
const blockMemoSize = 4096

// blockOf is blockOf(ctx, db, uri), its answer kept.
func (m *blockMemo) blockOf(ctx context.Context, db *store.DB, uri string) (coop.Block, bool, error) {
	if db == nil {
		return blockOf(ctx, db, uri)
	}
	// The version is read before the answer is made: an answer from a
	// newer list kept under an older version is never used, since the
	// version read by a later call is then the newer one.
	version, err := db.BlocksVersion(ctx)
	if err != nil {
		return coop.Block{}, false, err
	}
	m.mu.Lock()
	if version > m.version {
		m.version, m.answers = version, nil
	}
	var a blockAnswer
	known := false
	if version == m.version { // not when another call saw a newer one
		a, known = m.answers[uri]
	}
	m.mu.Unlock()
	if known {
		return a.b, a.ok, nil
	}
	b, ok, err := blockOf(ctx, db, uri)
	if err != nil {
		return b, ok, err
	}
	m.mu.Lock()
	if m.version == version && len(m.answers) < blockMemoSize {
		if m.answers == nil {
			m.answers = make(map[string]blockAnswer)
		}
		m.answers[uri] = blockAnswer{b, ok}
	}
	m.mu.Unlock()
	return b, ok, nil
}

// DeliveryBlocked is delivery.Config.Blocked for a Blocklist: an inbox on
// a blocked domain, or a blocked account's inbox given by its URL, is
// blocked.
func DeliveryBlocked(bl Blocklist) func(ctx context.Context, inbox string) (bool, error) {
	return func(ctx context.Context, inbox string) (bool, error) {
		_, ok, err := blockOf(ctx, bl, inbox)
		return ok, err
	}
}
