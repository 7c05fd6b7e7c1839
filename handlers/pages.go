package handlers

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/markup"
	"github.com/gorilla/mux"
)

// pageNames are the templates in templates/, each rendered inside layout;
// the templates partial-*.html define parts that several pages share.
var pageNames = []string{"home", "actor", "error", "proposal", "signin", "password", "decisions", "decision", "verify", "account",
	"proposals", "proposalnew", "contributions", "payouts", "payout", "projects", "projectnew", "projectedit", "admin", "adminmembers", "adminreports", "adminprofile", "notifications",
	"adminfederation", "adminblocks", "admindeliveries", "remotecontributions"}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{"paragraphs": paragraphs, "markdown": markdown, "optionLabel": optionLabel}
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partial-*.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("handlers: parse template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// optionLabel is how a page names an option of a proposal: its label,
// or the key when it has none (consent's stances, a key no option has).
func optionLabel(p coop.Proposal, key string) string {
	for _, o := range p.Options {
		if o.Key == key && o.Label != "" {
			return o.Label
		}
	}
	return key
}

// paragraphs splits plain text at blank lines, for <p> elements.
func paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// markdown renders Markdown (a proposal's body) as sanitized HTML: the
// same HTML its Question carries to other servers.
func markdown(s string) template.HTML {
	return template.HTML(markup.HTML(s)) // markup.HTML sanitizes: safe to mark
}

// Page is what every page's layout shows.
type Page struct {
	Title    string
	CoopName string
	CoopAcct string
	Version  string
	// Viewer is the signed-in member's handle ("" for a visitor), and
	// CSRF their session's form token (for the sign-out button).
	Viewer string
	CSRF   string
	// IsAdmin: the viewer may take admin actions (the layout's Admin link).
	IsAdmin bool
}

func (a *app) basePage(ctx context.Context, title string) Page {
	p := Page{Title: title, Version: a.version, CoopName: "coopfed"}
	if v, _ := ctx.Value(sessionKey{}).(*viewer); v != nil {
		p.Viewer, p.CSRF = v.Member.Handle, v.Session.CSRF
		// The session's member is live (coop.SessionMember): no second
		// read of it on every page.
		p.IsAdmin = !v.Session.MustChange && v.Member.Admin()
	}
	// The layout still renders when the co-op cannot be read: the error
	// page must not fail for the reason it reports.
	if c, err := a.svc.Coop(ctx); err == nil {
		p.CoopName, p.CoopAcct = c.Name, a.site.Acct(c.Handle)
	}
	return p
}

// render writes a page whole or not at all: a template error mid-way
// becomes a clean 500, not half a page.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := a.pages[name].Execute(&buf, data); err != nil {
		a.log.Error("render page", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' https: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	// The same URLs serve ActivityPub JSON; caches must key on Accept.
	h.Add("Vary", "Accept")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

type errorPage struct {
	Page
	Status int
	Reason string
}

// actorLink is an actor as a page lists it.
type actorLink struct {
	Name, Acct, URL string
}

type homePage struct {
	Page
	Coop     coop.Actor
	ActorID  string
	Members  []actorLink
	Projects []actorLink
	// MyVote lists the open proposals waiting for the signed-in member's
	// vote; Decided the latest closed proposals and what they decided.
	MyVote  []proposalItem
	Decided []decidedItem
	// The co-op's avatar and header ("" for none) and the co-ops of its
	// federation (public: its coop:federation collection lists them).
	AvatarURL, HeaderURL string
	Header               *coop.Image
	Federation           []peerLink
}

// peerLink is a co-op of the federation as the home page lists it: its
// host, linking to its Organization actor.
// peerLink is a co-op of the federation as the home page shows it: its
// name (else its host), @handle@host when its actor is at hand, and its
// actor's URL.
type peerLink struct {
	Name, Acct, URL string
}

// decidedItem is a closed proposal and its outcome in words.
type decidedItem struct {
	Num     int64
	Title   string
	Summary string
}

// recentDecisions is how many closed proposals the home page shows.
const recentDecisions = 5

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	prof, err := a.svc.CoopProfile(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	c := prof.Actor
	peers, err := a.svc.Peers(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	members, err := a.svc.Members(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	projects, err := a.svc.Projects(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	p := homePage{Page: a.basePage(ctx, c.Name), Coop: c, ActorID: a.site.ActorID(c.Handle),
		AvatarURL: a.imageURL(prof.Avatar), HeaderURL: a.imageURL(prof.Header), Header: prof.Header}
	for _, peer := range peers {
		l := peerLink{Name: peer.Name, URL: peer.Actor}
		if peer.Handle != "" && peer.Host != "" {
			l.Acct = "@" + peer.Handle + "@" + peer.Host
		}
		if l.Name == "" {
			l.Name = peer.Host
		}
		if u, err := url.Parse(peer.Actor); l.Name == "" && err == nil && u.Host != "" {
			l.Name = u.Host
		}
		p.Federation = append(p.Federation, l)
	}
	for _, m := range members {
		p.Members = append(p.Members, a.link(m.Actor))
	}
	for _, pr := range projects {
		p.Projects = append(p.Projects, a.link(pr.Actor))
	}
	if v := viewerOf(r); v != nil && !v.Session.MustChange {
		mine, err := a.svc.NeedsMyVote(coop.WithPrincipal(ctx, a.svc.WebPrincipal(v.Member)))
		if err != nil {
			a.serveError(w, r, err)
			return
		}
		for _, pr := range mine {
			p.MyVote = append(p.MyVote, a.item(pr))
		}
	}
	decided, err := a.svc.RecentDecisions(ctx, recentDecisions)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	for _, d := range decided {
		p.Decided = append(p.Decided, decidedItem{Num: d.Proposal.Num, Title: d.Proposal.Title, Summary: d.Summary})
	}
	a.render(w, r, http.StatusOK, "home", p)
}

func (a *app) link(x coop.Actor) actorLink {
	return actorLink{Name: x.Name, Acct: "@" + a.site.Acct(x.Handle), URL: a.site.ProfileURL(x.Handle)}
}

type actorPage struct {
	Page
	Actor   coop.Actor
	Acct    string
	ActorID string
	Kind    string
	Member  *coop.Member
	Project *coop.Project
	// Maintainers of a project: local ones link to their page.
	Maintainers []actorLink
	// A project's posts, proposals and Edit link.
	projectLists
}

// actor is the readable page of an actor, for browsers. ActivityPub clients
// asking for JSON at the same URL are served by package federation.
func (a *app) actor(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	handle := mux.Vars(r)["handle"]
	if err := coop.CheckHandle(handle); err != nil {
		a.serveError(w, r, coop.ErrNotFound)
		return
	}
	x, err := a.svc.Actor(ctx, handle)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	p := actorPage{Page: a.basePage(ctx, x.Name), Actor: x, Acct: "@" + a.site.Acct(x.Handle), ActorID: a.site.ActorID(x.Handle)}
	switch x.Kind {
	case coop.KindOrganization:
		p.Kind = "Co-operative"
	case coop.KindPerson:
		p.Kind = "Member"
		m, err := a.svc.Member(ctx, x.Handle)
		if err != nil {
			a.serveError(w, r, err)
			return
		}
		p.Member = &m
	case coop.KindGroup:
		p.Kind = "Project"
		pr, err := a.svc.Project(ctx, x.Handle)
		if err != nil {
			a.serveError(w, r, err)
			return
		}
		p.Project = &pr
		for _, uri := range pr.Maintainers {
			if h, ok := a.site.HandleFromActorID(uri); ok {
				if m, err := a.svc.Member(ctx, h); err == nil && !m.Removed() {
					p.Maintainers = append(p.Maintainers, a.link(m.Actor))
					continue
				}
			}
			p.Maintainers = append(p.Maintainers, actorLink{Name: uri, URL: uri})
		}
		if p.projectLists, err = a.projectLists(r, pr); err != nil {
			a.serveError(w, r, err)
			return
		}
	}
	a.render(w, r, http.StatusOK, "actor", p)
}
