package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation"
	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/handlers"
	"github.com/coopfed/coopfed/store"

	_ "modernc.org/sqlite" // the "sqlite" driver, for the bench's own counting connection
)

// benchInbox posts pre-signed Create{Note} activities from a few remote
// actors (their keys made here, their actor documents preloaded in the
// remote actor cache, so no fetch is timed) to a real node's shared inbox,
// with the whole stack: router, signature check, the key from the cache,
// the insert into the inbound queue, and the processor storing each note.
// The baseline is bare RSA-2048 verifications per second on all cores,
// measured in the same round.
func benchInbox(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("inbox", flag.ContinueOnError)
	rf := addRoundFlags(fs)
	n := fs.Int("n", 2000, "signed POSTs per round")
	conc := fs.Int("concurrency", 16, "concurrent keep-alive client connections")
	senders := fs.Int("senders", 4, "remote test actors signing the POSTs")
	clientKind := clientFlag(fs)
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of one round's coopfed part (-profile-round) to this file")
	memprofile := fs.String("memprofile", "", "write a profile of the allocations of one round's coopfed part (-profile-round) to this file")
	traceFile := fs.String("trace", "", "write an execution trace of one round (-profile-round) to this file (go tool trace)")
	profRound := fs.Int("profile-round", 1, "the round -cpuprofile, -memprofile and -trace profile")
	if err := fs.Parse(args); err != nil {
		return err
	}
	node, err := newInboundNode(ctx)
	if err != nil {
		return err
	}
	defer node.Close()
	ln, site, db, svc, counter := node.ln, node.site, node.db, node.svc, node.counter
	alice := site.ActorID("alice")

	// The remote actors: keys made here, documents in the cache.
	type sender struct {
		id, keyID string
		key       *rsa.PrivateKey
	}
	var ss []sender
	for i := range *senders {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return err
		}
		der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			return err
		}
		host := fmt.Sprintf("remote%d.example", i+1)
		id := "https://" + host + "/users/bob"
		s := sender{id: id, keyID: id + "#main-key", key: key}
		err = db.PutRemoteActor(ctx, store.RemoteActor{
			ID: id, Type: "Person", PreferredUsername: "bob", Name: "Bob", Inbox: id + "/inbox",
			SharedInbox: "https://" + host + "/inbox", Followers: id + "/followers", KeyID: s.keyID,
			PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
			Host:         host, FetchedAt: time.Now(),
		})
		if err != nil {
			return err
		}
		ss = append(ss, s)
	}

	fetcher := federation.NewFetcher(federation.FetcherConfig{Site: site, DB: db})
	stop, err := serveInbound(ctx, ln, site, db, svc, fetcher, nil)
	if err != nil {
		return err
	}
	defer stop()

	inboxURL := site.Base() + "/inbox"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}, Timeout: 30 * time.Second}
	load, err := newPoster(*clientKind, inboxURL, ln.Addr().String(), *conc)
	if err != nil {
		return err
	}

	// presign signs round r's n activities, round-robin over the senders,
	// just before the round, so that every Date is fresh.
	presign := func(r int) ([]signed, error) {
		out := make([]signed, *n)
		now := time.Now()
		for i := range out {
			s := ss[i%len(ss)]
			base := fmt.Sprintf("%s/statuses/r%d-%d", s.id, r, i)
			body, err := json.Marshal(map[string]any{
				"@context": "https://www.w3.org/ns/activitystreams",
				"id":       base + "/activity", "type": "Create", "actor": s.id,
				"to": []string{alice}, "published": now.UTC().Format(time.RFC3339),
				"object": map[string]any{
					"id": base, "type": "Note", "attributedTo": s.id, "to": []string{alice},
					"content":   fmt.Sprintf("<p>Hello @alice, note %d of round %d.</p>", i, r),
					"published": now.UTC().Format(time.RFC3339),
				},
			})
			if err != nil {
				return nil, err
			}
			req, err := http.NewRequest(http.MethodPost, inboxURL, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/activity+json")
			if err := sig.Sign(req, s.keyID, s.key, body, now); err != nil {
				return nil, err
			}
			out[i] = signed{body, req.Header}
		}
		return out, nil
	}
	countNotes := func() (int, error) {
		var c int
		err := counter.QueryRowContext(ctx, `SELECT count(*) FROM received_notes`).Scan(&c)
		return c, err
	}

	// One request first, checked end to end, before anything is timed.
	warm, err := presign(0)
	if err != nil {
		return err
	}
	if err := postSigned(client, inboxURL, warm[0].body, warm[0].header); err != nil {
		return err
	}
	if err := waitCount(countNotes, 1, 30*time.Second); err != nil {
		return fmt.Errorf("the first note was not stored: %w", err)
	}

	vkey := ss[0].key
	fmt.Printf("# signed Create{Note} POSTs to the shared inbox over loopback: %d per round from %d remote actors, %d connections (%s client), %d rounds; baseline %s of RSA-2048 verifies on %d goroutines\n",
		*n, len(ss), *conc, *clientKind, rf.rounds, rf.duration, runtime.GOMAXPROCS(0))
	fmt.Printf("# machine: %s\n", machine())
	fmt.Println("| round | RSA-2048 verify/s | answered 202/s | ratio | stored and processed/s | ratio | CPU µs per activity | per verify | ratio |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	var verifies, answered, processed, rA, rP, cpuA, cpuV, rC []float64
	stored := 1
	for r := 1; r <= rf.rounds; r++ {
		vcpu0 := cpuTime()
		v, err := verifyRate(vkey, rf.duration)
		if err != nil {
			return err
		}
		// CPU per verify: the whole process's CPU time over the verifies
		// (the server is idle then), in µs.
		vcpu := (cpuTime() - vcpu0).Seconds() * 1e6 / (v * rf.duration.Seconds())
		signedReqs, err := presign(r)
		if err != nil {
			return err
		}
		reqs, err := load.prepare(signedReqs)
		if err != nil {
			return err
		}
		stopProf := func() {}
		if r == *profRound && *memprofile != "" {
			runtime.MemProfileRate = 4096 // from here: that round's allocations, finely
			path := *memprofile
			stopProf = func() {
				runtime.MemProfileRate = 0
				if err := writeHeapProfile(path); err != nil {
					fmt.Fprintln(os.Stderr, "coopbench:", err)
				}
			}
		}
		if r == *profRound && *cpuprofile != "" {
			if stopProf, err = startProfile(*cpuprofile); err != nil {
				return err
			}
		}
		if r == *profRound && *traceFile != "" {
			stopTrace, err := startTrace(*traceFile)
			if err != nil {
				return err
			}
			prev := stopProf
			stopProf = func() { stopTrace(); prev() }
		}
		groups0, inserts0 := db.InboundGroups()
		var mem0, mem1 runtime.MemStats
		runtime.ReadMemStats(&mem0)
		cpu0 := cpuTime()
		start := time.Now()
		firstErr := load.post(reqs)
		tAnswered := time.Since(start)
		if firstErr != nil {
			stopProf()
			return firstErr
		}
		stored += *n
		err = waitCount(countNotes, stored, 5*time.Minute)
		tProcessed := time.Since(start)
		acpu := (cpuTime() - cpu0).Seconds() * 1e6 / float64(*n)
		stopProf()
		if err != nil {
			return err
		}
		groups, inserts := db.InboundGroups()
		runtime.ReadMemStats(&mem1)
		fmt.Fprintf(os.Stderr, "# round %d: %.1f inserts per group commit; %.0f allocations, %.1f KiB allocated per activity\n", r,
			float64(inserts-inserts0)/float64(max(groups-groups0, 1)),
			float64(mem1.Mallocs-mem0.Mallocs)/float64(*n), float64(mem1.TotalAlloc-mem0.TotalAlloc)/1024/float64(*n))
		a, p := float64(*n)/tAnswered.Seconds(), float64(*n)/tProcessed.Seconds()
		verifies, answered, processed = append(verifies, v), append(answered, a), append(processed, p)
		rA, rP = append(rA, a/v), append(rP, p/v)
		cpuA, cpuV, rC = append(cpuA, acpu), append(cpuV, vcpu), append(rC, vcpu/acpu)
		fmt.Printf("| %d | %.0f | %.0f | %.3f | %.0f | %.3f | %.0f | %.1f | %.3f |\n", r, v, a, a/v, p, p/v, acpu, vcpu, vcpu/acpu)
	}
	fmt.Printf("| median | %.0f | %.0f | %.3f | %.0f | %.3f | %.0f | %.1f | %.3f |\n", median(verifies), median(answered), median(rA), median(processed), median(rP),
		median(cpuA), median(cpuV), median(rC))
	return nil
}

func postSigned(c *http.Client, url string, body []byte, h http.Header) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, msg)
	}
	return nil
}

