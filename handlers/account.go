package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// "My account" (issue 9): link an account on another server (a code to
// send the co-op's actor by direct message, then a confirmation), the
// links pending and made, the member's data as a JSON download, and a
// link to the password page, the count of unread notifications, and the
// member's commit addresses. Routes in weblogRoutes (decisions.go); the
// commit addresses' in discussionRoutes (discussion.go).

type accountPage struct {
	Page
	CSRF    string
	Handle  string
	Acct    string // the member's own @name@host
	CoopTo  string // the co-op's @coop@host, to whom the code goes
	Code    string // a code just made, shown once
	Expires time.Time
	Pending []coop.AccountLink
	Linked  []coop.AccountLink
	Notice  string
	Error   string
	// Unread counts the member's unread notifications.
	Unread int
	// Aliases are the member's commit addresses; AliasInput and
	// AliasError a refused address and why.
	Aliases    []coop.Alias
	AliasInput string
	AliasError string
}

// codeShelf keeps the link code a member just made, by session, while it
// is valid: the form's POST makes the code and redirects to /account,
// which shows it (post/redirect/get). So a reload shows the same code
// again instead of making another, the code never travels in a URL (the
// history, a server's log, a Referer), and the account page is served
// with no-store so that no cache keeps it either. A code is dropped once
// a link is confirmed, or when it expires; a restart forgets it (the
// member makes another).
type shownCode struct {
	code     string
	expires  time.Time // as coop says, to show
	keepTill time.Time // on this process's clock
}

type codeShelf struct {
	mu sync.Mutex
	m  map[string]shownCode // by session token hash
}

func (c *codeShelf) put(session, code string, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for k, v := range c.m {
		if now.After(v.keepTill) {
			delete(c.m, k)
		}
	}
	c.m[session] = shownCode{code: code, expires: expires, keepTill: now.Add(coop.LinkCodeTTL)}
}

func (c *codeShelf) get(session string) (string, time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[session]
	if !ok || time.Now().After(v.keepTill) {
		delete(c.m, session)
		return "", time.Time{}, false
	}
	return v.code, v.expires, true
}

func (c *codeShelf) drop(session string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, session)
}

// memberViewer is member for the account pages, which need only the
// viewer.
func (a *app) memberViewer(w http.ResponseWriter, r *http.Request) *viewer {
	v, _, ok := a.member(w, r)
	if !ok {
		return nil
	}
	return v
}

// accountPageFor fills the page from the member's links.
func (a *app) accountPageFor(r *http.Request, v *viewer) (accountPage, error) {
	ctx := coop.WithPrincipal(r.Context(), a.svc.WebPrincipal(v.Member))
	p := accountPage{Page: a.basePage(r.Context(), "My account"), CSRF: v.Session.CSRF, Handle: v.Member.Handle,
		Acct: "@" + a.site.Acct(v.Member.Handle)}
	c, err := a.svc.Coop(ctx)
	if err != nil {
		return p, err
	}
	p.CoopTo = "@" + a.site.Acct(c.Handle)
	links, err := a.svc.AccountLinks(ctx, v.Member.Handle)
	if err != nil {
		return p, err
	}
	for _, l := range links {
		if l.Confirmed.IsZero() {
			p.Pending = append(p.Pending, l)
		} else {
			p.Linked = append(p.Linked, l)
		}
	}
	if p.Aliases, err = a.svc.Aliases(ctx, v.Member.Handle); err != nil {
		return p, err
	}
	ns, err := a.svc.Notifications(ctx)
	if err != nil {
		return p, err
	}
	p.Unread = ns.Unread
	p.Code, p.Expires, _ = a.shownCodes.get(v.Session.TokenHash)
	return p, nil
}

// renderAccount answers with the account page: never kept by a cache (it
// may show a link code).
func (a *app) renderAccount(w http.ResponseWriter, r *http.Request, status int, p accountPage) {
	w.Header().Set("Cache-Control", "no-store")
	a.render(w, r, status, "account", p)
}

func (a *app) account(w http.ResponseWriter, r *http.Request) {
	v := a.memberViewer(w, r)
	if v == nil {
		return
	}
	p, err := a.accountPageFor(r, v)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	switch r.URL.Query().Get("done") {
	case "alias-added":
		p.Notice = "The address was added: your commits under it are matched to you."
	case "alias-removed":
		p.Notice = "The address was removed."
	}
	a.renderAccount(w, r, http.StatusOK, p)
}

// accountForm reads a POST of the account page: the member, or nil after
// it has answered.
func (a *app) accountForm(w http.ResponseWriter, r *http.Request) *viewer {
	v := a.memberViewer(w, r)
	if v == nil {
		return nil
	}
	if !a.postForm(w, r, maxSmallForm) {
		return nil
	}
	return v
}

