// Command coopbench measures coopfed against a baseline measured in the
// same run, and prints medians and ratios for BENCHMARKS.md.
//
//	go run ./cmd/coopbench actor [-rounds 5] [-duration 3s] [-concurrency 16]
//
// Every figure is taken on loopback only, bounded in time.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"syscall"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

type bench struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

var benches = []bench{
	{"actor", "actor documents served over loopback, against a bare net/http handler returning the same bytes", benchActor},
	{"inbox", "signed Create{Note} POSTs to the shared inbox, verified, stored and processed, against bare RSA-2048 verifies", benchInbox},
	{"fanout", "one Create{Note} delivered to 1,000 loopback inboxes, against 1,000 bare RSA-2048 signatures", benchFanout},
	{"kill", "SIGKILLs of coopfed serve under inbound and outbound load, restarted each time: nothing answered 202 or queued is lost", benchKill},
	{"log", "decision log appends on SQLite against plain INSERTs; proofs and a whole verify at 1,000,000 records against SHA-256", benchLog},
	{"votes", "Mastodon-style poll votes from linked accounts to the shared inbox, verified, stored and counted, against bare RSA-2048 verifies", benchVotes},
	{"import", "contributions import of a git repository, end to end, against go-git's plain log walk", benchImport},
	{"rss", "peak RSS of coopfed serve posting to 10,000 followers on 1,000 hosts, against the same node with none", benchRSS},
}

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	for _, b := range benches {
		if b.name == os.Args[1] {
			if err := b.run(coop.AsAdmin(context.Background()), os.Args[2:]); err != nil {
				fmt.Fprintf(os.Stderr, "coopbench %s: %v\n", b.name, err)
				os.Exit(1)
			}
			return
		}
	}
	usage(os.Stderr)
	os.Exit(2)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: coopbench BENCHMARK [flags]")
	for _, b := range benches {
		fmt.Fprintf(w, "  %-8s %s\n", b.name, b.summary)
	}
}

// roundFlags are the flags every benchmark shares.
type roundFlags struct {
	rounds   int
	duration time.Duration
}

func addRoundFlags(fs *flag.FlagSet) *roundFlags {
	r := &roundFlags{}
	fs.IntVar(&r.rounds, "rounds", 5, "rounds; each measures the baseline and coopfed, interleaved")
	fs.DurationVar(&r.duration, "duration", 3*time.Second, "length of each measurement")
	return r
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func machine() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%s, %d CPUs (GOMAXPROCS %d), %s, host %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), host)
}

// cpuTime is the CPU time (user and system) this process has used. The
// server, its workers and the loopback clients or receivers all run in
// it, so it is what the whole exchange costs; unlike the wall time it does
// not grow when other processes take the CPU, which makes its ratio the
// steadier one on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchNode opens a fresh database at path with what every benchmark's
// node starts from: the co-op (its decision log with it) and one member,
// alice.
func benchNode(ctx context.Context, path string, site coop.Site) (*store.DB, *coop.Service, error) {
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	svc := &coop.Service{Store: db, Site: site}
	if _, err := svc.EnsureCoop(ctx, "coop", "Bench Co-op", "A co-op that measures."); err != nil {
		db.Close()
		return nil, nil, err
	}
	if _, _, err := svc.AddMember(ctx, coop.NewMember{Handle: "alice", DisplayName: "Alice"}); err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, svc, nil
}
