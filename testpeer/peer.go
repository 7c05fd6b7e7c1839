// Package testpeer starts the Fedify test peer (peer.mjs beside this file)
// from Go tests and drives it through its control API. See README.md.
//
// The peer is a real ActivityPub implementation nobody on this project
// wrote; tests use it to show coopfed interoperates. It needs node and the
// packages `npm ci` installs in this folder (make test does that).
package testpeer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Peer is a running test peer.
type Peer struct {
	Origin string   // http://127.0.0.1:PORT
	Users  []string // local user names
	Actors []string // their actor ids
	client *http.Client
}

// dir is this package's folder, where peer.mjs and node_modules live.
func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Start runs a peer with the given users (default "peer") and stops it when
// the test ends. It skips the test under -short, and fails it when node or
// the peer's packages are missing: `make test` installs them.
func Start(t testing.TB, users ...string) *Peer {
	t.Helper()
	if testing.Short() {
		t.Skip("interop with the Fedify peer is skipped under -short")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed: the Fedify test peer needs Node 20")
	}
	if _, err := os.Stat(filepath.Join(dir(), "node_modules", "@fedify", "fedify")); err != nil {
		t.Fatalf("the Fedify test peer is not installed: run make test (or cd testpeer && npm ci): %v", err)
	}
	args := []string{filepath.Join(dir(), "peer.mjs"), "--port", "0", "--log-level", "error"}
	for _, u := range users {
		args = append(args, "--user", u)
	}
	cmd := exec.Command("node", args...)
	cmd.Dir = dir()
	stdin, err := cmd.StdinPipe() // closing it stops the peer
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("test peer stderr:\n%s", stderr.String())
		}
	})
	ready := make(chan error, 1)
	p := &Peer{client: &http.Client{Timeout: 60 * time.Second}}
	go func() {
		line, err := bufio.NewReader(stdout).ReadBytes('\n')
		if err != nil {
			ready <- fmt.Errorf("read ready line: %w", err)
			return
		}
		var r struct {
			Ready  bool     `json:"ready"`
			Origin string   `json:"origin"`
			Users  []string `json:"users"`
			Actors []string `json:"actors"`
		}
		if err := json.Unmarshal(line, &r); err != nil || !r.Ready {
			ready <- fmt.Errorf("bad ready line %q: %v", line, err)
			return
		}
		p.Origin, p.Users, p.Actors = r.Origin, r.Users, r.Actors
		ready <- nil
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("test peer: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("test peer not ready in 30 s\n%s", stderr.String())
	}
	return p
}

// Call posts a JSON request to the control API (GET when req is nil) and
// decodes the answer into out. A control failure ("ok": false) is an error
// carrying the peer's reason.
func (p *Peer) Call(path string, req, out any) error {
	var resp *http.Response
	var err error
	u := p.Origin + "/_control/" + path
	if req == nil {
		resp, err = p.client.Get(u)
	} else {
		body, merr := json.Marshal(req)
		if merr != nil {
			return merr
		}
		resp, err = p.client.Post(u, "application/json", bytes.NewReader(body))
	}
	if err != nil {
		return fmt.Errorf("testpeer %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("testpeer %s: %w", path, err)
	}
	var status struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
		Stage string `json:"stage"`
	}
	if err := json.Unmarshal(data, &status); err != nil {
		return fmt.Errorf("testpeer %s: %s: %s", path, resp.Status, data)
	}
	if !status.OK {
		return fmt.Errorf("testpeer %s (%s): %s", path, status.Stage, status.Error)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Actor is an actor as the peer's lookup parsed it with Fedify.
type Actor struct {
	ID                string          `json:"id"`
	Type              string          `json:"type"`
	PreferredUsername string          `json:"preferredUsername"`
	Name              string          `json:"name"`
	Inbox             string          `json:"inbox"`
	SharedInbox       string          `json:"sharedInbox"`
	Outbox            string          `json:"outbox"`
	Followers         string          `json:"followers"`
	Following         string          `json:"following"`
	PublicKeyID       string          `json:"publicKeyId"`
	PublicKeyOwner    string          `json:"publicKeyOwner"`
	Raw               json.RawMessage `json:"raw"`
	Document          json.RawMessage `json:"document"`
}

// Lookup resolves a handle (@name@host:port) or URL as a Mastodon user
// typing it would, and parses it with Fedify.
func (p *Peer) Lookup(handleOrURL string) (Actor, error) {
	req := map[string]any{"handle": handleOrURL}
	if u, err := url.Parse(handleOrURL); err == nil && u.Scheme != "" {
		req = map[string]any{"url": handleOrURL}
	}
	var a Actor
	err := p.Call("lookup", req, &a)
	return a, err
}

// Record is one inbox POST the peer received.
type Record struct {
	Seq        int               `json:"seq"`
	Verified   bool              `json:"verified"`
	Reason     string            `json:"reason"`
	Status     int               `json:"status"`
	Type       string            `json:"type"`
	ObjectType string            `json:"object_type"`
	ID         string            `json:"id"`
	Actor      string            `json:"actor"`
	Handled    bool              `json:"handled"`
	Recipients []string          `json:"recipients"`
	Activity   json.RawMessage   `json:"activity"`
	Headers    map[string]string `json:"headers"`
}

// Received waits up to wait for at least min records matching the query
// (see README.md: user, type, object_type, verified, actor, id, since) and
// returns what the peer holds then. The peer lists a POST only once it has
// answered it (verifying may fetch the sender's key first), so a record's
// verdict and status are final.
func (p *Peer) Received(query url.Values, min int, wait time.Duration) ([]Record, error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("min", fmt.Sprint(min))
	q.Set("wait", fmt.Sprint(wait.Milliseconds()))
	var out struct {
		Items []Record `json:"items"`
	}
	err := p.Call("received?"+q.Encode(), nil, &out)
	return out.Items, err
}

// Flag sends a report as Mastodon forwards one (see README.md, POST
// /_control/flag): a Flag from user of objects (the reported account's
// URI first, then its posts') with comment as its content, to the
// account's inbox. It returns the Flag's id and the inbox's status.
func (p *Peer) Flag(user, comment string, objects ...string) (id string, status int, err error) {
	var out struct {
		ID     string `json:"id"`
		Status int    `json:"status"`
	}
	err = p.Call("flag", map[string]any{"user": user, "object": objects, "content": comment}, &out)
	return out.ID, out.Status, err
}
