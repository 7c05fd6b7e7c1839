package githistory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// MaxSubject is the most bytes of a commit's first line kept in
// Commit.Subject: enough for any sensible subject, bounded for one that
// is a whole paragraph on one line.
const MaxSubject = 200

var (
	// ErrNotRepository is returned for a path that is not in a git
	// repository.
	ErrNotRepository = errors.New("githistory: not a git repository")
	// ErrUnknownRef is returned when Options.Ref names no branch or tag,
	// or one that does not lead to a commit.
	ErrUnknownRef = errors.New("githistory: unknown ref")
	// ErrNoHead is returned when HEAD names a branch that does not exist
	// in a repository that has other branches or tags.
	ErrNoHead = errors.New("githistory: HEAD names no commit")
	// ErrRange is returned when Options.Until is not after Options.Since.
	ErrRange = errors.New("githistory: until is not after since")
)

// Options narrows what Read returns. The zero value reads everything
// reachable from HEAD.
type Options struct {
	// Ref is the branch or tag to read from; empty means HEAD.
	Ref string
	// Since, if not zero, drops commits authored before it (inclusive
	// bound).
	Since time.Time
	// Until, if not zero, drops commits authored at or after it
	// (exclusive bound).
	Until time.Time
}

// Commit is one non-merge commit as the contributions import needs it.
type Commit struct {
	// Hash is the commit's full hash, lower-case hex.
	Hash string
	// AuthorName is the author's name as written.
	AuthorName string
	// AuthorEmail is the author's email lower-cased and trimmed of
	// surrounding space: the key for matching members.
	AuthorEmail string
	// RawAuthorEmail is the author's email as written in the commit.
	RawAuthorEmail string
	// AuthorTime is when the work was authored, in UTC.
	AuthorTime time.Time
	// CommitterEmail is the committer's email, lower-cased and trimmed
	// like AuthorEmail.
	CommitterEmail string
	// Subject is the first line of the message (see MaxSubject).
	Subject string
	// Parents is the number of parents: 0 for a root commit, else 1
	// (merges are not returned).
	Parents int
}

// ctxEvery is how many commits Read decodes between two looks at its
// context: often enough to stop within milliseconds, rarely enough to
// cost nothing.
const ctxEvery = 256

// Read returns the non-merge commits reachable from opts.Ref (HEAD if
// empty) in the repository at or above path, authored in [opts.Since,
// opts.Until), sorted by author time then hash. See the package
// documentation for what is read and the errors.
func Read(ctx context.Context, path string, opts Options) ([]Commit, error) {
	if !opts.Since.IsZero() && !opts.Until.IsZero() && !opts.Until.After(opts.Since) {
		return nil, fmt.Errorf("%w: [%s, %s)", ErrRange, opts.Since.Format(time.RFC3339), opts.Until.Format(time.RFC3339))
	}
	// go-git looks for .git in the parents of a path that does not
	// exist, and would find an enclosing repository for a typo.
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotRepository, err)
	}
	repo, err := open(path)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, fmt.Errorf("%w: %s", ErrNotRepository, path)
	}
	if err != nil {
		return nil, fmt.Errorf("githistory: open %s: %w", path, err)
	}

	objects, err := keepOpen(repo)
	if err != nil {
		return nil, err
	}
	defer objects.Close()

	start, err := resolve(repo, opts.Ref)
	if err != nil {
		return nil, err
	}
	if start.IsZero() {
		return []Commit{}, nil // an empty repository
	}

	shallow := map[plumbing.Hash]bool{}
	hs, err := objects.Shallow()
	if err != nil {
		return nil, fmt.Errorf("githistory: read shallow boundary: %w", err)
	}
	for _, h := range hs {
		shallow[h] = true
	}

	var out []Commit
	seen := map[plumbing.Hash]struct{}{}
	stack := []plumbing.Hash{start}
	for len(stack) > 0 {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := seen[h]; ok {
			continue
		}
		seen[h] = struct{}{}
		if len(seen)%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("githistory: read %s: %w", path, err)
			}
		}
		c, err := object.GetCommit(objects, h)
		if err != nil {
			return nil, fmt.Errorf("githistory: read commit %s: %w", h, err)
		}
		if !shallow[h] {
			stack = append(stack, c.ParentHashes...)
		}
		if len(c.ParentHashes) > 1 {
			continue
		}
		when := c.Author.When.UTC()
		if !opts.Since.IsZero() && when.Before(opts.Since) {
			continue
		}
		if !opts.Until.IsZero() && !when.Before(opts.Until) {
			continue
		}
		out = append(out, Commit{
			Hash:           h.String(),
			AuthorName:     c.Author.Name,
			AuthorEmail:    normalEmail(c.Author.Email),
			RawAuthorEmail: c.Author.Email,
			AuthorTime:     when,
			CommitterEmail: normalEmail(c.Committer.Email),
			Subject:        subject(c.Message),
			Parents:        len(c.ParentHashes),
		})
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("githistory: read %s: %w", path, err)
	}
	slices.SortFunc(out, func(a, b Commit) int {
		return cmp.Or(a.AuthorTime.Compare(b.AuthorTime), strings.Compare(a.Hash, b.Hash))
	})
	if out == nil {
		out = []Commit{}
	}
	return out, nil
}

