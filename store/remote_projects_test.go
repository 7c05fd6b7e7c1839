package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/google/go-cmp/cmp"
)

func TestRemoteProjectRemoval(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	const beta = "https://b.example/users/coop"
	project := func(uri, name string) coop.RemoteProject {
		return coop.RemoteProject{URI: uri, Coop: beta, Handle: name, Name: name, Summary: "<p>About " + name + "</p>",
			SummaryText: "About " + name, Tags: []string{}, Needs: []string{}, Maintainers: []string{beta}, UpdatedAt: t0}
	}
	put := func(t *testing.T, p coop.RemoteProject) {
		t.Helper()
		if err := db.Write(ctx, func(tx *Tx) error { return tx.PutRemoteProject(ctx, p) }); err != nil {
			t.Fatal(err)
		}
	}
	remove := func(t *testing.T, uri string, create bool) bool {
		t.Helper()
		var went bool
		err := db.Write(ctx, func(tx *Tx) error {
			var err error
			went, err = tx.RemoveRemoteProject(ctx, uri, beta, t0.Add(time.Hour), create)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return went
	}
	live := func(t *testing.T) []coop.RemoteProject {
		t.Helper()
		ps, err := db.RemoteProjects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	tool, late, never := "https://b.example/users/tool", "https://b.example/users/late", "https://b.example/users/never"
	put(t, project(tool, "tool"))
	put(t, project(late, "late"))

	for _, tt := range []struct {
		name   string
		uri    string
		create bool
		went   bool
	}{
		{"a stored project is removed", tool, false, true},
		{"removing it again changes nothing", tool, true, false},
		{"a project never stored is not marked by a Delete", never, false, false},
		{"a project never stored gets a removed row by a Remove", late + "2", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if went := remove(t, tt.uri, tt.create); went != tt.went {
				t.Errorf("RemoveRemoteProject(%s, create %v) = %v, want %v", tt.uri, tt.create, went, tt.went)
			}
		})
	}
	t.Run("the removed are not listed, and stay removed", func(t *testing.T) {
		put(t, project(tool, "tool again"))
		put(t, project(late+"2", "late2"))
		if diff := cmp.Diff([]coop.RemoteProject{project(late, "late")}, live(t)); diff != "" {
			t.Errorf("RemoteProjects (-want +got):\n%s", diff)
		}
		for _, tt := range []struct {
			uri     string
			removed bool
			err     error
		}{{tool, true, nil}, {late + "2", true, nil}, {late, false, nil}, {never, false, ErrNotFound}} {
			removed, err := db.RemoteProjectRemoved(ctx, tt.uri)
			if removed != tt.removed || !errors.Is(err, tt.err) {
				t.Errorf("RemoteProjectRemoved(%s) = %v, %v; want %v, %v", tt.uri, removed, err, tt.removed, tt.err)
			}
		}
	})
}

func TestBackfillMarks(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	const peer = "https://b.example/users/coop"
	if _, err := db.BackfillMark(ctx, peer); !errors.Is(err, ErrNotFound) {
		t.Fatalf("BackfillMark before any = %v", err)
	}
	for _, id := range []string{"https://b.example/a/1", "https://b.example/a/2"} {
		if err := db.SetBackfillMark(ctx, peer, id, t0); err != nil {
			t.Fatal(err)
		}
		if got, err := db.BackfillMark(ctx, peer); got != id || err != nil {
			t.Errorf("BackfillMark = %q, %v; want %q", got, err, id)
		}
	}
}
