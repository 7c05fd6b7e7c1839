package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// memberLinkCode prints a one-time code with which a member links an
// account they hold on another server.
func memberLinkCode(ctx context.Context, e *env, args []string) error {
	fs := newFlags("member link-code", "member link-code NAME --as NAME [--config PATH]\n  prints a code to send, in a direct message from your other account, to the co-op's account", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "NAME")
	if err != nil {
		return err
	}
	defer n.Close()
	useClock(e, n)
	if *as == "" {
		return usagef("--as NAME is required: a member links their own accounts, with their password")
	}
	if ctx, err = actAs(ctx, e, n, *as); err != nil {
		return err
	}
	code, expires, err := n.svc.LinkCode(ctx, pos[0])
	if err != nil {
		return err
	}
	c, err := n.svc.Store.Coop(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n\nSend this code in a direct message (visible to mentioned people only) from the account you want to link to @%s,\n"+
		"before %s (it works once). Then confirm the link with:\n  coopfed member link-confirm %s ACCOUNT --as %s\n",
		code, n.svc.Site.Acct(c.Handle), expires.UTC().Format(time.RFC3339), pos[0], pos[0])
	return nil
}

// memberLinkConfirm confirms a pending link.
func memberLinkConfirm(ctx context.Context, e *env, args []string) error {
	fs := newFlags("member link-confirm", "member link-confirm NAME ACCOUNT --as NAME [--config PATH]\n  ACCOUNT: the account's actor URL, or @name@host", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 2, "NAME ACCOUNT")
	if err != nil {
		return err
	}
	defer n.Close()
	useClock(e, n)
	if *as == "" {
		return usagef("--as NAME is required: a member confirms their own links, with their password")
	}
	if ctx, err = actAs(ctx, e, n, *as); err != nil {
		return err
	}
	account := pos[1]
	if !strings.HasPrefix(account, "https://") && !strings.HasPrefix(account, "http://") {
		r, err := n.svc.Publisher.Recipient(ctx, account)
		if err != nil {
			return fmt.Errorf("look up %s: %w", account, err)
		}
		account = r.Actor
	}
	counted, err := n.svc.LinkConfirm(ctx, pos[0], account)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "linked %s to %s; %d vote(s) it sent on open proposals now count\n", account, pos[0], counted)
	return nil
}

// memberLinks lists a member's linked accounts.
func memberLinks(ctx context.Context, e *env, args []string) error {
	fs := newFlags("member links", "member links NAME [--as NAME] [--config PATH]", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	pos, n, err := setup(ctx, fs, path, args, 1, "NAME")
	if err != nil {
		return err
	}
	defer n.Close()
	if ctx, err = actAs(ctx, e, n, *as); err != nil {
		return err
	}
	links, err := n.svc.AccountLinks(ctx, pos[0])
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ACCOUNT\tSTATE\tSINCE")
	for _, l := range links {
		state, since := "waiting for confirmation", l.Requested
		if !l.Confirmed.IsZero() {
			state, since = "linked", l.Confirmed
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", l.Account, state, since.UTC().Format(time.RFC3339))
	}
	return w.Flush()
}
