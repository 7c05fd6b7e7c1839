package handlers

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/markup"
	"github.com/gorilla/mux"
)

// The project forms (issue 9): a member creates a project, its
// maintainers and the admins edit it; and the lists of a project's page
// (its posts, the posts addressed to it, its proposals). Who may do what
// is coop's rule (AddProject, UpdateProject, MayEditProject); these pages
// only show its answer.

func (a *app) projectFormRoutes(r *mux.Router) {
	// /projects/new before any /projects/{slug} route could take it.
	r.HandleFunc("/projects/new", a.projectNewForm).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/projects/new", a.projectCreate).Methods(http.MethodPost)
	r.HandleFunc("/projects/{slug}/edit", a.projectEditForm).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/projects/{slug}/edit", a.projectEdit).Methods(http.MethodPost)
}

// maxProjectForm bounds a project form's body.
const maxProjectForm = 32 << 10

// projectInput is a project form as typed, kept to show again.
type projectInput struct {
	Slug, Name, Summary, Repository, Licence string
	Tags, Needs, Maintainers                 string
}

type projectFormPage struct {
	Page
	In projectInput
	// Slug is the project edited ("" on the new form); Name its name now.
	Slug, Name string
	// Errors by field ("" for the form as a whole).
	Errors map[string]string
}

// listSep splits tags and maintainers: commas and white space.
var listSep = regexp.MustCompile(`[\s,]+`)

