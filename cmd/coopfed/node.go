package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/coopfed/coopfed/config"
	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation"
	"github.com/coopfed/coopfed/store"
)

// defaultDir is the folder `coopfed dev` creates in the current directory,
// and so where every other command looks for a config by default.
const defaultDir = "coopfed-data"

// configFile is the config's name inside a node's folder.
const configFile = "coopfed.toml"

func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", filepath.Join(defaultDir, configFile), "path of the node's config file")
}

// node is an opened node: its config, database and use cases.
type node struct {
	cfg     *config.Config
	db      *store.DB
	svc     *coop.Service
	fetcher *federation.Fetcher
}

func (n *node) Close() error { return n.db.Close() }

// site is the node's URL scheme from its config.
func site(cfg *config.Config) coop.Site {
	return coop.Site{Scheme: cfg.Scheme(), Host: cfg.Server.Host}
}

// openNode loads the config and opens the database.
func openNode(ctx context.Context, path string) (*node, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DatabasePath())
	if err != nil {
		return nil, err
	}
	s := site(cfg)
	// Nothing is looked up on a blocked domain.
	resolver := federation.NewResolver(s, cfg.Dev.Hosts, cfg.Development()).RefuseBlocked(db)
	// The fetcher signs its GETs with the co-op's key, which init made.
	fetcher := federation.NewFetcher(federation.FetcherConfig{Site: s, DB: db, DevHosts: cfg.Dev.Hosts, DevMode: cfg.Development()})
	svc := &coop.Service{
		Store:     db,
		Site:      s,
		Resolver:  resolver,
		Publisher: federation.NewPublisher(s, resolver, fetcher),
	}
	return &node{cfg: cfg, db: db, svc: svc, fetcher: fetcher}, nil
}

// newLogger builds the structured logger the config asks for.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// printIdentity tells the admin where the node is and who the co-op is.
func printIdentity(w io.Writer, s coop.Site, c coop.Actor) {
	fmt.Fprintf(w, "node:     %s/\n", s.Base())
	fmt.Fprintf(w, "co-op:    %s (@%s)\n", c.Name, s.Acct(c.Handle))
	fmt.Fprintf(w, "actor:    %s\n", s.ActorID(c.Handle))
}
