package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// "My account" (issue 9): link an account on another server (a code to
// send the co-op's actor by direct message, then a confirmation), the
// links pending and made, the member's data as a JSON download, and a
// link to the password page. Routes in weblogRoutes (decisions.go).

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
	return p, nil
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
	a.render(w, r, http.StatusOK, "account", p)
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
	p, err := a.accountPageFor(r, v)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	p.Code, p.Expires = code, expires
	a.render(w, r, http.StatusOK, "account", p)
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
			a.render(w, r, http.StatusNotFound, "account", p)
		case errors.Is(err, coop.ErrInvalidInput):
			p.Error = account + " is already linked to you."
			a.render(w, r, http.StatusConflict, "account", p)
		default:
			a.accountError(w, r, err)
		}
		return
	}
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
	a.render(w, r, http.StatusOK, "account", p)
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
