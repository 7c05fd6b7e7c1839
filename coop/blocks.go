package coop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/idna"
)

// BlockKind is what a block covers.
type BlockKind string

// The kinds of block.
const (
	// BlockDomain covers a host and every subdomain of it.
	BlockDomain BlockKind = "domain"
	// BlockAccount covers one remote actor, by its actor URI.
	BlockAccount BlockKind = "account"
)

// Block is a remote domain or account this node refuses: their inbox
// POSTs get 403, nothing is fetched from them, no follow with them is
// kept and nothing is delivered to them.
type Block struct {
	Kind BlockKind
	// Target is the normalized domain (NormalizeDomain) or the actor URI.
	Target string
	Reason string // shown to the blocked peer in the 403, and to admins
	// By is the principal who added the block: a member's handle, or
	// "admin" for the command line, which acts with the node's authority.
	By        string
	CreatedAt time.Time
}

// Block errors.
var (
	ErrBlocked        = errors.New("blocked")
	ErrAlreadyBlocked = errors.New("already blocked")
	ErrInvalidDomain  = errors.New("invalid domain name")
)

// BlockStore is the storage of blocks; package store implements it.
type BlockStore interface {
	// Blocks lists every block, domains first, oldest first.
	Blocks(ctx context.Context) ([]Block, error)
	// UpdateBlocks runs fn in one write transaction.
	UpdateBlocks(ctx context.Context, fn func(BlockTx) error) error
}

// BlockTx is a write transaction on blocks and what a block ends.
type BlockTx interface {
	// InsertBlock stores b; a target already blocked is ErrAlreadyBlocked.
	InsertBlock(ctx context.Context, b Block) error
	// DeleteBlock removes a block; ErrNotFound when there is none.
	DeleteBlock(ctx context.Context, kind BlockKind, target string) error
	// RemoveFollowsOnDomain removes every follow, both ways, between local
	// actors and remote actors on domain or its subdomains, and returns
	// how many rows went.
	RemoveFollowsOnDomain(ctx context.Context, domain string) (int64, error)
	// RemoveFollowsOf removes every follow, both ways, with one remote actor.
	RemoveFollowsOf(ctx context.Context, uri string) (int64, error)
	// KillDeliveriesToDomain marks dead, with reason, the queued deliveries
	// to inboxes on domain or its subdomains, and returns how many.
	KillDeliveriesToDomain(ctx context.Context, domain, reason string, at time.Time) (int64, error)
	// KillDeliveriesToActor marks dead the queued deliveries to the
	// personal inbox of a remote actor (as cached), and returns how many.
	KillDeliveriesToActor(ctx context.Context, uri, reason string, at time.Time) (int64, error)
}

// Blocks runs the block use cases: an admin adds, removes and lists
// blocks. Set Store; Resolver is needed to block an account given as
// @name@host.
type Blocks struct {
	Store    BlockStore
	Resolver Resolver
	Clock    func() time.Time
	// Admin checks that the context's principal may take admin actions:
	// Service.RequireAdmin, so that a page and the command line go by the
	// one rule of admin.go. Without it only the operator at the command
	// line (AdminPrincipal) may use the blocks: a Blocks wired without
	// the check refuses the web's members rather than admitting them all.
	Admin func(ctx context.Context) error
}

// RequireAdmin returns an error wrapping ErrNotAllowed unless the
// context's principal is the operator or a live admin member
// (ErrNoPrincipal when there is none): the admin rule, for the use cases
// that keep their own store, such as Blocks.
func (s *Service) RequireAdmin(ctx context.Context) error { return s.requireAdmin(ctx, s.Store) }

// requireAdmin applies b.Admin, or without it admits the operator only.
func (b *Blocks) requireAdmin(ctx context.Context) error {
	if b.Admin != nil {
		return b.Admin(ctx)
	}
	pr, ok := PrincipalFrom(ctx)
	switch {
	case !ok:
		return ErrNoPrincipal
	case pr.ID != AdminPrincipal:
		return fmt.Errorf("%w: only an admin of the co-op may do this", ErrNotAllowed)
	}
	return nil
}

// BlockResult is what adding a block ended.
type BlockResult struct {
	Block             Block
	FollowsRemoved    int64
	DeliveriesDropped int64 // queued deliveries marked dead
}

// DeliveryBlockedReason is the last_error of a delivery dropped by a block.
const DeliveryBlockedReason = "blocked"

// Add blocks target — a domain ("example.com"), an account ("@name@host")
// or an actor URL — on behalf of principal by, and in the same transaction
// removes the follows with it and marks dead the deliveries queued to it.
func (b *Blocks) Add(ctx context.Context, by, target, reason string) (BlockResult, error) {
	if err := b.requireAdmin(ctx); err != nil {
		return BlockResult{}, fmt.Errorf("coop: block %q: %w", target, err)
	}
	if strings.TrimSpace(by) == "" {
		return BlockResult{}, fmt.Errorf("%w: a block needs the principal who adds it", ErrInvalidInput)
	}
	kind, norm, err := b.parseTarget(ctx, target)
	if err != nil {
		return BlockResult{}, fmt.Errorf("coop: block %q: %w", target, err)
	}
	now := time.Now
	if b.Clock != nil {
		now = b.Clock
	}
	at := now().UTC().Truncate(time.Microsecond)
	res := BlockResult{Block: Block{Kind: kind, Target: norm, Reason: strings.TrimSpace(reason), By: by, CreatedAt: at}}
	err = b.Store.UpdateBlocks(ctx, func(tx BlockTx) error {
		if err := tx.InsertBlock(ctx, res.Block); err != nil {
			return err
		}
		var err error
		if kind == BlockDomain {
			if res.FollowsRemoved, err = tx.RemoveFollowsOnDomain(ctx, norm); err != nil {
				return err
			}
			res.DeliveriesDropped, err = tx.KillDeliveriesToDomain(ctx, norm, DeliveryBlockedReason, at)
			return err
		}
		if res.FollowsRemoved, err = tx.RemoveFollowsOf(ctx, norm); err != nil {
			return err
		}
		res.DeliveriesDropped, err = tx.KillDeliveriesToActor(ctx, norm, DeliveryBlockedReason, at)
		return err
	})
	if err != nil {
		return BlockResult{}, fmt.Errorf("coop: block %s: %w", norm, err)
	}
	return res, nil
}

