package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"github.com/coopfed/coopfed/config"
	"github.com/coopfed/coopfed/coop"
)

// devPort is where `coopfed dev` listens on first run when it is free.
const devPort = "8080"

func runDev(ctx context.Context, e *env, args []string) error {
	flags := newFlags("dev", "dev [--dir coopfed-data] [--name \"Co-op name\"]", e.stderr)
	dir := flags.String("dir", defaultDir, "folder for the node's config, database and keys")
	name := flags.String("name", "Development Co-op", "the co-op's name, on first run")
	admin := flags.String("admin", "steward", "the first member, an admin, made on first run with a one-time password to sign in with")
	pos, err := parse(flags, args)
	if err != nil {
		return err
	}
	if err := wantArgs(flags, pos, 0, ""); err != nil {
		return err
	}
	path := filepath.Join(*dir, configFile)
	var ln net.Listener
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		// First run: take 127.0.0.1:8080, or any free port when that one is
		// taken, and write it into the config so later runs reuse it.
		ln, err = net.Listen("tcp", "127.0.0.1:"+devPort)
		if err != nil {
			if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
				return fmt.Errorf("find a free port on 127.0.0.1: %w", err)
			}
		}
		addr := ln.Addr().String()
		if _, _, err := initNode(ctx, *dir, config.Values{Mode: config.ModeDevelopment, Host: addr, Listen: addr, CoopName: *name}); err != nil {
			ln.Close()
			return err
		}
		fmt.Fprintf(e.stdout, "created a development node in %s\n", *dir)
	} else if err != nil {
		return err
	}
	n, err := openNode(ctx, path)
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		return err
	}
	defer n.Close()
	if ln != nil {
		// First run: an admin member to sign in with at once.
		_, oneTime, err := n.svc.AddMember(ctx, coop.NewMember{Handle: *admin, Role: coop.RoleAdmin})
		if err != nil {
			ln.Close()
			return fmt.Errorf("the first member %q: %w", *admin, err)
		}
		fmt.Fprintf(e.stdout, "first member (an admin): %s, one-time password: %s\n  sign in at %s and choose your own password\n",
			*admin, oneTime, n.svc.Site.URL("/signin"))
	}
	if !n.cfg.Development() {
		if ln != nil {
			ln.Close()
		}
		return fmt.Errorf("%s is a production config: run it with coopfed serve --config %s", path, path)
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", n.cfg.Server.Listen); err != nil {
			return fmt.Errorf("listen on %s (server.listen in %s; is another node running?): %w", n.cfg.Server.Listen, path, err)
		}
	}
	return serve(ctx, e, n, ln)
}
