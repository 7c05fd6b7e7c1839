package githistory

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// This file builds the test repositories with go-git's object writes:
// commits on one empty tree, refs set directly, no work tree checkout.
// Read never looks at trees, and skipping checkouts keeps the
// 2,000-commit repository's build well under a second.

// base is the author time of the big repository's first commit; commit i
// of it is authored at base + i hours.
var base = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// author is who writes the big repository's commits, in turn.
type author struct{ name, email string }

var authors = []author{
	{"Alice", "alice@example.coop"},
	{"Bob", "bob@example.coop"},
	{"Carol", "Carol@Example.COOP"}, // matched lower-cased
	{"Dave", "dave@old.example"},    // dave@new.example from commit 1000 on
	{"Erin", "erin@example.coop"},
}

const (
	bigCommits = 2000 // non-merge commits
	blockSize  = 50   // each block: 40 on the main line, 10 on a side branch, one merge
	sideLen    = 10
	bigMerges  = bigCommits / blockSize
)

// bigRepo is the 2,000-commit repository, on disk, built once per test
// binary and removed by TestMain.
type bigRepoInfo struct {
	dir    string
	hashes []plumbing.Hash // hashes[i] is non-merge commit i
	merges []plumbing.Hash
}

var (
	bigOnce sync.Once
	big     bigRepoInfo
	bigErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if big.dir != "" {
		os.RemoveAll(big.dir)
	}
	os.Exit(code)
}

func bigRepo(tb testing.TB) bigRepoInfo {
	tb.Helper()
	bigOnce.Do(func() {
		start := time.Now()
		big.dir, bigErr = os.MkdirTemp("", "githistory-big-")
		if bigErr == nil {
			bigErr = buildBig(&big)
		}
		if bigErr == nil && testing.Verbose() {
			fmt.Fprintf(os.Stderr, "built the %d-commit repository in %v\n", bigCommits+bigMerges, time.Since(start).Round(time.Millisecond))
		}
	})
	if bigErr != nil {
		tb.Fatalf("build repository: %v", bigErr)
	}
	return big
}

// objectWriter writes objects into a repository's store.
type objectWriter struct {
	repo *git.Repository
	tree plumbing.Hash
}

func newObjectWriter(repo *git.Repository) (*objectWriter, error) {
	w := &objectWriter{repo: repo}
	var err error
	w.tree, err = w.write(&object.Tree{})
	return w, err
}

type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func (w *objectWriter) write(o encoder) (plumbing.Hash, error) {
	obj := w.repo.Storer.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return w.repo.Storer.SetEncodedObject(obj)
}

func (w *objectWriter) commit(a author, when time.Time, msg string, parents ...plumbing.Hash) (plumbing.Hash, error) {
	return w.write(&object.Commit{
		Author: object.Signature{Name: a.name, Email: a.email, When: when},
		// The committer's time runs backwards: a Read that used it
		// instead of the author time would fail the range tests.
		Committer:    object.Signature{Name: "CI", Email: "CI@Example.COOP", When: base.Add(10000*time.Hour - when.Sub(base))},
		Message:      msg,
		TreeHash:     w.tree,
		ParentHashes: parents,
	})
}

func (w *objectWriter) ref(name string, h plumbing.Hash) error {
	return w.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), h))
}

// buildBig writes the big repository: 40 blocks of 50 commits, each
// block 40 on the main line and 10 on a side branch forked from the
// block's start (block 0's side branch is a second root), then a merge
// of the two by Alice. Non-merge commit i is by authors[i%5], authored at
// base + i hours in UTC+2, message "change i". Refs: master (HEAD) at the
// last merge; v1, a lightweight tag, at block 0's merge; v2, an annotated
// tag, at block 1's merge; side-3 at block 3's side tip.
func buildBig(r *bigRepoInfo) error {
	repo, err := git.PlainInit(r.dir, false)
	if err != nil {
		return err
	}
	w, err := newObjectWriter(repo)
	if err != nil {
		return err
	}
	zone := time.FixedZone("UTC+2", 2*60*60)
	var mainTip plumbing.Hash
	parents := func(h plumbing.Hash) []plumbing.Hash {
		if h.IsZero() {
			return nil
		}
		return []plumbing.Hash{h}
	}
	for b := range bigMerges {
		fork := mainTip
		sideTip := fork
		for k := range blockSize {
			i := b*blockSize + k
			a := authors[i%len(authors)]
			if a.name == "Dave" && i >= bigCommits/2 {
				a.email = "dave@new.example"
			}
			when := base.Add(time.Duration(i) * time.Hour).In(zone)
			msg := fmt.Sprintf("change %d\n\nThe body of change %d.\n", i, i)
			if k < blockSize-sideLen {
				mainTip, err = w.commit(a, when, msg, parents(mainTip)...)
				r.hashes = append(r.hashes, mainTip)
			} else {
				sideTip, err = w.commit(a, when, msg, parents(sideTip)...)
				r.hashes = append(r.hashes, sideTip)
			}
			if err != nil {
				return err
			}
		}
		if b == 3 {
			if err := w.ref("refs/heads/side-3", sideTip); err != nil {
				return err
			}
		}
		when := base.Add(time.Duration(b*blockSize+blockSize-1)*time.Hour + 30*time.Minute)
		mainTip, err = w.commit(authors[0], when, fmt.Sprintf("Merge branch 'side-%d'\n", b), mainTip, sideTip)
		if err != nil {
			return err
		}
		r.merges = append(r.merges, mainTip)
		switch b {
		case 0:
			err = w.ref("refs/tags/v1", mainTip)
		case 1:
			var tag plumbing.Hash
			tag, err = w.write(&object.Tag{
				Name:       "v2",
				Tagger:     object.Signature{Name: "Alice", Email: "alice@example.coop", When: when},
				Message:    "v2\n",
				TargetType: plumbing.CommitObject,
				Target:     mainTip,
			})
			if err == nil {
				err = w.ref("refs/tags/v2", tag)
			}
		}
		if err != nil {
			return err
		}
	}
	if err := w.ref("refs/heads/master", mainTip); err != nil {
		return err
	}
	// A directory inside the work tree, to read from.
	return os.MkdirAll(filepath.Join(r.dir, "sub", "dir"), 0o755)
}
