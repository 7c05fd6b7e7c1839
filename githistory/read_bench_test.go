package githistory

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// BenchmarkRead reads the 2,000-commit repository (on disk, one
// packfile) with Read and, in the same loop, walks it with go-git's plain
// log (PlainOpen, then repo.Log from HEAD, touching nothing), and with
// the same log over a storage that keeps its packfile open, as Read's
// does. Each opens the repository afresh; interleaving them makes the
// ratios fair on a shared machine. Metrics: commits/s of Read (non-merge
// commits returned) and of the plain log (commits visited); x-log is
// Read's time over the plain log's (below 1: Read is faster), x-log-kept
// Read's time over the kept-open log's (Read's own cost over the
// cheapest walk go-git offers).
func BenchmarkRead(b *testing.B) {
	r := bigRepo(b)
	ctx := context.Background()
	var readTime, logTime, keptTime time.Duration
	var readN, logN int
	timed := func(d *time.Duration, f func() (int, error)) int {
		start := time.Now()
		n, err := f()
		if err != nil {
			b.Fatal(err)
		}
		*d += time.Since(start)
		return n
	}
	for b.Loop() {
		readN += timed(&readTime, func() (int, error) {
			got, err := Read(ctx, r.dir, Options{})
			return len(got), err
		})
		logN += timed(&logTime, func() (int, error) { return logWalk(r.dir, false) })
		timed(&keptTime, func() (int, error) { return logWalk(r.dir, true) })
	}
	b.ReportMetric(float64(readN)/readTime.Seconds(), "commits/s")
	b.ReportMetric(float64(logN)/logTime.Seconds(), "log-commits/s")
	b.ReportMetric(readTime.Seconds()/logTime.Seconds(), "x-log")
	b.ReportMetric(readTime.Seconds()/keptTime.Seconds(), "x-log-kept")
}

// logWalk is the baseline: go-git's own walk of every commit reachable
// from HEAD, with PlainOpen's storage or one that keeps packfiles open.
func logWalk(dir string, keep bool) (int, error) {
	repo, err := git.PlainOpen(dir)
	if err != nil {
		return 0, err
	}
	if keep {
		fs := repo.Storer.(*filesystem.Storage)
		st := filesystem.NewStorageWithOptions(fs.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
		defer st.Close()
		if repo, err = git.Open(st, nil); err != nil {
			return 0, err
		}
	}
	head, err := repo.Head()
	if err != nil {
		return 0, err
	}
	it, err := repo.Log(&git.LogOptions{From: head.Hash()})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	n := 0
	for {
		_, err := it.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}
