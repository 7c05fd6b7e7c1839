package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/coopfed/coopfed/coop"
	"github.com/gorilla/mux"
)

// The admin's pages for what the node does with other servers (issue 9):
// the federation's members (admit a co-op, remove one), the blocked
// domains and accounts, and the outbound delivery queue (read it by
// state, retry one delivery or every dead one). The command line does the
// same through the same use cases (coopfed peer, block, deliveries).
// Admins only: a visitor is sent to sign in, a member who is no admin
// gets 403; the use cases check again. Every form posts, then redirects
// to the page (post/redirect/get) with what it did in the query.

func (a *app) adminOpsRoutes(r *mux.Router) {
	r.HandleFunc("/admin/federation", a.adminFederation).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/admin/federation", a.adminAdmitPeer).Methods(http.MethodPost)
	r.HandleFunc("/admin/federation/remove", a.adminRemovePeer).Methods(http.MethodPost)
	r.HandleFunc("/admin/blocks", a.adminBlocks).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/admin/blocks", a.adminBlock).Methods(http.MethodPost)
	r.HandleFunc("/admin/blocks/remove", a.adminUnblock).Methods(http.MethodPost)
	r.HandleFunc("/admin/deliveries", a.adminDeliveries).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/admin/deliveries/{id:[0-9]+}/retry", a.adminRetryDelivery).Methods(http.MethodPost)
	r.HandleFunc("/admin/deliveries/retry-dead", a.adminRetryDead).Methods(http.MethodPost)
}

// opsAdmin is a.admin, with a POST's form read and its CSRF token
// checked. ok is false after a response was written.
func (a *app) opsAdmin(w http.ResponseWriter, r *http.Request) (*viewer, context.Context, bool) {
	v, ctx, ok := a.admin(w, r)
	if !ok || r.Method == http.MethodPost && !a.postForm(w, r, maxSmallForm) {
		return nil, nil, false
	}
	return v, ctx, true
}

