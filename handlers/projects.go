package handlers

import (
	"net/http"
	"strings"

	"github.com/coopfed/coopfed/coop"
	"github.com/gorilla/mux"
)

// The projects directory (issue 9, "Projects"): this co-op's projects
// and those the federation's co-ops announced, searchable by tag, need
// and co-op, for everyone (the facts are public; hours and pay are on
// the members-only pages).

func (a *app) projectRoutes(r *mux.Router) {
	r.HandleFunc("/projects", a.projects).Methods(http.MethodGet, http.MethodHead)
}

type projectsPage struct {
	Page
	Filter   coop.ProjectFilter
	Projects []projectEntry
	Filtered bool
}

// projectEntry is a project as the directory lists it.
type projectEntry struct {
	coop.ProjectEntry
	URL string // its page here (local) or its actor elsewhere
}

func (a *app) projects(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := coop.ProjectFilter{
		Tag:  strings.TrimSpace(q.Get("tag")),
		Need: strings.TrimSpace(q.Get("need")),
		Coop: strings.TrimSpace(q.Get("coop")),
	}
	es, err := a.svc.FederatedProjects(r.Context(), f)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	p := projectsPage{Page: a.basePage(r.Context(), "Projects"), Filter: f, Filtered: f != (coop.ProjectFilter{})}
	for _, e := range es {
		u := e.URI
		if e.Local {
			u = a.site.ProfileURL(e.Handle)
		}
		p.Projects = append(p.Projects, projectEntry{ProjectEntry: e, URL: u})
	}
	a.render(w, r, http.StatusOK, "projects", p)
}
