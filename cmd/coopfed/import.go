package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/coopfed/coopfed/githistory"
)

func runContributions(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, "contributions", args, []command{
		{"import", "record a project's git history as pending code contributions (--as NAME)", contributionsImport},
	})
}

// contributionsImport reads a git history with go-git (no git binary)
// and records each commit whose author's address is a member's (email or
// alias) as a pending code contribution; unmatched authors are listed.
func contributionsImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags("contributions import", "contributions import --project SLUG --repo PATH [--ref BRANCH] [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--points-per-commit 1] --as NAME [--config PATH]\n  merges are skipped; a commit already imported into the project is not recorded again; --until is excluded", e.stderr)
	path := configFlag(fs)
	as := asFlag(fs)
	forName := forFlag(fs)
	project := fs.String("project", "", "the project's slug")
	repo := fs.String("repo", "", "the path of a local clone (work tree or bare)")
	ref := fs.String("ref", "", "a branch or tag (default: HEAD)")
	since := fs.String("since", "", "the first day, by author time (included)")
	until := fs.String("until", "", "the day after the last (excluded)")
	points := fs.Int64("points-per-commit", 1, "points each commit counts")
	_, n, err := setup(ctx, fs, path, args, 0, "")
	if err != nil {
		return err
	}
	defer n.Close()
	useClock(e, n)
	if *project == "" || *repo == "" {
		return usagef("--project and --repo are required")
	}
	opts := githistory.Options{Ref: *ref}
	if *since != "" {
		if opts.Since, err = time.Parse(time.DateOnly, *since); err != nil {
			return usagef("--since %q: YYYY-MM-DD", *since)
		}
	}
	if *until != "" {
		if opts.Until, err = time.Parse(time.DateOnly, *until); err != nil {
			return usagef("--until %q: YYYY-MM-DD", *until)
		}
	}
	if *as == "" && *forName == "" {
		return usagef("--as NAME is required (or --for NAME, the operator acting for a member)")
	}
	if ctx, err = actFor(ctx, e, n, *as, *forName); err != nil {
		return err
	}
	res, err := n.svc.ImportHistory(ctx, *project, *repo, opts, *points)
	if err != nil {
		return err
	}
	byMember := map[string]int{}
	for _, c := range res.Created {
		byMember[c.Contributor]++
	}
	fmt.Fprintf(e.stdout, "%d commits read (merges skipped): %d recorded as pending code contributions of %d members, %d already imported, %d by authors who are no member's\n",
		res.Read, len(res.Created), len(byMember), res.Already, sum(res.Unmatched))
	for _, m := range slices.Sorted(maps.Keys(byMember)) {
		fmt.Fprintf(e.stdout, "  %s: %d\n", m, byMember[m])
	}
	if len(res.Unmatched) > 0 {
		fmt.Fprintln(e.stdout, "unmatched authors (add their address with coopfed member alias NAME EMAIL, then import again):")
		for _, a := range slices.Sorted(maps.Keys(res.Unmatched)) {
			fmt.Fprintf(e.stdout, "  %s: %d commits\n", a, res.Unmatched[a])
		}
	}
	return nil
}

func sum(m map[string]int) int {
	t := 0
	for _, v := range m {
		t += v
	}
	return t
}
