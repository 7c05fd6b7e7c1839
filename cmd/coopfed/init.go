package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/coopfed/coopfed"
	"github.com/coopfed/coopfed/config"
	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

func runInit(ctx context.Context, e *env, args []string) error {
	fs := newFlags("init", "init --dir DIR --host HOST --name \"Co-op name\" [--handle coop] [--listen ADDR] [--dev]", e.stderr)
	dir := fs.String("dir", "", "folder for the node's config, database and keys (created if missing)")
	host := fs.String("host", "", "public host name of the node, with :port when not the default")
	name := fs.String("name", "", "the co-op's name")
	handle := fs.String("handle", "coop", "the co-op's handle (@HANDLE@HOST)")
	listen := fs.String("listen", "", "address to listen on (default from config.example.toml)")
	dev := fs.Bool("dev", false, "development mode: plain HTTP on loopback")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, ""); err != nil {
		return err
	}
	if *dir == "" || *host == "" || *name == "" {
		fs.Usage()
		return usagef("--dir, --host and --name are required")
	}
	mode := config.ModeProduction
	if *dev {
		mode = config.ModeDevelopment
	}
	cfg, c, err := initNode(ctx, *dir, config.Values{Mode: mode, Host: *host, Listen: *listen, CoopHandle: *handle, CoopName: *name})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created %s\n", filepath.Join(*dir, configFile))
	printIdentity(e.stdout, site(cfg), c)
	fmt.Fprintf(e.stdout, "\nstart it with: coopfed serve --config %s\n", filepath.Join(*dir, configFile))
	return nil
}

// initNode creates a node in dir: its config from config.example.toml, its
// database and the co-op's actor with its keys. It refuses to touch an
// existing setup, and removes what it wrote if a step fails, so nothing
// half-made stays.
func initNode(ctx context.Context, dir string, v config.Values) (cfg *config.Config, c coop.Actor, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, coop.Actor{}, fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, configFile)
	if _, err := os.Stat(path); err == nil {
		return nil, coop.Actor{}, fmt.Errorf("%s already exists: refusing to overwrite a node's setup", path)
	}
	data, err := config.Render(coopfed.ExampleConfig, v)
	if err != nil {
		return nil, coop.Actor{}, err
	}
	if err := config.WriteNew(path, data); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, coop.Actor{}, fmt.Errorf("%s already exists: refusing to overwrite a node's setup", path)
		}
		return nil, coop.Actor{}, err
	}
	var dbPath string // set once this run owns the database file
	defer func() {
		if err != nil {
			os.Remove(path)
			if dbPath != "" {
				for _, suffix := range []string{"", "-wal", "-shm"} {
					os.Remove(dbPath + suffix)
				}
			}
		}
	}()
	cfg, err = config.Load(path)
	if err != nil {
		return nil, coop.Actor{}, err
	}
	// An old database beside a lost config is still someone's node.
	if _, err := os.Stat(cfg.DatabasePath()); err == nil {
		return nil, coop.Actor{}, fmt.Errorf("%s already exists: refusing to overwrite a node's database", cfg.DatabasePath())
	}
	dbPath = cfg.DatabasePath()
	db, err := store.Open(ctx, cfg.DatabasePath())
	if err != nil {
		return nil, coop.Actor{}, err
	}
	defer db.Close()
	svc := &coop.Service{Store: db, Site: site(cfg)}
	c, err = svc.EnsureCoop(ctx, cfg.Coop.Handle, cfg.Coop.Name, cfg.Coop.Summary)
	if err != nil {
		return nil, coop.Actor{}, err
	}
	return cfg, c, nil
}
