package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// TestContributionsImport imports a repository made here with go-git:
// commits by a member, by a member under an alias, and by a stranger.
func TestContributionsImport(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "coopfed.toml")
	mustCLI(t, "init", "--dir", dir, "--host", "coop.example", "--name", "Example Co-op")
	withPasswords(t, cfg, "alice", "bob")
	mustCLI(t, "project", "add", "tool", "--name", "The Tool", "--repo", "https://git.example/coop/tool.git", "--maintainer", "alice", "--config", cfg)
	mustCLI(t, "member", "alias", "bob", "bob@old.example", "--config", cfg)

	repoDir := filepath.Join(t.TempDir(), "tool")
	repo, err := git.PlainInit(repoDir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for i, a := range []struct{ name, email string }{
		{"Alice", "alice@coop.example"}, {"Bob", "Bob@Old.Example"}, {"Alice", "ALICE@coop.example"},
		{"Zed", "zed@else.example"}, {"Bob", "bob@coop.example"},
	} {
		sig := &object.Signature{Name: a.name, Email: a.email, When: when.Add(time.Duration(i) * time.Hour)}
		if _, err := wt.Commit("change "+string(rune('a'+i)), &git.CommitOptions{Author: sig, AllowEmptyCommits: true}); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("COOPFED_PASSWORD", "bob-correct-horse")
	out := mustCLI(t, "contributions", "import", "--project", "tool", "--repo", repoDir, "--as", "bob", "--config", cfg)
	for _, want := range []string{"5 commits read", "4 recorded as pending code contributions of 2 members", "Zed <zed@else.example>: 1 commits"} {
		if !strings.Contains(out, want) {
			t.Fatalf("import lacks %q:\n%s", want, out)
		}
	}
	out = mustCLI(t, "contributions", "import", "--project", "tool", "--repo", repoDir, "--as", "bob", "--config", cfg)
	if !strings.Contains(out, "0 recorded") || !strings.Contains(out, "4 already imported") {
		t.Fatalf("re-import:\n%s", out)
	}
	list := mustCLI(t, "contribution", "list", "--project", "tool", "--status", "pending", "--config", cfg)
	if strings.Count(list, "https://git.example/coop/tool/commit/") != 4 {
		t.Fatalf("list:\n%s", list)
	}
}
