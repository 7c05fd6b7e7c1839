package handlers

import (
	"context"
	"errors"
	"html/template"
	"net/http"

	"github.com/coopfed/coopfed/coop"
	"github.com/gorilla/mux"
)

// A proposal's discussion (issue 9): the public replies from the
// fediverse and from members, shown at the end of the proposal's page,
// and the form with which a member replies. The notifications page
// (notifications.go) and the account page's commit addresses
// (account.go) are registered here too.

func (a *app) discussionRoutes(r *mux.Router) {
	r.HandleFunc("/proposals/{num:[0-9]+}/replies", a.proposalReply).Methods(http.MethodPost)
	r.HandleFunc("/account/notifications", a.notifications).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/account/notifications/read", a.markNotificationsRead).Methods(http.MethodPost)
	r.HandleFunc("/account/aliases", a.addAlias).Methods(http.MethodPost)
	r.HandleFunc("/account/aliases/remove", a.removeAlias).Methods(http.MethodPost)
}

// discussionReply is a reply as the page shows it.
type discussionReply struct {
	coop.Reply
	N int // its place, for its anchor
	// Body is a remote reply's content through the sanitizer: it was
	// cleaned when it was received, and is cleaned again here, where it
	// is printed.
	Body template.HTML
}

// discussion reads proposal num's replies for its page.
func (a *app) discussion(ctx context.Context, num int64) ([]discussionReply, error) {
	rs, err := a.svc.ProposalDiscussion(ctx, num)
	if err != nil {
		return nil, err
	}
	out := make([]discussionReply, len(rs))
	for i, r := range rs {
		out[i] = discussionReply{Reply: r, N: i + 1}
		if !r.Member {
			out[i].Body = remoteHTML(r.HTML)
		}
	}
	return out, nil
}

// proposalReply publishes a member's reply to a proposal, then shows it
// in the discussion (post/redirect/get). An empty or too long reply
// comes back with the text kept and the reason by the field.
func (a *app) proposalReply(w http.ResponseWriter, r *http.Request) {
	ctx, num, ok := a.memberOnProposal(w, r)
	if !ok {
		return
	}
	text := r.PostForm.Get("text")
	if _, err := a.svc.ReplyToProposal(ctx, num, text); err != nil {
		if !errors.Is(err, coop.ErrInvalidInput) {
			a.ruleError(w, r, err)
			return
		}
		page, perr := a.proposalPage(r, num)
		if perr != nil {
			a.serveError(w, r, perr)
			return
		}
		page.ReplyText, page.ReplyError = text, reasonOf(err, coop.ErrInvalidInput)+"."
		a.render(w, r, http.StatusBadRequest, "proposal", page)
		return
	}
	http.Redirect(w, r, proposalPath(num)+"?done=replied#discussion", http.StatusSeeOther)
}
