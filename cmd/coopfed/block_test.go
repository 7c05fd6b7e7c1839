package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/store"
)

func TestBlockCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "coopfed.toml")
	mustCLI(t, "init", "--dir", dir, "--host", "coop.example", "--name", "Example Co-op")
	db := openNodeDB(t, cfg)
	c, err := db.Coop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, func(tx *store.Tx) error {
		return tx.AddFollower(ctx, c.ID, "https://a.spam.example/users/x", "https://a.spam.example/f/1", "accepted", c.CreatedAt)
	}); err != nil {
		t.Fatal(err)
	}
	queueFromCoop(t, db, "https://spam.example/inbox", 2)
	queueFromCoop(t, db, "https://peer.example/inbox", 1)

	out := mustCLI(t, "block", "add", "SPAM.example.", "--reason", "spam waves", "--config", cfg)
	if !strings.Contains(out, "blocked domain spam.example: 1 follows removed, 2 queued deliveries dropped") {
		t.Fatalf("block add:\n%s", out)
	}
	mustCLI(t, "block", "add", "https://bad.example/users/troll#main-key", "--config", cfg)
	if out := mustCLI(t, "block", "add", "bücher.example", "--config", cfg); !strings.Contains(out, "blocked domain xn--bcher-kva.example") {
		t.Fatalf("block add of a Unicode domain:\n%s", out)
	}
	out = mustCLI(t, "block", "list", "--config", cfg)
	for _, want := range []string{"domain   spam.example", "spam waves", "account  https://bad.example/users/troll", "admin", "3 blocks"} {
		if !strings.Contains(out, want) {
			t.Errorf("block list lacks %q:\n%s", want, out)
		}
	}
	out = mustCLI(t, "deliveries", "list", "--config", cfg)
	if !strings.Contains(out, "2 dead") || !strings.Contains(out, "1 queued") {
		t.Errorf("deliveries after the block:\n%s", out)
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"a second block of the same domain", []string{"block", "add", "spam.example"}, 1, "already blocked"},
		{"a domain that is not one", []string{"block", "add", "bad_domain!"}, 1, "invalid domain"},
		{"a Unicode domain that does not map", []string{"block", "add", "bad\u00a0name.example"}, 1, "invalid domain"},
		{"a Unicode domain already blocked by its punycode", []string{"block", "add", "BÜCHER.example"}, 1, "already blocked"},
		{"no target", []string{"block", "add"}, 2, "missing"},
		{"removing what is not blocked", []string{"block", "remove", "other.example"}, 1, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := cli(t, append(tc.args, "--config", cfg)...)
			if code != tc.code || !strings.Contains(errs, tc.says) {
				t.Fatalf("exit %d, %s", code, errs)
			}
		})
	}
	out = mustCLI(t, "block", "remove", "spam.example", "--config", cfg)
	if !strings.Contains(out, "unblocked domain spam.example") {
		t.Fatalf("block remove:\n%s", out)
	}
	if out = mustCLI(t, "block", "list", "--config", cfg); !strings.Contains(out, "2 blocks") {
		t.Fatalf("block list after remove:\n%s", out)
	}
}
