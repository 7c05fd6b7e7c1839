package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/coopfed/coopfed/coop"
)

func runPeer(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, "peer", args, []command{
		{"add", "add a co-op to the federation (the co-op follows it; Update sent)", peerAdd},
		{"remove", "take a co-op off the federation (Undo of the follow; Update sent)", peerRemove},
		{"list", "list the co-ops of the federation and the state of our follow of each", peerList},
		{"backfill", "read a peer's (or every peer's) outbox and projects into the inbound queue", peerBackfill},
	})
}

func peerAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlags("peer add", "peer add @coop@host|URL [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "the peer co-op's account or actor URL")
	if err != nil {
		return err
	}
	defer n.Close()
	p, err := n.svc.AddPeer(ctx, pos[0], coop.PrincipalCLI)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s is a member of the federation\nfollow %s; Update of the co-op queued to its followers\n", p.Actor, p.FollowState)
	return nil
}

func peerRemove(ctx context.Context, e *env, args []string) error {
	fs := newFlags("peer remove", "peer remove @coop@host|URL [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "the peer co-op's account or actor URL")
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.svc.RemovePeer(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s is no longer a member of the federation (Undo and Update queued)\n", pos[0])
	return nil
}

func peerList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("peer list", "peer list [--config PATH]", e.stderr)
	path := configFlag(fs)
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	ps, err := n.svc.Peers(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tFOLLOW\tADDED\tBY")
	for _, p := range ps {
		state := p.FollowState
		if state == "" {
			state = "none"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Actor, state, p.AddedAt.Format("2006-01-02 15:04"), p.AddedBy)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d peers\n", len(ps))
	return nil
}
