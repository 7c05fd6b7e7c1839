package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/coopfed/coopfed/coop"
)

func runMember(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, "member", args, []command{
		{"add", "add a member and print a one-time password", memberAdd},
		{"list", "list the members", memberList},
		{"remove", "remove a member (the handle is never given out again)", memberRemove},
		{"reset-password", "give a member a new one-time password", memberResetPassword},
		{"role", "give a member a role: admin or member (the last admin stays)", memberRole},
		{"password", "set your own password (the one-time one must be changed before you vote)", memberPassword},
		{"link-code", "print a one-time code to link an account you hold on another server (--as NAME)", memberLinkCode},
		{"link-confirm", "confirm the link of an account that sent your code (--as NAME)", memberLinkConfirm},
		{"alias", "add an address under which a member's commits are matched", memberAlias},
		{"links", "list a member's linked accounts", memberLinks},
		{"erase", "forget a removed member's personal data behind the decision log's commitments (the log still verifies)", memberErase},
	})
}

// runSub dispatches to a subcommand of a command.
func runSub(ctx context.Context, e *env, name string, args []string, subs []command) error {
	usage := func() {
		fmt.Fprintf(e.stderr, "usage: coopfed %s SUBCOMMAND [flags]\n\n", name)
		for _, s := range subs {
			fmt.Fprintf(e.stderr, "  %-15s %s\n", s.name, s.summary)
		}
	}
	if len(args) == 0 {
		usage()
		return usagef("missing subcommand")
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		return errHelp
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, e, args[1:])
		}
	}
	usage()
	return usagef("unknown subcommand %q", args[0])
}

func memberAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlags("member add", "member add NAME [--display-name NAME] [--email ADDRESS] [--role admin|member] [--config PATH]", e.stderr)
	path := configFlag(fs)
	display := fs.String("display-name", "", "the name shown for the member (default: the handle)")
	email := fs.String("email", "", "the member's email address")
	role := fs.String("role", "member", "admin or member")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 1, "NAME"); err != nil {
		return err
	}
	r, err := coop.ParseRole(*role)
	if err != nil {
		return &usageError{err.Error()}
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	m, password, err := n.svc.AddMember(ctx, coop.NewMember{Handle: pos[0], DisplayName: *display, Email: *email, Role: r})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "added %s @%s (%s)\n", m.Name, n.svc.Site.Acct(m.Handle), m.Role)
	fmt.Fprintf(e.stdout, "actor: %s\n", n.svc.Site.ActorID(m.Handle))
	fmt.Fprintf(e.stdout, "one-time password: %s\n", password)
	fmt.Fprintln(e.stdout, "Give it to the member: it must be changed at first sign-in, and cannot be shown again.")
	return nil
}

func memberList(ctx context.Context, e *env, args []string) error {
	fs := newFlags("member list", "member list [--config PATH]", e.stderr)
	path := configFlag(fs)
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	ms, err := n.svc.Members(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HANDLE\tNAME\tROLE\tEMAIL\tSINCE\tPASSWORD")
	for _, m := range ms {
		pw := "set"
		if m.MustChangePassword {
			pw = "one-time"
		}
		fmt.Fprintf(tw, "@%s\t%s\t%s\t%s\t%s\t%s\n", n.svc.Site.Acct(m.Handle), m.Name, m.Role, m.Email, m.CreatedAt.Format("2006-01-02"), pw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d members\n", len(ms))
	return nil
}

func memberRemove(ctx context.Context, e *env, args []string) error {
	fs := newFlags("member remove", "member remove NAME [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "NAME")
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.svc.RemoveMember(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed @%s; its actor now answers 410 Gone and the handle will not be given out again\n", n.svc.Site.Acct(pos[0]))
	return nil
}

func memberRole(ctx context.Context, e *env, args []string) error {
	fs := newFlags("member role", "member role NAME admin|member [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 2, "NAME and ROLE"); err != nil {
		return err
	}
	role, err := coop.ParseRole(pos[1])
	if err != nil {
		return &usageError{err.Error()}
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := n.svc.SetRole(ctx, pos[0], role); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "@%s is now %s\n", n.svc.Site.Acct(pos[0]), role)
	return nil
}

func memberResetPassword(ctx context.Context, e *env, args []string) error {
	fs := newFlags("member reset-password", "member reset-password NAME [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "NAME")
	if err != nil {
		return err
	}
	defer n.Close()
	password, err := n.svc.ResetPassword(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "one-time password for @%s: %s\n", n.svc.Site.Acct(pos[0]), password)
	fmt.Fprintln(e.stdout, "It must be changed at first sign-in, and cannot be shown again.")
	return nil
}

func memberErase(ctx context.Context, e *env, args []string) error {
	fs := newFlags("member erase", "member erase NAME [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "NAME")
	if err != nil {
		return err
	}
	defer n.Close()
	count, err := n.svc.ErasePersonalData(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "erased %d personal values of %s; the decision log keeps their commitments and still verifies\n", count, pos[0])
	return nil
}

func memberPassword(ctx context.Context, e *env, args []string) error {
	fs := newFlags("member password", "member password NAME [--config PATH]\n  the current password from the terminal or COOPFED_PASSWORD, the new one from the terminal or COOPFED_NEW_PASSWORD", e.stderr)
	path := configFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "NAME")
	if err != nil {
		return err
	}
	defer n.Close()
	current, err := readPassword(e, "current password of "+pos[0]+": ", "COOPFED_PASSWORD")
	if err != nil {
		return err
	}
	next, err := readPassword(e, "new password: ", "COOPFED_NEW_PASSWORD")
	if err != nil {
		return err
	}
	if _, ok := os.LookupEnv("COOPFED_NEW_PASSWORD"); !ok {
		again, err := readPassword(e, "new password again: ", "COOPFED_NEW_PASSWORD")
		if err != nil {
			return err
		}
		if again != next {
			return usagef("the two new passwords differ")
		}
	}
	if err := n.svc.ChangePassword(ctx, pos[0], current, next); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "password of %s changed\n", pos[0])
	return nil
}
