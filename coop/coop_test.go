package coop_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"github.com/google/go-cmp/cmp"
)

func TestCheckNewHandle(t *testing.T) {
	tests := []struct {
		name   string
		handle string
		want   error
	}{
		{"letters digits underscore", "alice_01", nil},
		{"dash and dot inside", "co-op.dev", nil},
		{"case kept", "Alice", nil},
		{"thirty characters", strings.Repeat("a", 30), nil},
		{"empty", "", coop.ErrInvalidHandle},
		{"thirty-one characters", strings.Repeat("a", 31), coop.ErrInvalidHandle},
		{"leading dash", "-alice", coop.ErrInvalidHandle},
		{"trailing dot", "alice.", coop.ErrInvalidHandle},
		{"at sign", "alice@host", coop.ErrInvalidHandle},
		{"slash", "a/b", coop.ErrInvalidHandle},
		{"non-ASCII", "zoë", coop.ErrInvalidHandle},
		{"reserved admin", "admin", coop.ErrHandleReserved},
		{"reserved without case", "Inbox", coop.ErrHandleReserved},
		{"reserved well-known", ".well-known", coop.ErrInvalidHandle},
		{"reserved log", "log", coop.ErrHandleReserved},
		{"reserved api", "API", coop.ErrHandleReserved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := coop.CheckNewHandle(tt.handle)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("CheckNewHandle(%q) = %v, want %v", tt.handle, err, tt.want)
			}
		})
	}
}

func TestSiteHandleFromActorID(t *testing.T) {
	site := coop.Site{Scheme: "http", Host: "localhost:8080"}
	tests := []struct {
		uri    string
		handle string
		ok     bool
	}{
		{"http://localhost:8080/users/alice", "alice", true},
		{"HTTP://LOCALHOST:8080/users/Alice", "Alice", true},
		{"http://localhost:8080/users/alice/inbox", "", false},
		{"http://localhost:8080/users/alice#main-key", "", false},
		{"http://localhost:8081/users/alice", "", false},
		{"https://localhost:8080/users/alice", "", false},
		{"http://localhost:8080/users/", "", false},
		{"http://localhost:8080/users/%zz", "", false},
	}
	for _, tt := range tests {
		h, ok := site.HandleFromActorID(tt.uri)
		if h != tt.handle || ok != tt.ok {
			t.Errorf("HandleFromActorID(%q) = %q, %v; want %q, %v", tt.uri, h, ok, tt.handle, tt.ok)
		}
	}
}

type fakeResolver map[string]string

func (f fakeResolver) ResolveAccount(_ context.Context, acct string) (string, error) {
	if uri, ok := f[acct]; ok {
		return uri, nil
	}
	return "", coop.ErrNotFound
}

func newService(t *testing.T) *coop.Service {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "coopfed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &coop.Service{
		Store:    db,
		Site:     coop.Site{Scheme: "https", Host: "a.example"},
		Resolver: fakeResolver{"bob@b.example": "https://b.example/users/bob"},
	}
}