// Remove lifts the block of target, given as for Add (an account as
// @name@host is looked up again).
func (b *Blocks) Remove(ctx context.Context, target string) (Block, error) {
	if err := b.requireAdmin(ctx); err != nil {
		return Block{}, fmt.Errorf("coop: unblock %q: %w", target, err)
	}
	kind, norm, err := b.parseTarget(ctx, target)
	if err != nil {
		return Block{}, fmt.Errorf("coop: unblock %q: %w", target, err)
	}
	err = b.Store.UpdateBlocks(ctx, func(tx BlockTx) error { return tx.DeleteBlock(ctx, kind, norm) })
	if err != nil {
		return Block{}, fmt.Errorf("coop: unblock %s: %w", norm, err)
	}
	return Block{Kind: kind, Target: norm}, nil
}

// List lists the blocks, for admins (the reasons may name people).
func (b *Blocks) List(ctx context.Context) ([]Block, error) {
	if err := b.requireAdmin(ctx); err != nil {
		return nil, fmt.Errorf("coop: list blocks: %w", err)
	}
	return b.Store.Blocks(ctx)
}

// parseTarget tells a domain, an account and an actor URL apart.
func (b *Blocks) parseTarget(ctx context.Context, target string) (BlockKind, string, error) {
	t := strings.TrimSpace(target)
	switch {
	case hasPrefixFold(t, "https://") || hasPrefixFold(t, "http://"):
		uri, err := NormalizeActorURI(t)
		return BlockAccount, uri, err
	case strings.Contains(t, "@"):
		if b.Resolver == nil {
			return "", "", fmt.Errorf("%w: this node cannot look up accounts; give the actor URL", ErrInvalidInput)
		}
		uri, err := b.Resolver.ResolveAccount(ctx, t)
		if err != nil {
			return "", "", err
		}
		return BlockAccount, uri, nil
	}
	d, err := NormalizeDomain(t)
	return BlockDomain, d, err
}

// NormalizeDomain returns the form in which a domain is stored and
// compared: lower case, without a trailing dot or a port, an
// internationalized name in its punycode ("xn--") form by the UTS #46
// lookup mapping (golang.org/x/net/idna), each label 1 to 63 letters,
// digits and hyphens, not starting or ending with a hyphen; an IP address
// in its canonical form. Every host compared with a
// block goes through it, so that "Example.COM." cannot slip past a block
// of "example.com" (the class of Mastodon's CVE-2023-42451).
func NormalizeDomain(s string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(s))
	if h, _, err := net.SplitHostPort(d); err == nil {
		d = h // host:port, [v6]:port
	}
	d = strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(d, "["), "]"), ".")
	if a, err := netip.ParseAddr(d); err == nil {
		return a.Unmap().String(), nil
	}
	if !isASCII(d) {
		// UTS #46 as browsers and resolvers look names up: case and
		// width folded, then punycode. A name that does not map is
		// refused, never compared as it came.
		a, err := idna.Lookup.ToASCII(d)
		if err != nil {
			return "", fmt.Errorf("%w: %q: %v", ErrInvalidDomain, s, err)
		}
		d = strings.TrimSuffix(a, ".")
	}
	if d == "" || len(d) > 253 {
		return "", fmt.Errorf("%w: %q", ErrInvalidDomain, s)
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("%w: %q", ErrInvalidDomain, s)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", fmt.Errorf("%w: %q", ErrInvalidDomain, s)
			}
		}
	}
	return d, nil
}

// NormalizeActorURI returns the form in which an account block is stored
// and compared: an http(s) URL with its scheme lower case, its host
// normalized as by NormalizeDomain (its port kept) and no fragment (a key
// id "ACTOR#main-key" names its actor).
func NormalizeActorURI(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" ||
		!strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(u.Scheme, "http") {
		return "", fmt.Errorf("%w: %q is not an actor URL", ErrInvalidInput, s)
	}
	host, err := NormalizeDomain(u.Hostname())
	if err != nil {
		return "", err
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" {
		host += ":" + p
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), host
	u.Fragment, u.RawFragment = "", ""
	return u.String(), nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// DomainCandidates returns the normalized host and each domain above it
// ("a.b.example" → "a.b.example", "b.example", "example"): a domain block
// of any of them covers host. An IP address is its only candidate.
func DomainCandidates(host string) ([]string, error) {
	d, err := NormalizeDomain(host)
	if err != nil {
		return nil, err
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return []string{d}, nil
	}
	out := []string{d}
	for {
		_, rest, ok := strings.Cut(d, ".")
		if !ok {
			return out, nil
		}
		out = append(out, rest)
		d = rest
	}
}

// DomainCovers reports whether a block of domain covers host (the same
// name, or a subdomain of it). Both are normalized first; a host that does
// not normalize is covered by nothing (callers refuse it on their own).
func DomainCovers(domain, host string) bool {
	cands, err := DomainCandidates(host)
	if err != nil {
		return false
	}
	d, err := NormalizeDomain(domain)
	if err != nil {
		return false
	}
	for _, c := range cands {
		if c == d {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
