package handlers

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/ratelimit"
)

// Sessions (issue 9): the cookie holds a random token; coop keeps its
// hash, the member and the session's CSRF token. The cookie is HttpOnly,
// SameSite=Lax, and Secure whenever the node is served over HTTPS (its
// URL's scheme); a development node on plain http on loopback sends it
// without Secure, or the browser would drop it. Every form carries the
// session's CSRF token (or, before sign-in, a token bound to a cookie of
// its own) and every POST checks it.

const (
	sessionCookie = "coopfed_session"
	// preCookie carries the CSRF token of the sign-in form, before there
	// is a session (login CSRF).
	preCookie = "coopfed_pre"
)

// signInLimit bounds sign-in attempts: by client address and by handle,
// a burst of 10 then one every 6 seconds.
func newSignInLimiter() *ratelimit.Limiter { return ratelimit.New(1.0/6, 10, 0) }

type sessionKey struct{}

// viewer is who a request comes from: a signed-in member, or nobody.
type viewer struct {
	Member  coop.Member
	Session coop.Session
	token   string
}

// withViewer reads the session cookie; a request with no live session
// goes on as a visitor.
func (a *app) withViewer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			m, s, err := a.svc.SessionMember(r.Context(), c.Value)
			switch {
			case err == nil:
				r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, &viewer{Member: m, Session: s, token: c.Value}))
			case errors.Is(err, coop.ErrNoSession):
				a.clearCookie(w, sessionCookie)
			default:
				a.serveError(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func viewerOf(r *http.Request) *viewer {
	v, _ := r.Context().Value(sessionKey{}).(*viewer)
	return v
}

func (a *app) secure() bool { return a.site.Scheme == "https" }

func (a *app) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: a.secure(),
		SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge.Seconds())})
}

func (a *app) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, Secure: a.secure(),
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// csrfOK checks a form's token against the session's (or, signed out,
// against the pre-session cookie's).
func (a *app) csrfOK(r *http.Request) bool {
	got := r.PostFormValue("csrf")
	want := ""
	if v := viewerOf(r); v != nil {
		want = v.Session.CSRF
	} else if c, err := r.Cookie(preCookie); err == nil {
		want = c.Value
	}
	return want != "" && len(got) == len(want) && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// Form bodies' limits.
const (
	maxSmallForm        = 16 << 10  // sign-in, password, account
	maxContributionForm = 64 << 10  // contributions and payouts
	maxProposalForm     = 256 << 10 // a proposal's body
)

// member is the signed-in member a members-only page acts for, with a
// context carrying them as the principal (web channel); ok is false
// after a response was written: a visitor's GET is sent to sign in and
// back, a visitor's POST is 401; a session holding a one-time password
// acts for nobody (GET: to the password page; POST: 403).
func (a *app) member(w http.ResponseWriter, r *http.Request) (*viewer, context.Context, bool) {
	v := viewerOf(r)
	isGet := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case v == nil && isGet:
		http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return nil, nil, false
	case v == nil:
		a.fail(w, r, http.StatusUnauthorized, "Sign in first: this is for the co-op's members.")
		return nil, nil, false
	case v.Session.MustChange && isGet:
		http.Redirect(w, r, "/account/password", http.StatusSeeOther)
		return nil, nil, false
	case v.Session.MustChange:
		a.fail(w, r, http.StatusForbidden, "Choose your own password first.")
		return nil, nil, false
	}
	return v, coop.WithPrincipal(r.Context(), a.svc.WebPrincipal(v.Member)), true
}

// postForm reads a POSTed form of at most max bytes and checks its CSRF
// token; ok is false after a response was written.
func (a *app) postForm(w http.ResponseWriter, r *http.Request, max int64) bool {
	r.Body = http.MaxBytesReader(w, r.Body, max)
	if err := r.ParseForm(); err != nil {
		a.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return false
	}
	if !a.csrfOK(r) {
		a.fail(w, r, http.StatusForbidden, "This form has expired or did not come from this site: open the page again.")
		return false
	}
	return true
}

type signInPage struct {
	Page
	CSRF   string
	Handle string
	Error  string
	Next   string
}

// safeNext keeps a redirect after sign-in on this site.
func safeNext(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return "/"
	}
	return s
}

