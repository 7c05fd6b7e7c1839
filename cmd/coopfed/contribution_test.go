package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// withPasswords adds members with their own passwords (the one-time one
// changed), for commands taken --as them.
func withPasswords(t *testing.T, cfg string, handles ...string) {
	t.Helper()
	oneTime := regexp.MustCompile(`one-time password: (\S+)`)
	for _, h := range handles {
		out := mustCLI(t, "member", "add", h, "--email", h+"@coop.example", "--config", cfg)
		t.Setenv("COOPFED_PASSWORD", oneTime.FindStringSubmatch(out)[1])
		t.Setenv("COOPFED_NEW_PASSWORD", h+"-correct-horse")
		mustCLI(t, "member", "password", h, "--config", cfg)
	}
}

func TestContributionCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "coopfed.toml")
	mustCLI(t, "init", "--dir", dir, "--host", "coop.example", "--name", "Example Co-op")
	withPasswords(t, cfg, "alice", "bob")
	mustCLI(t, "project", "add", "tool", "--name", "The Tool", "--repo", "https://git.example/tool", "--maintainer", "alice", "--config", cfg)

	t.Setenv("COOPFED_PASSWORD", "bob-correct-horse")
	out := mustCLI(t, "contribution", "add", "--project", "tool", "--kind", "review", "--hours", "1.5",
		"--evidence", "https://git.example/tool/pull/42", "--note", "the parser", "--as", "bob", "--config", cfg)
	if !strings.Contains(out, "recorded contribution 1 (review") {
		t.Fatalf("add: %s", out)
	}
	if code, _, errs := cli(t, "contribution", "add", "--project", "tool", "--kind", "review", "--hours", "0.01", "--as", "bob", "--config", cfg); code != 2 || !strings.Contains(errs, "whole number of minutes") {
		t.Fatalf("--hours 0.01: exit %d %s", code, errs)
	}
	if code, _, errs := cli(t, "contribution", "approve", "1", "--as", "bob", "--config", cfg); code != 1 || !strings.Contains(errs, "only a maintainer") {
		t.Fatalf("bob approves: exit %d %s", code, errs)
	}
	t.Setenv("COOPFED_PASSWORD", "alice-correct-horse")
	if out := mustCLI(t, "contribution", "approve", "1", "--as", "alice", "--config", cfg); !strings.Contains(out, "contribution 1 approved") {
		t.Fatalf("approve: %s", out)
	}
	mustCLI(t, "contribution", "add", "--project", "tool", "--kind", "code", "--points", "3", "--as", "alice", "--config", cfg)
	if code, _, errs := cli(t, "contribution", "approve", "2", "--as", "alice", "--config", cfg); code != 1 || !strings.Contains(errs, "never approves or rejects their own") {
		t.Fatalf("alice approves her own: exit %d %s", code, errs)
	}
	out = mustCLI(t, "contribution", "list", "--project", "tool", "--status", "approved", "--format", "json", "--config", cfg)
	var got []contributionJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Minutes != 90 || got[0].Contributor != "https://coop.example/users/bob" || got[0].DecidedBy != "https://coop.example/users/alice" || got[0].Note != "the parser" {
		t.Fatalf("list: %s", out)
	}
	out = mustCLI(t, "contribution", "list", "--project", "tool", "--config", cfg)
	if !strings.Contains(out, "pending") || !strings.Contains(out, "approved") {
		t.Fatalf("list: %s", out)
	}
	out = mustCLI(t, "contribution", "list", "--project", "tool", "--kind", "code", "--format", "json", "--config", cfg)
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 || got[0].Kind != "code" {
		t.Fatalf("list --kind code: %s", out)
	}
	if code, _, errs := cli(t, "contribution", "list", "--project", "tool", "--kind", "gardening", "--config", cfg); code == 0 || !strings.Contains(errs, "kind") {
		t.Fatalf("an unknown kind: exit %d %s", code, errs)
	}
	if out := mustCLI(t, "member", "alias", "bob", "Bob@Home.Example", "--config", cfg); !strings.Contains(out, "bob@home.example") {
		t.Fatalf("alias: %s", out)
	}
}

func TestPayoutCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "coopfed.toml")
	mustCLI(t, "init", "--dir", dir, "--host", "coop.example", "--name", "Example Co-op")
	withPasswords(t, cfg, "alice", "bob", "carol")
	mustCLI(t, "project", "add", "tool", "--name", "The Tool", "--maintainer", "alice", "--config", cfg)
	t.Setenv("COOPFED_PASSWORD", "bob-correct-horse")
	mustCLI(t, "contribution", "add", "--project", "tool", "--kind", "code", "--points", "3", "--day", "2026-01-10", "--as", "bob", "--config", cfg)
	t.Setenv("COOPFED_PASSWORD", "carol-correct-horse")
	mustCLI(t, "contribution", "add", "--project", "tool", "--kind", "care", "--points", "1", "--day", "2026-01-11", "--as", "carol", "--config", cfg)
	t.Setenv("COOPFED_PASSWORD", "alice-correct-horse")
	mustCLI(t, "contribution", "approve", "1", "--as", "alice", "--config", cfg)
	mustCLI(t, "contribution", "approve", "2", "--as", "alice", "--config", cfg)
	out := mustCLI(t, "payout", "create", "--project", "tool", "--from", "2026-01-01", "--to", "2026-02-01", "--budget", "1000",
		"--currency", "JPY", "--formula", "points", "--as", "alice", "--config", cfg)
	// 3 and 1 points of 1000 yen: 750 and 250.
	for _, want := range []string{"created payout round 1 (draft)", "https://coop.example/users/bob", "750", "250", "total"} {
		if !strings.Contains(out, want) {
			t.Fatalf("create lacks %q:\n%s", want, out)
		}
	}
	if code, _, errs := cli(t, "payout", "approve", "1", "--as", "alice", "--config", cfg); code != 1 || !strings.Contains(errs, "second member") {
		t.Fatalf("the creator approved: exit %d %s", code, errs)
	}
	t.Setenv("COOPFED_PASSWORD", "carol-correct-horse")
	if out := mustCLI(t, "payout", "approve", "1", "--as", "carol", "--config", cfg); !strings.Contains(out, "payout round 1 is final: 2 records") {
		t.Fatalf("approve: %s", out)
	}
	csv := mustCLI(t, "payout", "statement", "1", "--format", "csv", "--config", cfg)
	if !strings.Contains(csv, "https://coop.example/users/bob") || !strings.Contains(csv, "750") {
		t.Fatalf("csv:\n%s", csv)
	}
	js := mustCLI(t, "payout", "statement", "1", "--format", "json", "--config", cfg)
	var doc map[string]any
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, js)
	}
	if out := mustCLI(t, "payout", "verify", "1", "--config", cfg); !strings.Contains(out, "matches its decision log: 2 records") {
		t.Fatalf("verify: %s", out)
	}
}
