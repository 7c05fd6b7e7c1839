package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/coopfed/coopfed/coop"
)

func runPost(ctx context.Context, e *env, args []string) error {
	fs := newFlags("post", "post --as NAME [--to @name@host]... [--direct] \"text\" [--config PATH]", e.stderr)
	path := configFlag(fs)
	as := fs.String("as", "", "the local actor who posts: a member, a project or the co-op")
	direct := fs.Bool("direct", false, "a direct message: only the --to accounts see it")
	var to stringList
	fs.Var(&to, "to", "an account to mention (@name@host or an actor URL; repeat for several)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return usagef("missing the text of the post")
	}
	if *as == "" {
		fs.Usage()
		return usagef("--as is required")
	}
	if *direct && len(to) == 0 {
		return usagef("--direct needs at least one --to")
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	id, err := n.svc.Post(ctx, coop.NewPost{AuthorHandle: *as, Text: strings.Join(pos, " "), To: to, Direct: *direct})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "posted %s\n", id)
	fmt.Fprintln(e.stdout, "queued for delivery; `coopfed deliveries list` shows its progress")
	return nil
}

func runFollow(ctx context.Context, e *env, args []string) error {
	return follow(ctx, e, "follow", args)
}

func runUnfollow(ctx context.Context, e *env, args []string) error {
	return follow(ctx, e, "unfollow", args)
}

func follow(ctx context.Context, e *env, name string, args []string) error {
	fs := newFlags(name, name+" ACTOR @name@host|URL [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 2, "ACTOR and the account to "+name); err != nil {
		return err
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	if name == "unfollow" {
		if err := n.svc.Unfollow(ctx, pos[0], pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s no longer follows %s (Undo queued)\n", pos[0], pos[1])
		return nil
	}
	id, err := n.svc.Follow(ctx, pos[0], pos[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "follow queued: %s\nit stays pending until %s accepts it\n", id, pos[1])
	return nil
}
