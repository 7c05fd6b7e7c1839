package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/store"
)

// signingActor is a remote Person served from the test process on
// loopback, which signs what it posts with its own RSA key.
type signingActor struct {
	*httptest.Server
	id, keyID string
	key       *rsa.PrivateKey
	client    *http.Client
	seq       atomic.Int64
	to        string // whom the Notes are addressed to: set before posting
}

func newSigningActor(t *testing.T) *signingActor {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	a := &signingActor{key: key}
	var doc []byte
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/activity+json")
		if n, ok := strings.CutPrefix(r.URL.Path, "/users/tester/notes/"); ok {
			// The Note of a Create that names it by id (see post).
			w.Write(a.note(n))
			return
		}
		if r.URL.Path != "/users/tester" {
			http.NotFound(w, r)
			return
		}
		w.Write(doc)
	}))
	t.Cleanup(a.Close)
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
	a.client = &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 16},
	}
	t.Cleanup(a.client.CloseIdleConnections)
	return a
}

// note is the Note numbered n, addressed to a.to.
func (a *signingActor) note(n string) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": a.id + "/notes/" + n, "type": "Note", "attributedTo": a.id,
		"to": []string{a.to}, "content": "<p>note " + n + "</p>",
		"published": time.Now().UTC().Format(time.RFC3339),
	})
	return b
}

// post sends a new signed Create{Note} addressed to to, to inbox, and
// returns the Create's id and the status (0 with an error when no answer
// came). Every eighth Create names its Note by id, which the node fetches
// after it answered: the inbox applies the others as it stores them, and
// leaves that one and the actor's next ones to the processor, so that a
// backlog of stored, unprocessed activities builds up for the kill.
func (a *signingActor) post(inbox, to string) (string, int, error) {
	n := a.seq.Add(1)
	id := fmt.Sprintf("%s/creates/%d", a.id, n)
	var object any = json.RawMessage(a.note(fmt.Sprint(n)))
	if n%8 == 0 {
		object = fmt.Sprintf("%s/notes/%d", a.id, n)
	}
	body, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       id,
		"type":     "Create",
		"actor":    a.id,
		"to":       []string{to},
		"object":   object,
	})
	status, err := sig.Post(a.client, inbox, a.keyID, a.key, body, time.Now())
	return id, status, err
}

// inboundRun is what a burst of posts got back.
type inboundRun struct {
	mu       sync.Mutex
	accepted []string // answered 202
	lost     int      // no answer: cut off by the kill
	refused  []string // any other answer, or an error before the kill
}

func (run *inboundRun) acceptedCount() int {
	run.mu.Lock()
	defer run.mu.Unlock()
	return len(run.accepted)
}

