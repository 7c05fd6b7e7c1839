package federation

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/store"
	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/mux"
)

// Keys made once per test run: RSA generation is slow.
var (
	keysOnce sync.Once
	keys     []*rsa.PrivateKey
)

// rsaKey returns test key i (0 to 3).
func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		for range 4 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys = append(keys, k)
		}
	})
	return keys[i]
}

func publicPEM(k *rsa.PublicKey) string {
	b, _ := x509.MarshalPKIXPublicKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: b}))
}

func privatePEM(k *rsa.PrivateKey) string {
	b, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b}))
}

// inboxNode is a node with inboxes, a fetcher and a processor, on a fixed
// clock that tests may move.
type inboxNode struct {
	db      *store.DB
	site    coop.Site
	srv     *Server
	router  *mux.Router
	fetcher *Fetcher
	proc    *Processor
	ids     map[string]int64

	mu  sync.Mutex
	now time.Time
}

func (n *inboxNode) clock() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.now
}

func (n *inboxNode) advance(d time.Duration) {
	n.mu.Lock()
	n.now = n.now.Add(d)
	n.mu.Unlock()
}

type nodeOptions struct {
	devHosts map[string]string
	skew     time.Duration
	maxBody  int64
	manual   []string // handles that approve followers by hand
	now      time.Time
	real     bool // the real clock, for a peer that signs with it
	limits   Limits
	queueAll bool // no Processor for the inboxes: every activity only queued
}

