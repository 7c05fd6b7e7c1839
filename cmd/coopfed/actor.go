package main

import (
	"context"
	"fmt"
)

func runActor(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, "actor", args, []command{
		{"set", "change a setting of a member, a project or the co-op", actorSet},
	})
}

func actorSet(ctx context.Context, e *env, args []string) error {
	fs := newFlags("actor set", "actor set HANDLE --manual-approval on|off [--config PATH]", e.stderr)
	path := configFlag(fs)
	manual := fs.String("manual-approval", "", "on: follow requests wait for 'followers approve'; off: followers are accepted at once, and those waiting too")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 1, "HANDLE"); err != nil {
		return err
	}
	var on bool
	switch *manual {
	case "on":
		on = true
	case "off":
	case "":
		fs.Usage()
		return usagef("nothing to set: give --manual-approval on|off")
	default:
		return usagef("--manual-approval %q: want on or off", *manual)
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.svc.SetManualApproval(ctx, pos[0], on); err != nil {
		return err
	}
	if on {
		fmt.Fprintf(e.stdout, "%s approves followers by hand: `coopfed followers list %s --pending` shows who waits\n", pos[0], pos[0])
	} else {
		fmt.Fprintf(e.stdout, "%s accepts followers at once; any waiting were accepted\n", pos[0])
	}
	return nil
}
