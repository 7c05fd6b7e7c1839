package handlers

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/ratelimit"
	"github.com/gorilla/mux"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Routes is a set of routes another package registers on the router;
// package federation's server is one.
type Routes interface {
	Routes(r *mux.Router)
}

// Deps is what the pages need.
type Deps struct {
	Service *coop.Service
	Site    coop.Site
	Log     *slog.Logger
	Version string
	// Before are registered ahead of the pages, in order.
	Before []Routes
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (for the sign-in rate limit).
	TrustedProxies []netip.Prefix
	// Blocks are the block use cases, for the admin's blocks page (nil:
	// the page says there is no block list).
	Blocks *coop.Blocks
}

type app struct {
	svc     *coop.Service
	site    coop.Site
	log     *slog.Logger
	version string
	pages   map[string]*template.Template

	signInLimit    *ratelimit.Limiter
	trustedProxies []netip.Prefix
	blocks         *coop.Blocks
	// shownCodes are the link codes members just made, by session
	// (account.go).
	shownCodes *codeShelf
}

// New builds the node's HTTP handler: the routes of d.Before, then the
// pages, the health check and the static files.
func New(d Deps) (http.Handler, error) {
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	a := &app{svc: d.Service, site: d.Site, log: d.Log, version: d.Version, pages: pages,
		signInLimit: newSignInLimiter(), trustedProxies: d.TrustedProxies, blocks: d.Blocks,
		shownCodes: &codeShelf{m: map[string]shownCode{}}}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	r := mux.NewRouter()
	for _, b := range d.Before {
		b.Routes(r)
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	r.PathPrefix("/static/").Handler(http.StripPrefix("/static/", cacheADay(http.FileServerFS(static)))).Methods(http.MethodGet, http.MethodHead)
	a.logRoutes(r)
	a.weblogRoutes(r)
	a.contributionRoutes(r)
	a.remoteContributionRoutes(r)
	a.projectFormRoutes(r)
	a.projectRoutes(r)
	a.reportRoutes(r)
	a.profileRoutes(r)
	r.HandleFunc("/healthz", a.health).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/", a.home).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/@{handle}", a.actor).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/users/{handle}", a.actor).Methods(http.MethodGet, http.MethodHead)
	a.proposalRoutes(r)
	a.adminRoutes(r)
	a.discussionRoutes(r)
	a.adminOpsRoutes(r)
	r.HandleFunc("/signin", a.signInForm).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/signin", a.signIn).Methods(http.MethodPost)
	r.HandleFunc("/signout", a.signOut).Methods(http.MethodPost)
	r.HandleFunc("/account/password", a.passwordForm).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/account/password", a.changePassword).Methods(http.MethodPost)
	// Who is signed in, for every page (a request without the cookie costs
	// nothing more).
	r.Use(a.withViewer)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, http.StatusNotFound, "There is no page at this address.")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, http.StatusMethodNotAllowed, "This address does not take "+r.Method+" requests.")
	})
	return r, nil
}

// cacheADay lets browsers keep the embedded assets for a day: a new version
// of the binary may change them, so not forever.
func cacheADay(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, r)
	})
}

// health answers a process supervisor: 200 when the database answers.
func (a *app) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if _, err := a.svc.Coop(ctx); err != nil {
		a.log.Error("health check failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"status":"unavailable","reason":"the database does not answer"}` + "\n"))
		return
	}
	w.Write([]byte(`{"status":"ok"}` + "\n"))
}

// serveError turns an error from a use case into a response: rule errors
// become a 4xx page with their reason; anything else a 500, logged once
// here with the full error.
func (a *app) serveError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, coop.ErrNotFound), errors.Is(err, coop.ErrNotMember):
		a.fail(w, r, http.StatusNotFound, "Nothing by that name lives here.")
	case errors.Is(err, coop.ErrGone):
		a.fail(w, r, http.StatusGone, "This account was removed.")
	case errors.Is(err, coop.ErrNotAllowed):
		a.fail(w, r, http.StatusForbidden, reasonOf(err, coop.ErrNotAllowed)+".")
	case errors.Is(err, coop.ErrInvalidHandle), errors.Is(err, coop.ErrInvalidInput):
		a.fail(w, r, http.StatusBadRequest, err.Error())
	default:
		a.log.Error("page failed", "path", r.URL.Path, "err", err)
		a.fail(w, r, http.StatusInternalServerError, "Something went wrong on our side. The administrator can find the details in the log.")
	}
}

func (a *app) fail(w http.ResponseWriter, r *http.Request, status int, reason string) {
	a.render(w, r, status, "error", errorPage{Page: a.basePage(r.Context(), http.StatusText(status)), Status: status, Reason: reason})
}
