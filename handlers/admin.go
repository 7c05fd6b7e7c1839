package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/coopfed/coopfed/coop"
	"github.com/gorilla/mux"
)

// The admin pages (issue 9): the index of an admin's sections, and the
// members: the list, adding a member, a role, a password reset, and a
// removal with a confirmation step. Every action is a coop use case that
// checks, in its transaction, that the viewer is an admin; the pages ask
// coop.IsAdmin first only to answer a plain member with a 403 before
// reading a form. A one-time password is shown once, on the response to
// the POST that made it (never in a URL, a redirect or a cache).

func (a *app) adminRoutes(r *mux.Router) {
	r.HandleFunc("/admin", a.adminIndex).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/admin/members", a.adminMembers).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/admin/members", a.adminAddMember).Methods(http.MethodPost)
	r.HandleFunc("/admin/members/{handle}/role", a.adminSetRole).Methods(http.MethodPost)
	r.HandleFunc("/admin/members/{handle}/password", a.adminResetPassword).Methods(http.MethodPost)
	r.HandleFunc("/admin/members/{handle}/remove", a.adminRemoveForm).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/admin/members/{handle}/remove", a.adminRemove).Methods(http.MethodPost)
}

// admin is a.member for the admin pages: a plain member is refused with
// 403 (the use cases check again).
func (a *app) admin(w http.ResponseWriter, r *http.Request) (*viewer, context.Context, bool) {
	v, ctx, ok := a.member(w, r)
	if !ok {
		return nil, nil, false
	}
	isAdmin, err := a.svc.IsAdmin(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return nil, nil, false
	}
	if !isAdmin {
		a.fail(w, r, http.StatusForbidden, "Only an admin of the co-op may open the admin pages.")
		return nil, nil, false
	}
	return v, ctx, true
}

// adminError answers a refused admin action with its reason.
func (a *app) adminError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, coop.ErrNotAllowed):
		a.fail(w, r, http.StatusForbidden, reasonOf(err, coop.ErrNotAllowed)+".")
	case errors.Is(err, coop.ErrInvalidInput):
		a.fail(w, r, http.StatusBadRequest, reasonOf(err, coop.ErrInvalidInput)+".")
	case errors.Is(err, coop.ErrInvalidRole):
		a.fail(w, r, http.StatusBadRequest, "A role is admin or member.")
	default:
		a.serveError(w, r, err)
	}
}

// adminSection is a link of the admin index.
type adminSection struct {
	Path, Name, About string
}

var adminSections = []adminSection{
	{"/admin/members", "Members", "Add a member, change a role, reset a password, remove a member."},
	{"/admin/federation", "Federation members", "The co-ops this co-op federates with."},
	{"/admin/blocks", "Blocked domains and accounts", "Servers and accounts whose activities this node refuses."},
	{"/admin/reports", "Reports", "What members and other servers reported."},
	{"/admin/deliveries", "Delivery queue", "Activities waiting to reach other servers, and failed deliveries."},
	{"/admin/profile", "Co-op profile", "The co-op's name and description, as other servers see them."},
}

type adminIndexPage struct {
	Page
	Sections []adminSection
}

func (a *app) adminIndex(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := a.admin(w, r); !ok {
		return
	}
	a.render(w, r, http.StatusOK, "admin", adminIndexPage{Page: a.basePage(r.Context(), "Admin"), Sections: adminSections})
}

// adminMember is a member as the admin's list shows them.
type adminMember struct {
	coop.Member
	Acct, URL string
}

// memberInput is the add-member form as typed.
type memberInput struct {
	Handle, DisplayName, Email, Role string
}

// issuedPassword is a one-time password just made, shown once.
type issuedPassword struct {
	Handle, Acct, Password, SignIn string
	Added                          bool // a new member; else a reset
}

type adminMembersPage struct {
	Page
	Members []adminMember
	In      memberInput
	// Errors by field of the add form ("" for the form as a whole).
	Errors map[string]string
	// Done confirms what the last action did (from ?done=).
	Done string
	// Issued is set on the page that shows a one-time password; Remove on
	// the page that confirms a removal.
	Issued *issuedPassword
	Remove *adminMember
}

