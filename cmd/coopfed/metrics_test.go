package main

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func TestMetrics(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "coopfed.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := &coop.Service{Store: db, Site: coop.Site{Scheme: "https", Host: "m.example"}}
	if _, err := svc.EnsureLog(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	m := newMetrics(db)
	m.evidence(coop.LogEvidence{})
	srv := httptest.NewServer(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"coopfed_decision_log_records 1",
		"coopfed_decision_log_signed_size 1",
		"coopfed_log_inconsistencies_found_total 1",
		"coopfed_log_evidence 0",
		"coopfed_witnessed_logs 0",
		"go_goroutines",
	} {
		if !strings.Contains(string(b), want+"\n") && !strings.Contains(string(b), want+" ") {
			t.Errorf("metrics lack %q", want)
		}
	}
}