// open opens the repository at path: a bare repository, a work tree
// (with a .git directory, or a .git file as in a linked work tree), or
// the repository of a directory inside a work tree.
func open(path string) (*git.Repository, error) {
	// With DetectDotGit alone go-git finds no bare repository: it looks
	// for .git up to the root. So path itself first, as a bare
	// repository or a work tree's top, then its parents.
	repo, err := git.PlainOpenWithOptions(path, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if !errors.Is(err, git.ErrRepositoryNotExists) {
		return repo, err
	}
	return git.PlainOpenWithOptions(path, &git.PlainOpenOptions{
		DetectDotGit: true,
		// A linked work tree (git worktree add) keeps its objects and
		// refs in the main repository's directory.
		EnableDotGitCommonDir: true,
	})
}

// keepOpen returns the repository's storage again, with its packfiles
// kept open for the whole read. go-git's default (what PlainOpen gives)
// opens, stats and closes the packfile for every object it reads: most
// of a walk's time (BenchmarkRead). The caller must Close it.
func keepOpen(repo *git.Repository) (*filesystem.Storage, error) {
	fs, ok := repo.Storer.(*filesystem.Storage)
	if !ok {
		return nil, fmt.Errorf("githistory: unexpected storage %T", repo.Storer)
	}
	return filesystem.NewStorageWithOptions(fs.Filesystem(), cache.NewObjectLRU(objectCache), filesystem.Options{KeepDescriptors: true}), nil
}

// objectCache bounds the decoded objects kept: a walk reads each commit
// once, so the cache serves only delta bases within a packfile.
const objectCache = 8 * cache.MiByte

// resolve returns the commit that ref (HEAD if empty) leads to, or the
// zero hash for an empty repository.
func resolve(repo *git.Repository, ref string) (plumbing.Hash, error) {
	if ref == "" {
		head, err := repo.Head()
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			return plumbing.ZeroHash, unbornHead(repo)
		}
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("githistory: resolve HEAD: %w", err)
		}
		return peel(repo, "HEAD", head.Hash())
	}
	for i, rule := range plumbing.RefRevParseRules {
		if i == 0 && ref != "HEAD" && !strings.HasPrefix(ref, "refs/") {
			continue // go-git refuses a bare name outside refs/
		}
		name := plumbing.ReferenceName(fmt.Sprintf(rule, ref))
		r, err := repo.Reference(name, true)
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			continue
		}
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("githistory: resolve %q: %w", ref, err)
		}
		return peel(repo, ref, r.Hash())
	}
	return plumbing.ZeroHash, fmt.Errorf("%w: %q is not a branch or tag", ErrUnknownRef, ref)
}

// unbornHead tells an empty repository (nil) from one whose HEAD names
// a branch that does not exist while others do (ErrNoHead).
func unbornHead(repo *git.Repository) error {
	refs, err := repo.References()
	if err != nil {
		return fmt.Errorf("githistory: list refs: %w", err)
	}
	var names []string
	err = refs.ForEach(func(r *plumbing.Reference) error {
		if n := r.Name(); n.IsBranch() || n.IsTag() || n.IsRemote() {
			names = append(names, n.Short())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("githistory: list refs: %w", err)
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	target := "?"
	if head, err := repo.Storer.Reference(plumbing.HEAD); err == nil {
		target = head.Target().Short()
	}
	return fmt.Errorf("%w: HEAD names %s, which does not exist; the repository has %s", ErrNoHead, target, strings.Join(names, ", "))
}

// peel follows annotated tags from h to the commit they name.
func peel(repo *git.Repository, ref string, h plumbing.Hash) (plumbing.Hash, error) {
	for range 10 { // a tag of a tag of ...; git itself allows any depth, but ten is plenty
		obj, err := repo.Storer.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("githistory: read %s (%s): %w", ref, h, err)
		}
		switch obj.Type() {
		case plumbing.CommitObject:
			return h, nil
		case plumbing.TagObject:
			tag, err := object.DecodeTag(repo.Storer, obj)
			if err != nil {
				return plumbing.ZeroHash, fmt.Errorf("githistory: read tag %s (%s): %w", ref, h, err)
			}
			h = tag.Target
		default:
			return plumbing.ZeroHash, fmt.Errorf("%w: %q names a %s, not a commit", ErrUnknownRef, ref, obj.Type())
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("%w: %q: tags nested too deep", ErrUnknownRef, ref)
}

func normalEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// subject returns the first line of a commit message, trimmed, valid
// UTF-8, at most MaxSubject bytes.
func subject(msg string) string {
	line, _, _ := strings.Cut(strings.TrimLeft(msg, " \t\r\n"), "\n")
	line = strings.ToValidUTF8(strings.TrimSpace(line), "\uFFFD")
	if len(line) <= MaxSubject {
		return line
	}
	cut := MaxSubject
	for cut > 0 && !utf8.RuneStart(line[cut]) {
		cut--
	}
	return strings.TrimSpace(line[:cut])
}
