package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coopfed/coopfed/store"
)

// benchRSS measures the resident memory of a running `coopfed serve` whose
// co-op has many followers on many hosts while it delivers one post to
// them. It builds the coopfed binary, creates a development node with
// `coopfed init --dev`, fills the node's database from here (remote actors
// with an inbox and a shared inbox per host, accepted followers of the
// co-op actor), maps every host in [dev.hosts] to a few loopback listeners
// in this process that answer 202 at once, starts `coopfed serve`, posts
// once as the co-op with `coopfed post`, and samples the server's VmRSS
// until every delivery is done. The baseline is the same binary and steps
// on a node with no followers. Each round uses fresh nodes.
func benchRSS(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("rss", flag.ContinueOnError)
	rounds := fs.Int("rounds", 3, "rounds; each measures the baseline (0 followers) and coopfed with followers, interleaved")
	followers := fs.Int("followers", 10000, "followers of the co-op actor")
	hosts := fs.Int("hosts", 1000, "remote hosts the followers are spread over (one shared inbox each)")
	servers := fs.Int("servers", 4, "loopback listeners the hosts are mapped to")
	interval := fs.Duration("interval", 20*time.Millisecond, "how often VmRSS is sampled")
	settle := fs.Duration("settle", 2*time.Second, "sample at least this long after the post (the workers poll every second)")
	timeout := fs.Duration("timeout", 5*time.Minute, "longest wait for the deliveries")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *followers < 0 || *hosts < 1 || *servers < 1 || *rounds < 1 {
		return errors.New("-followers must be >= 0, -hosts, -servers and -rounds >= 1")
	}
	if *hosts > *followers && *followers > 0 {
		*hosts = *followers
	}

	dir, err := os.MkdirTemp("", "coopbench-rss-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "coopfed")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/coopfed/coopfed/cmd/coopfed").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}

	// The receivers: answer 202 at once, count the signed POSTs.
	var received atomic.Int64
	recv := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Signature") == "" {
			http.Error(w, "unsigned", http.StatusUnauthorized)
			return
		}
		received.Add(1)
		w.WriteHeader(http.StatusAccepted)
	})
	var addrs []string
	for range *servers {
		ts := httptest.NewServer(recv)
		defer ts.Close()
		addrs = append(addrs, ts.Listener.Addr().String())
	}

	r := &rssRun{bin: bin, dir: dir, addrs: addrs, hosts: *hosts, interval: *interval, settle: *settle, timeout: *timeout}
	fmt.Printf("# peak VmRSS of `coopfed serve` delivering one post by the co-op to %d followers on %d hosts (%d loopback listeners), sampled every %v; baseline the same node with 0 followers; %d rounds, fresh nodes\n",
		*followers, *hosts, *servers, *interval, *rounds)
	fmt.Printf("# machine: %s\n", machine())
	fmt.Printf("| round | 0 followers peak MiB | VmHWM MiB | %d followers peak MiB | VmHWM MiB | deliveries | bytes per follower |\n", *followers)
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- |")
	var base, full, baseHWM, fullHWM, per []float64
	wantReceived := int64(0)
	for round := 1; round <= *rounds; round++ {
		b, err := r.measure(ctx, fmt.Sprintf("r%d-base", round), 0)
		if err != nil {
			return fmt.Errorf("round %d, baseline: %w", round, err)
		}
		f, err := r.measure(ctx, fmt.Sprintf("r%d-full", round), *followers)
		if err != nil {
			return fmt.Errorf("round %d, %d followers: %w", round, *followers, err)
		}
		wantReceived += int64(f.deliveries)
		pf := 0.0
		if *followers > 0 {
			pf = float64(f.peak-b.peak) / float64(*followers)
		}
		base, full, baseHWM, fullHWM, per = append(base, float64(b.peak)), append(full, float64(f.peak)),
			append(baseHWM, float64(b.hwm)), append(fullHWM, float64(f.hwm)), append(per, pf)
		fmt.Printf("| %d | %.1f | %.1f | %.1f | %.1f | %d | %.0f |\n", round, mib(float64(b.peak)), mib(float64(b.hwm)), mib(float64(f.peak)), mib(float64(f.hwm)), f.deliveries, pf)
	}
	fmt.Printf("| median | %.1f | %.1f | %.1f | %.1f | | %.0f |\n", mib(median(base)), mib(median(baseHWM)), mib(median(full)), mib(median(fullHWM)), median(per))
	fmt.Printf("# (median peak with followers - median baseline peak) / followers = %.0f bytes\n", (median(full)-median(base))/float64(max(*followers, 1)))
	if got := received.Load(); got < wantReceived {
		return fmt.Errorf("the receivers got %d POSTs, %d deliveries recorded done", got, wantReceived)
	}
	return nil
}