func splitList(s string) []string {
	var out []string
	for _, f := range listSep.Split(s, -1) {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// splitNeeds splits needs at commas (a need may hold spaces).
func splitNeeds(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func projectInputOf(r *http.Request) projectInput {
	f := r.PostForm
	return projectInput{Slug: strings.TrimSpace(f.Get("slug")), Name: f.Get("name"), Summary: f.Get("summary"),
		Repository: f.Get("repository"), Licence: f.Get("licence"), Tags: f.Get("tags"), Needs: f.Get("needs"),
		Maintainers: f.Get("maintainers")}
}

// projectRefusal puts a refused form's reason next to its field; ok is
// false for an error that is no refusal of the input.
func projectRefusal(page *projectFormPage, err error) (status int, ok bool) {
	var fe *coop.FieldError
	switch {
	case errors.As(err, &fe):
		page.Errors[fe.Field] = upperFirst(reasonOf(fe.Err, coop.ErrInvalidInput)) + "."
	case errors.Is(err, coop.ErrNotAllowed):
		page.Errors[""] = reasonOf(err, coop.ErrNotAllowed) + "."
		return http.StatusForbidden, true
	case errors.Is(err, coop.ErrInvalidInput):
		page.Errors[""] = reasonOf(err, coop.ErrInvalidInput) + "."
	default:
		return 0, false
	}
	if page.Errors[""] == "" {
		page.Errors[""] = "Nothing was saved: see what to change below."
	}
	return http.StatusBadRequest, true
}

func (a *app) projectNewForm(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok {
		return
	}
	if may, err := a.svc.MayCreateProject(ctx); err != nil || !may {
		if err == nil {
			err = coop.ErrNotAllowed
		}
		a.serveError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "projectnew", projectFormPage{Page: a.basePage(ctx, "New project"), Errors: map[string]string{}})
}

func (a *app) projectCreate(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok || !a.postForm(w, r, maxProjectForm) {
		return
	}
	in := projectInputOf(r)
	in.Maintainers = ""
	page := projectFormPage{Page: a.basePage(ctx, "New project"), In: in, Errors: map[string]string{}}
	p, err := a.svc.AddProject(ctx, coop.NewProject{Slug: in.Slug, Name: in.Name, Summary: in.Summary,
		Repository: in.Repository, Licence: in.Licence, Tags: splitList(in.Tags), Needs: splitNeeds(in.Needs)})
	if err == nil {
		http.Redirect(w, r, a.site.ProfileURL(p.Handle), http.StatusSeeOther)
		return
	}
	status, ok := projectRefusal(&page, err)
	if !ok {
		a.serveError(w, r, err)
		return
	}
	a.render(w, r, status, "projectnew", page)
}

// projectToEdit finds the live project of the request's {slug} and
// checks that ctx's member may edit it (coop's rule, MayEditProject;
// UpdateProject checks again); ok is false after a response was written.
func (a *app) projectToEdit(w http.ResponseWriter, r *http.Request, ctx context.Context) (coop.Project, bool) {
	p, err := a.svc.Project(ctx, mux.Vars(r)["slug"])
	if err == nil && p.Removed() {
		err = coop.ErrGone
	}
	if err != nil {
		a.serveError(w, r, err)
		return coop.Project{}, false
	}
	may, err := a.svc.MayEditProject(ctx, p.Handle)
	if err != nil {
		a.serveError(w, r, err)
		return coop.Project{}, false
	}
	if !may {
		a.fail(w, r, http.StatusForbidden, "Only the project's maintainers and the co-op's admins edit "+p.Name+".")
		return coop.Project{}, false
	}
	return p, true
}

func (a *app) projectEditPage(r *http.Request, p coop.Project) projectFormPage {
	in := projectInput{Slug: p.Handle, Name: p.Name, Summary: p.Summary, Repository: p.Repository, Licence: p.Licence,
		Tags: strings.Join(p.Tags, ", "), Needs: strings.Join(p.Needs, ", ")}
	var ms []string
	for _, uri := range p.Maintainers {
		if h, ok := a.site.HandleFromActorID(uri); ok {
			uri = h
		}
		ms = append(ms, uri)
	}
	in.Maintainers = strings.Join(ms, "\n")
	return projectFormPage{Page: a.basePage(r.Context(), "Edit "+p.Name), In: in, Slug: p.Handle, Name: p.Name, Errors: map[string]string{}}
}

func (a *app) projectEditForm(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok {
		return
	}
	p, ok := a.projectToEdit(w, r, ctx)
	if !ok {
		return
	}
	page := a.projectEditPage(r, p)
	page.Page = a.basePage(ctx, "Edit "+p.Name)
	a.render(w, r, http.StatusOK, "projectedit", page)
}

func (a *app) projectEdit(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok || !a.postForm(w, r, maxProjectForm) {
		return
	}
	p, ok := a.projectToEdit(w, r, ctx)
	if !ok {
		return
	}
	in := projectInputOf(r)
	in.Slug = p.Handle
	page := a.projectEditPage(r, p)
	page.Page, page.In = a.basePage(ctx, "Edit "+p.Name), in
	tags, needs, maintainers := splitList(in.Tags), splitNeeds(in.Needs), splitList(in.Maintainers)
	ch := coop.ProjectChange{Name: &in.Name, Summary: &in.Summary, Repository: &in.Repository, Licence: &in.Licence,
		Tags: &tags, Needs: &needs, Maintainers: &maintainers}
	if _, err := a.svc.UpdateProject(ctx, p.Handle, ch); err != nil {
		status, ok := projectRefusal(&page, err)
		if !ok {
			a.serveError(w, r, err)
			return
		}
		a.render(w, r, status, "projectedit", page)
		return
	}
	http.Redirect(w, r, a.site.ProfileURL(p.Handle), http.StatusSeeOther)
}

// The lists of a project's page.

// projectLists is what a project's page lists beyond its facts.
type projectLists struct {
	Posts []postView
	// OlderPosts is the address of the older posts' page, "" on the last.
	OlderPosts string
	Mentions   []postView
	Open       []proposalItem
	Closed     []proposalItem
	// CanEdit shows the Edit link to those coop lets edit it.
	CanEdit bool
}

// postView is a post as the page shows it; HTML is sanitized.
type postView struct {
	URL    string
	Author string // the author's actor URI
	// AuthorName and AuthorAcct are what is shown of a remote author.
	AuthorName, AuthorAcct string
	HTML                   template.HTML
	Published              time.Time
	Announce               bool
}

// remoteHTML cleans a post's HTML for the page.
func remoteHTML(s string) template.HTML {
	return template.HTML(markup.Remote(s)) // sanitized: safe to mark
}

// projectLists fills a project page's lists from coop: a page of its
// posts (?before= the older ones), the posts addressed to it, its
// proposals, and whether the viewer may edit it.
func (a *app) projectLists(r *http.Request, p coop.Project) (projectLists, error) {
	ctx := r.Context()
	var out projectLists
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	posts, err := a.svc.ProjectPosts(ctx, p.Handle, before)
	if err != nil {
		return out, err
	}
	for _, x := range posts.Posts {
		out.Posts = append(out.Posts, postView{URL: x.URL, Author: x.Author, HTML: remoteHTML(x.Content), Published: x.Published, Announce: x.Announce})
	}
	if posts.Next != 0 {
		out.OlderPosts = "/@" + p.Handle + "?before=" + strconv.FormatInt(posts.Next, 10) + "#posts"
	}
	mentions, err := a.svc.ProjectMentions(ctx, p.Handle)
	if err != nil {
		return out, err
	}
	for _, x := range mentions {
		out.Mentions = append(out.Mentions, postView{URL: x.ObjectID, Author: x.ActorURI, AuthorName: x.Name, AuthorAcct: x.Acct, HTML: remoteHTML(x.Content), Published: x.Published})
	}
	open, closed, err := a.svc.ProjectProposals(ctx, p.Handle)
	if err != nil {
		return out, err
	}
	for _, x := range open {
		out.Open = append(out.Open, a.item(x))
	}
	for _, x := range closed {
		out.Closed = append(out.Closed, a.item(x))
	}
	if v := viewerOf(r); v != nil && !v.Session.MustChange {
		if out.CanEdit, err = a.svc.MayEditProject(coop.WithPrincipal(ctx, a.svc.WebPrincipal(v.Member)), p.Handle); err != nil {
			return out, err
		}
	}
	return out, nil
}
