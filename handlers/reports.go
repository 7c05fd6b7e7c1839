package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/coopfed/coopfed/coop"
	"github.com/gorilla/mux"
)

// The reports received (issue 9, "Admin: reports received (Flag)"):
// what other servers flagged of this co-op (its members, projects, the
// co-op itself, their posts), for the admins only, open ones first; an
// admin resolves one with a note. coop decides who may see and resolve
// them (Reports and ResolveReport refuse anyone but an admin).

// resolvedPerPage is how many resolved reports a page shows.
const resolvedPerPage = 50

func (a *app) reportRoutes(r *mux.Router) {
	r.HandleFunc("/admin/reports", a.reports).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/admin/reports/{id:[0-9]+}/resolve", a.resolveReport).Methods(http.MethodPost)
}

type reportsPage struct {
	Page
	Open, Resolved []reportEntry
	// Older is the address of the next page of resolved reports, when
	// there are more.
	Older string
	// Errors is the resolve form's error by report ID; Notes what was
	// typed in it, kept.
	Errors map[int64]string
	Notes  map[int64]string
}

// reportEntry is a report as the page shows it.
type reportEntry struct {
	coop.Report
	ReporterHost string
	Comment      []string // its lines
	ResolverName string   // the member's handle, or the operator
	BlockAccount string   // the block pages' addresses for the reporter
	BlockDomain  string
}

func (a *app) reports(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok {
		return
	}
	a.renderReports(w, r, ctx, http.StatusOK, nil, nil)
}

// renderReports shows the list, with a resolve form's error and note
// when one was refused.
func (a *app) renderReports(w http.ResponseWriter, r *http.Request, ctx context.Context, status int, errs, notes map[int64]string) {
	// Every open report; the resolved ones a page at a time, newest
	// first (?before= the oldest one shown).
	open, err := a.svc.Reports(ctx, coop.ReportQuery{State: coop.ReportOpen})
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	resolved, err := a.svc.Reports(ctx, coop.ReportQuery{State: coop.ReportResolved, Before: max(before, 0), Limit: resolvedPerPage + 1})
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	p := reportsPage{Page: a.basePage(r.Context(), "Reports received"), Errors: errs, Notes: notes}
	if len(resolved) > resolvedPerPage {
		resolved = resolved[:resolvedPerPage]
		p.Older = "/admin/reports?before=" + strconv.FormatInt(resolved[resolvedPerPage-1].ID, 10) + "#resolved-h"
	}
	for _, rep := range append(open, resolved...) {
		e := reportEntry{Report: rep, ReporterHost: reporterHost(rep.Reporter), ResolverName: rep.ResolvedBy}
		e.Comment = strings.Split(rep.Comment, "\n")
		if rep.Comment == "" {
			e.Comment = nil
		}
		if h, ok := a.site.HandleFromActorID(rep.ResolvedBy); ok {
			e.ResolverName = h
		} else if rep.ResolvedBy == coop.AdminPrincipal {
			e.ResolverName = "the operator (command line)"
		}
		e.BlockAccount = "/admin/blocks?target=" + url.QueryEscape(rep.Reporter)
		if e.ReporterHost != "" {
			e.BlockDomain = "/admin/blocks?target=" + url.QueryEscape(e.ReporterHost)
		}
		if rep.State == coop.ReportResolved {
			p.Resolved = append(p.Resolved, e)
		} else {
			p.Open = append(p.Open, e)
		}
	}
	a.render(w, r, status, "adminreports", p)
}

func (a *app) resolveReport(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok || !a.postForm(w, r, 16<<10) {
		return
	}
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		a.fail(w, r, http.StatusNotFound, "There is no such report.")
		return
	}
	note := r.PostForm.Get("note")
	err = a.svc.ResolveReport(ctx, id, note)
	switch {
	case err == nil:
		http.Redirect(w, r, "/admin/reports#report-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	case errors.Is(err, coop.ErrInvalidInput) && !errors.Is(err, coop.ErrResolved):
		// The note: shown next to it, what was typed kept.
		a.renderReports(w, r, ctx, http.StatusBadRequest,
			map[int64]string{id: upperFirst(reasonOf(err, coop.ErrInvalidInput)) + "."}, map[int64]string{id: note})
	default:
		a.serveError(w, r, err)
	}
}

// reporterHost is a URI's host, "" when it has none.
func reporterHost(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return u.Host
}
