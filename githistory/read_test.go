package githistory

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"
)

func TestReadWholeHistory(t *testing.T) {
	r := bigRepo(t)
	got, err := Read(context.Background(), r.dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != bigCommits {
		t.Fatalf("Read returned %d commits, want %d (the %d merges skipped)", len(got), bigCommits, bigMerges)
	}

	perEmail := map[string]int{}
	names := map[string]string{}
	roots := 0
	seen := map[string]bool{}
	for i, c := range got {
		// Author time increases with i, so the order is the build order.
		want := Commit{
			Hash:           r.hashes[i].String(),
			AuthorName:     authors[i%5].name,
			AuthorEmail:    strings.ToLower(authors[i%5].email),
			RawAuthorEmail: authors[i%5].email,
			AuthorTime:     base.Add(time.Duration(i) * time.Hour),
			CommitterEmail: "ci@example.coop",
			Subject:        fmt.Sprintf("change %d", i),
			Parents:        1,
		}
		if want.AuthorName == "Dave" && i >= 1000 {
			want.AuthorEmail, want.RawAuthorEmail = "dave@new.example", "dave@new.example"
		}
		if i == 0 || i == blockSize-sideLen {
			want.Parents = 0 // the main line's root and block 0's side root
		}
		if c != want { // cmp.Diff 2,000 times would be most of the test's time
			t.Fatalf("commit %d (-want +got):\n%s", i, cmp.Diff(want, c))
		}
		if c.AuthorTime.Location() != time.UTC {
			t.Fatalf("commit %d: author time in %v, want UTC", i, c.AuthorTime.Location())
		}
		if seen[c.Hash] {
			t.Fatalf("commit %s returned twice", c.Hash)
		}
		seen[c.Hash] = true
		perEmail[c.AuthorEmail]++
		names[c.AuthorEmail] = c.AuthorName
		if c.Parents == 0 {
			roots++
		}
	}
	wantPer := map[string]int{
		"alice@example.coop": 400,
		"bob@example.coop":   400,
		"carol@example.coop": 400,
		"dave@old.example":   200,
		"dave@new.example":   200,
		"erin@example.coop":  400,
	}
	if diff := cmp.Diff(wantPer, perEmail); diff != "" {
		t.Errorf("commits per author email (-want +got):\n%s", diff)
	}
	if names["dave@old.example"] != "Dave" || names["dave@new.example"] != "Dave" {
		t.Errorf("Dave's two addresses carry names %q and %q", names["dave@old.example"], names["dave@new.example"])
	}
	if roots != 2 {
		t.Errorf("%d root commits, want 2", roots)
	}
	for _, m := range r.merges {
		if seen[m.String()] {
			t.Errorf("merge %s returned", m)
		}
	}
}

func TestReadAuthorTimeRange(t *testing.T) {
	r := bigRepo(t)
	at := func(h float64) time.Time { return base.Add(time.Duration(h * float64(time.Hour))) }
	tests := []struct {
		name         string
		since, until time.Time
		first, n     int // the first commit's index and how many
	}{
		{"since inclusive, until exclusive", at(100), at(200), 100, 100},
		{"bounds in another zone are the same instants", at(100).In(time.FixedZone("UTC-7", -7*3600)), at(200).In(time.FixedZone("UTC+9", 9*3600)), 100, 100},
		{"one second after since drops it", at(100).Add(time.Second), at(200), 101, 99},
		{"one second after until keeps it", at(100), at(200).Add(time.Second), 100, 101},
		{"since only", at(1990), time.Time{}, 1990, 10},
		{"until only", time.Time{}, at(10), 0, 10},
		{"a merge inside the range is skipped", at(45), at(55), 45, 10},
		{"a range with only a merge is empty", at(49.25), at(49.75), 0, 0},
		{"before all history", at(-1000), at(-1), 0, 0},
		{"after all history", at(2000), at(9000), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(context.Background(), r.dir, Options{Since: tt.since, Until: tt.until})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.n {
				t.Fatalf("%d commits, want %d", len(got), tt.n)
			}
			for j, c := range got {
				if want := r.hashes[tt.first+j].String(); c.Hash != want {
					t.Fatalf("commit %d is %s (%s), want change %d", j, c.Hash, c.Subject, tt.first+j)
				}
			}
		})
	}
}

func TestReadRangeRefused(t *testing.T) {
	r := bigRepo(t)
	for _, until := range []time.Time{base, base.Add(-time.Hour)} {
		if _, err := Read(context.Background(), r.dir, Options{Since: base, Until: until}); !errors.Is(err, ErrRange) {
			t.Errorf("Since %v, Until %v: err %v, want ErrRange", base, until, err)
		}
	}
}

