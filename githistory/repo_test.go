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
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/memory"
)

// This file builds the test repositories with go-git's object writes:
// commits on one empty tree, refs set directly, no work tree checkout.
// Read never looks at trees. The big repository is written in memory and
// then as one packfile, as a clone has it; the small ones as loose
// objects, as fresh commits are.

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
	s    storage.Storer
	tree plumbing.Hash
}

func newObjectWriter(s storage.Storer) (*objectWriter, error) {
	w := &objectWriter{s: s}
	var err error
	w.tree, err = w.write(&object.Tree{})
	return w, err
}

type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func (w *objectWriter) write(o encoder) (plumbing.Hash, error) {
	obj := w.s.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return w.s.SetEncodedObject(obj)
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
	return w.s.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), h))
}

// buildBig writes the big repository: 40 blocks of 50 commits, each
// block 40 on the main line and 10 on a side branch forked from the
// block's start (block 0's side branch is a second root), then a merge
// of the two by Alice. Non-merge commit i is by authors[i%5], authored at
// base + i hours in UTC+2, message "change i". Refs: master (HEAD) at the
// last merge; v1, a lightweight tag, at block 0's merge; v2, an annotated
// tag, at block 1's merge; side-3 at block 3's side tip.
func buildBig(r *bigRepoInfo) error {
	mem := memory.NewStorage()
	w, err := newObjectWriter(mem)
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
	if err := packTo(r.dir, mem); err != nil {
		return err
	}
	// A directory inside the work tree, to read from.
	return os.MkdirAll(filepath.Join(r.dir, "sub", "dir"), 0o755)
}

// packTo makes a repository in dir with mem's objects, as one packfile
// without deltas, and its refs.
func packTo(dir string, mem *memory.Storage) (err error) {
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		return err
	}
	var hashes []plumbing.Hash
	for h := range mem.Objects {
		hashes = append(hashes, h)
	}
	pw, err := repo.Storer.(storer.PackfileWriter).PackfileWriter()
	if err != nil {
		return err
	}
	if _, err := packfile.NewEncoder(pw, mem, false).Encode(hashes, 0); err != nil {
		pw.Close()
		return err
	}
	if err := pw.Close(); err != nil {
		return err
	}
	refs, err := mem.IterReferences()
	if err != nil {
		return err
	}
	return refs.ForEach(repo.Storer.SetReference)
}