func (a *app) membersPage(ctx context.Context, title string) (adminMembersPage, error) {
	p := adminMembersPage{Page: a.basePage(ctx, title), In: memberInput{Role: string(coop.RoleMember)}, Errors: map[string]string{}}
	ms, err := a.svc.MembersForAdmin(ctx)
	if err != nil {
		return p, err
	}
	for _, m := range ms {
		p.Members = append(p.Members, adminMember{Member: m, Acct: "@" + a.site.Acct(m.Handle), URL: a.site.ProfileURL(m.Handle)})
	}
	return p, nil
}

func (a *app) adminMembers(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.admin(w, r)
	if !ok {
		return
	}
	p, err := a.membersPage(ctx, "Members")
	if err != nil {
		a.adminError(w, r, err)
		return
	}
	q := r.URL.Query()
	if h := q.Get("member"); coop.CheckHandle(h) == nil {
		switch q.Get("done") {
		case "role":
			for _, m := range p.Members {
				if strings.EqualFold(m.Handle, h) {
					p.Done = m.Handle + " is now " + roleName(m.Role) + "."
				}
			}
		case "removed":
			// Said only when true: the query is anyone's to write.
			if m, err := a.svc.Member(ctx, h); err == nil && m.Removed() {
				p.Done = m.Handle + " was removed. The handle " + m.Handle + " will never be given out again."
			}
		}
	}
	a.render(w, r, http.StatusOK, "adminmembers", p)
}

func roleName(r coop.Role) string {
	if r == coop.RoleAdmin {
		return "an admin"
	}
	return "a plain member"
}

// showPassword renders the page that shows a one-time password, once: not
// stored by the browser nor by a proxy.
func (a *app) showPassword(ctx context.Context, w http.ResponseWriter, r *http.Request, handle, password string, added bool) {
	title := "Password reset"
	if added {
		title = "Member added"
	}
	p := adminMembersPage{Page: a.basePage(ctx, title), Issued: &issuedPassword{Handle: handle, Acct: "@" + a.site.Acct(handle),
		Password: password, SignIn: a.site.URL("/signin"), Added: added}}
	w.Header().Set("Cache-Control", "no-store")
	a.render(w, r, http.StatusOK, "adminmembers", p)
}

func (a *app) adminAddMember(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.admin(w, r)
	if !ok || !a.postForm(w, r, maxSmallForm) {
		return
	}
	in := memberInput{
		Handle:      strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("handle")), "@"),
		DisplayName: strings.TrimSpace(r.PostFormValue("name")),
		Email:       strings.TrimSpace(r.PostFormValue("email")),
		Role:        r.PostFormValue("role"),
	}
	m, password, err := a.svc.AddMember(ctx, coop.NewMember{Handle: in.Handle, DisplayName: in.DisplayName, Email: in.Email, Role: coop.Role(in.Role)})
	if err == nil {
		a.showPassword(ctx, w, r, m.Handle, password, true)
		return
	}
	page, perr := a.membersPage(ctx, "Members")
	if perr != nil {
		a.adminError(w, r, perr)
		return
	}
	page.In = in
	switch {
	case errors.Is(err, coop.ErrHandleTaken):
		page.Errors["handle"] = "The handle " + in.Handle + " is taken, or was once: a removed member's handle is never given out again."
	case errors.Is(err, coop.ErrHandleReserved):
		page.Errors["handle"] = "The handle " + in.Handle + " is reserved for the node: choose another."
	case errors.Is(err, coop.ErrInvalidHandle):
		page.Errors["handle"] = "A handle has 1 to 30 letters, digits or '_', with '-' or '.' inside."
	case errors.Is(err, coop.ErrInvalidRole):
		page.Errors["role"] = "A role is admin or member."
	case errors.Is(err, coop.ErrInvalidInput) && strings.Contains(err.Error(), "email"):
		page.Errors["email"] = "Write a plain address like name@example.org, or nothing."
	case errors.Is(err, coop.ErrInvalidInput):
		page.Errors[""] = reasonOf(err, coop.ErrInvalidInput) + "."
	default:
		a.adminError(w, r, err)
		return
	}
	if page.Errors[""] == "" {
		page.Errors[""] = "The member was not added: see what to change below."
	}
	a.render(w, r, http.StatusBadRequest, "adminmembers", page)
}