// newInboxNode makes a node at site with the co-op actor "coop" and a
// member for each handle.
func newInboxNode(t testing.TB, site coop.Site, opts nodeOptions, handles ...string) *inboxNode {
	t.Helper()
	ctx := context.Background()
	n := &inboxNode{db: openDB(t), site: site, ids: map[string]int64{}, now: opts.now}
	if n.now.IsZero() {
		n.now = t0
	}
	key := rsaKey(t, 0)
	err := n.db.Write(ctx, func(tx *store.Tx) error {
		mk := func(kind coop.Kind, handle string) (coop.Actor, error) {
			manual := false
			for _, h := range opts.manual {
				manual = manual || h == handle
			}
			a, err := tx.InsertActor(ctx, coop.Actor{Kind: kind, Handle: handle, Name: handle, PublicKeyPEM: publicPEM(&key.PublicKey),
				ManuallyApprovesFollowers: manual, Discoverable: true, CreatedAt: t0, UpdatedAt: t0}, privatePEM(key))
			n.ids[handle] = a.ID
			return a, err
		}
		if _, err := mk(coop.KindOrganization, "coop"); err != nil {
			return err
		}
		for _, h := range handles {
			a, err := mk(coop.KindPerson, h)
			if err != nil {
				return err
			}
			if err := tx.InsertMember(ctx, coop.Member{Actor: a, Role: coop.RoleMember}, "HASH"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := n.clock
	if opts.real {
		clock = time.Now
	}
	n.fetcher = NewFetcher(FetcherConfig{Site: site, DB: n.db, DevHosts: opts.devHosts, DevMode: true, Clock: clock})
	n.proc = NewProcessor(ProcessorConfig{Site: site, DB: n.db, Fetcher: n.fetcher, Clock: clock})
	cfg := Config{Site: site, Store: n.db, DB: n.db, Fetcher: n.fetcher, Clock: clock,
		DateSkew: opts.skew, MaxBodyBytes: opts.maxBody, Wake: n.proc.Wake, Limits: opts.limits}
	if !opts.queueAll {
		cfg.Processor = n.proc // as serve configures it
	}
	n.srv = NewServer(cfg)
	n.router = newRouter(n.srv)
	return n
}

// post serves a request through the node's router.
func (n *inboxNode) post(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	n.router.ServeHTTP(w, r)
	return w
}

// process runs the processor over everything due.
func (n *inboxNode) process(t testing.TB) {
	t.Helper()
	if _, err := n.proc.ProcessDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (n *inboxNode) counts(t testing.TB) map[string]int {
	t.Helper()
	c, err := n.db.CountRows(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cacheActor puts a remote actor into the node's cache, as fetched now.
func (n *inboxNode) cacheActor(t testing.TB, a store.RemoteActor) {
	t.Helper()
	if a.FetchedAt.IsZero() {
		a.FetchedAt = n.clock()
	}
	if a.Host == "" {
		a.Host = hostOf(a.ID)
	}
	if err := n.db.PutRemoteActor(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

// remote is an httptest server standing in for another server: it serves
// documents by path and counts the GETs of each.
type remote struct {
	*httptest.Server
	host string // the host in its URIs, mapped to the server by dev hosts
	key  *rsa.PrivateKey

	mu   sync.Mutex
	docs map[string]remoteDoc
	hits map[string]int
	sigs []string // Signature headers of the GETs
}

type remoteDoc struct {
	status int
	body   string
}

func newRemote(t testing.TB, host string, key *rsa.PrivateKey) *remote {
	p := &remote{host: host, key: key, docs: map[string]remoteDoc{}, hits: map[string]int{}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.hits[r.URL.Path]++
		p.sigs = append(p.sigs, r.Header.Get("Signature"))
		d, ok := p.docs[r.URL.Path]
		p.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		w.WriteHeader(d.status)
		io.WriteString(w, d.body)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *remote) addr() string { return strings.TrimPrefix(p.URL, "http://") }

func (p *remote) actorURI(name string) string { return "http://" + p.host + "/users/" + name }

func (p *remote) set(path string, status int, body string) {
	p.mu.Lock()
	p.docs[path] = remoteDoc{status, body}
	p.mu.Unlock()
}

func (p *remote) hitsOf(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[path]
}

// serveActor serves a Person whose #main-key is key.
func (p *remote) serveActor(name string, key *rsa.PublicKey) {
	id := p.actorURI(name)
	doc, _ := json.Marshal(map[string]any{
		"@context":          []any{nsActivityStreams, nsSecurity},
		"id":                id,
		"type":              "Person",
		"preferredUsername": name,
		"name":              "Remote " + name,
		"inbox":             id + "/inbox",
		"followers":         id + "/followers",
		"endpoints":         map[string]any{"sharedInbox": "http://" + p.host + "/inbox"},
		"publicKey":         map[string]any{"id": id + "#main-key", "owner": id, "publicKeyPem": publicPEM(key)},
	})
	p.set("/users/"+name, http.StatusOK, string(doc))
}

// signedPost builds a POST of body to the node's path, signed with key as
// keyID at the node's time.
func signedPost(t testing.TB, n *inboxNode, path string, body []byte, keyID string, key *rsa.PrivateKey) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, n.site.URL(path), bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/activity+json")
	if err := sig.Sign(r, keyID, key, body, n.clock()); err != nil {
		t.Fatal(err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return r
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readHTTP reads a captured request: request line, headers, blank line,
// body.
func readHTTP(t testing.TB, path string) *http.Request {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	// As a server sees it.
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.RequestURI = ""
	r.URL.Scheme, r.URL.Host = "", ""
	r.ContentLength = int64(len(body))
	return r
}

func readPEM(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const fixtures = "testdata/fixtures"

// The actors who signed the captured requests, with the keys in the
// fixtures.
func fedifyA(t testing.TB) store.RemoteActor {
	return store.RemoteActor{ID: "http://127.0.0.1:8081/users/voter", Type: "Person", PreferredUsername: "voter",
		Inbox: "http://127.0.0.1:8081/users/voter/inbox", SharedInbox: "http://127.0.0.1:8081/inbox",
		Followers: "http://127.0.0.1:8081/users/voter/followers", KeyID: "http://127.0.0.1:8081/users/voter#main-key",
		PublicKeyPEM: readPEM(t, filepath.Join(fixtures, "fedify", "sender-A-rsa-public.pem"))}
}

func fedifyB(t testing.TB) store.RemoteActor {
	return store.RemoteActor{ID: "http://127.0.0.1:8082/users/voter", Type: "Person", PreferredUsername: "voter",
		Inbox: "http://127.0.0.1:8082/users/voter/inbox", SharedInbox: "http://127.0.0.1:8082/inbox",
		Followers: "http://127.0.0.1:8082/users/voter/followers", KeyID: "http://127.0.0.1:8082/users/voter#main-key",
		PublicKeyPEM: readPEM(t, filepath.Join(fixtures, "fedify", "receiver-B-rsa-public.pem"))}
}

func gtsVoter(t testing.TB) store.RemoteActor {
	return store.RemoteActor{ID: "http://127.0.0.1:8080/users/voter", Type: "Person", PreferredUsername: "voter",
		Name: "Voter", Inbox: "http://127.0.0.1:8080/users/voter/inbox",
		Followers: "http://127.0.0.1:8080/users/voter/followers", KeyID: "http://127.0.0.1:8080/users/voter/main-key",
		PublicKeyPEM: readPEM(t, filepath.Join(fixtures, "gotosocial", "gotosocial-voter-public.pem"))}
}

// captureTime is when the fixtures were captured; the replay's clock, with
// a window of a day, takes them all.
var captureTime = time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)

func wantAccepted(t testing.TB, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusAccepted {
		t.Fatalf("status = %d, want 202; body: %s", w.Code, w.Body)
	}
}

// TestReplayFedify replays the deliveries Fedify 1.5.9 signed, through the
// real inbox handler, each to a node configured as the host it was sent
// to, and checks what processing made of each.
func TestReplayFedify(t *testing.T) {
	ctx := context.Background()
	site := func(host string) coop.Site { return coop.Site{Scheme: "http", Host: host} }
	t.Run("Follow, Fedify's with LD signature and proof, is accepted and answered", func(t *testing.T) {
		for _, file := range []string{"follow-fedify.http", "follow-mastodon-style.http"} {
			n := newInboxNode(t, site("127.0.0.1:8082"), nodeOptions{skew: 24 * time.Hour, now: captureTime}, "voter")
			n.cacheActor(t, fedifyA(t))
			wantAccepted(t, n.post(readHTTP(t, filepath.Join(fixtures, "fedify", file))))
			n.process(t)
			fs, err := n.db.Followers(ctx, n.ids["voter"])
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 1 || fs[0].Remote != fedifyA(t).ID || fs[0].State != "accepted" {
				t.Fatalf("%s: followers = %+v", file, fs)
			}
			if c := n.counts(t); c["deliveries"] != 1 {
				t.Fatalf("%s: %d deliveries queued, want the Accept", file, c["deliveries"])
			}
		}
	})
	t.Run("votes are stored as received notes with name and inReplyTo", func(t *testing.T) {
		n := newInboxNode(t, site("127.0.0.1:8082"), nodeOptions{skew: 24 * time.Hour, now: captureTime}, "voter")
		n.cacheActor(t, fedifyA(t))
		for _, file := range []string{"vote-fedify.http", "vote-mastodon-style.http"} {
			wantAccepted(t, n.post(readHTTP(t, filepath.Join(fixtures, "fedify", file))))
		}
		n.process(t)
		notes, err := n.db.ReceivedNotes(ctx, n.ids["voter"])
		if err != nil {
			t.Fatal(err)
		}
		if len(notes) != 2 {
			t.Fatalf("notes = %+v", notes)
		}
		for _, note := range notes {
			if note.Name == "" || !strings.HasPrefix(note.InReplyTo, "http://127.0.0.1:8082/users/voter/questions/") || !note.Direct {
				t.Errorf("vote note = %+v", note)
			}
		}
	})
	t.Run("Accept of our Follow, embedding it, accepts the follow", func(t *testing.T) {
		n := newInboxNode(t, site("127.0.0.1:8081"), nodeOptions{skew: 24 * time.Hour, now: captureTime}, "voter")
		n.cacheActor(t, fedifyB(t))
		body, _ := os.ReadFile(filepath.Join(fixtures, "fedify", "accept-fedify.body.json"))
		var accept map[string]any
		json.Unmarshal(body, &accept)
		followID := idOf(accept["object"])
		if err := n.db.Write(ctx, func(tx *store.Tx) error {
			return tx.AddFollowing(ctx, n.ids["voter"], fedifyB(t).ID, followID, "pending", t0)
		}); err != nil {
			t.Fatal(err)
		}
		wantAccepted(t, n.post(readHTTP(t, filepath.Join(fixtures, "fedify", "accept-fedify.http"))))
		n.process(t)
		f, err := n.db.FollowingByFollowID(ctx, followID)
		if err != nil || f.State != "accepted" {
			t.Fatalf("following = %+v, %v", f, err)
		}
	})
	t.Run("Create{Question} at the shared inbox is stored", func(t *testing.T) {
		n := newInboxNode(t, site("127.0.0.1:8081"), nodeOptions{skew: 24 * time.Hour, now: captureTime}, "voter")
		n.cacheActor(t, fedifyB(t))
		wantAccepted(t, n.post(readHTTP(t, filepath.Join(fixtures, "fedify", "create-question-fedify.http"))))
		n.process(t)
		if c := n.counts(t); c["inbound"] != 1 || c["received_notes"] != 0 {
			t.Fatalf("counts = %v", c)
		}
	})
}

// TestReplayGoToSocial replays, in the order they were sent, the
// deliveries GoToSocial made to the shared inbox of the peer at
// 127.0.0.1:9191 (alice), and checks each one's effect.
func TestReplayGoToSocial(t *testing.T) {
	ctx := context.Background()
	n := newInboxNode(t, coop.Site{Scheme: "http", Host: "127.0.0.1:9191"}, nodeOptions{skew: 24 * time.Hour, now: captureTime}, "alice", "bob")
	voter := gtsVoter(t)
	n.cacheActor(t, voter)
	alice := n.ids["alice"]
	aliceFollow := "http://127.0.0.1:9191/users/alice#follows/1"
	if err := n.db.Write(ctx, func(tx *store.Tx) error {
		return tx.AddFollowing(ctx, alice, voter.ID, aliceFollow, "pending", t0)
	}); err != nil {
		t.Fatal(err)
	}
	followers := func() []store.Follow {
		fs, err := n.db.Followers(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	notes := func() []store.ReceivedNote {
		ns, err := n.db.ReceivedNotes(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	steps := []struct {
		file  string
		check func(t *testing.T)
	}{
		{"gts-follow", func(t *testing.T) {
			if fs := followers(); len(fs) != 1 || fs[0].State != "accepted" || fs[0].Remote != voter.ID {
				t.Fatalf("followers = %+v", fs)
			}
		}},
		{"gts-undo-follow", func(t *testing.T) {
			if fs := followers(); len(fs) != 0 {
				t.Fatalf("followers after Undo = %+v", fs)
			}
		}},
		{"gts-follow-again", func(t *testing.T) {
			if fs := followers(); len(fs) != 1 {
				t.Fatalf("followers = %+v", fs)
			}
		}},
		{"gts-accept-follow-from-alice", func(t *testing.T) {
			if f, err := n.db.FollowingByFollowID(ctx, aliceFollow); err != nil || f.State != "accepted" {
				t.Fatalf("alice's follow = %+v, %v", f, err)
			}
		}},
		{"gts-create-note-public-mention", func(t *testing.T) {
			ns := notes()
			if len(ns) != 1 || ns[0].Direct || !strings.Contains(ns[0].Content, "alice") {
				t.Fatalf("notes = %+v", ns)
			}
		}},
		{"gts-create-note-direct", func(t *testing.T) {
			ns := notes()
			if len(ns) != 2 || !ns[1].Direct || !strings.Contains(ns[1].Content, "direct message") {
				t.Fatalf("notes = %+v", ns)
			}
		}},
		{"gts-create-question-oneof", nil},
		{"gts-vote-oneof", func(t *testing.T) {
			ns := notes()
			if v := ns[len(ns)-1]; v.Name != "beta" || v.InReplyTo != "http://127.0.0.1:9191/users/alice/statuses/poll-one" {
				t.Fatalf("vote = %+v", v)
			}
		}},
		{"gts-update-question-oneof-after-vote", nil},
		{"gts-create-question-anyof", nil},
		{"gts-vote-anyof-1of2", nil},
		{"gts-vote-anyof-2of2", func(t *testing.T) {
			ns := notes()
			if len(ns) != 5 || ns[3].Name != "red" || ns[4].Name != "blue" {
				t.Fatalf("votes = %+v", ns[3:])
			}
		}},
		{"gts-update-question-anyof-after-bob-vote1", nil},
		{"gts-update-question-anyof-after-alice-array-vote", func(t *testing.T) {
			ins, err := n.db.InboundByActivityID(ctx, "http://127.0.0.1:8080/users/voter/statuses/01M895RYRMZCXW3GPXMN64X74E/activity#Update")
			if err != nil || len(ins) != 2 {
				t.Fatalf("one id, two contents: %d stored, %v", len(ins), err)
			}
		}},
		{"gts-announce", nil},
		{"gts-like", nil},
		{"gts-undo-announce", nil},
		{"gts-undo-like", nil},
		{"gts-update-person", func(t *testing.T) {
			a, err := n.db.RemoteActor(ctx, voter.ID)
			if err != nil || a.Name != "Voter (fixture run)" {
				t.Fatalf("cached voter = %+v, %v", a, err)
			}
		}},
	}
	for _, st := range steps {
		t.Run(st.file, func(t *testing.T) {
			wantAccepted(t, n.post(readHTTP(t, filepath.Join(fixtures, "gotosocial", st.file+".http"))))
			n.process(t)
			if st.check != nil {
				st.check(t)
			}
		})
	}
	t.Run("a replayed delivery is stored once", func(t *testing.T) {
		before := n.counts(t)
		wantAccepted(t, n.post(readHTTP(t, filepath.Join(fixtures, "gotosocial", "gts-vote-oneof.http"))))
		n.process(t)
		if diff := cmp.Diff(before, n.counts(t)); diff != "" {
			t.Fatalf("rows changed (-before +after):\n%s", diff)
		}
	})
	t.Run("every inbound activity is done", func(t *testing.T) {
		c := n.counts(t)
		if c["inbound"] != len(steps) {
			t.Errorf("%d stored, want %d", c["inbound"], len(steps))
		}
		var failed int
		n.db.Write(ctx, func(tx *store.Tx) error { return nil })
		for _, st := range steps {
			body, _ := os.ReadFile(filepath.Join(fixtures, "gotosocial", st.file+".body.json"))
			var m map[string]any
			json.Unmarshal(body, &m)
			ins, _ := n.db.InboundByActivityID(ctx, str(m, "id"))
			for _, in := range ins {
				if in.State != "done" {
					failed++
					t.Errorf("%s: state %s, %s", st.file, in.State, in.LastError)
				}
			}
		}
	})
}

// TestFixtureDocumentsParse: every document captured from Fedify and
// GoToSocial decodes within the limits, and every actor among them parses
// as one, its key its own.
func TestFixtureDocumentsParse(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*", "*.json"))
	more, _ := filepath.Glob(filepath.Join(fixtures, "gotosocial", "peer-sent", "*.json"))
	files = append(files, more...)
	if len(files) < 30 {
		t.Fatalf("only %d documents", len(files))
	}
	actors := 0
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
			continue // manifest.json
		}
		m, err := decodeActivityJSON(body, maxFetchBytes)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if _, ok := hasType(m, actorTypes); ok && m["inbox"] != nil {
			actors++
			if _, err := parseActor(body); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
	if actors < 2 {
		t.Errorf("%d actor documents parsed, want Fedify's and GoToSocial's", actors)
	}
}

// TestInboxRefusesBadInput: each bad request gets its status and a reason,
// and changes no row.
func TestInboxRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	peer := newRemote(t, "peer.test", rsaKey(t, 1))
	peer.serveActor("zoe", &rsaKey(t, 1).PublicKey)
	peer.serveActor("yan", &rsaKey(t, 2).PublicKey)
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}, maxBody: 4096}, "alice", "gone")
	if err := n.db.Write(ctx, func(tx *store.Tx) error { return tx.RemoveActor(ctx, n.ids["gone"], t0) }); err != nil {
		t.Fatal(err)
	}
	zoe, yan := peer.actorURI("zoe"), peer.actorURI("yan")
	// Warm the cache, so that a refusal is seen to change nothing.
	for _, k := range []string{zoe + "#main-key", yan + "#main-key"} {
		if _, _, err := n.fetcher.KeyFor(ctx, k, false); err != nil {
			t.Fatal(err)
		}
	}
	key := rsaKey(t, 1)
	create := func(actor string, object map[string]any) []byte {
		if object == nil {
			object = map[string]any{"id": actor + "/notes/1", "type": "Note", "attributedTo": actor, "content": "hi",
				"to": n.site.ActorID("alice")}
		}
		return mustJSON(t, map[string]any{"@context": nsActivityStreams, "id": actor + "/activities/1", "type": "Create",
			"actor": actor, "to": n.site.ActorID("alice"), "object": object})
	}
	good := create(zoe, nil)
	post := func(path string, body []byte) *http.Request {
		return signedPost(t, n, path, body, zoe+"#main-key", key)
	}
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		reason string
	}{
		{"body over the limit is 413", func() *http.Request {
			return post("/inbox", create(zoe, map[string]any{"id": zoe + "/notes/2", "type": "Note", "content": strings.Repeat("x", 5000)}))
		}, http.StatusRequestEntityTooLarge, "4096"},
		{"wrong content type is 415", func() *http.Request {
			r := post("/inbox", good)
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, http.StatusUnsupportedMediaType, "Content-Type"},
		{"ld+json with another profile is 415", func() *http.Request {
			r := post("/inbox", good)
			r.Header.Set("Content-Type", `application/ld+json; profile="https://example.org/other"`)
			return r
		}, http.StatusUnsupportedMediaType, "profile"},
		{"missing signature is 401", func() *http.Request {
			r := post("/inbox", good)
			r.Header.Del("Signature")
			return r
		}, http.StatusUnauthorized, "no HTTP signature"},
		{"RFC 9421 signature is 401 so that the peer falls back", func() *http.Request {
			r := post("/inbox", good)
			r.Header.Set("Signature", "sig1=:AAAA:")
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri" "content-digest");created=1`)
			return r
		}, http.StatusUnauthorized, "RFC 9421"},
		{"digest mismatch is 401", func() *http.Request {
			r := post("/inbox", good)
			r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(good, []byte("hi"), []byte("HI"), 1)))
			return r
		}, http.StatusUnauthorized, "digest"},
		{"tampered body with its digest is 401", func() *http.Request {
			r := post("/inbox", good)
			b := bytes.Replace(good, []byte("hi"), []byte("HI"), 1)
			r.Header.Set("Digest", sig.Digest(b))
			r.Body = io.NopCloser(bytes.NewReader(b))
			return r
		}, http.StatusUnauthorized, "verif"},
		{"stale date is 401", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, n.site.URL("/inbox"), bytes.NewReader(good))
			r.Header.Set("Content-Type", "application/activity+json")
			sig.Sign(r, zoe+"#main-key", key, good, t0.Add(-2*time.Hour))
			r.Body = io.NopCloser(bytes.NewReader(good))
			return r
		}, http.StatusUnauthorized, "Date"},
		{"request for another host is 401", func() *http.Request {
			r := post("/inbox", good)
			r.Host = "other.test"
			return r
		}, http.StatusUnauthorized, "host"},
		{"actor is not the key's owner: 401", func() *http.Request {
			return post("/inbox", create(yan, nil))
		}, http.StatusUnauthorized, "not " + zoe},
		{"malformed JSON is 400", func() *http.Request {
			return post("/inbox", []byte(`{"id": "`+zoe+`/a", "type": "Create",`))
		}, http.StatusBadRequest, "JSON"},
		{"duplicate id member is 400", func() *http.Request {
			return post("/inbox", []byte(`{"id":"`+zoe+`/a","id":"`+zoe+`/b","type":"Create","actor":"`+zoe+`"}`))
		}, http.StatusBadRequest, "twice"},
		{"too deep is 400", func() *http.Request {
			return post("/inbox", []byte(`{"id":"`+zoe+`/a","type":"Create","actor":"`+zoe+`","object":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}`))
		}, http.StatusBadRequest, "deeper"},
		{"no actor is 400", func() *http.Request {
			return post("/inbox", []byte(`{"id":"`+zoe+`/a","type":"Create"}`))
		}, http.StatusBadRequest, "actor"},
		{"unknown personal inbox is 404", func() *http.Request {
			return post("/users/nobody/inbox", good)
		}, http.StatusNotFound, "nobody"},
		{"removed actor's inbox is 410", func() *http.Request {
			return post("/users/gone/inbox", good)
		}, http.StatusGone, "removed"},
		{"activity on another host than its actor is 400", func() *http.Request {
			return post("/inbox", mustJSON(t, map[string]any{"id": "https://evil.test/a/1", "type": "Follow", "actor": zoe, "object": n.site.ActorID("alice")}))
		}, http.StatusBadRequest, "not on its actor's host"},
		{"embedded object from another origin is 400", func() *http.Request {
			return post("/inbox", create(zoe, map[string]any{"id": "https://victim.test/notes/1", "type": "Note", "attributedTo": zoe, "content": "forged"}))
		}, http.StatusBadRequest, "origin"},
		{"object attributed to someone else is 400", func() *http.Request {
			return post("/inbox", create(zoe, map[string]any{"id": zoe + "/notes/9", "type": "Note", "attributedTo": yan, "content": "x"}))
		}, http.StatusBadRequest, "attributed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := n.counts(t)
			w := n.post(tt.req())
			wantError(t, w, tt.status, tt.reason)
			n.process(t)
			if diff := cmp.Diff(before, n.counts(t)); diff != "" {
				t.Fatalf("rows changed (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("the good request is accepted", func(t *testing.T) {
		wantAccepted(t, n.post(post("/users/alice/inbox", good)))
		n.process(t)
		ns, err := n.db.ReceivedNotes(ctx, n.ids["alice"])
		if err != nil || len(ns) != 1 || ns[0].Content != "hi" {
			t.Fatalf("notes = %+v, %v", ns, err)
		}
	})
}

// TestKeyRotation: a signature that fails with the cached key makes one
// refetch: a rotated key is then accepted, a bad signature refused without
// a second fetch.
func TestKeyRotation(t *testing.T) {
	ctx := context.Background()
	oldKey, newKey, badKey := rsaKey(t, 1), rsaKey(t, 2), rsaKey(t, 3)
	peer := newRemote(t, "peer.test", newKey)
	peer.serveActor("zoe", &newKey.PublicKey)
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}}, "alice")
	zoe := peer.actorURI("zoe")
	n.cacheActor(t, store.RemoteActor{ID: zoe, Type: "Person", Inbox: zoe + "/inbox", KeyID: zoe + "#main-key",
		PublicKeyPEM: publicPEM(&oldKey.PublicKey), FetchedAt: t0.Add(-time.Hour)})
	note := func(i int) []byte {
		return mustJSON(t, map[string]any{"id": zoe + "/activities/" + string(rune('a'+i)), "type": "Create", "actor": zoe,
			"to": n.site.ActorID("alice"), "object": map[string]any{"id": zoe + "/notes/" + string(rune('a'+i)), "type": "Note",
				"attributedTo": zoe, "content": "hi", "to": n.site.ActorID("alice")}})
	}
	t.Run("a stale cached key is refetched once and the new key accepted", func(t *testing.T) {
		wantAccepted(t, n.post(signedPost(t, n, "/inbox", note(0), zoe+"#main-key", newKey)))
		if h := peer.hitsOf("/users/zoe"); h != 1 {
			t.Fatalf("%d fetches of the actor, want 1", h)
		}
	})
	t.Run("a bad signature is refused after one refetch, not two", func(t *testing.T) {
		n.advance(2 * time.Minute) // beyond the refetch guard
		w := n.post(signedPost(t, n, "/inbox", note(1), zoe+"#main-key", badKey))
		wantError(t, w, http.StatusUnauthorized, "verif")
		if h := peer.hitsOf("/users/zoe"); h != 2 {
			t.Fatalf("%d fetches of the actor, want 2 (one more)", h)
		}
	})
	t.Run("another bad signature at once fetches nothing", func(t *testing.T) {
		w := n.post(signedPost(t, n, "/inbox", note(2), zoe+"#main-key", badKey))
		wantError(t, w, http.StatusUnauthorized, "verif")
		if h := peer.hitsOf("/users/zoe"); h != 2 {
			t.Fatalf("%d fetches of the actor, want still 2", h)
		}
	})
	n.process(t)
	if ns, _ := n.db.ReceivedNotes(ctx, 0); len(ns) != 1 {
		t.Fatalf("notes = %+v", ns)
	}
}

// TestGoneActor: a Delete of an actor whose key answers 410 is accepted,
// the actor marked gone and its follows removed, and later requests with
// that key fetch nothing.
func TestGoneActor(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	peer.set("/users/zoe", http.StatusGone, `{"type":"Tombstone"}`)
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}}, "alice")
	zoe := peer.actorURI("zoe")
	if err := n.db.Write(ctx, func(tx *store.Tx) error {
		return tx.AddFollower(ctx, n.ids["alice"], zoe, zoe+"/follows/1", "accepted", t0)
	}); err != nil {
		t.Fatal(err)
	}
	del := mustJSON(t, map[string]any{"id": zoe + "#delete", "type": "Delete", "actor": zoe, "object": zoe,
		"to": "https://www.w3.org/ns/activitystreams#Public"})
	t.Run("the Delete is accepted", func(t *testing.T) {
		wantAccepted(t, n.post(signedPost(t, n, "/inbox", del, zoe+"#main-key", key)))
		a, err := n.db.RemoteActor(ctx, zoe)
		if err != nil || !a.Gone() {
			t.Fatalf("actor = %+v, %v", a, err)
		}
		if fs, _ := n.db.Followers(ctx, n.ids["alice"]); len(fs) != 0 {
			t.Fatalf("followers = %+v", fs)
		}
	})
	hits := peer.hitsOf("/users/zoe")
	t.Run("a second Delete fetches nothing", func(t *testing.T) {
		wantAccepted(t, n.post(signedPost(t, n, "/inbox", del, zoe+"#main-key", key)))
		if h := peer.hitsOf("/users/zoe"); h != hits {
			t.Fatalf("%d fetches, want %d", h, hits)
		}
	})
	t.Run("anything else signed by the gone key is refused without a fetch", func(t *testing.T) {
		body := mustJSON(t, map[string]any{"id": zoe + "/f", "type": "Follow", "actor": zoe, "object": n.site.ActorID("alice")})
		wantError(t, n.post(signedPost(t, n, "/inbox", body, zoe+"#main-key", key)), http.StatusUnauthorized, "gone")
		if h := peer.hitsOf("/users/zoe"); h != hits {
			t.Fatalf("%d fetches, want %d", h, hits)
		}
	})
}

// TestFetchKeyShapes: a GoToSocial key id (a path with a stub document)
// and a key claimed by an actor that does not list it.
func TestFetchKeyShapes(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	id := peer.actorURI("voter")
	stub := mustJSON(t, map[string]any{"id": id, "type": "Person", "preferredUsername": "voter",
		"publicKey": map[string]any{"id": id + "/main-key", "owner": id, "publicKeyPem": publicPEM(&key.PublicKey)}})
	actor := mustJSON(t, map[string]any{"id": id, "type": "Person", "preferredUsername": "voter", "inbox": id + "/inbox",
		"publicKey": map[string]any{"id": id + "/main-key", "owner": id, "publicKeyPem": publicPEM(&key.PublicKey)}})
	peer.set("/users/voter/main-key", http.StatusOK, string(stub))
	peer.set("/users/voter", http.StatusOK, string(actor))
	// mallory claims voter's key as its own.
	mallory := mustJSON(t, map[string]any{"id": "http://peer.test/users/mallory/main-key", "owner": id,
		"publicKeyPem": publicPEM(&rsaKey(t, 2).PublicKey)})
	peer.set("/users/mallory/main-key", http.StatusOK, string(mallory))
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}})

	t.Run("a key document of its own, as GoToSocial serves, checked both ways", func(t *testing.T) {
		owner, k, err := n.fetcher.KeyFor(ctx, id+"/main-key", false)
		if err != nil || owner.ID != id || !k.Equal(&key.PublicKey) || owner.Inbox != id+"/inbox" {
			t.Fatalf("KeyFor = %+v, %v", owner, err)
		}
	})
	t.Run("the GET is signed by the co-op actor", func(t *testing.T) {
		peer.mu.Lock()
		s := peer.sigs[0]
		peer.mu.Unlock()
		if !strings.Contains(s, `keyId="`+n.site.KeyID("coop")+`"`) {
			t.Fatalf("Signature = %q", s)
		}
	})
	t.Run("a key whose owner does not list it is refused", func(t *testing.T) {
		if _, _, err := n.fetcher.KeyFor(ctx, "http://peer.test/users/mallory/main-key", false); !errors.Is(err, ErrKeyNotOwned) {
			t.Fatalf("err = %v, want ErrKeyNotOwned", err)
		}
	})
	t.Run("loopback is refused outside development mode", func(t *testing.T) {
		f := NewFetcher(FetcherConfig{Site: n.site, DB: n.db, DevHosts: map[string]string{"peer.test": peer.addr()}, Clock: n.clock})
		if _, _, err := f.Get(ctx, "https://"+peer.addr()+"/users/voter"); err == nil || !strings.Contains(err.Error(), "not a public address") {
			t.Fatalf("err = %v", err)
		}
		if _, _, err := f.Get(ctx, "http://peer.test/users/voter"); err == nil {
			t.Fatal("http fetched outside development mode")
		}
	})
	t.Run("a body over the limit is refused", func(t *testing.T) {
		peer.set("/big", http.StatusOK, `{"x":"`+strings.Repeat("a", maxFetchBytes)+`"}`)
		if _, _, err := n.fetcher.Get(ctx, "http://peer.test/big"); err == nil || !strings.Contains(err.Error(), "larger") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("each redirect hop is checked again", func(t *testing.T) {
		redirect := newRemote(t, "hop.test", key)
		f := NewFetcher(FetcherConfig{Site: n.site, DB: n.db, DevMode: true, Clock: n.clock,
			DevHosts: map[string]string{"hop.test": redirect.addr(), "peer.test": peer.addr()}})
		for _, tt := range []struct{ name, target, want string }{
			{"to a private address", "https://10.1.2.3/x", "not a public address"},
			{"to http on a public host", "http://example.org/x", "only over https"},
		} {
			redirect.Config.Handler = http.RedirectHandler(tt.target, http.StatusFound)
			if _, _, err := f.Get(ctx, "http://hop.test/start"); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: err = %v", tt.name, err)
			}
		}
		redirect.Config.Handler = http.RedirectHandler("http://peer.test/users/voter", http.StatusFound)
		if _, final, err := f.Get(ctx, "http://hop.test/start"); err != nil || final.Host != "peer.test" {
			t.Errorf("allowed redirect: %v, %v", final, err)
		}
	})
}

func TestAcceptDocument(t *testing.T) {
	site := coop.Site{Scheme: "https", Host: "coop.test"}
	follow, err := decodeActivity([]byte(`{"@context":["https://www.w3.org/ns/activitystreams"],"id":"https://p.test/f/1",
		"type":"Follow","actor":"https://p.test/u/z","object":"https://coop.test/users/alice","proof":{"type":"DataIntegrityProof"}}`), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	body, id, err := acceptDocument(site, coop.Actor{Handle: "alice"}, follow, "https://p.test/u/z")
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, body)
	want := map[string]any{
		"@context": nsActivityStreams, "id": id, "type": "Accept", "actor": "https://coop.test/users/alice",
		"to": "https://p.test/u/z",
		"object": map[string]any{"id": "https://p.test/f/1", "type": "Follow", "actor": "https://p.test/u/z",
			"object": "https://coop.test/users/alice"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Accept (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(id, "https://coop.test/users/alice#accepts/follows/") {
		t.Fatalf("id %s", id)
	}
}

// TestProcessing: what each kind of activity does once processed.
func TestProcessing(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	peer.serveActor("zoe", &key.PublicKey)
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}, manual: []string{"shy"}}, "alice", "shy")
	zoe := peer.actorURI("zoe")
	send := func(t *testing.T, path string, activity map[string]any) {
		t.Helper()
		activity["actor"] = zoe
		wantAccepted(t, n.post(signedPost(t, n, path, mustJSON(t, activity), zoe+"#main-key", key)))
		n.process(t)
	}
	alice, shy := n.site.ActorID("alice"), n.site.ActorID("shy")
	followers := func(h string) []store.Follow {
		fs, err := n.db.Followers(ctx, n.ids[h])
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}

	t.Run("Follow is accepted and an Accept embedding it queued", func(t *testing.T) {
		send(t, "/users/alice/inbox", map[string]any{"id": zoe + "/follows/1", "type": "Follow", "object": alice})
		if fs := followers("alice"); len(fs) != 1 || fs[0].State != "accepted" || fs[0].FollowID != zoe+"/follows/1" {
			t.Fatalf("followers = %+v", fs)
		}
		if c := n.counts(t); c["deliveries"] != 1 {
			t.Fatalf("deliveries = %d", c["deliveries"])
		}
	})
	t.Run("Follow of an actor approving by hand stays pending, no Accept", func(t *testing.T) {
		send(t, "/inbox", map[string]any{"id": zoe + "/follows/2", "type": "Follow", "object": shy})
		if fs := followers("shy"); len(fs) != 1 || fs[0].State != "pending" {
			t.Fatalf("followers = %+v", fs)
		}
		if c := n.counts(t); c["deliveries"] != 1 {
			t.Fatalf("deliveries = %d", c["deliveries"])
		}
	})
	t.Run("Undo{Follow} removes the follower", func(t *testing.T) {
		send(t, "/inbox", map[string]any{"id": zoe + "/undo/1", "type": "Undo",
			"object": map[string]any{"id": zoe + "/follows/1", "type": "Follow", "actor": zoe, "object": alice}})
		if fs := followers("alice"); len(fs) != 0 {
			t.Fatalf("followers = %+v", fs)
		}
	})
	t.Run("Accept matched by object id, embedded or not; Reject removes", func(t *testing.T) {
		err := n.db.Write(ctx, func(tx *store.Tx) error {
			for i, target := range []string{zoe} {
				_ = i
				if err := tx.AddFollowing(ctx, n.ids["alice"], target, alice+"#follows/1", "pending", t0); err != nil {
					return err
				}
				if err := tx.AddFollowing(ctx, n.ids["shy"], target, shy+"#follows/1", "pending", t0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		send(t, "/inbox", map[string]any{"id": zoe + "/accept/1", "type": "Accept",
			"object": map[string]any{"id": alice + "#follows/1", "type": "Follow", "actor": alice, "object": zoe}})
		if f, err := n.db.FollowingByFollowID(ctx, alice+"#follows/1"); err != nil || f.State != "accepted" {
			t.Fatalf("following = %+v, %v", f, err)
		}
		send(t, "/inbox", map[string]any{"id": zoe + "/reject/1", "type": "Reject", "object": shy + "#follows/1"})
		if _, err := n.db.FollowingByFollowID(ctx, shy+"#follows/1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rejected follow still there: %v", err)
		}
	})
	t.Run("Create with two Notes stores each; a DM at the shared inbox is direct", func(t *testing.T) {
		send(t, "/inbox", map[string]any{"id": zoe + "/create/1", "type": "Create", "to": alice, "object": []any{
			map[string]any{"id": zoe + "/notes/1", "type": "Note", "attributedTo": zoe, "name": "yes", "inReplyTo": alice + "/q/1", "to": alice},
			map[string]any{"id": zoe + "/notes/2", "type": "Note", "attributedTo": zoe, "name": "no", "inReplyTo": alice + "/q/1", "to": alice},
		}})
		send(t, "/inbox", map[string]any{"id": zoe + "/create/2", "type": "Create", "to": "as:Public", "object": map[string]any{
			"id": zoe + "/notes/3", "type": "Note", "attributedTo": zoe, "content": "<p>public, not for us</p>", "to": "as:Public"}})
		ns, _ := n.db.ReceivedNotes(ctx, n.ids["alice"])
		if len(ns) != 2 || ns[0].Name != "yes" || ns[1].Name != "no" || !ns[0].Direct {
			t.Fatalf("notes = %+v", ns)
		}
	})
	t.Run("Update of the actor refreshes the cache", func(t *testing.T) {
		send(t, "/inbox", map[string]any{"id": zoe + "/update/1", "type": "Update", "object": map[string]any{
			"id": zoe, "type": "Person", "name": "Zoe Renamed", "inbox": zoe + "/inbox",
			"publicKey": map[string]any{"id": zoe + "#main-key", "owner": zoe, "publicKeyPem": publicPEM(&key.PublicKey)}}})
		if a, _ := n.db.RemoteActor(ctx, zoe); a.Name != "Zoe Renamed" {
			t.Fatalf("cached = %+v", a)
		}
	})
	t.Run("Delete of the actor marks it gone and removes its follows", func(t *testing.T) {
		send(t, "/inbox", map[string]any{"id": zoe + "#delete", "type": "Delete", "object": zoe})
		if a, _ := n.db.RemoteActor(ctx, zoe); !a.Gone() {
			t.Fatalf("cached = %+v", a)
		}
		if fs := followers("shy"); len(fs) != 0 {
			t.Fatalf("followers = %+v", fs)
		}
		if fs, _ := n.db.Following(ctx, n.ids["alice"]); len(fs) != 0 {
			t.Fatalf("following = %+v", fs)
		}
	})
}

// TestProcessingCrashSafe: an activity claimed by a worker that died is
// claimed again once its lease ends, and processed once.
func TestProcessingCrashSafe(t *testing.T) {
	ctx := context.Background()
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	peer.serveActor("zoe", &key.PublicKey)
	// Only queued by the inbox, as without a Processor: the claim is
	// what this test is about.
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}, queueAll: true}, "alice")
	zoe := peer.actorURI("zoe")
	body := mustJSON(t, map[string]any{"id": zoe + "/follows/1", "type": "Follow", "actor": zoe, "object": n.site.ActorID("alice")})
	wantAccepted(t, n.post(signedPost(t, n, "/inbox", body, zoe+"#main-key", key)))
	claimed, err := n.db.ClaimInbound(ctx, n.clock(), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	// The worker dies here. Within the lease nothing is claimed.
	n.process(t)
	if fs, _ := n.db.Followers(ctx, n.ids["alice"]); len(fs) != 0 {
		t.Fatalf("processed within the lease: %+v", fs)
	}
	n.advance(2 * time.Minute)
	n.process(t)
	n.process(t)
	if fs, _ := n.db.Followers(ctx, n.ids["alice"]); len(fs) != 1 {
		t.Fatalf("followers = %+v", fs)
	}
	if c := n.counts(t); c["deliveries"] != 1 {
		t.Fatalf("deliveries = %d", c["deliveries"])
	}
	ins, _ := n.db.InboundByActivityID(ctx, zoe+"/follows/1")
	if len(ins) != 1 || ins[0].State != "done" || ins[0].Attempts != 2 {
		t.Fatalf("inbound = %+v", ins)
	}
}

// TestProcessorRun: the workers process what the inbox wakes them for.
func TestProcessorRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	key := rsaKey(t, 1)
	peer := newRemote(t, "peer.test", key)
	peer.serveActor("zoe", &key.PublicKey)
	n := newInboxNode(t, coop.Site{Scheme: "https", Host: "coop.test"},
		nodeOptions{devHosts: map[string]string{"peer.test": peer.addr()}}, "alice")
	done := make(chan error, 1)
	go func() { done <- n.proc.Run(ctx) }()
	zoe := peer.actorURI("zoe")
	body := mustJSON(t, map[string]any{"id": zoe + "/follows/1", "type": "Follow", "actor": zoe, "object": n.site.ActorID("alice")})
	wantAccepted(t, n.post(signedPost(t, n, "/inbox", body, zoe+"#main-key", key)))
	deadline := time.Now().Add(5 * time.Second)
	for {
		fs, _ := n.db.Followers(context.Background(), n.ids["alice"])
		if len(fs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not processed in 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func FuzzDecodeActivity(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"https://a/1","type":"Create","actor":"https://a/u","object":[[[{}]]]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := decodeActivity(body, DefaultMaxBodyBytes)
		if err != nil {
			return
		}
		if hostOf(a.ID) == "" || hostOf(a.Actor) == "" || !sameOrigin(a.ID, a.Actor) || a.Type == "" {
			t.Fatalf("accepted %+v", a)
		}
		_ = checkOrigins(a)
	})
}