func mib(b float64) float64 { return b / (1 << 20) }

type rssRun struct {
	bin      string
	dir      string
	addrs    []string // loopback listeners the hosts map to
	hosts    int
	interval time.Duration
	settle   time.Duration
	timeout  time.Duration
}

type rssResult struct {
	peak       int64 // highest VmRSS sampled, bytes
	hwm        int64 // VmHWM at the end, bytes
	deliveries int
}

// measure creates a node with n followers, serves it, posts once as the
// co-op and samples the server's memory until the deliveries are done.
func (r *rssRun) measure(ctx context.Context, name string, n int) (rssResult, error) {
	nodeDir := filepath.Join(r.dir, name)
	defer os.RemoveAll(nodeDir)
	addr, err := freeAddr()
	if err != nil {
		return rssResult{}, err
	}
	if out, err := exec.CommandContext(ctx, r.bin, "init", "--dir", nodeDir, "--host", addr, "--listen", addr,
		"--name", "RSS Co-op", "--dev").CombinedOutput(); err != nil {
		return rssResult{}, fmt.Errorf("coopfed init: %v\n%s", err, out)
	}
	cfgPath := filepath.Join(nodeDir, "coopfed.toml")
	hosts := 0
	if n > 0 {
		hosts = min(r.hosts, n)
	}
	if err := r.addDevHosts(cfgPath, hosts); err != nil {
		return rssResult{}, err
	}
	if err := fillFollowers(ctx, filepath.Join(nodeDir, "coopfed.db"), n, hosts); err != nil {
		return rssResult{}, err
	}

	srv, err := startServe(ctx, r.bin, cfgPath)
	if err != nil {
		return rssResult{}, err
	}
	defer srv.stop()
	db, err := store.Open(ctx, filepath.Join(nodeDir, "coopfed.db"))
	if err != nil {
		return rssResult{}, err
	}
	defer db.Close()

	var peak int64
	sample := func() error {
		rss, _, err := procMem(srv.cmd.Process.Pid)
		if err != nil {
			return err
		}
		peak = max(peak, rss)
		return nil
	}
	if err := sample(); err != nil {
		return rssResult{}, err
	}
	// The post runs as its own process, beside the sampling.
	post := exec.CommandContext(ctx, r.bin, "post", "--as", "coop", "--config", cfgPath, "A post to every follower.")
	var postOut bytes.Buffer
	post.Stdout, post.Stderr = &postOut, &postOut
	start := time.Now()
	if err := post.Start(); err != nil {
		return rssResult{}, err
	}
	postDone := make(chan error, 1)
	go func() { postDone <- post.Wait() }()
	posted := false
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case err := <-postDone:
			if err != nil {
				return rssResult{}, fmt.Errorf("coopfed post: %v\n%s", err, postOut.String())
			}
			posted = true
		case <-tick.C:
		case <-srv.exited:
			return rssResult{}, fmt.Errorf("coopfed serve exited; stderr:\n%s", srv.stderr.String())
		}
		if err := sample(); err != nil {
			return rssResult{}, err
		}
		if !posted || i%5 != 0 || time.Since(start) < r.settle {
			if time.Since(start) > r.timeout {
				return rssResult{}, fmt.Errorf("post not done after %v", r.timeout)
			}
			continue
		}
		c, err := db.DeliveryCounts(ctx)
		if err != nil {
			return rssResult{}, err
		}
		total := 0
		for _, k := range c {
			total += k
		}
		done := c[store.DeliveryDone]
		if total >= hosts && done == total {
			if total != hosts {
				return rssResult{}, fmt.Errorf("%d deliveries queued, want %d (one per shared inbox)", total, hosts)
			}
			_, hwm, err := procMem(srv.cmd.Process.Pid)
			if err != nil {
				return rssResult{}, err
			}
			if err := srv.stop(); err != nil {
				return rssResult{}, err
			}
			return rssResult{peak: peak, hwm: hwm, deliveries: done}, nil
		}
		if c[store.DeliveryDead] > 0 || time.Since(start) > r.timeout {
			return rssResult{}, fmt.Errorf("deliveries after %v: %v", time.Since(start).Round(time.Millisecond), c)
		}
	}
}

