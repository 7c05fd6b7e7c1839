package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The node's Prometheus metrics. client_golang rather than a hand-written
// text exposition: it is what every Prometheus scraper is tested against,
// and brings the Go runtime and process collectors.
type metrics struct {
	reg           *prometheus.Registry
	inconsistency prometheus.Counter
}

func newMetrics(db *store.DB) *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &metrics{
		reg: reg,
		inconsistency: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "coopfed_log_inconsistencies_found_total",
			Help: "Inconsistent checkpoints (forks, rewrites, shrinks) found in the decision logs this node witnesses, since start.",
		}),
	}
	reg.MustRegister(m.inconsistency)
	read := func(f func(ctx context.Context) (float64, error)) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			v, err := f(ctx)
			if err != nil {
				return -1
			}
			return v
		}
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "coopfed_decision_log_records",
		Help: "Records in the node's open decision log.",
	}, read(func(ctx context.Context) (float64, error) {
		l, err := db.OpenLog(ctx)
		return float64(l.Size), err
	})))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "coopfed_decision_log_signed_size",
		Help: "Size of the latest signed checkpoint of the node's open decision log.",
	}, read(func(ctx context.Context) (float64, error) {
		l, err := db.OpenLog(ctx)
		if err != nil {
			return 0, err
		}
		c, err := db.LatestCheckpoint(ctx, l.ID)
		return float64(c.Size), err
	})))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "coopfed_log_evidence",
		Help: "Pairs of inconsistent checkpoints kept as evidence, in all.",
	}, read(func(ctx context.Context) (float64, error) {
		es, err := db.EvidenceList(ctx)
		return float64(len(es)), err
	})))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "coopfed_witnessed_logs",
		Help: "Decision logs of federation members that this node witnesses.",
	}, read(func(ctx context.Context) (float64, error) {
		ws, err := db.WitnessedLogs(ctx)
		return float64(len(ws)), err
	})))
	return m
}

// evidence counts an inconsistency found.
func (m *metrics) evidence(coop.LogEvidence) { m.inconsistency.Inc() }

// serveMetrics serves /metrics on addr until ctx ends.
func (m *metrics) serve(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Info("metrics", "listen", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}
