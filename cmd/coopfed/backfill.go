package main

import (
	"context"
	"fmt"

	"github.com/coopfed/coopfed/federation"
)

// peerBackfill reads the outbox and coop:projects of one peer, or of every
// peer, into the inbound queue, which a running serve applies (its
// processor polls the queue).
func peerBackfill(ctx context.Context, e *env, args []string) error {
	fs := newFlags("peer backfill", "peer backfill [@coop@host|URL] [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		if err := wantArgs(fs, pos, 1, "the peer co-op's account or actor URL"); err != nil {
			return err
		}
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	var peers []string
	if len(pos) == 1 {
		uri := pos[0]
		if n.svc.Publisher != nil {
			r, err := n.svc.Publisher.Recipient(ctx, pos[0])
			if err != nil {
				return fmt.Errorf("peer backfill %q: %w", pos[0], err)
			}
			uri = r.Actor
		}
		peers = append(peers, uri)
	} else {
		ps, err := n.svc.Peers(ctx)
		if err != nil {
			return err
		}
		for _, p := range ps {
			peers = append(peers, p.Actor)
		}
	}
	b := federation.NewBackfiller(federation.BackfillConfig{DB: n.db, Fetcher: n.fetcher})
	failed := 0
	for _, p := range peers {
		r, err := b.Peer(ctx, p)
		if err != nil {
			failed++
			fmt.Fprintf(e.stderr, "%s: %v\n", p, err)
			continue
		}
		fmt.Fprintf(e.stdout, "%s: %d pages, %d items read, %d activities queued\n", p, r.Pages, r.Items, r.Queued)
	}
	if failed > 0 {
		return fmt.Errorf("peer backfill: %d of %d peers failed", failed, len(peers))
	}
	fmt.Fprintf(e.stdout, "%d peers backfilled; a running serve applies what was queued\n", len(peers))
	return nil
}
