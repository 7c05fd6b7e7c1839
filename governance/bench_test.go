package governance

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time this process has used, every thread counted:
// other processes loading the machine change wall time, not this.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const benchBallots = 1_000_000

// benchInputs is a proposal with benchBallots eligible voters, five
// options, and one ballot from each in random order (the worst case for
// Tally's canonical sort; the store's order is by voter, the best case).
func benchInputs(m Method, sorted bool) (Proposal, []Ballot) {
	r := rand.New(rand.NewPCG(11, uint64(len(m))))
	var keys []string
	if m != Consent {
		keys = []string{"alpha", "bravo", "charlie", "delta", "echo"}
	}
	p := proposal(m, Majority, benchBallots, keys...)
	bs := make([]Ballot, benchBallots)
	for i := range bs {
		bs[i] = randomBallot(r, p, p.Eligible[i], t0.Add(time.Duration(i)*time.Millisecond))
	}
	if !sorted {
		r.Shuffle(len(bs), func(i, j int) { bs[i], bs[j] = bs[j], bs[i] })
	}
	return p, bs
}

// BenchmarkTally counts a million ballots by every method. For single
// choice it also times a plain map count over the same ballots in the same
// run and reports Tally's time as a multiple of it (x-map), in wall time
// and in CPU time (cpu-x-map: Tally hashes on a second core).
func BenchmarkTally(b *testing.B) {
	for _, order := range []string{"shuffled", "sorted"} {
		for _, m := range methods {
			b.Run(order+"/"+string(m), func(b *testing.B) {
				p, bs := benchInputs(m, order == "sorted")
				var tally, plain, tallyCPU, plainCPU time.Duration
				for b.Loop() {
					start, cpu := time.Now(), cpuTime()
					o := Tally(p, bs, nil)
					tally += time.Since(start)
					tallyCPU += cpuTime() - cpu
					if o.Cast != benchBallots {
						b.Fatalf("cast %d", o.Cast)
					}
					if m == SingleChoice {
						start, cpu = time.Now(), cpuTime()
						counts := make(map[string]int64)
						for i := range bs {
							if !bs[i].Abstain {
								counts[bs[i].Choices[0]]++
							}
						}
						plain += time.Since(start)
						plainCPU += cpuTime() - cpu
						if counts["alpha"] != o.Options[0].Count {
							b.Fatalf("map %d, tally %d", counts["alpha"], o.Options[0].Count)
						}
					}
				}
				b.ReportMetric(tally.Seconds()/float64(b.N), "s/tally")
				b.ReportMetric(tallyCPU.Seconds()/float64(b.N), "cpu-s/tally")
				if m == SingleChoice {
					b.ReportMetric(float64(tally)/float64(plain), "x-map")
					b.ReportMetric(float64(tallyCPU)/float64(plainCPU), "cpu-x-map")
				}
			})
		}
	}
}

// BenchmarkInputHash is the part of BenchmarkTally/sorted/single that
// only encodes and hashes (on every core, as Tally does): the floor under
// Tally's time, since every input goes through SHA-256.
func BenchmarkInputHash(b *testing.B) {
	p, bs := benchInputs(SingleChoice, true)
	t := pass{p: &p, opts: newOptionTable(p), eligible: sortedSet(p.Eligible), ballots: bs}
	var cpu time.Duration
	for b.Loop() {
		start := cpuTime()
		voters, votes, _ := t.run()
		inputHash(p, nil, voters, votes)
		cpu += cpuTime() - start
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/hash")
}