// addDevHosts appends the entries of h0001.test … to [dev.hosts], the last
// section of the config, spread over the loopback listeners.
func (r *rssRun) addDevHosts(cfgPath string, hosts int) error {
	if hosts == 0 {
		return nil
	}
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	last := ""
	for _, line := range strings.Split(string(data), "\n") {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "[") {
			last = t
		}
	}
	if last != "[dev.hosts]" {
		return fmt.Errorf("%s: the last section is %s, not [dev.hosts]", cfgPath, last)
	}
	var b strings.Builder
	if !bytes.HasSuffix(data, []byte("\n")) {
		b.WriteByte('\n')
	}
	for h := range hosts {
		fmt.Fprintf(&b, "%q = %q\n", rssHost(h), r.addrs[h%len(r.addrs)])
	}
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func rssHost(h int) string { return fmt.Sprintf("h%04d.test", h+1) }

// fillFollowers stores n remote actors spread over hosts hosts, each with
// its own inbox and its host's shared inbox, as accepted followers of the
// co-op actor.
func fillFollowers(ctx context.Context, dbPath string, n, hosts int) error {
	if n == 0 {
		return nil
	}
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := db.Coop(ctx)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	return db.Write(ctx, func(t *store.Tx) error {
		for i := range n {
			host := rssHost(i % hosts)
			uri := fmt.Sprintf("http://%s/users/u%d", host, i)
			if err := t.PutRemoteActor(ctx, store.RemoteActor{
				ID: uri, Type: "Person", PreferredUsername: fmt.Sprintf("u%d", i), Name: fmt.Sprintf("User %d", i),
				Inbox: uri + "/inbox", SharedInbox: "http://" + host + "/inbox", Followers: uri + "/followers",
				KeyID: uri + "#main-key", Host: host, FetchedAt: now,
			}); err != nil {
				return err
			}
			if err := t.AddFollower(ctx, c.ID, uri, fmt.Sprintf("%s/follows/%d", uri, i), "accepted", now); err != nil {
				return err
			}
		}
		return nil
	})
}

// freeAddr is a loopback address free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

type served struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	exited chan struct{}
	err    error // set when exited is closed
	halted bool
}

// startServe runs `coopfed serve` and waits until it prints "listening on".
func startServe(ctx context.Context, bin, cfgPath string) (*served, error) {
	cmd := exec.CommandContext(ctx, bin, "serve", "--config", cfgPath)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &served{cmd: cmd, stderr: &bytes.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() {
			if !seen && strings.HasPrefix(sc.Text(), "listening on") {
				seen = true
				close(listening)
			}
		}
		s.err = cmd.Wait()
		close(s.exited)
	}()
	select {
	case <-listening:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("coopfed serve exited before listening: %v; stderr:\n%s", s.err, s.stderr.String())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-s.exited
		return nil, fmt.Errorf("coopfed serve did not start in 30 s; stderr:\n%s", s.stderr.String())
	}
}

// stop sends SIGTERM and waits for the exit (SIGKILL after 30 s).
func (s *served) stop() error {
	if s.halted {
		return nil
	}
	s.halted = true
	select {
	case <-s.exited:
		return fmt.Errorf("coopfed serve had exited: %v; stderr:\n%s", s.err, s.stderr.String())
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-s.exited:
		if s.err != nil {
			return fmt.Errorf("coopfed serve after SIGTERM: %v; stderr:\n%s", s.err, s.stderr.String())
		}
		return nil
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		return errors.New("coopfed serve: no exit 30 s after SIGTERM")
	}
}

// procMem reads VmRSS and VmHWM of a process from /proc, in bytes.
func procMem(pid int) (rss, hwm int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v) // "12345 kB"
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("/proc/%d/status: %q", pid, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
	}
	return rss, hwm, nil
}
