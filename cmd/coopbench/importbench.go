package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/githistory"
	"github.com/coopfed/coopfed/ledger"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// benchImport times `coopfed contributions import` end to end (the
// history read with go-git, each commit matched to a member and recorded
// as a pending contribution with its decision-log record, in one
// transaction) over a repository made here, against go-git's plain log
// walk over the same repository in the same round. Each round imports
// into a fresh project, so that nothing is skipped as already imported.
func benchImport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	rf := addRoundFlags(fs)
	commits := fs.Int("commits", 2000, "commits in the repository, by five authors")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "coopbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	site := coop.Site{Scheme: "https", Host: "bench.example"}
	db, svc, err := benchNode(ctx, filepath.Join(dir, "coopfed.db"), site)
	if err != nil {
		return err
	}
	defer db.Close()
	authors := []string{"alice", "m1", "m2", "m3", "m4"}
	for _, h := range authors[1:] {
		if _, _, err := svc.AddMember(ctx, coop.NewMember{Handle: h, Email: h + "@bench.example"}); err != nil {
			return err
		}
	}
	if err := svc.AddAlias(ctx, "alice", "alice@bench.example"); err != nil {
		return err
	}
	repoDir := filepath.Join(dir, "repo")
	repo, err := git.PlainInit(repoDir, false)
	if err != nil {
		return err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return err
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range *commits {
		a := authors[i%len(authors)]
		sig := &object.Signature{Name: a, Email: a + "@bench.example", When: start.Add(time.Duration(i) * time.Minute)}
		if _, err := wt.Commit(fmt.Sprintf("change %d", i), &git.CommitOptions{Author: sig, AllowEmptyCommits: true}); err != nil {
			return err
		}
	}
	member := coop.WithPrincipal(ctx, coop.Principal{ID: site.ActorID("alice"), Channel: ledger.ChannelCLI})
	fmt.Printf("# contributions import of a %d-commit repository (5 authors, all members): go-git read, matched, recorded with a decision-log record each, in one transaction; baseline go-git's plain log walk of the same repository; %d rounds\n", *commits, rf.rounds)
	fmt.Printf("# machine: %s\n", machine())
	fmt.Println("| round | log walk commits/s | import commits/s | ratio |")
	fmt.Println("| --- | --- | --- | --- |")
	var walks, imports, ratios []float64
	for r := 1; r <= rf.rounds; r++ {
		t0 := time.Now()
		head, err := repo.Head()
		if err != nil {
			return err
		}
		it, err := repo.Log(&git.LogOptions{From: head.Hash()})
		if err != nil {
			return err
		}
		n := 0
		if err := it.ForEach(func(*object.Commit) error { n++; return nil }); err != nil {
			return err
		}
		walk := float64(n) / time.Since(t0).Seconds()
		slug := fmt.Sprintf("p%d", r)
		if _, err := svc.AddProject(ctx, coop.NewProject{Slug: slug, Name: slug, Repository: "https://git.bench.example/coop/" + slug}); err != nil {
			return err
		}
		t1 := time.Now()
		read, err := githistory.Read(ctx, repoDir, githistory.Options{})
		if err != nil {
			return err
		}
		cs := make([]coop.Commit, 0, len(read))
		for _, c := range read {
			u, _ := githistory.CommitURL("https://git.bench.example/coop/"+slug, c.Hash)
			cs = append(cs, coop.Commit{Hash: c.Hash, AuthorName: c.AuthorName, AuthorEmail: c.AuthorEmail, When: c.AuthorTime, Subject: c.Subject, URL: u})
		}
		res, err := svc.ImportCommits(member, slug, cs, 1)
		if err != nil {
			return err
		}
		if len(res.Created) != *commits {
			return fmt.Errorf("round %d: %d records of %d commits", r, len(res.Created), *commits)
		}
		imp := float64(*commits) / time.Since(t1).Seconds()
		walks, imports, ratios = append(walks, walk), append(imports, imp), append(ratios, imp/walk)
		fmt.Printf("| %d | %.0f | %.0f | %.3f |\n", r, walk, imp, imp/walk)
	}
	fmt.Printf("| median | %.0f | %.0f | %.3f |\n", median(walks), median(imports), median(ratios))
	return nil
}
