package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coopfed/coopfed/config"
	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/testpeer"
	"github.com/google/go-cmp/cmp"
)

// startNode runs a development node in-process on a free loopback port and
// stops it when the test ends.
func startNode(t *testing.T) (*node, coop.Site) {
	t.Helper()
	return startNamedNode(t, "", nil)
}

// startNamedNode runs a development node serving host (its loopback
// address when empty), with the given [dev.hosts] map.
func startNamedNode(t *testing.T, host string, devHosts map[string]string) (*node, coop.Site) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startNodeOn(t, ln, host, devHosts)
}

// startNodeTuned is startNode with the node's settings changed by tune
// before it serves.
func startNodeTuned(t *testing.T, tune func(*node)) (*node, coop.Site) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startNodeOn(t, ln, "", nil, tune)
}

func startNodeOn(t *testing.T, ln net.Listener, host string, devHosts map[string]string, tune ...func(*node)) (*node, coop.Site) {
	t.Helper()
	ctx, cancel := context.WithCancel(coop.AsAdmin(context.Background()))
	addr := ln.Addr().String()
	if host == "" {
		host = addr
	}
	dir := t.TempDir()
	if _, _, err := initNode(ctx, dir, config.Values{Mode: config.ModeDevelopment, Host: host, Listen: addr, CoopName: "Co-op " + host, DevHosts: devHosts}); err != nil {
		t.Fatal(err)
	}
	n, err := openNode(ctx, dir+"/"+configFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tune {
		f(n)
	}
	done := make(chan error, 1)
	var out syncBuffer
	go func() { done <- serve(ctx, &env{stdout: &out, stderr: &out}, n, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("node did not stop")
		}
		if t.Failed() {
			t.Logf("node %s log:\n%s", host, out.String())
		}
		n.Close()
	})
	return n, site(n.cfg)
}

// syncBuffer is a bytes.Buffer that a running node and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// eventually polls cond every 50 ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFedifyReadsOurActors: the Fedify peer resolves each kind of coopfed
// actor by its handle, as a Mastodon user typing @name@host would, and
// parses it as JSON-LD with no context it would have to fetch (Fedify
// offline refuses unknown context URLs; coopfed's terms are inline).
func TestFedifyReadsOurActors(t *testing.T) {
	peer := testpeer.Start(t)
	n, s := startNode(t)
	ctx := coop.AsAdmin(context.Background())
	if _, _, err := n.svc.AddMember(ctx, coop.NewMember{Handle: "alice", DisplayName: "Alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.svc.AddProject(ctx, coop.NewProject{Slug: "tool", Name: "The Tool", Repository: "https://git.example/tool",
		Licence: "MIT", Tags: []string{"go"}, Maintainers: []string{"alice"}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ handle, kind, name string }{
		{"coop", "Organization", "Co-op " + s.Host},
		{"alice", "Person", "Alice"},
		{"tool", "Group", "The Tool"},
	} {
		t.Run(tt.kind, func(t *testing.T) {
			a, err := peer.Lookup("@" + s.Acct(tt.handle))
			if err != nil {
				t.Fatal(err)
			}
			want := testpeer.Actor{ID: s.ActorID(tt.handle), Type: tt.kind, PreferredUsername: tt.handle, Name: tt.name,
				Inbox: s.Inbox(tt.handle), SharedInbox: s.SharedInbox(), PublicKeyID: s.KeyID(tt.handle), PublicKeyOwner: s.ActorID(tt.handle)}
			got := a
			got.Raw, got.Document, got.Outbox, got.Followers, got.Following = nil, nil, "", "", ""
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("what Fedify read (-want +got):\n%s", diff)
			}
			// The coop: data survives Fedify's JSON-LD processing under our
			// namespace, so a JSON-LD peer reads it exactly.
			if tt.kind == "Group" && !strings.Contains(string(a.Raw), "https://git.example/tool") {
				t.Errorf("Fedify's compacted document lost the repository:\n%s", a.Raw)
			}
			var doc map[string]any
			if err := json.Unmarshal(a.Document, &doc); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRemoteMaintainerResolvedByWebFinger: `project add --maintainer
// @name@host` stores the actor URI the remote server's WebFinger names,
// here the Fedify peer's (development mode maps nothing: the peer is on
// loopback, which development allows).
func TestRemoteMaintainerResolvedByWebFinger(t *testing.T) {
	peer := testpeer.Start(t)
	n, s := startNode(t)
	host := strings.TrimPrefix(peer.Origin, "http://")
	cfg := n.cfg.Dir + "/" + configFile
	mustCLI(t, "member", "add", "alice", "--config", cfg)
	out := mustCLI(t, "project", "add", "tool", "--name", "Tool", "--maintainer", "alice", "--maintainer", "@peer@"+host, "--config", cfg)
	want := []string{s.ActorID("alice"), peer.Actors[0]}
	p, err := n.svc.Project(context.Background(), "tool")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, p.Maintainers); diff != "" {
		t.Fatalf("maintainers (-want +got):\n%s\n%s", diff, out)
	}
	code, _, errs := cli(t, "project", "add", "tool2", "--name", "Tool 2", "--maintainer", "@nobody@"+host, "--config", cfg)
	if code != 1 || !strings.Contains(errs, "nobody") {
		t.Fatalf("unknown remote maintainer: exit %d: %s", code, errs)
	}
}
