package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestMemberRole: the operator makes a member admin and back; the last
// admin stays one, and cannot be removed; a bad role is a usage error.
func TestMemberRole(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "coopfed.toml")
	mustCLI(t, "init", "--dir", dir, "--host", "coop.example", "--name", "Example Co-op")
	mustCLI(t, "member", "add", "alice", "--role", "admin", "--config", cfg)
	mustCLI(t, "member", "add", "bob", "--config", cfg)

	failures := []struct {
		name string
		code int
		args []string
		says string
	}{
		{"missing role", 2, []string{"member", "role", "bob", "--config", cfg}, "missing NAME and ROLE"},
		{"bad role", 2, []string{"member", "role", "bob", "owner", "--config", cfg}, "invalid role"},
		{"unknown member", 1, []string{"member", "role", "nobody", "admin", "--config", cfg}, "not a member"},
		{"unchanged", 1, []string{"member", "role", "bob", "member", "--config", cfg}, "already"},
		{"demote the last admin", 1, []string{"member", "role", "alice", "member", "--config", cfg}, "last admin"},
		{"remove the last admin", 1, []string{"member", "remove", "alice", "--config", cfg}, "last admin"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := cli(t, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.says) {
				t.Fatalf("exit %d, want %d; stderr lacks %q:\n%s", code, tt.code, tt.says, errs)
			}
		})
	}
	if out := mustCLI(t, "member", "role", "bob", "admin", "--config", cfg); !strings.Contains(out, "@bob@coop.example is now admin") {
		t.Fatalf("role:\n%s", out)
	}
	mustCLI(t, "member", "role", "alice", "member", "--config", cfg)
	out := mustCLI(t, "member", "list", "--config", cfg)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "@alice@") && !strings.Contains(line, " member ") ||
			strings.HasPrefix(line, "@bob@") && !strings.Contains(line, " admin ") {
			t.Fatalf("member list after the changes:\n%s", out)
		}
	}
	mustCLI(t, "member", "remove", "alice", "--config", cfg)
}
