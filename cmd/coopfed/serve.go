package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coopfed/coopfed/config"
	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation"
	"github.com/coopfed/coopfed/federation/delivery"
	"github.com/coopfed/coopfed/federation/netpolicy"
	"github.com/coopfed/coopfed/federation/ratelimit"
	"github.com/coopfed/coopfed/federation/witness"
	"github.com/coopfed/coopfed/handlers"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags("serve", "serve [--config PATH]", e.stderr)
	path := configFlag(fs)
	_, n, err := setup(ctx, fs, path, args, 0, "")
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

// runner is a background loop of the node: the inbox processor, the
// delivery workers. Run returns when ctx ends, having finished or put back
// what it had in hand.
type runner interface {
	Run(ctx context.Context) error
}

// serve runs the node on ln until ctx ends (SIGINT or SIGTERM), then shuts
// down gracefully: it stops accepting, lets requests in flight finish
// within server.shutdown_timeout while the inbox processor and the
// delivery workers stop claiming work and finish or re-queue what they
// hold, and closes the database only after all of them.
func serve(ctx context.Context, e *env, n *node, ln net.Listener) error {
	// The running node acts for whoever reaches it, never as the operator
	// who started it.
	ctx = coop.WithPrincipal(ctx, coop.Principal{})
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
		Blocked:   federation.DeliveryBlocked(n.db),
		Log:       log.With("component", "delivery"),
	})
	if err != nil {
		ln.Close()
		return err
	}
	var proc *federation.Processor
	// The backfill reads each peer's outbox and projects at start, and a
	// peer's again once it accepts our follow (after peer add), into the
	// inbound queue that proc applies.
	backfill := federation.NewBackfiller(federation.BackfillConfig{
		DB: n.db, Fetcher: n.fetcher, Log: log.With("component", "backfill"),
		Wake: func() { proc.Wake() },
	})
	proc = federation.NewProcessor(federation.ProcessorConfig{
		Site: s, DB: n.db, Fetcher: n.fetcher, Log: log.With("component", "inbox"),
		// One serve process per database, as for the delivery workers.
		Exclusive: true,
		Accepted:  backfill.Request,
		// Poll votes, link codes and boosts of proposals: the use cases.
		Proposals: n.svc,
		// Remote maintainers' decisions on contribution records.
		Contributions: n.svc,
	})
	fed := federation.NewServer(federation.Config{
		Site: s, Store: n.db, Version: version, Log: log,
		DB: n.db, Fetcher: n.fetcher, DevHosts: n.cfg.Dev.Hosts, DevMode: n.cfg.Development(),
		MaxBodyBytes: n.cfg.Federation.MaxBodyBytes, DateSkew: n.cfg.Federation.DateSkew.Duration,
		Limits: limits(n.cfg),
		// Processing an activity may queue deliveries (an Accept).
		Wake:      func() { proc.Wake(); workers.Wake() },
		Processor: proc,
		// A final payout round's openings, to members and peers.
		Payouts: n.svc,
	})
	// Witnessing among the federation's members: keys pinned, our
	// checkpoint signed and sent to each member's witness, theirs checked.
	wit := witness.New(witness.Config{
		Service:  n.svc,
		Policy:   netpolicy.New(n.cfg.Dev.Hosts, n.cfg.Development()),
		Interval: n.cfg.Witness.Interval.Duration,
		Log:      log.With("component", "witness"),
	})
	// The scheduler: proposals closed at their deadline, and on start
	// those whose deadline passed while the node was down.
	sched := &proposalCloser{svc: n.svc, log: log.With("component", "scheduler"), poll: 5 * time.Second,
		countsEvery: n.cfg.Proposals.CountsEvery.Duration}
	met := newMetrics(n.db)
	n.svc.OnEvidence = func(e coop.LogEvidence) {
		met.evidence(e)
		log.Error("inconsistent checkpoints of a decision log: kept as evidence and sent to the federation's members",
			"origin", e.Origin, "evidence_id", e.ID, "reason", e.Reason)
	}
	h, err := handlers.New(handlers.Deps{Service: n.svc, Site: s, Log: log, Version: version, Before: []handlers.Routes{fed}, Blocks: blocks(n)})
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

	// The background loops stop with their own context, cancelled when
	// the server has shut down or failed.
	bctx, stopBackground := context.WithCancel(context.Background())
	defer stopBackground()
	var wg sync.WaitGroup
	failed := make(chan error, 5) // a loop that could not run
	for _, r := range []runner{proc, workers, backfill, wit, sched} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(bctx); err != nil && !errors.Is(err, context.Canceled) {
				failed <- err
			}
		}()
	}
	if addr := n.cfg.Metrics.Listen; addr != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := met.serve(bctx, addr, log); err != nil {
				failed <- fmt.Errorf("metrics: %w", err)
			}
		}()
	}
	stop := func() { stopBackground(); wg.Wait() }

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
		stop()
		return fmt.Errorf("serve: %w", err)
	case err := <-failed:
		srv.Close()
		<-errc
		stop()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", n.cfg.Server.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), n.cfg.Server.ShutdownTimeout.Duration)
	defer cancel()
	// Requests in flight finish first: an activity answered 202 is stored
	// and queued before the answer, so stopping the loops after loses
	// nothing. The delivery workers finish or release within their grace.
	shutdownErr := srv.Shutdown(sctx)
	stop()
	select {
	case err := <-failed:
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

// limits builds the rate limits of the federation routes from the config.
func limits(cfg *config.Config) federation.Limits {
	f := cfg.Federation
	return federation.Limits{
		PerAddr:        ratelimit.New(float64(f.RatePerIP), int(f.BurstPerIP), 0),
		PerHost:        ratelimit.New(float64(f.RatePerHost), int(f.BurstPerHost), 0),
		TrustedProxies: cfg.Server.TrustedProxyPrefixes(),
	}
}

// The use cases take what the inboxes accept about proposals.
var _ federation.ProposalInbox = (*coop.Service)(nil)

// The use cases take remote maintainers' decisions on contributions.
var _ federation.ContributionInbox = (*coop.Service)(nil)
