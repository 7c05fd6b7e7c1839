package coop_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coopfed/coopfed/coop"
	"github.com/google/go-cmp/cmp"
)

// TestRemoveProject: a removed project leaves the lists, is announced
// once (Remove and Delete, by the Publisher), cannot be changed or removed
// again, and its slug is never given out again.
func TestRemoveProject(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	s := newService(t)
	pub := &recorder{}
	s.Publisher = pub
	if _, err := s.EnsureCoop(ctx, "coop", "Example Co-op", ""); err != nil {
		t.Fatal(err)
	}
	for _, slug := range []string{"tool", "keep"} {
		if _, err := s.AddProject(ctx, coop.NewProject{Slug: slug, Name: slug}); err != nil {
			t.Fatal(err)
		}
	}
	pub.take()
	p, err := s.RemoveProject(ctx, "TOOL")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Removed() || p.Handle != "tool" {
		t.Errorf("RemoveProject = %+v; want tool, removed", p.Actor)
	}
	if diff := cmp.Diff([]string{"Remove tool from projects of coop, removed true"}, pub.take()); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	ps, err := s.FederatedProjects(ctx, coop.ProjectFilter{})
	if err != nil || len(ps) != 1 || ps[0].Handle != "keep" {
		t.Errorf("FederatedProjects after the removal = %+v, %v; want keep only", ps, err)
	}
	name := "Back"
	for _, tt := range []struct {
		name string
		do   func() error
		want error
	}{
		{"removing it again is ErrGone", func() error { _, err := s.RemoveProject(ctx, "tool"); return err }, coop.ErrGone},
		{"changing it is ErrGone", func() error {
			_, err := s.UpdateProject(ctx, "tool", coop.ProjectChange{Name: &name})
			return err
		}, coop.ErrGone},
		{"its slug is never reused", func() error {
			_, err := s.AddProject(ctx, coop.NewProject{Slug: "tool", Name: "Tool 2"})
			return err
		}, coop.ErrHandleTaken},
		{"an unknown project is ErrNotFound", func() error { _, err := s.RemoveProject(ctx, "nope"); return err }, coop.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if sent := pub.take(); len(sent) != 0 {
				t.Errorf("sent %q", sent)
			}
		})
	}
}
