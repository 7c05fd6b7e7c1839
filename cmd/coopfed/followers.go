package main

import (
	"context"
	"fmt"
	"text/tabwriter"
)

func runFollowers(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, "followers", args, []command{
		{"list", "list an actor's followers, or with --pending its follow requests", followersList},
		{"approve", "accept a follow request (sends Accept)", followersApprove},
		{"reject", "refuse a follow request or remove a follower (sends Reject)", followersReject},
	})
}

func followersList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("followers list", "followers list ACTOR [--pending] [--config PATH]", e.stderr)
	path := configFlag(fs)
	pending := fs.Bool("pending", false, "only the follow requests waiting for approval, one actor URI a line")
	pos, n, err := setup(ctx, fs, path, args, 1, "ACTOR")
	if err != nil {
		return err
	}
	defer n.Close()
	if *pending {
		uris, err := n.svc.PendingFollowers(ctx, pos[0])
		if err != nil {
			return err
		}
		for _, u := range uris {
			fmt.Fprintln(e.stdout, u)
		}
		return nil
	}
	followers, err := n.svc.Followers(ctx, pos[0])
	if err != nil {
		return err
	}
	waiting := 0
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FOLLOWER\tSTATE\tSINCE")
	for _, f := range followers {
		state := "accepted"
		if f.Pending {
			state = "pending"
			waiting++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Actor, state, f.Since.Format("2006-01-02 15:04"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d followers, %d pending\n", len(followers)-waiting, waiting)
	return nil
}

func followersApprove(ctx context.Context, e *env, args []string) error {
	return followersAnswer(ctx, e, "approve", args)
}

func followersReject(ctx context.Context, e *env, args []string) error {
	return followersAnswer(ctx, e, "reject", args)
}

func followersAnswer(ctx context.Context, e *env, name string, args []string) error {
	fs := newFlags("followers "+name, "followers "+name+" ACTOR FOLLOWER_URI [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 2, "ACTOR and FOLLOWER_URI")
	if err != nil {
		return err
	}
	defer n.Close()
	if name == "approve" {
		if err := n.svc.ApproveFollower(ctx, pos[0], pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s now follows %s (Accept queued)\n", pos[1], pos[0])
		return nil
	}
	if err := n.svc.RejectFollower(ctx, pos[0], pos[1]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s does not follow %s (Reject queued)\n", pos[1], pos[0])
	return nil
}
