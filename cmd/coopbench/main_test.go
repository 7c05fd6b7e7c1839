package main

import (
	"context"
	"testing"
)

// TestActorBenchRuns keeps the benchmark command working: one short round.
func TestActorBenchRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and loads them")
	}
	if err := benchActor(context.Background(), []string{"-rounds", "1", "-duration", "200ms", "-concurrency", "2"}); err != nil {
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