// redirectWith answers a POST with a 303 to path and the query q.
func redirectWith(w http.ResponseWriter, r *http.Request, path string, q url.Values) {
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// formError is a refused form's reason and status: a rule error is the
// admin's to fix (400, its reason); a refusal 403; anything else (a
// remote server that did not answer, or worse) is logged and shown with
// its reason, 502, since the admin needs it to act and the page is theirs
// alone.
func (a *app) formError(r *http.Request, err error, rules ...error) (int, string) {
	if errors.Is(err, coop.ErrNotAllowed) || errors.Is(err, coop.ErrNoPrincipal) {
		return http.StatusForbidden, "Only an admin of the co-op may do this."
	}
	for _, rule := range append(rules, coop.ErrInvalidInput, coop.ErrNotFound, coop.ErrGone, coop.ErrBlocked) {
		if errors.Is(err, rule) {
			return http.StatusBadRequest, adminReason(err)
		}
	}
	a.log.Warn("admin form failed", "path", r.URL.Path, "err", err)
	return http.StatusBadGateway, adminReason(err)
}

// adminContext is the context the admin use cases put before an error:
// the action and its target, which may be quoted or a URL and so hold
// colons ("coop: add peer "https://x/users/coop": ").
var adminContext = regexp.MustCompile(`^coop: [a-z ]+ ("(?:[^"\\]|\\.)*"|\S+): `)

// adminReason is an error's text without that context.
func adminReason(err error) string {
	return upperFirst(adminContext.ReplaceAllString(err.Error(), ""))
}

// The federation's members.

type peerRow struct {
	coop.Peer
	Host string
}

type adminFederationPage struct {
	Page
	Peers  []peerRow
	Target string // the admit form's input, kept
	Error  string // the admit form's error
	Notice string
}

func (a *app) adminFederation(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.opsAdmin(w, r)
	if !ok {
		return
	}
	p := adminFederationPage{}
	q := r.URL.Query()
	switch {
	case q.Get("admitted") != "":
		p.Notice = "Admitted " + q.Get("admitted") + ": a Follow is on its way to it, and the co-op's followers are told of the new member."
	case q.Get("removed") != "":
		p.Notice = "Removed " + q.Get("removed") + " from the federation: the co-op no longer follows it."
	}
	a.renderFederation(w, r, ctx, http.StatusOK, p)
}

func (a *app) renderFederation(w http.ResponseWriter, r *http.Request, ctx context.Context, status int, p adminFederationPage) {
	peers, err := a.svc.Peers(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	for _, pe := range peers {
		p.Peers = append(p.Peers, peerRow{Peer: pe, Host: hostOf(pe.Actor)})
	}
	p.Page = a.basePage(ctx, "Federation")
	a.render(w, r, status, "adminfederation", p)
}

func (a *app) adminAdmitPeer(w http.ResponseWriter, r *http.Request) {
	v, ctx, ok := a.opsAdmin(w, r)
	if !ok {
		return
	}
	target := strings.TrimSpace(r.PostFormValue("target"))
	if target == "" {
		a.renderFederation(w, r, ctx, http.StatusBadRequest, adminFederationPage{Error: "Give the co-op's @coop@host or its actor URL."})
		return
	}
	pe, err := a.svc.AddPeer(ctx, target, v.Member.Handle)
	if err != nil {
		status, reason := a.formError(r, err, coop.ErrPeerExists, coop.ErrNotOrganization)
		a.renderFederation(w, r, ctx, status, adminFederationPage{Target: target, Error: reason})
		return
	}
	redirectWith(w, r, "/admin/federation", url.Values{"admitted": {pe.Actor}})
}

func (a *app) adminRemovePeer(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.opsAdmin(w, r)
	if !ok {
		return
	}
	actor := r.PostFormValue("actor")
	if err := a.svc.RemovePeer(ctx, actor); err != nil {
		status, reason := a.formError(r, err, coop.ErrNotPeer)
		a.renderFederation(w, r, ctx, status, adminFederationPage{Error: reason})
		return
	}
	redirectWith(w, r, "/admin/federation", url.Values{"removed": {actor}})
}

// hostOf is a URL's host, or the text itself when it is none.
func hostOf(s string) string {
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		return u.Host
	}
	return s
}

// The blocks.

type blockInput struct{ Target, Reason string }

type adminBlocksPage struct {
	Page
	Blocks []coop.Block
	In     blockInput
	Error  string
	// Done is what the last block did, after the redirect.
	Done *blockDone
	// Notice is the last unblock's.
	Notice string
}

type blockDone struct {
	Kind, Target             string
	FollowsText, DroppedText string // "2 follows", "1 queued delivery"
}

func (a *app) adminBlocks(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.opsAdmin(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	// ?target= comes from a link elsewhere (a report): the form filled in,
	// for the admin to confirm.
	p := adminBlocksPage{In: blockInput{Target: q.Get("target")}}
	if t := q.Get("blocked"); t != "" {
		follows, _ := strconv.ParseInt(q.Get("follows"), 10, 64)
		dropped, _ := strconv.ParseInt(q.Get("dropped"), 10, 64)
		p.Done = &blockDone{Kind: q.Get("kind"), Target: t,
			FollowsText: plural(follows, "follow", "follows"), DroppedText: plural(dropped, "queued delivery", "queued deliveries")}
	}
	if t := q.Get("unblocked"); t != "" {
		p.Notice = "Unblocked " + t + ". The follows the block removed are not restored."
	}
	a.renderBlocks(w, r, ctx, http.StatusOK, p)
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

func (a *app) renderBlocks(w http.ResponseWriter, r *http.Request, ctx context.Context, status int, p adminBlocksPage) {
	if a.blocks == nil {
		a.fail(w, r, http.StatusNotFound, "This node keeps no block list.")
		return
	}
	bs, err := a.blocks.List(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	p.Blocks = bs
	p.Page = a.basePage(ctx, "Blocks")
	a.render(w, r, status, "adminblocks", p)
}

func (a *app) adminBlock(w http.ResponseWriter, r *http.Request) {
	v, ctx, ok := a.opsAdmin(w, r)
	if !ok {
		return
	}
	in := blockInput{Target: strings.TrimSpace(r.PostFormValue("target")), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	if in.Target == "" {
		a.renderBlocks(w, r, ctx, http.StatusBadRequest, adminBlocksPage{In: in, Error: "Give a domain, an account @name@host or an actor URL."})
		return
	}
	if a.blocks == nil {
		a.fail(w, r, http.StatusNotFound, "This node keeps no block list.")
		return
	}
	res, err := a.blocks.Add(ctx, v.Member.Handle, in.Target, in.Reason)
	if err != nil {
		status, reason := a.formError(r, err, coop.ErrAlreadyBlocked, coop.ErrInvalidDomain)
		a.renderBlocks(w, r, ctx, status, adminBlocksPage{In: in, Error: reason})
		return
	}
	redirectWith(w, r, "/admin/blocks", url.Values{"blocked": {res.Block.Target}, "kind": {string(res.Block.Kind)},
		"follows": {strconv.FormatInt(res.FollowsRemoved, 10)}, "dropped": {strconv.FormatInt(res.DeliveriesDropped, 10)}})
}

func (a *app) adminUnblock(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.opsAdmin(w, r)
	if !ok {
		return
	}
	if a.blocks == nil {
		a.fail(w, r, http.StatusNotFound, "This node keeps no block list.")
		return
	}
	b, err := a.blocks.Remove(ctx, r.PostFormValue("target"))
	if err != nil {
		status, reason := a.formError(r, err, coop.ErrInvalidDomain)
		if errors.Is(err, coop.ErrNotFound) {
			status, reason = http.StatusNotFound, "There is no such block (lifted already?)."
		}
		a.renderBlocks(w, r, ctx, status, adminBlocksPage{Error: reason})
		return
	}
	redirectWith(w, r, "/admin/blocks", url.Values{"unblocked": {b.Target}})
}

// The delivery queue.

// deliveryLimit is how many rows the page lists, newest first.
const deliveryLimit = 100

type deliveryRow struct {
	coop.Delivery
	Host      string
	StateText string // the state in words: a queued one that failed is "failing"
	Last      string // the last outcome, short
	Next      string // when a queued one is due
	// Retryable: dead, or failing (a retry sends it now, its backoff
	// started again).
	Retryable bool
}

type stateTab struct {
	State, Label string
	Count        int
	Current      bool
	URL          string
}

type adminDeliveriesPage struct {
	Page
	Tabs   []stateTab
	State  string // "" for every state
	Label  string // the state listed, in words
	Title  string // the list's heading
	Rows   []deliveryRow
	Total  int // deliveries in the state listed
	Dead   int
	Limit  int
	Notice string
}

var stateLabels = map[coop.DeliveryState]string{coop.DeliveryQueued: "queued", coop.DeliveryInFlight: "in flight",
	coop.DeliveryDone: "done", coop.DeliveryDead: "dead"}

func (a *app) adminDeliveries(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.opsAdmin(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	state := coop.DeliveryState(q.Get("state"))
	if state != "" && !state.Valid() {
		a.fail(w, r, http.StatusBadRequest, "There is no such delivery state: queued, in_flight, done or dead.")
		return
	}
	queue, err := a.svc.DeliveryQueue(ctx, state, deliveryLimit)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	p := adminDeliveriesPage{Page: a.basePage(ctx, "Deliveries"), State: string(state), Label: "all", Limit: deliveryLimit,
		Dead: queue.Counts[coop.DeliveryDead]}
	all := 0
	for _, s := range coop.DeliveryStates {
		all += queue.Counts[s]
	}
	p.Tabs = append(p.Tabs, stateTab{Label: "all", Count: all, Current: state == "", URL: "/admin/deliveries"})
	p.Total = all
	for _, s := range coop.DeliveryStates {
		p.Tabs = append(p.Tabs, stateTab{State: string(s), Label: stateLabels[s], Count: queue.Counts[s], Current: s == state,
			URL: "/admin/deliveries?state=" + string(s)})
		if s == state {
			p.Label, p.Total = stateLabels[s], queue.Counts[s]
		}
	}
	p.Title = map[coop.DeliveryState]string{"": "All deliveries", coop.DeliveryQueued: "Queued deliveries",
		coop.DeliveryInFlight: "Deliveries in flight", coop.DeliveryDone: "Done deliveries", coop.DeliveryDead: "Dead deliveries"}[state]
	for _, d := range queue.Rows {
		failing := d.State == coop.DeliveryQueued && d.Attempts > 0
		row := deliveryRow{Delivery: d, Host: hostOf(d.Inbox), StateText: stateLabels[d.State], Last: lastOutcome(d),
			Retryable: d.State == coop.DeliveryDead || failing}
		if failing {
			row.StateText = "failing"
		}
		if d.State == coop.DeliveryQueued {
			row.Next = d.NextAttemptAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		p.Rows = append(p.Rows, row)
	}
	switch {
	case q.Get("retried") != "":
		p.Notice = "Delivery " + q.Get("retried") + " is queued again, due now."
	case q.Get("retried-dead") != "":
		n, _ := strconv.ParseInt(q.Get("retried-dead"), 10, 64)
		p.Notice = upperFirst(plural(n, "dead delivery is", "dead deliveries are")) + " queued again, due now."
	}
	a.render(w, r, http.StatusOK, "admindeliveries", p)
}

// lastOutcome is a delivery's last status and error, short.
func lastOutcome(d coop.Delivery) string {
	var parts []string
	if d.LastStatus != 0 {
		parts = append(parts, "HTTP "+strconv.Itoa(d.LastStatus))
	}
	if d.LastError != "" {
		msg := d.LastError
		if rs := []rune(msg); len(rs) > 120 {
			msg = string(rs[:120]) + "…"
		}
		parts = append(parts, msg)
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ": ")
}

// backTo is the deliveries page of the state the form was posted from.
func backTo(r *http.Request, q url.Values) {
	if s := coop.DeliveryState(r.PostFormValue("state")); s.Valid() {
		q.Set("state", string(s))
	}
}

func (a *app) adminRetryDelivery(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.opsAdmin(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		a.fail(w, r, http.StatusNotFound, "There is no such delivery.")
		return
	}
	switch err := a.svc.RetryDelivery(ctx, id); {
	case errors.Is(err, coop.ErrNotFound):
		a.fail(w, r, http.StatusNotFound, "There is no delivery "+strconv.FormatInt(id, 10)+".")
		return
	case errors.Is(err, coop.ErrNotRetryable):
		a.fail(w, r, http.StatusConflict, "Delivery "+strconv.FormatInt(id, 10)+" is done or being sent: only a dead or queued one is queued again.")
		return
	case err != nil:
		a.serveError(w, r, err)
		return
	}
	q := url.Values{"retried": {strconv.FormatInt(id, 10)}}
	backTo(r, q)
	redirectWith(w, r, "/admin/deliveries", q)
}

func (a *app) adminRetryDead(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.opsAdmin(w, r)
	if !ok {
		return
	}
	n, err := a.svc.RetryDeadDeliveries(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	q := url.Values{"retried-dead": {strconv.Itoa(n)}}
	backTo(r, q)
	redirectWith(w, r, "/admin/deliveries", q)
}
