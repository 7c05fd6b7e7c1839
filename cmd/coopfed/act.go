package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/term"
)

// asFlag is the --as NAME flag of the commands a member takes.
func asFlag(fs *flag.FlagSet) *string {
	return fs.String("as", "", "act as this member, with their password (asked on the terminal, or COOPFED_PASSWORD); without it the node's operator acts")
}

// useClock gives the node's use cases the test's clock, if any.
func useClock(e *env, n *node) {
	if e.now != nil {
		n.svc.Clock = e.now
	}
}

// actAs returns ctx acting as member handle, whose password it checks;
// with no handle, ctx (the node's operator) as it is.
func actAs(ctx context.Context, e *env, n *node, handle string) (context.Context, error) {
	if handle == "" {
		return ctx, nil
	}
	pw, err := readPassword(e, "password of "+handle+": ", "COOPFED_PASSWORD")
	if err != nil {
		return nil, err
	}
	p, err := n.svc.Authenticate(ctx, handle, pw, ledger.ChannelCLI)
	if err != nil {
		return nil, err
	}
	return coop.WithPrincipal(ctx, p), nil
}

// readPassword reads a password from the environment variable, else from
// the terminal without echo.
func readPassword(e *env, prompt, envVar string) (string, error) {
	if pw, ok := os.LookupEnv(envVar); ok {
		return pw, nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", usagef("a password is needed: run on a terminal, or set %s", envVar)
	}
	fmt.Fprint(e.stderr, prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}

// forFlag is the --for NAME flag: the node's operator acting for a
// member, recorded as such (never as the member's own act).
func forFlag(fs *flag.FlagSet) *string {
	return fs.String("for", "", "the node's operator acts for this member (the log records the operator, on behalf of the member); not with --as")
}

// actFor is actAs, or, with forName, the node's operator acting for that
// member.
func actFor(ctx context.Context, e *env, n *node, as, forName string) (context.Context, error) {
	if forName == "" {
		return actAs(ctx, e, n, as)
	}
	if as != "" {
		return nil, usagef("--as and --for exclude each other: a member acts as themself, the operator for someone")
	}
	if _, err := n.svc.Store.MemberByHandle(ctx, forName); err != nil {
		return nil, fmt.Errorf("--for %s: %w", forName, err)
	}
	return coop.WithPrincipal(ctx, coop.Principal{ID: coop.AdminPrincipal, Channel: ledger.ChannelCLI, For: n.svc.Site.ActorID(forName)}), nil
}