// inboundNode is a node for the inbound benchmarks: its database in a
// folder of its own, a loopback listener for its address, and a
// read-only connection that counts what was stored.
type inboundNode struct {
	dir     string
	ln      net.Listener
	site    coop.Site
	db      *store.DB
	svc     *coop.Service
	counter *sql.DB
}

func newInboundNode(ctx context.Context) (*inboundNode, error) {
	dir, err := os.MkdirTemp("", "coopbench-")
	if err != nil {
		return nil, err
	}
	n := &inboundNode{dir: dir}
	fail := func(err error) (*inboundNode, error) { n.Close(); return nil, err }
	if n.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return fail(err)
	}
	n.site = coop.Site{Scheme: "http", Host: n.ln.Addr().String()}
	dbPath := filepath.Join(dir, "coopfed.db")
	if n.db, n.svc, err = benchNode(ctx, dbPath, n.site); err != nil {
		return fail(err)
	}
	if n.counter, err = sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)"); err != nil {
		return fail(err)
	}
	return n, nil
}

// Close closes what newInboundNode opened and removes its folder (the
// listener is closed by the server that served on it, or here).
func (n *inboundNode) Close() {
	if n.counter != nil {
		n.counter.Close()
	}
	if n.db != nil {
		n.db.Close()
	}
	if n.ln != nil {
		n.ln.Close()
	}
	os.RemoveAll(n.dir)
}