// handleVar is the {handle} of the path, or "" after a 404.
func (a *app) handleVar(w http.ResponseWriter, r *http.Request) string {
	h := mux.Vars(r)["handle"]
	if coop.CheckHandle(h) != nil {
		a.fail(w, r, http.StatusNotFound, "Nothing by that name lives here.")
		return ""
	}
	return h
}

// adminOnMember checks an admin's POST on the member of the path: the
// admin, the member's handle and the form; ok is false after a response
// was written.
func (a *app) adminOnMember(w http.ResponseWriter, r *http.Request) (*viewer, context.Context, string, bool) {
	v, ctx, ok := a.admin(w, r)
	if !ok {
		return nil, nil, "", false
	}
	h := a.handleVar(w, r)
	if h == "" || !a.postForm(w, r, maxSmallForm) {
		return nil, nil, "", false
	}
	return v, ctx, h, true
}

// afterChange is where an action on handle sends the admin: the list,
// saying what was done; the home page when the admin acted on themselves
// (they may no longer be an admin, or signed in).
func (a *app) afterChange(w http.ResponseWriter, r *http.Request, v *viewer, handle, done string) {
	to := "/admin/members?" + url.Values{"done": {done}, "member": {handle}}.Encode()
	if strings.EqualFold(handle, v.Member.Handle) {
		to = "/"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (a *app) adminSetRole(w http.ResponseWriter, r *http.Request) {
	v, ctx, h, ok := a.adminOnMember(w, r)
	if !ok {
		return
	}
	if err := a.svc.SetRole(ctx, h, coop.Role(r.PostFormValue("role"))); err != nil {
		a.adminError(w, r, err)
		return
	}
	a.afterChange(w, r, v, h, "role")
}

func (a *app) adminResetPassword(w http.ResponseWriter, r *http.Request) {
	_, ctx, h, ok := a.adminOnMember(w, r)
	if !ok {
		return
	}
	password, err := a.svc.ResetPassword(ctx, h)
	if err != nil {
		a.adminError(w, r, err)
		return
	}
	m, err := a.svc.Member(ctx, h)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	a.showPassword(ctx, w, r, m.Handle, password, false)
}

// removePage is the confirmation step of a removal.
func (a *app) removePage(ctx context.Context, h string) (adminMembersPage, error) {
	m, err := a.svc.Member(ctx, h)
	if err != nil {
		return adminMembersPage{}, err
	}
	if m.Removed() {
		return adminMembersPage{}, coop.ErrGone
	}
	return adminMembersPage{Page: a.basePage(ctx, "Remove "+m.Handle), Errors: map[string]string{},
		Remove: &adminMember{Member: m, Acct: "@" + a.site.Acct(m.Handle), URL: a.site.ProfileURL(m.Handle)}}, nil
}

func (a *app) adminRemoveForm(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.admin(w, r)
	if !ok {
		return
	}
	h := a.handleVar(w, r)
	if h == "" {
		return
	}
	p, err := a.removePage(ctx, h)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "adminmembers", p)
}

func (a *app) adminRemove(w http.ResponseWriter, r *http.Request) {
	v, ctx, h, ok := a.adminOnMember(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		p, err := a.removePage(ctx, h)
		if err != nil {
			a.serveError(w, r, err)
			return
		}
		p.Errors["confirm"] = "Tick the box to confirm: a removal is final."
		a.render(w, r, http.StatusBadRequest, "adminmembers", p)
		return
	}
	if err := a.svc.RemoveMember(ctx, h); err != nil {
		a.adminError(w, r, err)
		return
	}
	a.afterChange(w, r, v, h, "removed")
}
