package main

import (
	"context"
	"testing"

	"github.com/coopfed/coopfed/coop"
)

// TestActorBenchRuns keeps the benchmark command working: one short round.
func TestActorBenchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and loads them")
	}
	if err := benchActor(coop.AsAdmin(context.Background()), []string{"-rounds", "1", "-duration", "200ms", "-concurrency", "2"}); err != nil {
		t.Fatal(err)
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{{[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {nil, 0}} {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

// TestInboxBenchRuns keeps the inbox benchmark working: one tiny round.
func TestInboxBenchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and loads it")
	}
	if err := benchInbox(coop.AsAdmin(context.Background()), []string{"-rounds", "1", "-n", "20", "-duration", "50ms", "-concurrency", "2", "-senders", "2"}); err != nil {
		t.Fatal(err)
	}
}

// TestFanoutBenchRuns keeps the fan-out benchmark working: one tiny round.
func TestFanoutBenchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and delivery workers")
	}
	if err := benchFanout(coop.AsAdmin(context.Background()), []string{"-rounds", "1", "-inboxes", "20", "-servers", "2"}); err != nil {
		t.Fatal(err)
	}
}

// TestRSSBenchRuns keeps the memory benchmark working: one tiny round.
func TestRSSBenchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts coopfed")
	}
	if err := benchRSS(coop.AsAdmin(context.Background()), []string{"-rounds", "1", "-followers", "20", "-hosts", "5", "-servers", "2", "-settle", "1500ms"}); err != nil {
		t.Fatal(err)
	}
}

// TestKillBenchRuns is the kill test's short version for CI: 20 kills.
func TestKillBenchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds coopfed and kills it 20 times")
	}
	if err := benchKill(coop.AsAdmin(context.Background()), []string{"-kills", "20", "-drain", "40s"}); err != nil {
		t.Fatal(err)
	}
}

// TestVotesBenchRuns keeps the votes benchmark working: one tiny round.
func TestVotesBenchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and loads it")
	}
	if err := benchVotes(coop.AsAdmin(context.Background()), []string{"-rounds", "1", "-voters", "3", "-options", "2", "-proposals", "1", "-duration", "50ms", "-concurrency", "2"}); err != nil {
		t.Fatal(err)
	}
}

// TestImportBenchRuns keeps the import benchmark working: one tiny round.
func TestImportBenchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a repository")
	}
	if err := benchImport(coop.AsAdmin(context.Background()), []string{"-rounds", "1", "-commits", "20"}); err != nil {
		t.Fatal(err)
	}
}