func (a *app) signInForm(w http.ResponseWriter, r *http.Request) {
	if v := viewerOf(r); v != nil && !v.Session.MustChange {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	token, err := a.svc.NewFormToken()
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	a.setCookie(w, preCookie, token, time.Hour)
	a.render(w, r, http.StatusOK, "signin", signInPage{Page: a.basePage(r.Context(), "Sign in"), CSRF: token, Next: safeNext(r.URL.Query().Get("next"))})
}

func (a *app) signIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		a.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if !a.csrfOK(r) {
		a.fail(w, r, http.StatusForbidden, "This form has expired or did not come from this site: open the sign-in page again.")
		return
	}
	handle := strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("handle")), "@")
	if i := strings.Index(handle, "@"); i >= 0 {
		handle = handle[:i] // name@host: the name
	}
	now := time.Now()
	addr := ratelimit.AddrKey(ratelimit.ClientAddr(r, a.trustedProxies))
	for _, key := range []string{"addr " + addr, "handle " + strings.ToLower(handle)} {
		if ok, wait := a.signInLimit.Allow(key, now); !ok {
			w.Header().Set("Retry-After", ratelimit.RetryAfter(wait))
			a.fail(w, r, http.StatusTooManyRequests, "Too many sign-in attempts: wait a minute and try again.")
			return
		}
	}
	token, sess, err := a.svc.SignIn(ctx, handle, r.PostFormValue("password"))
	if err != nil {
		status, msg := http.StatusUnauthorized, "The name or the password is wrong."
		if !errors.Is(err, coop.ErrBadPassword) && !errors.Is(err, coop.ErrNotMember) && !errors.Is(err, coop.ErrGone) {
			a.serveError(w, r, err)
			return
		}
		csrf := r.PostFormValue("csrf")
		a.render(w, r, status, "signin", signInPage{Page: a.basePage(ctx, "Sign in"), CSRF: csrf, Handle: handle, Error: msg, Next: safeNext(r.PostFormValue("next"))})
		return
	}
	a.clearCookie(w, preCookie)
	a.setCookie(w, sessionCookie, token, coop.SessionMaxAge)
	if sess.MustChange {
		http.Redirect(w, r, "/account/password", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (a *app) signOut(w http.ResponseWriter, r *http.Request) {
	if !a.postForm(w, r, maxSmallForm) {
		return
	}
	if v := viewerOf(r); v != nil {
		if err := a.svc.SignOut(r.Context(), v.token); err != nil {
			a.serveError(w, r, err)
			return
		}
	}
	a.clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

type passwordPage struct {
	Page
	CSRF       string
	Handle     string
	MustChange bool
	Error      string
	MinLength  int
}

func (a *app) passwordForm(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r)
	if v == nil {
		http.Redirect(w, r, "/signin?next=/account/password", http.StatusSeeOther)
		return
	}
	a.render(w, r, http.StatusOK, "password", passwordPage{Page: a.basePage(r.Context(), "Your password"), CSRF: v.Session.CSRF,
		Handle: v.Member.Handle, MustChange: v.Session.MustChange, MinLength: coop.MinPasswordLength})
}

func (a *app) changePassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := viewerOf(r)
	if v == nil {
		a.fail(w, r, http.StatusUnauthorized, "Sign in first.")
		return
	}
	if !a.postForm(w, r, maxSmallForm) {
		return
	}
	page := passwordPage{Page: a.basePage(ctx, "Your password"), CSRF: v.Session.CSRF, Handle: v.Member.Handle,
		MustChange: v.Session.MustChange, MinLength: coop.MinPasswordLength}
	next, again := r.PostFormValue("new"), r.PostFormValue("again")
	if next != again {
		page.Error = "The two new passwords differ."
		a.render(w, r, http.StatusBadRequest, "password", page)
		return
	}
	err := a.svc.ChangePassword(ctx, v.Member.Handle, r.PostFormValue("current"), next)
	switch {
	case errors.Is(err, coop.ErrBadPassword):
		page.Error = "The current password is wrong."
		a.render(w, r, http.StatusUnauthorized, "password", page)
		return
	case errors.Is(err, coop.ErrInvalidInput):
		page.Error = strings.TrimPrefix(err.Error(), coop.ErrInvalidInput.Error()+": ")
		a.render(w, r, http.StatusBadRequest, "password", page)
		return
	case err != nil:
		a.serveError(w, r, err)
		return
	}
	// Every session ended with the old password, this one too: sign in
	// again with the new one, which proves it works.
	token, _, err := a.svc.SignIn(ctx, v.Member.Handle, next)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	a.setCookie(w, sessionCookie, token, coop.SessionMaxAge)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
