package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/store"
)

// benchKill is the kill test of the Faults list: it builds the coopfed
// binary, makes a development node and serves it, and loads it both ways
// at once: signed Create{Note} POSTs to its shared inbox from a tester
// actor served here (the ids answered 202 are recorded), and deliveries
// queued from the co-op actor, through a second handle on the node's
// database, to a loopback receiver here that deduplicates by activity id,
// as a real peer does. Meanwhile it SIGKILLs the node -kills times, each
// after a random 50–500 ms, and restarts it on the same config. At the end
// it lets everything drain and checks: every id answered 202 is stored
// once and processed into one received note; every queued delivery
// arrived at least once (arrivals past the first are counted, not lost);
// no received note is stored twice. Any loss is an error.
func benchKill(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("kill", flag.ContinueOnError)
	kills := fs.Int("kills", 200, "SIGKILLs of the node, each followed by a restart")
	minWait := fs.Duration("min", 50*time.Millisecond, "shortest run between restart and kill")
	maxWait := fs.Duration("max", 500*time.Millisecond, "longest run between restart and kill")
	workers := fs.Int("workers", 4, "goroutines posting signed Create{Note}s")
	batch := fs.Int("batch", 4, "deliveries queued per batch (one batch about every 20 ms)")
	drain := fs.Duration("drain", 2*time.Minute, "longest wait for everything to drain after the last restart")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *kills < 0 || *workers < 1 || *batch < 1 || *minWait <= 0 || *maxWait < *minWait {
		return errors.New("-kills must be >= 0, -workers and -batch >= 1, 0 < -min <= -max")
	}
	began := time.Now()

	dir, err := os.MkdirTemp("", "coopbench-kill-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "coopfed")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/coopfed/coopfed/cmd/coopfed").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	nodeDir := filepath.Join(dir, "node")
	if out, err := exec.CommandContext(ctx, bin, "init", "--dir", nodeDir, "--host", addr, "--listen", addr,
		"--name", "Kill Co-op", "--dev").CombinedOutput(); err != nil {
		return fmt.Errorf("coopfed init: %v\n%s", err, out)
	}
	cfgPath := filepath.Join(nodeDir, "coopfed.toml")
	inbox, coopActor := "http://"+addr+"/inbox", "http://"+addr+"/users/coop"

	tester, err := newKillTester()
	if err != nil {
		return err
	}
	defer tester.Close()
	recv := newDedupReceiver()
	defer recv.Close()

	srv, err := startServe(ctx, bin, cfgPath)
	if err != nil {
		return err
	}
	defer func() { srv.cmd.Process.Kill() }()
	db, err := store.Open(ctx, filepath.Join(nodeDir, "coopfed.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := db.Coop(ctx)
	if err != nil {
		return err
	}

	// The loads, until stop is closed.
	stop := make(chan struct{})
	var loads sync.WaitGroup
	var mu sync.Mutex
	var accepted []string // answered 202
	var cutOff, refused atomic.Int64
	var firstRefusal atomic.Value
	for range *workers {
		loads.Add(1)
		go func() {
			defer loads.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				id, status, err := tester.post(inbox, coopActor)
				switch {
				case err == nil && status == http.StatusAccepted:
					mu.Lock()
					accepted = append(accepted, id)
					mu.Unlock()
				case err != nil:
					// The kill cut it off, or the node is down: unanswered.
					cutOff.Add(1)
					time.Sleep(10 * time.Millisecond)
				default:
					refused.Add(1)
					firstRefusal.CompareAndSwap(nil, fmt.Sprintf("%s: HTTP %d", id, status))
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	var queued []string // committed to the deliveries table
	var queueErrs atomic.Int64
	loads.Add(1)
	go func() {
		defer loads.Done()
		recvInbox := recv.URL + "/inbox"
		for seq := 0; ; seq++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			var ids []string
			err := db.Write(ctx, func(tx *store.Tx) error {
				ids = ids[:0]
				for i := range *batch {
					id := fmt.Sprintf("http://%s/activities/kill-%d-%d", addr, seq, i)
					body := fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Create","actor":%q}`, id, coopActor)
					if err := tx.EnqueueDeliveries(ctx, c.ID, id, []byte(body), []string{recvInbox}, time.Now()); err != nil {
						return err
					}
					ids = append(ids, id)
				}
				return nil
			})
			if err != nil {
				queueErrs.Add(1)
				continue
			}
			mu.Lock()
			queued = append(queued, ids...)
			mu.Unlock()
		}
	}()

	// The kills.
	var maxRestart, sumRestart time.Duration
	for k := 1; k <= *kills; k++ {
		wait := *minWait + time.Duration(mrand.Int64N(int64(*maxWait-*minWait)+1))
		select {
		case <-time.After(wait):
		case <-srv.exited:
			close(stop)
			loads.Wait()
			return fmt.Errorf("kill %d: coopfed serve exited by itself: %v; stderr:\n%s", k, srv.err, srv.stderr.String())
		}
		srv.cmd.Process.Kill()
		<-srv.exited
		t0 := time.Now()
		srv, err = startServe(ctx, bin, cfgPath)
		if err != nil {
			close(stop)
			loads.Wait()
			return fmt.Errorf("restart after kill %d: %w", k, err)
		}
		d := time.Since(t0)
		sumRestart += d
		maxRestart = max(maxRestart, d)
	}
	close(stop)
	loads.Wait()
	loadEnd := time.Now()

	// Drain: every queued delivery done and arrived, every stored
	// activity processed.
	mu.Lock()
	defer mu.Unlock()
	deadline := time.Now().Add(*drain)
	var rows map[string]int
	var counts map[store.DeliveryState]int
	for {
		if rows, err = db.CountRows(ctx); err != nil {
			return err
		}
		if counts, err = db.DeliveryCounts(ctx); err != nil {
			return err
		}
		pending := counts[store.DeliveryQueued] + counts[store.DeliveryInFlight]
		if pending == 0 && rows["received_notes"] >= rows["inbound"] && recv.missing(queued) == 0 {
			break
		}
		if time.Now().After(deadline) {
			break // the checks below say what is missing
		}
		select {
		case <-srv.exited:
			return fmt.Errorf("coopfed serve exited while draining: %v; stderr:\n%s", srv.err, srv.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	drained := time.Since(loadEnd)
	tester.client.CloseIdleConnections()
	stopErr := srv.stop()

	// The checks.
	var losses []string
	lose := func(format string, a ...any) {
		if len(losses) < 10 {
			losses = append(losses, fmt.Sprintf(format, a...))
		} else if len(losses) == 10 {
			losses = append(losses, "…")
		}
	}
	notes, err := db.ReceivedNotes(ctx, c.ID)
	if err != nil {
		return err
	}
	byCreate := map[string]store.ReceivedNote{}
	objects := map[string]int{}
	twice := 0
	for _, n := range notes {
		objects[n.ObjectID]++
		if _, dup := byCreate[n.ActivityID]; dup || objects[n.ObjectID] > 1 {
			twice++
			lose("note %s (of %s) stored twice", n.ObjectID, n.ActivityID)
		}
		byCreate[n.ActivityID] = n
	}
	if rows["received_notes"] != rows["inbound"] || len(notes) != rows["inbound"] {
		lose("%d notes for the co-op, %d in all, from %d stored activities", len(notes), rows["received_notes"], rows["inbound"])
	}
	for _, id := range accepted {
		ins, err := db.InboundByActivityID(ctx, id)
		if err != nil {
			return err
		}
		if len(ins) != 1 || ins[0].State != "done" {
			lose("%s answered 202: %d inbound rows, want one done", id, len(ins))
			continue
		}
		if n, ok := byCreate[id]; !ok || n.InboundID != ins[0].ID || n.ActorURI != tester.id {
			lose("%s answered 202: no received note from its row", id)
		}
	}
	delivered, dups := recv.tally(queued)
	for _, id := range queued {
		if recv.count(id) == 0 {
			lose("delivery of %s queued, never arrived", id)
		}
	}
	if counts[store.DeliveryDone] != len(queued) {
		lose("delivery rows %v, want %d done", counts, len(queued))
	}

	fmt.Printf("# coopbench kill: %d SIGKILLs of `coopfed serve`, each after a random %v–%v, restarted on the same config; inbound %d goroutines posting signed Create{Note}s, outbound %d deliveries queued about every 20 ms to a loopback receiver deduplicating by id\n",
		*kills, *minWait, *maxWait, *workers, *batch)
	fmt.Printf("# machine: %s\n", machine())
	avg := time.Duration(0)
	if *kills > 0 {
		avg = sumRestart / time.Duration(*kills)
	}
	fmt.Printf("kills %d | inbound: accepted (202) %d, stored %d, processed %d, unanswered (cut off or node down) %d, refused %d | outbound: queued %d, delivered %d, duplicate arrivals %d (deduplicated by id) | notes stored twice %d | restart max %v, mean %v | drain %v | wall %v\n",
		*kills, len(accepted), rows["inbound"], rows["received_notes"], cutOff.Load(), refused.Load(),
		len(queued), delivered, dups, twice, maxRestart.Round(time.Millisecond), avg.Round(time.Millisecond),
		drained.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	if r, ok := firstRefusal.Load().(string); ok {
		fmt.Printf("# first refusal: %s\n", r)
	}
	if n := queueErrs.Load(); n > 0 {
		fmt.Printf("# %d batches not queued (write failed, rolled back, not counted)\n", n)
	}
	if len(losses) > 0 {
		for _, l := range losses {
			fmt.Fprintln(os.Stderr, "LOSS:", l)
		}
		return fmt.Errorf("%d problems after %d kills", len(losses), *kills)
	}
	if len(accepted) == 0 || len(queued) == 0 {
		return fmt.Errorf("no load: %d accepted, %d queued", len(accepted), len(queued))
	}
	if stopErr != nil {
		return stopErr
	}
	return nil
}

// dedupReceiver is a loopback inbox that records each activity id it got,
// deduplicating as a real peer (Mastodon, for one) does by id.
type dedupReceiver struct {
	*httptest.Server
	mu  sync.Mutex
	got map[string]int
}

func newDedupReceiver() *dedupReceiver {
	r := &dedupReceiver{got: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var doc struct{ ID string }
		if err := json.NewDecoder(req.Body).Decode(&doc); err != nil || doc.ID == "" || req.Header.Get("Signature") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.got[doc.ID]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	return r
}

func (r *dedupReceiver) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[id]
}

func (r *dedupReceiver) missing(ids []string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, id := range ids {
		if r.got[id] == 0 {
			n++
		}
	}
	return n
}

// tally counts the ids that arrived, and the arrivals past each first.
func (r *dedupReceiver) tally(ids []string) (arrived, dups int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if k := r.got[id]; k > 0 {
			arrived++
			dups += k - 1
		}
	}
	return arrived, dups
}

// killTester is a remote Person served here on loopback, which signs what
// it posts with its own RSA key.
type killTester struct {
	*httptest.Server
	id, keyID string
	key       *rsa.PrivateKey
	client    *http.Client
	seq       atomic.Int64
}

func newKillTester() (*killTester, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	a := &killTester{key: key}
	var doc []byte
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/users/tester" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		w.Write(doc)
	}))
	a.id = a.URL + "/users/tester"
	a.keyID = a.id + "#main-key"
	doc, _ = json.Marshal(map[string]any{
		"@context":          []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":                a.id,
		"type":              "Person",
		"preferredUsername": "tester",
		"inbox":             a.id + "/inbox",
		"publicKey": map[string]any{
			"id": a.keyID, "owner": a.id,
			"publicKeyPem": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		},
	})
	a.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	return a, nil
}

// post sends a new signed Create{Note} addressed to to, to inbox, and
// returns the Create's id and the status (0 with an error when no answer
// came).
func (a *killTester) post(inbox, to string) (string, int, error) {
	n := a.seq.Add(1)
	id := fmt.Sprintf("%s/creates/%d", a.id, n)
	body, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       id,
		"type":     "Create",
		"actor":    a.id,
		"to":       []string{to},
		"object": map[string]any{
			"id": fmt.Sprintf("%s/notes/%d", a.id, n), "type": "Note", "attributedTo": a.id,
			"to": []string{to}, "content": fmt.Sprintf("<p>note %d</p>", n),
			"published": time.Now().UTC().Format(time.RFC3339),
		},
	})
	status, err := sig.Post(a.client, inbox, a.keyID, a.key, body, time.Now())
	return id, status, err
}