func (a *app) linkCode(w http.ResponseWriter, r *http.Request) {
	v := a.accountForm(w, r)
	if v == nil {
		return
	}
	ctx := coop.WithPrincipal(r.Context(), a.svc.WebPrincipal(v.Member))
	code, expires, err := a.svc.LinkCode(ctx, v.Member.Handle)
	if err != nil {
		a.accountError(w, r, err)
		return
	}
	a.shownCodes.put(v.Session.TokenHash, code, expires)
	http.Redirect(w, r, "/account#link-code", http.StatusSeeOther)
}

func (a *app) confirmLink(w http.ResponseWriter, r *http.Request) {
	v := a.accountForm(w, r)
	if v == nil {
		return
	}
	ctx := coop.WithPrincipal(r.Context(), a.svc.WebPrincipal(v.Member))
	account := strings.TrimSpace(r.PostFormValue("account"))
	counted, err := a.svc.LinkConfirm(ctx, v.Member.Handle, account)
	if err != nil {
		p, perr := a.accountPageFor(r, v)
		if perr != nil {
			a.serveError(w, r, perr)
			return
		}
		switch {
		case errors.Is(err, coop.ErrNotFound):
			p.Error = "No link of " + account + " is waiting for you: send the code from that account first."
			a.renderAccount(w, r, http.StatusNotFound, p)
		case errors.Is(err, coop.ErrInvalidInput):
			p.Error = account + " is already linked to you."
			a.renderAccount(w, r, http.StatusConflict, p)
		default:
			a.accountError(w, r, err)
		}
		return
	}
	a.shownCodes.drop(v.Session.TokenHash) // used: no longer worth showing
	p, err := a.accountPageFor(r, v)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	p.Notice = account + " is now linked to you."
	switch counted {
	case 0:
	case 1:
		p.Notice += " The vote it sent before counts now."
	default:
		p.Notice += " The votes it sent before count now."
	}
	a.renderAccount(w, r, http.StatusOK, p)
}

// addAlias adds a commit address of the member's own.
func (a *app) addAlias(w http.ResponseWriter, r *http.Request) {
	a.changeAlias(w, r, true)
}

// removeAlias removes one of the member's commit addresses.
func (a *app) removeAlias(w http.ResponseWriter, r *http.Request) {
	a.changeAlias(w, r, false)
}

func (a *app) changeAlias(w http.ResponseWriter, r *http.Request, add bool) {
	v := a.accountForm(w, r)
	if v == nil {
		return
	}
	ctx := coop.WithPrincipal(r.Context(), a.svc.WebPrincipal(v.Member))
	email := strings.TrimSpace(r.PostFormValue("email"))
	var err error
	if add {
		err = a.svc.AddAlias(ctx, v.Member.Handle, email)
	} else {
		err = a.svc.RemoveAlias(ctx, v.Member.Handle, email)
	}
	if err == nil {
		done := "alias-added"
		if !add {
			done = "alias-removed"
		}
		http.Redirect(w, r, "/account?done="+done+"#aliases", http.StatusSeeOther)
		return
	}
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, coop.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, coop.ErrNotAllowed):
		a.accountError(w, r, err)
		return
	case !errors.Is(err, coop.ErrInvalidInput):
		a.serveError(w, r, err)
		return
	}
	p, perr := a.accountPageFor(r, v)
	if perr != nil {
		a.serveError(w, r, perr)
		return
	}
	p.AliasError = reasonOf(err, coop.ErrInvalidInput) + "."
	if status == http.StatusNotFound {
		p.AliasError = reasonOf(err, coop.ErrNotFound) + "."
	}
	if add {
		p.AliasInput = email
	}
	a.renderAccount(w, r, status, p)
}

// accountError answers a refusal of coop with its reason.
func (a *app) accountError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, coop.ErrNotAllowed) {
		a.fail(w, r, http.StatusForbidden, "You may not do this: "+err.Error())
		return
	}
	a.serveError(w, r, err)
}

// myData is the member's data as a JSON download.
func (a *app) myData(w http.ResponseWriter, r *http.Request) {
	v := a.memberViewer(w, r)
	if v == nil {
		return
	}
	d, err := a.svc.MyData(coop.WithPrincipal(r.Context(), a.svc.WebPrincipal(v.Member)))
	if err != nil {
		a.accountError(w, r, err)
		return
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="coopfed-`+v.Member.Handle+`.json"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodHead {
		w.Write(append(b, '\n'))
	}
}
