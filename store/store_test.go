package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "coopfed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func actor(kind coop.Kind, handle string) coop.Actor {
	return coop.Actor{Kind: kind, Handle: handle, Name: handle, PublicKeyPEM: "PEM", Discoverable: true,
		CreatedAt: t0, UpdatedAt: t0, Revision: 1}
}

func TestMigrationsFromEmpty(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coopfed.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil || v != len(ms) {
		t.Fatalf("schema version = %d, %v; want %d", v, err, len(ms))
	}
	db.Close()
	// Opening again applies nothing and keeps the version.
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v2, _ := db.SchemaVersion(ctx); v2 != v {
		t.Fatalf("reopen: version %d, want %d", v2, v)
	}
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coopfed.db")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(context.Background(), path)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestActorsMembersProjects(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	var alice coop.Member
	err := db.Update(ctx, func(tx coop.Tx) error {
		if _, err := tx.InsertActor(ctx, actor(coop.KindOrganization, "coop"), "PRIV"); err != nil {
			return err
		}
		a, err := tx.InsertActor(ctx, actor(coop.KindPerson, "Alice"), "PRIV")
		if err != nil {
			return err
		}
		alice = coop.Member{Actor: a, Email: "alice@example.org", Role: coop.RoleAdmin, MustChangePassword: true}
		if err := tx.InsertMember(ctx, alice, "HASH"); err != nil {
			return err
		}
		g, err := tx.InsertActor(ctx, actor(coop.KindGroup, "tool"), "PRIV")
		if err != nil {
			return err
		}
		return tx.InsertProject(ctx, coop.Project{Actor: g, Repository: "https://git.example/tool", Licence: "MIT",
			Tags: []string{"go", "web"}, Needs: []string{"review"}, Maintainers: []string{"https://b.example/users/x", "https://a.example/users/alice"}})
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("handles compared without case", func(t *testing.T) {
		got, err := db.MemberByHandle(ctx, "ALICE")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(alice, got); diff != "" {
			t.Fatalf("member (-want +got):\n%s", diff)
		}
	})
	t.Run("one namespace for every kind", func(t *testing.T) {
		err := db.Update(ctx, func(tx coop.Tx) error {
			_, err := tx.InsertActor(ctx, actor(coop.KindGroup, "alice"), "PRIV")
			return err
		})
		if !errors.Is(err, coop.ErrHandleTaken) {
			t.Fatalf("err = %v, want ErrHandleTaken", err)
		}
	})
	t.Run("one co-op per node", func(t *testing.T) {
		err := db.Update(ctx, func(tx coop.Tx) error {
			_, err := tx.InsertActor(ctx, actor(coop.KindOrganization, "other"), "PRIV")
			return err
		})
		if err == nil {
			t.Fatal("a second Organization was stored")
		}
	})
	t.Run("project keeps maintainer order", func(t *testing.T) {
		p, err := db.ProjectByHandle(ctx, "Tool")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"https://b.example/users/x", "https://a.example/users/alice"}
		if diff := cmp.Diff(want, p.Maintainers); diff != "" {
			t.Fatal(diff)
		}
		if diff := cmp.Diff([]string{"go", "web"}, p.Tags); diff != "" {
			t.Fatal(diff)
		}
	})
	t.Run("not found is ErrNotFound", func(t *testing.T) {
		for _, err := range []error{
			func() error { _, err := db.ActorByHandle(ctx, "nobody"); return err }(),
			func() error { _, err := db.MemberByHandle(ctx, "tool"); return err }(),
			func() error { _, err := db.ProjectByHandle(ctx, "alice"); return err }(),
		} {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("err = %v, want ErrNotFound", err)
			}
		}
	})
	t.Run("removed actor keeps its handle", func(t *testing.T) {
		if err := db.Update(ctx, func(tx coop.Tx) error { return tx.RemoveActor(ctx, alice.ID, t0.Add(time.Hour)) }); err != nil {
			t.Fatal(err)
		}
		a, err := db.ActorByHandle(ctx, "alice")
		if err != nil || !a.Removed() || a.Revision != 2 {
			t.Fatalf("actor = %+v, %v; want removed at revision 2", a, err)
		}
		ms, err := db.Members(ctx)
		if err != nil || len(ms) != 0 {
			t.Fatalf("members = %v, %v; want none", ms, err)
		}
		err = db.Update(ctx, func(tx coop.Tx) error {
			_, err := tx.InsertActor(ctx, actor(coop.KindPerson, "alice"), "PRIV")
			return err
		})
		if !errors.Is(err, coop.ErrHandleTaken) {
			t.Fatalf("reusing a removed handle: err = %v, want ErrHandleTaken", err)
		}
	})
	t.Run("a failed transaction leaves nothing", func(t *testing.T) {
		boom := errors.New("boom")
		err := db.Update(ctx, func(tx coop.Tx) error {
			if _, err := tx.InsertActor(ctx, actor(coop.KindPerson, "bob"), "PRIV"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if _, err := db.ActorByHandle(ctx, "bob"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("bob after rollback: %v", err)
		}
	})
}

func TestCollectionPages(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	var id int64
	err := db.Write(ctx, func(tx *Tx) error {
		a, err := tx.InsertActor(ctx, actor(coop.KindPerson, "alice"), "PRIV")
		if err != nil {
			return err
		}
		id = a.ID
		for i := range 5 {
			uri := "https://peer.example/users/" + string(rune('a'+i))
			if err := tx.AddFollower(ctx, id, uri, "", "accepted", t0); err != nil {
				return err
			}
		}
		return tx.AddFollower(ctx, id, "https://peer.example/users/pending", "", "pending", t0)
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	req := coop.PageRequest{Limit: 2}
	for pages := 0; ; pages++ {
		p, err := db.CollectionPage(ctx, id, coop.Followers, req)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 5 {
			t.Fatalf("total = %d, want 5 (pending follows do not count)", p.Total)
		}
		for _, it := range p.Items {
			got = append(got, it.IRI)
		}
		if p.Next == 0 {
			if pages != 2 {
				t.Fatalf("pages = %d, want 3", pages+1)
			}
			break
		}
		req.Before = p.Next
	}
	want := []string{"https://peer.example/users/e", "https://peer.example/users/d", "https://peer.example/users/c",
		"https://peer.example/users/b", "https://peer.example/users/a"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("followers newest first (-want +got):\n%s", diff)
	}
	p, err := db.CollectionPage(ctx, id, coop.Outbox, coop.PageRequest{Limit: 20})
	if err != nil || p.Total != 0 || len(p.Items) != 0 || p.Next != 0 {
		t.Fatalf("empty outbox = %+v, %v", p, err)
	}
}

// TestTwoProcessesWrite opens the file twice, as the CLI and a running node
// do, and writes from both at once: BEGIN IMMEDIATE and the busy timeout
// serialize them, and nothing is lost.
func TestTwoProcessesWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coopfed.db")
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
	}
	const each = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for i, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				err := db.Update(ctx, func(tx coop.Tx) error {
					a := actor(coop.KindPerson, fmt.Sprintf("m%d_%d", i, j))
					_, err := tx.InsertActor(ctx, a, "PRIV")
					return err
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	if err := dbs[0].read.QueryRowContext(ctx, `SELECT count(*) FROM actors`).Scan(&n); err != nil || n != 2*each {
		t.Fatalf("actors = %d, %v; want %d", n, err, 2*each)
	}
}
