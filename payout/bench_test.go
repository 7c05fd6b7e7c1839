package payout

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

const (
	benchRecords      = 100_000
	benchContributors = 1_000
)

// benchRecordsShuffled is benchRecords records over benchContributors
// members, IDs and keys shaped like coopfed's URIs, in random order (the
// worst case for Split's sort by ID).
func benchRecordsShuffled() []Record {
	r := rand.New(rand.NewPCG(8, 100))
	rs := make([]Record, benchRecords)
	for i := range rs {
		rs[i] = Record{
			ID:          fmt.Sprintf("https://coop.example/contributions/%07d", i),
			Contributor: fmt.Sprintf("https://coop.example/users/member%04d", r.IntN(benchContributors)),
			Date:        day.Add(time.Duration(r.IntN(30*24)) * time.Hour),
			Minutes:     r.Int64N(480),
			Points:      r.Int64N(13),
		}
	}
	r.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
	return rs
}

// BenchmarkSplit splits 100,000 records over 1,000 contributors by each
// formula, and in the same run times a plain map sum of minutes per
// contributor over the same records: x-map is Split's time as a multiple
// of it (Split also checks, sorts and hashes every record, and writes
// exact fractions).
func BenchmarkSplit(b *testing.B) {
	records := benchRecordsShuffled()
	for _, round := range []Round{
		{Budget: 5_000_000, Currency: eur, Formula: Minutes, Rate: 3000, Cap: 2_000_000},
		{Budget: 5_000_000, Currency: eur, Formula: Points},
		{Budget: 5_000_000, Currency: eur, Formula: Equal, Floor: 1000},
	} {
		b.Run(string(round.Formula), func(b *testing.B) {
			var split, plain time.Duration
			for b.Loop() {
				start := time.Now()
				s, err := Split(round, records)
				split += time.Since(start)
				if err != nil || len(s.Lines) != benchContributors {
					b.Fatalf("%v, %d lines", err, len(s.Lines))
				}
				start = time.Now()
				sums := make(map[string]int64)
				for i := range records {
					sums[records[i].Contributor] += records[i].Minutes
				}
				plain += time.Since(start)
				if len(sums) != benchContributors {
					b.Fatalf("map: %d", len(sums))
				}
			}
			b.ReportMetric(split.Seconds()/float64(b.N), "s/split")
			b.ReportMetric(plain.Seconds()/float64(b.N), "s/map")
			b.ReportMetric(float64(split)/float64(plain), "x-map")
		})
	}
}
