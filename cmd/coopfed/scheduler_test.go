package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/store"
)

// TestProposalScheduler: serve's scheduler closes on start a proposal
// whose deadline passed while the node was down.
func TestProposalScheduler(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	path := filepath.Join(t.TempDir(), "coopfed.db")
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	open := func() (*store.DB, *coop.Service) {
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		return db, &coop.Service{Store: db, Site: coop.Site{Scheme: "https", Host: "a.example"}, Clock: func() time.Time { return now }}
	}
	db, s := open()
	if _, err := s.EnsureCoop(ctx, "coop", "Co-op", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddMember(ctx, coop.NewMember{Handle: "alice"}); err != nil {
		t.Fatal(err)
	}
	p, err := s.OpenProposal(ctx, coop.NewProposal{Group: "coop", Title: "T", Method: governance.Consent,
		ClosesIn: time.Hour, Threshold: governance.Consensus})
	if err != nil {
		t.Fatal(err)
	}
	alice := coop.WithPrincipal(ctx, coop.Principal{ID: s.Site.ActorID("alice"), Channel: "cli"})
	if _, err := s.Vote(alice, p.Num, []string{"agree"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	now = now.Add(2 * time.Hour)
	db, s = open()
	defer db.Close()
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs bytes.Buffer
	sched := &proposalCloser{svc: s, log: slog.New(slog.NewTextHandler(&logs, nil)), poll: time.Hour}
	go func() { done <- sched.Run(rctx) }()
	for {
		v, err := s.ShowProposal(ctx, p.Num)
		if err != nil {
			t.Fatal(err)
		}
		if v.State == governance.Closed {
			if o := v.Outcome.Outcome; !o.Decided || o.Winner != "agree" || o.Cast != 1 {
				t.Fatalf("outcome %+v", o)
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("scheduler stopped: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run: %v", err)
	}
}
