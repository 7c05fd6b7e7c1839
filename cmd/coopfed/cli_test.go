package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// cli runs one command line in-process.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), &env{stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := cli(t, args...)
	if code != 0 {
		t.Fatalf("coopfed %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func TestParseInterleavedFlags(t *testing.T) {
	fs := newFlags("x", "x", &bytes.Buffer{})
	role := fs.String("role", "", "")
	var tags stringList
	fs.Var(&tags, "tag", "")
	pos, err := parse(fs, []string{"alice", "--role", "admin", "--tag", "a", "bob", "--tag=b", "--", "--not-a-flag"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(pos, " ") != "alice bob --not-a-flag" || *role != "admin" || tags.String() != "a,b" {
		t.Fatalf("pos %q role %q tags %q", pos, *role, tags)
	}
}

func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "coopfed.toml")
	out := mustCLI(t, "init", "--dir", dir, "--host", "coop.example", "--name", "Example Co-op")
	for _, want := range []string{"@coop@coop.example", "https://coop.example/users/coop"} {
		if !strings.Contains(out, want) {
			t.Errorf("init output lacks %q:\n%s", want, out)
		}
	}
	if fi, err := os.Stat(cfg); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config: %v, mode %v", err, fi.Mode())
	}

	t.Run("init refuses to overwrite", func(t *testing.T) {
		before, _ := os.ReadFile(cfg)
		code, _, errs := cli(t, "init", "--dir", dir, "--host", "other.example", "--name", "Other")
		after, _ := os.ReadFile(cfg)
		if code != 1 || !strings.Contains(errs, "already exists") || !bytes.Equal(before, after) {
			t.Fatalf("exit %d, %s", code, errs)
		}
	})
	t.Run("init refuses an old database beside a lost config", func(t *testing.T) {
		d2 := t.TempDir()
		os.WriteFile(filepath.Join(d2, "coopfed.db"), []byte("someone's node"), 0o600)
		code, _, errs := cli(t, "init", "--dir", d2, "--host", "x.example", "--name", "X")
		if code != 1 || !strings.Contains(errs, "coopfed.db already exists") {
			t.Fatalf("exit %d, %s", code, errs)
		}
		if _, err := os.Stat(filepath.Join(d2, "coopfed.toml")); err == nil {
			t.Fatal("a half-made config stayed")
		}
		if b, _ := os.ReadFile(filepath.Join(d2, "coopfed.db")); string(b) != "someone's node" {
			t.Fatal("the old database was touched")
		}
	})
	t.Run("init with a bad host writes nothing", func(t *testing.T) {
		d2 := t.TempDir()
		code, _, errs := cli(t, "init", "--dir", d2, "--host", "https://x.example/", "--name", "X")
		if code != 1 || !strings.Contains(errs, "server.host") {
			t.Fatalf("exit %d, %s", code, errs)
		}
		entries, _ := os.ReadDir(d2)
		if len(entries) != 0 {
			t.Fatalf("left behind: %v", entries)
		}
	})

	out = mustCLI(t, "member", "add", "alice", "--display-name", "Alice Liddell", "--email", "alice@coop.example", "--role", "admin", "--config", cfg)
	pw := regexp.MustCompile(`one-time password: (\S+)`).FindStringSubmatch(out)
	if pw == nil || len(pw[1]) < 20 {
		t.Fatalf("member add printed no password:\n%s", out)
	}
	mustCLI(t, "member", "add", "bob", "--config", cfg)
	out = mustCLI(t, "member", "list", "--config", cfg)
	for _, want := range []string{"@alice@coop.example", "Alice Liddell", "admin", "@bob@coop.example", "one-time", "2 members"} {
		if !strings.Contains(out, want) {
			t.Errorf("member list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, pw[1]) {
		t.Fatal("member list shows a password")
	}
	out = mustCLI(t, "member", "reset-password", "Alice", "--config", cfg)
	if !strings.Contains(out, "one-time password for @Alice@coop.example") || strings.Contains(out, pw[1]) {
		t.Fatalf("reset-password:\n%s", out)
	}
	out = mustCLI(t, "project", "add", "tool", "--name", "The Tool", "--repo", "https://git.example/tool",
		"--licence", "AGPL-3.0-or-later", "--tag", "go", "--tag", "web", "--need", "review", "--maintainer", "alice", "--config", cfg)
	if !strings.Contains(out, "maintainer: https://coop.example/users/alice") {
		t.Fatalf("project add:\n%s", out)
	}
	out = mustCLI(t, "project", "list", "--config", cfg)
	for _, want := range []string{"@tool@coop.example", "The Tool", "AGPL-3.0-or-later", "go,web", "review", "https://coop.example/users/alice", "1 projects"} {
		if !strings.Contains(out, want) {
			t.Errorf("project list lacks %q:\n%s", want, out)
		}
	}
	mustCLI(t, "member", "remove", "bob", "--config", cfg)

	failures := []struct {
		name string
		code int
		args []string
		says string
	}{
		{"no command", 2, nil, "usage"},
		{"unknown command", 2, []string{"frobnicate"}, "unknown command"},
		{"unknown subcommand", 2, []string{"member", "frob"}, "unknown subcommand"},
		{"missing name", 2, []string{"member", "add", "--config", cfg}, "missing NAME"},
		{"extra argument", 2, []string{"member", "list", "x", "--config", cfg}, "unexpected arguments"},
		{"unknown flag", 2, []string{"member", "add", "x", "--colour", "red", "--config", cfg}, "flag provided but not defined"},
		{"bad role", 2, []string{"member", "add", "carol", "--role", "owner", "--config", cfg}, "invalid role"},
		{"project without name", 2, []string{"project", "add", "p", "--config", cfg}, "--name is required"},
		{"init without host", 2, []string{"init", "--dir", t.TempDir(), "--name", "X"}, "required"},
		{"taken handle", 1, []string{"member", "add", "TOOL", "--config", cfg}, "handle is taken"},
		{"removed handle never reused", 1, []string{"member", "add", "bob", "--config", cfg}, "handle is taken"},
		{"reserved handle", 1, []string{"member", "add", "admin", "--config", cfg}, "reserved"},
		{"bad email", 1, []string{"member", "add", "carol", "--email", "carol", "--config", cfg}, "email"},
		{"remove unknown", 1, []string{"member", "remove", "nobody", "--config", cfg}, "not a member"},
		{"remove twice", 1, []string{"member", "remove", "bob", "--config", cfg}, "removed"},
		{"unknown maintainer", 1, []string{"project", "add", "p2", "--name", "P", "--maintainer", "nobody", "--config", cfg}, "nobody"},
		{"bad repository", 1, []string{"project", "add", "p3", "--name", "P", "--repo", "ftp://x", "--config", cfg}, "repository"},
		{"missing config", 1, []string{"member", "list", "--config", filepath.Join(t.TempDir(), "none.toml")}, "no such file"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := cli(t, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.says) {
				t.Fatalf("exit %d, want %d; stderr lacks %q:\n%s", code, tt.code, tt.says, errs)
			}
		})
	}
	out = mustCLI(t, "member", "list", "--config", cfg)
	if !strings.Contains(out, "1 members") {
		t.Fatalf("refused commands changed the members:\n%s", out)
	}
	out = mustCLI(t, "project", "list", "--config", cfg)
	if !strings.Contains(out, "1 projects") {
		t.Fatalf("refused commands changed the projects:\n%s", out)
	}
}
