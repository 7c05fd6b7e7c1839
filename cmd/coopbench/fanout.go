package main

import (
	"cmp"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation"
	"github.com/coopfed/coopfed/federation/delivery"
	"github.com/coopfed/coopfed/store"
)

// benchFanout delivers one Create{Note} to many distinct loopback inboxes
// (paths on a few httptest servers that answer 202 at once) through the
// real delivery workers, which sign each POST, and times it from the
// enqueue to the last delivery recorded done. The baseline is the same
// number of bare RSA-2048 signatures, on one goroutine and on GOMAXPROCS
// goroutines, measured in the same round.
func benchFanout(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	rounds := fs.Int("rounds", 5, "rounds; each measures the baseline and coopfed, interleaved")
	n := fs.Int("inboxes", 1000, "distinct inboxes the Create{Note} goes to")
	servers := fs.Int("servers", 4, "loopback servers the inboxes are spread over")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of round 1's coopfed part to this file, and of round N's to FILE.N (go tool pprof takes them all at once)")
	nWorkers := fs.Int("workers", 0, "delivery workers; 0: delivery.DefaultWorkers, as serve runs them")
	checkBlocks := fs.Bool("blocks", true, "check each inbox against the block list, as serve does (false: to measure the check's share)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "coopbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	site := coop.Site{Scheme: "http", Host: "coop.bench.example"}
	db, _, err := benchNode(ctx, filepath.Join(dir, "coopfed.db"), site)
	if err != nil {
		return err
	}
	defer db.Close()
	alice, err := db.ActorByHandle(ctx, "alice")
	if err != nil {
		return err
	}

	// The receivers: answer 202 at once, count what they received.
	var received atomic.Int64
	recv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Signature") == "" {
			http.Error(w, "unsigned", http.StatusUnauthorized)
			return
		}
		received.Add(1)
		w.WriteHeader(http.StatusAccepted)
	})
	var inboxes []string
	for s := range *servers {
		ts := httptest.NewServer(recv)
		defer ts.Close()
		for i := s; i < *n; i += *servers {
			inboxes = append(inboxes, fmt.Sprintf("%s/users/u%d/inbox", ts.URL, i))
		}
	}

	cfg := delivery.Config{
		Store: db, KeyID: site.KeyID, UserAgent: "coopfed/bench (+" + site.Base() + "/)",
		Exclusive: true, DevMode: true, Blocked: federation.DeliveryBlocked(db), Workers: *nWorkers,
	}
	if !*checkBlocks {
		cfg.Blocked = nil
	}
	workers, err := delivery.New(cfg)
	if err != nil {
		return err
	}
	wctx, stopWorkers := context.WithCancel(ctx)
	wdone := make(chan struct{})
	go func() { defer close(wdone); workers.Run(wctx) }()
	defer func() { stopWorkers(); <-wdone }()

	// The workers count a delivery once its outcome is committed, so
	// polling that counter ends the timing when the last delivery is
	// recorded done, without a query every 2 ms competing for the CPU;
	// the database is checked once after.
	doneCount := func() (int, error) { return int(workers.Stats().Delivered), nil }
	dbDone := func() (int, error) {
		c, err := db.DeliveryCounts(ctx)
		return c[store.DeliveryDone], err
	}
	delivered := 0
	// fanout returns the wall time and the process's CPU time from the
	// enqueue to the last delivery recorded done.
	fanout := func(r int) (took, cpu time.Duration, err error) {
		actorURI := site.ActorID("alice")
		actID := fmt.Sprintf("%s/statuses/%d/activity", actorURI, r)
		body, err := json.Marshal(map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams",
			"id":       actID, "type": "Create", "actor": actorURI,
			"to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []string{site.Followers("alice")},
			"object": map[string]any{
				"id": fmt.Sprintf("%s/statuses/%d", actorURI, r), "type": "Note", "attributedTo": actorURI,
				"content": fmt.Sprintf("<p>Fan-out round %d.</p>", r), "published": time.Now().UTC().Format(time.RFC3339),
				"to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []string{site.Followers("alice")},
			},
		})
		if err != nil {
			return 0, 0, err
		}
		cpu0, start := cpuTime(), time.Now()
		err = db.Write(ctx, func(t *store.Tx) error {
			return t.EnqueueDeliveries(ctx, alice.ID, actID, body, inboxes, time.Now())
		})
		if err != nil {
			return 0, 0, err
		}
		workers.Wake()
		delivered += len(inboxes)
		err = waitCount(doneCount, delivered, 5*time.Minute)
		took, cpu = time.Since(start), cpuTime()-cpu0
		if err != nil {
			return 0, 0, fmt.Errorf("%w (stats %+v)", err, workers.Stats())
		}
		if got, err := dbDone(); err != nil || got != delivered {
			return 0, 0, fmt.Errorf("%d deliveries recorded done, want %d (%v)", got, delivered, err)
		}
		return took, cpu, nil
	}

	// One fan-out first, untimed: connections and the sender's key.
	if _, _, err := fanout(0); err != nil {
		return err
	}

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	procs := runtime.GOMAXPROCS(0)
	blocks := "block check on"
	if !*checkBlocks {
		blocks = "block check OFF"
	}
	fmt.Printf("# one Create{Note} to %d distinct inboxes on %d loopback servers, %d delivery workers, %s, %d rounds; baseline %d RSA-2048 signatures\n",
		len(inboxes), *servers, cmp.Or(*nWorkers, delivery.DefaultWorkers), blocks, *rounds, len(inboxes))
	fmt.Printf("# machine: %s\n", machine())
	fmt.Printf("| round | %d signs, 1 goroutine s | %d signs, %d goroutines s | coopfed fan-out s | ratio to 1 goroutine | ratio to %d goroutines | signs CPU s | fan-out CPU s | CPU ratio |\n", len(inboxes), len(inboxes), procs, procs)
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	var one, all, co, r1, rAll, cpuSign, cpuFan, rCPU []float64
	for r := 1; r <= *rounds; r++ {
		s1, err := signTime(key, len(inboxes), 1)
		if err != nil {
			return err
		}
		cpu0 := cpuTime()
		sAll, err := signTime(key, len(inboxes), procs)
		if err != nil {
			return err
		}
		cpu1 := cpuTime()
		stopProf := func() {}
		if *cpuprofile != "" {
			path := *cpuprofile
			if r > 1 {
				path = fmt.Sprintf("%s.%d", path, r)
			}
			if stopProf, err = startProfile(path); err != nil {
				return err
			}
		}
		c, cpu, err := fanout(r)
		stopProf()
		if err != nil {
			return err
		}
		a, b, cs := s1.Seconds(), sAll.Seconds(), c.Seconds()
		one, all, co, r1, rAll = append(one, a), append(all, b), append(co, cs), append(r1, cs/a), append(rAll, cs/b)
		sc, fc := (cpu1 - cpu0).Seconds(), cpu.Seconds()
		cpuSign, cpuFan, rCPU = append(cpuSign, sc), append(cpuFan, fc), append(rCPU, fc/sc)
		fmt.Printf("| %d | %.3f | %.3f | %.3f | %.2f | %.2f | %.3f | %.3f | %.2f |\n", r, a, b, cs, cs/a, cs/b, sc, fc, fc/sc)
	}
	fmt.Printf("| median | %.3f | %.3f | %.3f | %.2f | %.2f | %.3f | %.3f | %.2f |\n",
		median(one), median(all), median(co), median(r1), median(rAll), median(cpuSign), median(cpuFan), median(rCPU))
	if got, want := received.Load(), int64(delivered); got < want {
		return fmt.Errorf("the receivers got %d POSTs, %d deliveries recorded done", got, want)
	}
	return nil
}

// signTime is how long n RSA-2048 PKCS#1 v1.5 signatures of SHA-256
// digests take, spread over g goroutines.
func signTime(key *rsa.PrivateKey, n, g int) (time.Duration, error) {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for w := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				d := sha256.Sum256(fmt.Appendf(nil, "coopbench %d %d", w, i))
				if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, d[:]); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}
