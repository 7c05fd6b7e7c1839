package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cliAt runs one command line in-process with the use cases on clock.
func cliAt(t *testing.T, clock func() time.Time, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), &env{stdout: &out, stderr: &errb, now: clock}, args)
	return code, out.String(), errb.String()
}

func TestProposalCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "coopfed.toml")
	mustCLI(t, "init", "--dir", dir, "--host", "coop.example", "--name", "Example Co-op")
	now := time.Now().UTC()
	clock := func() time.Time { return now }
	must := func(args ...string) string {
		t.Helper()
		code, out, errs := cliAt(t, clock, append(args, "--config", cfg)...)
		if code != 0 {
			t.Fatalf("coopfed %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
		}
		return out
	}
	oneTime := regexp.MustCompile(`one-time password: (\S+)`)
	passwords := map[string]string{}
	for _, h := range []string{"alice", "bob"} {
		out := must("member", "add", h)
		passwords[h] = oneTime.FindStringSubmatch(out)[1]
	}
	body := filepath.Join(dir, "body.md")
	if err := os.WriteFile(body, []byte("We *should* adopt the AGPL.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	open := []string{"proposal", "open", "--group", "coop", "--title", "Adopt the AGPL", "--body-file", body,
		"--option", "yes=Yes", "--option", "no=No", "--method", "single", "--closes-in", "72h", "--quorum", "0.5", "--as", "alice"}

	t.Run("a one-time password does not act as the member", func(t *testing.T) {
		t.Setenv("COOPFED_PASSWORD", passwords["alice"])
		code, _, errs := cliAt(t, clock, append(open, "--config", cfg)...)
		if code != 1 || !strings.Contains(errs, "one-time password must be changed") {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
	for _, h := range []string{"alice", "bob"} {
		t.Setenv("COOPFED_PASSWORD", passwords[h])
		t.Setenv("COOPFED_NEW_PASSWORD", h+"-correct-horse")
		must("member", "password", h)
	}
	t.Run("a wrong password is refused", func(t *testing.T) {
		t.Setenv("COOPFED_PASSWORD", "nope")
		code, _, errs := cliAt(t, clock, "vote", "1", "yes", "--as", "alice", "--config", cfg)
		if code != 1 || !strings.Contains(errs, "wrong password") {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
	t.Setenv("COOPFED_PASSWORD", "alice-correct-horse")
	out := must(open...)
	if !strings.Contains(out, "opened proposal 1: Adopt the AGPL") || !strings.Contains(out, "2 eligible voters") {
		t.Fatalf("open: %s", out)
	}
	out = must("vote", "1", "no", "--as", "alice")
	now = now.Add(time.Minute)
	out = must("vote", "1", "yes", "--as", "alice")
	receipt := regexp.MustCompile(`receipt: coopfed log prove (\d+)`).FindStringSubmatch(out)
	if !strings.Contains(out, "replaced your earlier ballot on proposal 1: yes") || receipt == nil {
		t.Fatalf("vote: %s", out)
	}
	t.Run("refusals are recorded and shown with their reason", func(t *testing.T) {
		t.Setenv("COOPFED_PASSWORD", "bob-correct-horse")
		code, out, errs := cliAt(t, clock, "vote", "1", "maybe", "--as", "bob", "--config", cfg)
		if code != 1 || !strings.Contains(out, "refused: unknown-option") || !strings.Contains(errs, "recorded as refused") {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		code, _, errs = cliAt(t, clock, "vote", "1", "yes", "--config", cfg)
		if code != 2 || !strings.Contains(errs, "--as NAME is required") {
			t.Fatalf("vote without --as: exit %d %s", code, errs)
		}
	})
	out = must("proposal", "show", "1")
	for _, want := range []string{"state: open", "provisional counts:", "yes: 1", "refused votes: 1", "unknown-option"} {
		if !strings.Contains(out, want) {
			t.Fatalf("show lacks %q:\n%s", want, out)
		}
	}
	if code, _, errs := cliAt(t, clock, "proposal", "close", "1", "--config", cfg); code != 1 || !strings.Contains(errs, "closes later") {
		t.Fatalf("early close: exit %d %s", code, errs)
	}
	now = now.Add(73 * time.Hour)
	out = must("proposal", "close", "1")
	if !strings.Contains(out, "closed proposal 1: decided: yes") {
		t.Fatalf("close: %s", out)
	}
	out = must("proposal", "show", "1")
	for _, want := range []string{"state: closed", "outcome: decided: yes", "input hash: sha256:", "replaced 1"} {
		if !strings.Contains(out, want) {
			t.Fatalf("show lacks %q:\n%s", want, out)
		}
	}
	if out := must("proposal", "list"); !strings.Contains(out, "closed") || !strings.Contains(out, "1 proposals") {
		t.Fatalf("list: %s", out)
	}
	t.Run("the voter's receipt verifies", func(t *testing.T) {
		r := must("log", "prove", receipt[1])
		file := filepath.Join(t.TempDir(), "receipt")
		if err := os.WriteFile(file, []byte(r), 0o600); err != nil {
			t.Fatal(err)
		}
		out := must("log", "verify", "--receipt", file)
		if !strings.Contains(out, "ok: record "+receipt[1]+" (proposal.ballot_replaced by https://coop.example/users/alice") {
			t.Fatalf("verify: %s", out)
		}
	})
}

func TestOperatorOpensForAMember(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "coopfed.toml")
	mustCLI(t, "init", "--dir", dir, "--host", "coop.example", "--name", "Example Co-op")
	mustCLI(t, "member", "add", "alice", "--config", cfg)
	open := []string{"proposal", "open", "--group", "coop", "--title", "Adopt the AGPL", "--option", "yes=Yes", "--option", "no=No",
		"--method", "single", "--config", cfg}
	if code, _, errs := cli(t, append(open, "--for", "alice", "--as", "alice")...); code != 2 || !strings.Contains(errs, "exclude each other") {
		t.Fatalf("--for with --as: exit %d: %s", code, errs)
	}
	if code, _, errs := cli(t, append(open, "--for", "nobody")...); code != 1 || !strings.Contains(errs, "nobody") {
		t.Fatalf("--for an unknown member: exit %d: %s", code, errs)
	}
	mustCLI(t, append(open, "--for", "alice")...)
	out := mustCLI(t, "proposal", "show", "1", "--config", cfg)
	if !strings.Contains(out, "https://coop.example/users/alice") {
		t.Fatalf("show: %s", out)
	}
	out = mustCLI(t, "log", "show", "--config", cfg)
	if !strings.Contains(out, "admin for https://coop.example/users/alice") {
		t.Fatalf("log show does not record the operator acting for alice:\n%s", out)
	}
}