// postUntil posts from workers goroutines until stop says so, and records
// the answers. An error once killed is set is a request the kill cut off;
// before, it is a failure.
func (run *inboundRun) postUntil(a *signingActor, inbox, to string, workers int, stop func(accepted int) bool, killed *atomic.Bool) {
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop(run.acceptedCount()) {
				id, status, err := a.post(inbox, to)
				run.mu.Lock()
				switch {
				case err == nil && status == http.StatusAccepted:
					run.accepted = append(run.accepted, id)
				case killed != nil && killed.Load():
					run.lost++
				case err != nil:
					run.refused = append(run.refused, fmt.Sprintf("%s: %v", id, err))
				default:
					run.refused = append(run.refused, fmt.Sprintf("%s: HTTP %d", id, status))
				}
				run.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestBinaryKillDuringInbound posts signed activities to the built
// binary's shared inbox from several goroutines, SIGKILLs it mid-stream,
// restarts it, and checks the inbox's promise: an activity answered 202
// was stored before the answer, so it survives the kill, and it is
// processed after the restart, once.
func TestBinaryKillDuringInbound(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	const (
		workers     = 8
		beforeKill  = 150 // accepted before the kill, at least
		backlog     = 5   // stored and not yet processed at the kill, at least
		afterStart  = 100 // posted after the restart
		processWait = 15 * time.Second
	)
	ctx := context.Background()
	began := time.Now()
	dir := t.TempDir()
	addr := freePort(t)
	runBinary(t, dir, "init", "--dir", "node", "--host", addr, "--listen", addr, "--name", "Inbound Kill Co-op", "--dev")
	cfg := filepath.Join(dir, "node", "coopfed.toml")
	tester := newSigningActor(t)
	inbox, coopActor := "http://"+addr+"/inbox", "http://"+addr+"/users/coop"
	tester.to = coopActor

	p, _ := start(t, dir, "serve", "--config", cfg)
	db := openNodeDB(t, cfg)
	c, err := db.Coop(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Kill once beforeKill are accepted and a backlog waits to be
	// processed, while the posters keep going.
	var killed atomic.Bool
	first := &inboundRun{}
	posted := make(chan struct{})
	posting := time.Now()
	go func() {
		defer close(posted)
		first.postUntil(tester, inbox, coopActor, workers, func(int) bool {
			return killed.Load() || time.Since(posting) > 15*time.Second
		}, &killed)
	}()
	for {
		if time.Since(posting) > 15*time.Second {
			killed.Store(true)
			<-posted
			t.Fatalf("no backlog to kill after 15 s: %d posts accepted", first.acceptedCount())
		}
		if first.acceptedCount() >= beforeKill {
			rows, err := db.CountRows(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rows["inbound"]-rows["received_notes"] >= backlog {
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	killed.Store(true)
	killedAt := time.Now()
	p.cmd.Process.Kill()
	p.cmd.Wait()
	<-posted
	if len(first.refused) > 0 {
		t.Fatalf("%d posts refused before the kill, first: %s", len(first.refused), first.refused[0])
	}

	// Every activity answered 202 is stored; a few cut off may be too.
	// Check it before the node runs again, with the database as the kill
	// left it.
	states := inboundStates(t, db, first.accepted)
	rows, err := db.CountRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed after %d accepted in %v, %d cut off in flight; stored then: %d inbound rows (accepted ones by state: %v), %d notes",
		len(first.accepted), killedAt.Sub(posting).Round(time.Millisecond), first.lost, rows["inbound"], states, rows["received_notes"])

	// Restart, and keep posting.
	restart := time.Now()
	p, _ = start(t, dir, "serve", "--config", cfg)
	t.Logf("restarted in %v", time.Since(restart).Round(time.Millisecond))
	second := &inboundRun{}
	second.postUntil(tester, inbox, coopActor, workers, func(accepted int) bool { return accepted >= afterStart }, nil)
	if len(second.refused) > 0 {
		t.Fatalf("%d posts refused after the restart, first: %s", len(second.refused), second.refused[0])
	}
	accepted := append(append([]string(nil), first.accepted...), second.accepted...)

	// Everything stored gets processed: each accepted Create's Note once,
	// for the co-op, and no more notes than Creates stored.
	waitFrom := time.Now()
	deadline := waitFrom.Add(processWait)
	var notes []store.ReceivedNote
	for {
		notes, err = db.ReceivedNotes(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		rows, err = db.CountRows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(notes) >= rows["inbound"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v after the restart, %d of %d stored activities processed; the accepted ones by state: %v",
				processWait, len(notes), rows["inbound"], inboundStates(t, db, first.accepted, second.accepted))
		}
		time.Sleep(20 * time.Millisecond)
	}
	processed := time.Since(waitFrom)
	byCreate := map[string]store.ReceivedNote{}
	objects := map[string]bool{}
	for _, n := range notes {
		if _, dup := byCreate[n.ActivityID]; dup || objects[n.ObjectID] {
			t.Fatalf("note %s (of %s) stored twice", n.ObjectID, n.ActivityID)
		}
		byCreate[n.ActivityID], objects[n.ObjectID] = n, true
	}
	if len(notes) != rows["inbound"] || rows["received_notes"] != rows["inbound"] {
		t.Fatalf("%d notes for the co-op, %d in all, from %d stored activities", len(notes), rows["received_notes"], rows["inbound"])
	}
	retried := 0
	for _, id := range accepted {
		ins, err := db.InboundByActivityID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(ins) != 1 || ins[0].State != "done" {
			t.Fatalf("%s: inbound rows %+v, want one done", id, ins)
		}
		n, ok := byCreate[id]
		if !ok || n.InboundID != ins[0].ID || n.ActorURI != tester.id {
			t.Fatalf("%s: no note, or not from its row: %+v", id, n)
		}
		if ins[0].Attempts > 1 {
			retried++
		}
	}
	// A connection the client dialled but never sent on holds a graceful
	// shutdown for 5 s (net/http counts it busy until then): close them.
	tester.client.CloseIdleConnections()
	p.stop(t)
	t.Logf("after the restart: %d more accepted; all %d stored (%d accepted) processed %v later, %d of them taken a second time; whole test %v",
		len(second.accepted), rows["inbound"], len(accepted), processed.Round(time.Millisecond), retried, time.Since(began).Round(time.Millisecond))
}

// inboundStates counts the stored activities with the given ids by state,
// and fails unless each id is stored once.
func inboundStates(t *testing.T, db *store.DB, ids ...[]string) map[string]int {
	t.Helper()
	states := map[string]int{}
	for _, list := range ids {
		for _, id := range list {
			ins, err := db.InboundByActivityID(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if len(ins) != 1 {
				t.Fatalf("%s was answered 202; %d rows of it are stored", id, len(ins))
			}
			states[ins[0].State]++
		}
	}
	return states
}
