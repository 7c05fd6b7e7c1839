package handlers

import (
	"net/http"

	"github.com/coopfed/coopfed/coop"
)

// "My notifications" (issue 9): what the signed-in member needs to know,
// newest first, the unread ones marked, and "mark all as read". Routes
// in discussionRoutes (discussion.go).

type notificationsPage struct {
	Page
	coop.Notifications
	Notice string
}

func (a *app) notifications(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok {
		return
	}
	ns, err := a.svc.Notifications(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	p := notificationsPage{Page: a.basePage(r.Context(), "My notifications"), Notifications: ns}
	if r.URL.Query().Get("done") == "read" {
		p.Notice = "All marked as read."
	}
	// Members-only: no shared cache keeps it.
	w.Header().Set("Cache-Control", "private, no-store")
	a.render(w, r, http.StatusOK, "notifications", p)
}

func (a *app) markNotificationsRead(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok || !a.postForm(w, r, maxSmallForm) {
		return
	}
	if err := a.svc.MarkNotificationsRead(ctx); err != nil {
		a.serveError(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/notifications?done=read", http.StatusSeeOther)
}