func TestReadRef(t *testing.T) {
	r := bigRepo(t)
	tests := []struct {
		ref  string
		want int
	}{
		{"master", bigCommits},
		{"refs/heads/master", bigCommits},
		{"HEAD", bigCommits},
		{"v1", blockSize}, // lightweight tag
		{"refs/tags/v1", blockSize},
		{"v2", 2 * blockSize},             // annotated tag, peeled
		{"side-3", 3*blockSize + sideLen}, // three merged blocks and block 3's side branch
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := Read(context.Background(), r.dir, Options{Ref: tt.ref})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Fatalf("%d commits, want %d", len(got), tt.want)
			}
		})
	}
	for _, ref := range []string{"nope", "refs/heads/nope", "v3", "side"} {
		if _, err := Read(context.Background(), r.dir, Options{Ref: ref}); !errors.Is(err, ErrUnknownRef) {
			t.Errorf("Ref %q: err %v, want ErrUnknownRef", ref, err)
		}
	}
}

func TestReadFromSubdirectory(t *testing.T) {
	r := bigRepo(t)
	got, err := Read(context.Background(), filepath.Join(r.dir, "sub", "dir"), Options{Until: base.Add(5 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("%d commits, want 5", len(got))
	}
}

func TestReadStopsOnCancel(t *testing.T) {
	r := bigRepo(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := Read(ctx, r.dir, Options{}); !errors.Is(err, context.Canceled) || got != nil {
		t.Fatalf("Read with a cancelled context = %d commits, %v; want nil, context.Canceled", len(got), err)
	}
}

// smallRepo makes a repository in a temp dir and returns its writer.
func smallRepo(t *testing.T, bare bool) (string, *objectWriter) {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, bare)
	if err != nil {
		t.Fatal(err)
	}
	w, err := newObjectWriter(repo.Storer)
	if err != nil {
		t.Fatal(err)
	}
	return dir, w
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestReadBare(t *testing.T) {
	dir, w := smallRepo(t, true)
	h := must[plumbing.Hash](t)
	c1 := h(w.commit(author{"Erin", " Erin@Example.Coop "}, base, "first\n"))
	c2 := h(w.commit(author{"Erin", "erin@example.coop"}, base.Add(time.Minute), "second\n", c1))
	if err := w.ref("refs/heads/master", c2); err != nil {
		t.Fatal(err)
	}
	got, err := Read(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Commit{
		{Hash: c1.String(), AuthorName: "Erin", AuthorEmail: "erin@example.coop", RawAuthorEmail: " Erin@Example.Coop ", AuthorTime: base, CommitterEmail: "ci@example.coop", Subject: "first", Parents: 0},
		{Hash: c2.String(), AuthorName: "Erin", AuthorEmail: "erin@example.coop", RawAuthorEmail: "erin@example.coop", AuthorTime: base.Add(time.Minute), CommitterEmail: "ci@example.coop", Subject: "second", Parents: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
}

func TestReadTiesOrderedByHash(t *testing.T) {
	dir, w := smallRepo(t, false)
	h := must[plumbing.Hash](t)
	var tip plumbing.Hash
	var hashes []string
	for i := range 5 {
		var parents []plumbing.Hash
		if i > 0 {
			parents = []plumbing.Hash{tip}
		}
		tip = h(w.commit(authors[0], base, fmt.Sprintf("same time %d\n", i), parents...))
		hashes = append(hashes, tip.String())
	}
	if err := w.ref("refs/heads/master", tip); err != nil {
		t.Fatal(err)
	}
	got, err := Read(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var gotHashes []string
	for _, c := range got {
		gotHashes = append(gotHashes, c.Hash)
	}
	slices.Sort(hashes)
	if diff := cmp.Diff(hashes, gotHashes); diff != "" {
		t.Errorf("commits with one author time not in hash order (-want +got):\n%s", diff)
	}
}

func TestReadEmptyRepository(t *testing.T) {
	dir, _ := smallRepo(t, false)
	got, err := Read(context.Background(), dir, Options{})
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Read of an empty repository = %v, %v; want an empty list, nil", got, err)
	}
	if _, err := Read(context.Background(), dir, Options{Ref: "master"}); !errors.Is(err, ErrUnknownRef) {
		t.Errorf("Ref master in an empty repository: err %v, want ErrUnknownRef", err)
	}
}

func TestReadHeadNamesMissingBranch(t *testing.T) {
	dir, w := smallRepo(t, true)
	c := must[plumbing.Hash](t)(w.commit(authors[1], base, "on main\n"))
	if err := w.ref("refs/heads/main", c); err != nil { // HEAD still names master
		t.Fatal(err)
	}
	_, err := Read(context.Background(), dir, Options{})
	if !errors.Is(err, ErrNoHead) || !strings.Contains(err.Error(), "master") || !strings.Contains(err.Error(), "main") {
		t.Fatalf("err %v, want ErrNoHead naming master and main", err)
	}
	if got, err := Read(context.Background(), dir, Options{Ref: "main"}); err != nil || len(got) != 1 {
		t.Fatalf("Ref main: %d commits, %v; want 1", len(got), err)
	}
}

func TestReadNotRepository(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{dir, filepath.Join(dir, "missing")} {
		if _, err := Read(context.Background(), path, Options{}); !errors.Is(err, ErrNotRepository) {
			t.Errorf("Read(%s): err %v, want ErrNotRepository", path, err)
		}
	}
	// A missing directory inside a repository is not that repository.
	r := bigRepo(t)
	if _, err := Read(context.Background(), filepath.Join(r.dir, "missing"), Options{}); !errors.Is(err, ErrNotRepository) {
		t.Errorf("missing directory in a repository: err %v, want ErrNotRepository", err)
	}
}

func TestReadRefToTree(t *testing.T) {
	dir, w := smallRepo(t, false)
	c := must[plumbing.Hash](t)(w.commit(authors[1], base, "one\n"))
	if err := w.ref("refs/heads/master", c); err != nil {
		t.Fatal(err)
	}
	if err := w.ref("refs/tags/tree", w.tree); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(context.Background(), dir, Options{Ref: "tree"}); !errors.Is(err, ErrUnknownRef) {
		t.Errorf("a tag of a tree: err %v, want ErrUnknownRef", err)
	}
}

func TestReadShallow(t *testing.T) {
	dir, w := smallRepo(t, false)
	h := must[plumbing.Hash](t)
	absent := plumbing.NewHash("1111111111111111111111111111111111111111") // cut off by the shallow clone
	c1 := h(w.commit(authors[0], base, "boundary\n", absent))
	c2 := h(w.commit(authors[1], base.Add(time.Hour), "after\n", c1))
	if err := w.ref("refs/heads/master", c2); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(context.Background(), dir, Options{}); err == nil || !strings.Contains(err.Error(), absent.String()) {
		t.Fatalf("a missing parent outside a shallow boundary: err %v, want one naming %s", err, absent)
	}
	if err := w.s.SetShallow([]plumbing.Hash{c1}); err != nil {
		t.Fatal(err)
	}
	got, err := Read(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Hash != c1.String() || got[0].Parents != 1 {
		t.Fatalf("shallow read = %+v; want the boundary (one parent) and its child", got)
	}
}

// TestReadLinkedWorkTree reads from a work tree made by `git worktree
// add`, written here by hand: its .git is a file naming a directory under
// the main repository's .git/worktrees, whose commondir leads back.
func TestReadLinkedWorkTree(t *testing.T) {
	dir, w := smallRepo(t, false)
	h := must[plumbing.Hash](t)
	c1 := h(w.commit(authors[0], base, "main\n"))
	c2 := h(w.commit(authors[1], base.Add(time.Hour), "linked\n", c1))
	if err := w.ref("refs/heads/master", c1); err != nil {
		t.Fatal(err)
	}
	if err := w.ref("refs/heads/linked", c2); err != nil {
		t.Fatal(err)
	}
	admin := filepath.Join(dir, ".git", "worktrees", "linked")
	linked := filepath.Join(t.TempDir(), "linked")
	files := map[string]string{
		filepath.Join(admin, "HEAD"):      "ref: refs/heads/linked\n",
		filepath.Join(admin, "commondir"): "../..\n",
		filepath.Join(admin, "gitdir"):    filepath.Join(linked, ".git") + "\n",
		filepath.Join(linked, ".git"):     "gitdir: " + admin + "\n",
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(files[name]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Read(context.Background(), linked, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Hash != c2.String() {
		t.Fatalf("linked work tree: %+v; want its branch's two commits", got)
	}
}

func TestSubject(t *testing.T) {
	long := strings.Repeat("é", MaxSubject) // two bytes each
	tests := []struct{ name, msg, want string }{
		{"first line", "fix: the thing\n\nbecause\n", "fix: the thing"},
		{"no newline", "one line", "one line"},
		{"leading blank lines", "\n\n  subject  \nbody", "subject"},
		{"crlf", "windows\r\nbody\r\n", "windows"},
		{"empty", "", ""},
		{"long cut at a character", long, long[:MaxSubject]},
		{"long cut mid-character", "x" + long, "x" + long[:MaxSubject-2]},
		{"invalid utf-8 replaced", "caf\xe9 time\n", "caf\uFFFD time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := subject(tt.msg)
			if got != tt.want {
				t.Errorf("subject(%q) = %q, want %q", tt.msg, got, tt.want)
			}
			if len(got) > MaxSubject {
				t.Errorf("subject is %d bytes", len(got))
			}
		})
	}
}
