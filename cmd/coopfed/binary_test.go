package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the coopfed command once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "coopfed-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "coopfed")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// node is a running coopfed process.
type process struct {
	cmd    *exec.Cmd
	lines  chan string
	output *strings.Builder
	mu     *sync.Mutex
}

// start runs the binary in dir and waits until it prints "listening on".
func start(t *testing.T, dir string, args ...string) (*process, map[string]string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, lines: make(chan string, 100), output: &strings.Builder{}, mu: &sync.Mutex{}}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	info := map[string]string{}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("coopfed %v exited before listening; stderr:\n%s", args, stderr.String())
			}
			if k, v, ok := strings.Cut(line, ":"); ok {
				info[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
			if strings.HasPrefix(line, "listening on") {
				return p, info
			}
		case <-deadline:
			t.Fatalf("coopfed %v did not start in 30 s; stderr:\n%s", args, stderr.String())
		}
	}
}

// stop sends SIGTERM and checks a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for line := range p.lines {
		rest = append(rest, line)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30 s after SIGTERM")
	}
	if !strings.Contains(strings.Join(rest, "\n"), "stopped") {
		t.Fatalf("no 'stopped' after SIGTERM: %q", rest)
	}
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var doc map[string]any
	json.Unmarshal(body, &doc)
	return resp.StatusCode, doc
}

func runBinary(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("coopfed %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestBinaryInitServeStop runs the built binary as an admin would: init,
// serve, fetch the actor over loopback, add a member while it runs, SIGTERM.
func TestBinaryInitServeStop(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	runBinary(t, dir, "init", "--dir", "node", "--host", addr, "--listen", addr, "--name", "Binary Co-op", "--dev")
	cfg := filepath.Join("node", "coopfed.toml")
	p, info := start(t, dir, "serve", "--config", cfg)
	base := "http://" + addr
	if info["actor"] != base+"/users/coop" {
		t.Fatalf("printed actor %q, want %s/users/coop", info["actor"], base)
	}
	status, doc := getJSON(t, base+"/users/coop")
	if status != 200 || doc["type"] != "Organization" || doc["name"] != "Binary Co-op" {
		t.Fatalf("co-op actor: %d %v", status, doc)
	}
	if pk, _ := doc["publicKey"].(map[string]any); pk == nil || !strings.Contains(pk["publicKeyPem"].(string), "BEGIN PUBLIC KEY") {
		t.Fatalf("no public key: %v", doc["publicKey"])
	}

	// An admin command on the same config while the node runs: the node
	// serves the new member at once.
	runBinary(t, dir, "member", "add", "alice", "--config", cfg)
	status, doc = getJSON(t, base+"/users/alice")
	if status != 200 || doc["type"] != "Person" {
		t.Fatalf("member added while serving: %d %v", status, doc)
	}
	status, doc = getJSON(t, base+"/.well-known/webfinger?resource=acct:alice@"+addr)
	if status != 200 || doc["subject"] != "acct:alice@"+addr {
		t.Fatalf("webfinger: %d %v", status, doc)
	}
	runBinary(t, dir, "member", "remove", "alice", "--config", cfg)
	if status, doc = getJSON(t, base+"/users/alice"); status != 410 || doc["type"] != "Tombstone" {
		t.Fatalf("removed member: %d %v", status, doc)
	}
	p.stop(t)
}

// TestBinaryDev runs the README's command twice in a fresh folder: the
// first run creates coopfed-data, the second reuses it.
func TestBinaryDev(t *testing.T) {
	dir := t.TempDir()
	p, info := start(t, dir, "dev")
	node := info["node"]
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/$`).MatchString(node) {
		t.Fatalf("printed node URL %q", node)
	}
	if !strings.HasPrefix(info["co-op"], "Development Co-op (@coop@127.0.0.1:") {
		t.Fatalf("printed co-op %q", info["co-op"])
	}
	status, doc := getJSON(t, info["actor"])
	if status != 200 || doc["type"] != "Organization" {
		t.Fatalf("actor: %d %v", status, doc)
	}
	key := doc["publicKey"].(map[string]any)["publicKeyPem"]
	// The first run prints an admin member and its one-time password, to
	// sign in with at once.
	m := regexp.MustCompile(`^steward, one-time password: (\S+)$`).FindStringSubmatch(info["first member (an admin)"])
	if m == nil {
		t.Fatalf("first member line %q", info["first member (an admin)"])
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(node + "signin")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatalf("sign-in page:\n%s", page)
	}
	resp, err = client.PostForm(node+"signin", url.Values{"csrf": {string(csrf[1])}, "handle": {"steward"}, "password": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/password" {
		t.Fatalf("sign in with the printed password: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	p.stop(t)
	if _, err := os.Stat(filepath.Join(dir, "coopfed-data", "coopfed.toml")); err != nil {
		t.Fatal(err)
	}

	p, info2 := start(t, dir, "dev")
	if info2["node"] != node {
		t.Fatalf("second run serves %q, first %q", info2["node"], node)
	}
	_, doc = getJSON(t, info2["actor"])
	if doc["publicKey"].(map[string]any)["publicKeyPem"] != key {
		t.Fatal("second run made a new key")
	}
	// Admin commands find the dev node's config by default.
	out := runBinary(t, dir, "member", "list")
	if !strings.Contains(out, "steward") {
		t.Fatalf("member list in the dev folder:\n%s", out)
	}
	p.stop(t)
}
