package main

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/config"
	"github.com/coopfed/coopfed/store"
)

// serveDir serves the node initialized in dir on ln, until stop; stop
// waits for serve to return and closes the database, and is safe to call
// twice (the test's cleanup calls it too).
func serveDir(t *testing.T, ln net.Listener, dir string) (*node, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n, err := openNode(ctx, dir+"/"+configFile)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var out syncBuffer
	go func() { done <- serve(ctx, &env{stdout: &out, stderr: &out}, n, ln) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve %s: %v", dir, err)
			}
		case <-time.After(30 * time.Second):
			t.Error("node did not stop")
		}
		if t.Failed() {
			t.Logf("node %s log:\n%s", n.cfg.Server.Listen, out.String())
		}
		n.Close()
	}
	t.Cleanup(stop)
	return n, stop
}

// loopbackHosts listens on a free loopback port for each host, and maps
// the hosts to those addresses for [dev.hosts]: devHosts(i) is the map
// node i runs with (every host but its own).
func loopbackHosts(t *testing.T, hosts []string) (lns []net.Listener, devHosts func(self int) map[string]string) {
	t.Helper()
	for range hosts {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
	}
	return lns, func(self int) map[string]string {
		m := map[string]string{}
		for i, h := range hosts {
			if i != self {
				m[h] = lns[i].Addr().String()
			}
		}
		return m
	}
}

// listenAgain listens on addr again, waiting for the port to come free.
func listenAgain(t *testing.T, addr string) net.Listener {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return ln
		}
		if time.Now().After(deadline) {
			t.Fatalf("listen on %s again: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestThreeNodesBackfill: alpha, beta and gamma each list the other two as
// members of their federation; a post and a project from alpha reach beta
// and gamma once each. gamma is stopped; what alpha publishes meanwhile
// reaches gamma when it comes back, from the backfill of alpha's outbox and
// coop:projects at start, before alpha's delivery retry is due.
func TestThreeNodesBackfill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three nodes")
	}
	ctx := context.Background()
	hosts := []string{"alpha.test", "beta.test", "gamma.test"}
	lns, devHosts := loopbackHosts(t, hosts)
	a, _ := startNodeOn(t, lns[0], hosts[0], devHosts(0))
	b, _ := startNodeOn(t, lns[1], hosts[1], devHosts(1))
	gDir, gAddr := t.TempDir(), lns[2].Addr().String()
	if _, _, err := initNode(ctx, gDir, config.Values{Mode: config.ModeDevelopment, Host: hosts[2], Listen: gAddr,
		CoopName: "Co-op gamma", DevHosts: devHosts(2)}); err != nil {
		t.Fatal(err)
	}
	g, stopG := serveDir(t, lns[2], gDir)
	cfgs := []string{a.cfg.Dir + "/" + configFile, b.cfg.Dir + "/" + configFile, gDir + "/" + configFile}

	for i := range hosts {
		for j, h := range hosts {
			if i != j {
				mustCLI(t, "peer", "add", "@coop@"+h, "--config", cfgs[i])
			}
		}
	}
	accepted := func(db *store.DB) bool {
		c, err := db.Coop(ctx)
		if err != nil {
			return false
		}
		fs, err := db.Following(ctx, c.ID)
		if err != nil || len(fs) != 2 {
			return false
		}
		for _, f := range fs {
			if f.State != "accepted" {
				return false
			}
		}
		return true
	}
	eventually(t, 20*time.Second, "every node's follows of its two peers are accepted", func() bool {
		return accepted(a.db) && accepted(b.db) && accepted(g.db)
	})

	const alphaCoop = "http://alpha.test/users/coop"
	// notes counts, per object, alpha's notes to db's co-op that say what.
	notes := func(db *store.DB, what string) map[string]int {
		out := map[string]int{}
		for _, n := range notesTo(t, db, "coop") {
			if n.ActorURI == alphaCoop && strings.Contains(n.Content, what) {
				out[n.ObjectID]++
			}
		}
		return out
	}
	projects := func(db *store.DB, uri string) int {
		ps, err := db.RemoteProjects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for _, p := range ps {
			if p.URI == uri {
				k++
			}
		}
		return k
	}
	// once checks that db holds exactly one note saying what and the
	// project, each stored once.
	once := func(db *store.DB, what, project string) bool {
		ns := notes(db, what)
		if len(ns) != 1 || projects(db, project) != 1 {
			return false
		}
		for _, k := range ns {
			if k != 1 {
				return false
			}
		}
		return true
	}

	mustCLI(t, "post", "--as", "coop", "hello, federation", "--config", cfgs[0])
	mustCLI(t, "project", "add", "shared", "--name", "Shared", "--tag", "go", "--config", cfgs[0])
	for i, db := range []*store.DB{b.db, g.db} {
		eventually(t, 20*time.Second, hosts[i+1]+" has alpha's post and project", func() bool {
			return once(db, "hello, federation", "http://alpha.test/users/shared") &&
				len(notes(db, "New project: Shared")) == 1
		})
	}

	// gamma goes down; alpha publishes meanwhile.
	stopG()
	mustCLI(t, "post", "--as", "coop", "while gamma was away", "--config", cfgs[0])
	mustCLI(t, "project", "add", "missed", "--name", "Missed", "--tag", "go", "--config", cfgs[0])
	eventually(t, 20*time.Second, "beta has what alpha published while gamma was down", func() bool {
		return once(b.db, "while gamma was away", "http://alpha.test/users/missed")
	})

	start := time.Now()
	g, _ = serveDir(t, listenAgain(t, gAddr), gDir)
	eventually(t, 20*time.Second, "gamma backfills what it missed", func() bool {
		return once(g.db, "while gamma was away", "http://alpha.test/users/missed") &&
			len(notes(g.db, "New project: Missed")) == 1
	})
	t.Logf("gamma caught up %s after its restart", time.Since(start).Round(time.Millisecond))
	// It came from the backfill, not from alpha's retry (due 30 s after the
	// failed attempt).
	for _, n := range notesTo(t, g.db, "coop") {
		if !strings.Contains(n.Content, "while gamma was away") {
			continue
		}
		ins, err := g.db.InboundByActivityID(ctx, n.ActivityID)
		if err != nil || len(ins) != 1 || ins[0].KeyID != "backfill" {
			t.Errorf("the missed post's Create on gamma: %+v, %v; want one, from the backfill", ins, err)
		}
	}
	ins, err := g.db.InboundByActivityID(ctx, "http://alpha.test/users/missed#add")
	if err != nil || len(ins) != 1 || ins[0].KeyID != "backfill" || ins[0].State != "done" {
		t.Errorf("the Add of missed on gamma: %+v, %v", ins, err)
	}
	// Nothing from before gamma's stop came twice.
	if !once(g.db, "hello, federation", "http://alpha.test/users/shared") || len(notes(g.db, "New project: Shared")) != 1 {
		t.Errorf("gamma's earlier notes and projects are no longer one each")
	}
	// `peer backfill` by hand finds nothing new.
	out := mustCLI(t, "peer", "backfill", "@coop@alpha.test", "--config", cfgs[2])
	if !strings.Contains(out, "0 activities queued") {
		t.Errorf("peer backfill:\n%s", out)
	}
}