func TestMembers(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	s := newService(t)
	if _, err := s.EnsureCoop(ctx, "coop", "Example Co-op", ""); err != nil {
		t.Fatal(err)
	}
	m, password, err := s.AddMember(ctx, coop.NewMember{Handle: "alice", DisplayName: "Alice A.", Email: "alice@a.example", Role: coop.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("one-time password is stored only as its argon2id hash", func(t *testing.T) {
		if len(password) < 20 || !m.MustChangePassword {
			t.Fatalf("password %q, must change %v", password, m.MustChangePassword)
		}
		hash, err := s.Store.(*store.DB).MemberPasswordHash(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, password) {
			t.Fatalf("stored hash %q", hash)
		}
		if ok, err := coop.CheckPassword(password, hash); !ok || err != nil {
			t.Fatalf("password does not match its hash: %v", err)
		}
	})
	t.Run("handle shared with the co-op is taken", func(t *testing.T) {
		if _, _, err := s.AddMember(ctx, coop.NewMember{Handle: "COOP"}); !errors.Is(err, coop.ErrHandleTaken) {
			t.Fatalf("err = %v, want ErrHandleTaken", err)
		}
	})
	t.Run("bad input refused", func(t *testing.T) {
		for _, n := range []coop.NewMember{
			{Handle: "bob", Email: "not an email"},
			{Handle: "bob", Role: "owner"},
			{Handle: "admin"},
			{Handle: "b@b"},
		} {
			if _, _, err := s.AddMember(ctx, n); err == nil {
				t.Errorf("AddMember(%+v) succeeded", n)
			}
		}
		if _, err := s.Store.ActorByHandle(ctx, "bob"); !errors.Is(err, coop.ErrNotFound) {
			t.Fatalf("a refused member left a row: %v", err)
		}
	})
	t.Run("reset password replaces the hash", func(t *testing.T) {
		p2, err := s.ResetPassword(ctx, "Alice")
		if err != nil || p2 == password {
			t.Fatalf("reset = %q, %v", p2, err)
		}
		hash, _ := s.Store.(*store.DB).MemberPasswordHash(ctx, m.ID)
		if ok, _ := coop.CheckPassword(password, hash); ok {
			t.Fatal("old password still works")
		}
		if ok, _ := coop.CheckPassword(p2, hash); !ok {
			t.Fatal("new password does not work")
		}
	})
	t.Run("removed member is gone and its handle never reused", func(t *testing.T) {
		// alice is the only admin: the co-op keeps one (TestLastAdminStays).
		if _, _, err := s.AddMember(ctx, coop.NewMember{Handle: "ada", Role: coop.RoleAdmin}); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveMember(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Actor(ctx, "alice"); !errors.Is(err, coop.ErrGone) {
			t.Fatalf("Actor after removal: %v, want ErrGone", err)
		}
		if err := s.RemoveMember(ctx, "alice"); !errors.Is(err, coop.ErrGone) {
			t.Fatalf("second removal: %v, want ErrGone", err)
		}
		if _, err := s.ResetPassword(ctx, "alice"); !errors.Is(err, coop.ErrGone) {
			t.Fatalf("reset of removed: %v, want ErrGone", err)
		}
		if _, _, err := s.AddMember(ctx, coop.NewMember{Handle: "Alice"}); !errors.Is(err, coop.ErrHandleTaken) {
			t.Fatalf("re-adding: %v, want ErrHandleTaken", err)
		}
		if err := s.RemoveMember(ctx, "nobody"); !errors.Is(err, coop.ErrNotMember) {
			t.Fatalf("removing nobody: %v, want ErrNotMember", err)
		}
	})
}

func TestAddProject(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	s := newService(t)
	if _, _, err := s.AddMember(ctx, coop.NewMember{Handle: "carol"}); err != nil {
		t.Fatal(err)
	}
	p, err := s.AddProject(ctx, coop.NewProject{
		Slug: "tool", Name: "The Tool", Repository: "https://git.example/tool", Licence: "AGPL-3.0-or-later",
		Tags: []string{"#Go", "web", "go"}, Needs: []string{"review", " design  work", "Review"},
		Maintainers: []string{"Carol", "@bob@b.example", "https://c.example/users/dan", "carol@a.example"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://a.example/users/carol", "https://b.example/users/bob", "https://c.example/users/dan"}
	if diff := cmp.Diff(want, p.Maintainers); diff != "" {
		t.Errorf("maintainers as actor URIs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"go", "web"}, p.Tags); diff != "" {
		t.Errorf("tags: %s", diff)
	}
	if diff := cmp.Diff([]string{"design work", "review"}, p.Needs); diff != "" {
		t.Errorf("needs: %s", diff)
	}
	got, err := s.Store.ProjectByHandle(ctx, "tool")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("stored project (-want +got):\n%s", diff)
	}

	refused := []struct {
		name string
		n    coop.NewProject
	}{
		{"unknown local maintainer", coop.NewProject{Slug: "p1", Maintainers: []string{"nobody"}}},
		{"unresolvable remote maintainer", coop.NewProject{Slug: "p2", Maintainers: []string{"@x@b.example"}}},
		{"repository not a URL", coop.NewProject{Slug: "p3", Repository: "git.example/tool"}},
		{"licence not SPDX", coop.NewProject{Slug: "p4", Licence: "GPL v3!"}},
		{"unbalanced licence", coop.NewProject{Slug: "p5", Licence: "(MIT OR Apache-2.0"}},
		{"tag with space", coop.NewProject{Slug: "p6", Tags: []string{"two words"}}},
		{"slug taken by a member", coop.NewProject{Slug: "Carol"}},
		{"reserved slug", coop.NewProject{Slug: "projects"}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.AddProject(ctx, tt.n); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	ps, err := s.Projects(ctx)
	if err != nil || len(ps) != 1 {
		t.Fatalf("projects = %d, %v; refused ones must leave nothing", len(ps), err)
	}
}
