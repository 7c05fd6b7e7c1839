package handlers

import (
	"context"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
)

// TestProjectsDirectory: the directory lists the projects and searches
// them by tag and need.
func TestProjectsDirectory(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.AddProject(coop.AsAdmin(context.Background()), coop.NewProject{Slug: "kit", Name: "The Kit",
		Tags: []string{"rust"}, Needs: []string{"docs"}}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, f.handler)
	for _, tc := range []struct {
		path      string
		has, lack []string
	}{
		{"/projects", []string{"The Tool", "The Kit", "AGPL-3.0-or-later", `href="/projects?tag=go"`}, nil},
		{"/projects?tag=go", []string{"The Tool", "All projects"}, []string{"The Kit"}},
		{"/projects?tag=%23RUST", []string{"The Kit"}, []string{"The Tool"}},
		{"/projects?need=docs", []string{"The Kit"}, []string{"The Tool"}},
		{"/projects?need=nothing", []string{"No project matches."}, []string{"The Kit", "The Tool"}},
	} {
		resp, page := b.do("GET", tc.path, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", tc.path, resp.StatusCode)
		}
		for _, w := range tc.has {
			if !strings.Contains(page, w) {
				t.Fatalf("%s lacks %q:\n%s", tc.path, w, page)
			}
		}
		for _, w := range tc.lack {
			if strings.Contains(page, "<a href=\"/@"+w) || strings.Contains(page, ">"+w+"</a>") {
				t.Fatalf("%s shows %q:\n%s", tc.path, w, page)
			}
		}
	}
}
