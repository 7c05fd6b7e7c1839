package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation"
)

func runBlock(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, "block", args, []command{
		{"add", "block a domain (and its subdomains), an account @name@host or an actor URL", blockAdd},
		{"remove", "lift a block", blockRemove},
		{"list", "list the blocks", blockList},
	})
}

// blocks builds the block use cases on an opened node. Its resolver does
// not refuse blocked accounts, so that a blocked @name@host can be
// named again to lift its block.
func blocks(n *node) *coop.Blocks {
	return &coop.Blocks{
		Store:    n.db,
		Resolver: federation.NewResolver(site(n.cfg), n.cfg.Dev.Hosts, n.cfg.Development()),
		Admin:    n.svc.RequireAdmin,
	}
}

// cliPrincipal is who the command line acts as: the node's administrator,
// with the authority of whoever can run it on the node's database.
const cliPrincipal = "admin"

func blockAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlags("block add", "block add DOMAIN|@name@host|ACTOR_URL [--reason TEXT] [--config PATH]", e.stderr)
	path := configFlag(fs)
	reason := fs.String("reason", "", "why, shown to the blocked peer in the 403 and in block list")
	pos, n, err := setup(ctx, fs, path, args, 1, "DOMAIN, @name@host or ACTOR_URL")
	if err != nil {
		return err
	}
	defer n.Close()
	res, err := blocks(n).Add(ctx, cliPrincipal, pos[0], *reason)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "blocked %s %s: %d follows removed, %d queued deliveries dropped\n",
		res.Block.Kind, res.Block.Target, res.FollowsRemoved, res.DeliveriesDropped)
	return nil
}

func blockRemove(ctx context.Context, e *env, args []string) error {
	fs := newFlags("block remove", "block remove DOMAIN|@name@host|ACTOR_URL [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "DOMAIN, @name@host or ACTOR_URL")
	if err != nil {
		return err
	}
	defer n.Close()
	b, err := blocks(n).Remove(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "unblocked %s %s (follows removed by the block are not restored)\n", b.Kind, b.Target)
	return nil
}

func blockList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("block list", "block list [--config PATH]", e.stderr)
	path := configFlag(fs)
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	bs, err := blocks(n).List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tTARGET\tBY\tSINCE\tREASON")
	for _, b := range bs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.Kind, b.Target, b.By, b.CreatedAt.Format("2006-01-02 15:04"), b.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d blocks\n", len(bs))
	return nil
}