// serveInbound serves a node's whole stack on ln (router, inbox, the
// processor applying what the inbox queues; proposals, when set, takes
// the poll votes), until the returned stop.
func serveInbound(ctx context.Context, ln net.Listener, site coop.Site, db *store.DB, svc *coop.Service,
	fetcher *federation.Fetcher, proposals federation.ProposalInbox) (stop func(), err error) {
	proc := federation.NewProcessor(federation.ProcessorConfig{Site: site, DB: db, Fetcher: fetcher, Exclusive: true, Proposals: proposals})
	fed := federation.NewServer(federation.Config{Site: site, Store: db, Version: "bench", DB: db, Fetcher: fetcher, Wake: proc.Wake, Processor: proc})
	h, err := handlers.New(handlers.Deps{Service: svc, Site: site, Version: "bench", Before: []handlers.Routes{fed}})
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	go srv.Serve(ln)
	pctx, stopProc := context.WithCancel(ctx)
	procDone := make(chan struct{})
	go func() { defer close(procDone); proc.Run(pctx) }()
	return func() { srv.Close(); stopProc(); <-procDone }, nil
}

// signed is a request body and its signed headers, made before the
// timed part.
type signed struct {
	body   []byte
	header http.Header
}

// postAll posts every request to url over conc connections at once and
// returns the first failure.
func postAll(c *http.Client, url string, reqs []signed, conc int) error {
	var (
		next     atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(reqs) {
					return
				}
				if err := postSigned(c, url, reqs[i].body, reqs[i].header); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// waitCount polls count until it reaches want.
func waitCount(count func() (int, error), want int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		got, err := count()
		if err != nil {
			return err
		}
		if got >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d after %s", got, want, limit)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// verifyRate is bare RSA-2048 PKCS#1 v1.5 verifications of SHA-256
// digests per second, on GOMAXPROCS goroutines for d.
func verifyRate(key *rsa.PrivateKey, d time.Duration) (float64, error) {
	digest := sha256.Sum256([]byte("coopbench"))
	sigBytes, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		return 0, err
	}
	var total atomic.Int64
	var bad atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(d)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var k int64
			for time.Now().Before(stop) {
				if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sigBytes) != nil {
					bad.Store(true)
				}
				k++
			}
			total.Add(k)
		}()
	}
	wg.Wait()
	if bad.Load() {
		return 0, errors.New("a baseline verification failed")
	}
	return float64(total.Load()) / time.Since(start).Seconds(), nil
}

// writeHeapProfile writes the allocation profile to path (read it with
// go tool pprof -sample_index=alloc_space or alloc_objects).
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startTrace starts an execution trace to path and returns its stop.
func startTrace(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := trace.Start(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { trace.Stop(); f.Close() }, nil
}

// startProfile starts a CPU profile to path and returns its stop.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
