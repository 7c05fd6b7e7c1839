package handlers

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/coopfed/coopfed/coop"
	"github.com/gorilla/mux"
)

// The records of other co-ops' projects that their nodes sent here: the
// work of members here on those projects, and the records a member here
// decides as one of such a project's maintainers. Members only (hours
// and points); the decision goes to the project's node, which applies it
// and sends the new status back (coop.DecideRemoteContribution).

func (a *app) remoteContributionRoutes(r *mux.Router) {
	r.HandleFunc("/contributions/elsewhere", a.remoteContributions).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/contributions/elsewhere/decision", a.decideRemoteContribution).Methods(http.MethodPost)
}

type remoteContributionRow struct {
	coop.RemoteContributionView
	Who  person
	Time string
}

type remoteProjectChoice struct {
	URI, Name string
}

type remoteContributionsPage struct {
	Page
	Status   string
	Project  string
	Statuses []string
	Projects []remoteProjectChoice
	Records  []remoteContributionRow
	Notice   string
}

func (a *app) remoteContributions(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	p := remoteContributionsPage{Page: a.basePage(ctx, "Contributions to other co-ops' projects"),
		Statuses: []string{coop.StatusPending, coop.StatusApproved, coop.StatusRejected}}
	f := coop.RemoteContributionFilter{}
	if slices.Contains(p.Statuses, q.Get("status")) {
		p.Status, f.Status = q.Get("status"), q.Get("status")
	}
	// One read: the project filter's choices are the projects of the
	// records of the chosen status, and the chosen project is picked
	// among them.
	vs, err := a.svc.RemoteContributionViews(ctx, f)
	if err != nil {
		a.contribFail(w, r, err)
		return
	}
	seen := map[string]bool{}
	for _, c := range vs {
		if !seen[c.Project] {
			seen[c.Project] = true
			name := c.ProjectInfo.Name
			if name == "" {
				name = c.Project
			}
			p.Projects = append(p.Projects, remoteProjectChoice{URI: c.Project, Name: name})
		}
	}
	if seen[q.Get("project")] {
		p.Project = q.Get("project")
		vs = slices.DeleteFunc(vs, func(c coop.RemoteContributionView) bool { return c.Project != p.Project })
	}
	who, _, err := a.people(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	for _, v := range vs {
		p.Records = append(p.Records, remoteContributionRow{RemoteContributionView: v, Who: who.of(v.Contributor), Time: duration(v.Minutes)})
	}
	if q.Get("sent") != "" {
		p.Notice = "Your decision was sent to the project's co-op; the record changes when its node sends the new status back."
	}
	a.render(w, r, http.StatusOK, "remotecontributions", p)
}

func (a *app) decideRemoteContribution(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok || !a.postForm(w, r, maxContributionForm) {
		return
	}
	approve, ok := a.approveOrReject(w, r)
	if !ok {
		return
	}
	if _, err := a.svc.DecideRemoteContribution(ctx, r.PostFormValue("uri"), approve, r.PostFormValue("reason")); err != nil {
		a.contribFail(w, r, err)
		return
	}
	http.Redirect(w, r, "/contributions/elsewhere?sent=1&project="+url.QueryEscape(r.PostFormValue("project")), http.StatusSeeOther)
}
