package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation"
	"github.com/coopfed/coopfed/federation/delivery"
	"github.com/coopfed/coopfed/handlers"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags("serve", "serve [--config PATH]", e.stderr)
	path := configFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, ""); err != nil {
		return err
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	ln, err := net.Listen("tcp", n.cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s (server.listen in %s): %w", n.cfg.Server.Listen, *path, err)
	}
	return serve(ctx, e, n, ln)
}

// serve runs the node on ln until ctx ends (SIGINT or SIGTERM), then shuts
// down gracefully: it stops accepting and stops claiming deliveries, lets
// requests in flight (both ways) finish within server.shutdown_timeout,
// re-queues the deliveries still in flight after it, and closes the
// database.
func serve(ctx context.Context, e *env, n *node, ln net.Listener) error {
	log := newLogger(n.cfg, e.stderr)
	c, err := n.svc.EnsureCoop(ctx, n.cfg.Coop.Handle, n.cfg.Coop.Name, n.cfg.Coop.Summary)
	if err != nil {
		ln.Close()
		return err
	}
	if coop.FoldHandle(c.Handle) != coop.FoldHandle(n.cfg.Coop.Handle) {
		log.Warn("coop.handle in the config differs from the co-op's handle, which never changes once created",
			"config_handle", n.cfg.Coop.Handle, "handle", c.Handle)
	}
	s := site(n.cfg)
	fed := federation.NewServer(federation.Config{Site: s, Store: n.db, Version: version, Log: log})
	h, err := handlers.New(handlers.Deps{Service: n.svc, Site: s, Log: log, Version: version, Before: []handlers.Routes{fed}})
	if err != nil {
		ln.Close()
		return err
	}
	workers, err := delivery.New(delivery.Config{
		Store:     n.db,
		KeyID:     s.KeyID,
		UserAgent: "coopfed/" + version + " (+" + s.Base() + "/)",
		Grace:     n.cfg.Server.ShutdownTimeout.Duration,
		// One serve process per database: rows in flight at start are a
		// crashed run's, re-queued at once.
		Exclusive: true,
		DevMode:   n.cfg.Development(),
		DevHosts:  n.cfg.Dev.Hosts,
		Log:       log.With("component", "delivery"),
	})
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	tls := n.cfg.Server.TLSCertFile != ""
	printIdentity(e.stdout, s, c)
	fmt.Fprintf(e.stdout, "listening on %s (%s, %s mode)\n", ln.Addr(), map[bool]string{true: "https", false: "http"}[tls], n.cfg.Mode)
	log.Info("serving", "listen", ln.Addr().String(), "host", s.Host, "mode", n.cfg.Mode, "tls", tls, "version", version)

	dctx, stopDelivery := context.WithCancel(ctx)
	defer stopDelivery()
	deliveryFailed := make(chan error, 1) // Run's error: it could not start
	deliveryDone := make(chan struct{})   // closed when Run has returned
	go func() {
		defer close(deliveryDone)
		if err := workers.Run(dctx); err != nil {
			deliveryFailed <- err
		}
	}()

	errc := make(chan error, 1)
	go func() {
		if tls {
			errc <- srv.ServeTLS(ln, n.cfg.TLSCertPath(), n.cfg.TLSKeyPath())
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		stopDelivery()
		<-deliveryDone
		return fmt.Errorf("serve: %w", err)
	case err := <-deliveryFailed:
		srv.Close()
		<-errc
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", n.cfg.Server.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), n.cfg.Server.ShutdownTimeout.Duration)
	defer cancel()
	// The delivery workers stop with ctx and wind down beside the server;
	// the database closes only after both.
	shutdownErr := srv.Shutdown(sctx)
	<-deliveryDone
	select {
	case err := <-deliveryFailed:
		return err
	default:
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	fmt.Fprintln(e.stdout, "stopped")
	return nil
}
