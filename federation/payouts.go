package federation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/payout"
	"github.com/gorilla/mux"
)

// A final payout round travels like the records it splits (see
// contributions.go): pay is members-only, so its Create{Note} goes from
// the project's Group only to the remote actors who take part (the
// project's remote maintainers and the round's remote contributors),
// never to the public or the followers, and not into the outbox. The
// Note's id is the round's URL; coop:payout carries the round, its
// shares and the hashes its decision-log record holds, so that a peer can
// check it.

// payoutTerms is the coop:payout object of a final round.
func payoutTerms(site coop.Site, r coop.PayoutRound, st payout.Statement) map[string]any {
	sh := sha256.Sum256(r.Statement)
	shares := make([]any, 0, len(st.Lines))
	for _, l := range st.Lines {
		shares = append(shares, map[string]any{
			"coop:contributor": l.Contributor,
			"coop:records":     l.Records,
			"coop:minutes":     l.Minutes,
			"coop:points":      l.Points,
			"coop:share":       payout.FormatAmount(l.Share, st.Round.Currency),
		})
	}
	m := map[string]any{
		"coop:number":        r.ID,
		"coop:project":       site.ActorID(r.Project),
		"coop:from":          r.From.Format(time.DateOnly),
		"coop:to":            r.To.Format(time.DateOnly),
		"coop:budget":        payout.FormatAmount(r.Round.Budget, r.Round.Currency),
		"coop:currency":      r.Round.Currency.Code,
		"coop:formula":       string(r.Round.Formula),
		"coop:total":         payout.FormatAmount(st.Total, st.Round.Currency),
		"coop:unallocated":   payout.FormatAmount(st.Unallocated, st.Round.Currency),
		"coop:shares":        shares,
		"coop:inputHash":     "sha256:" + r.InputHash,
		"coop:statementHash": "sha256:" + hex.EncodeToString(sh[:]),
		"coop:logIndex":      r.FinalLogIndex,
		"coop:approvedBy":    r.ApprovedBy,
		"coop:createdBy":     r.CreatedBy,
	}
	if r.Round.Rate != 0 {
		m["coop:rate"] = payout.FormatAmount(r.Round.Rate, r.Round.Currency)
	}
	if r.Round.Cap != 0 {
		m["coop:cap"] = payout.FormatAmount(r.Round.Cap, r.Round.Currency)
	}
	if r.Round.Floor != 0 {
		m["coop:floor"] = payout.FormatAmount(r.Round.Floor, r.Round.Currency)
	}
	return m
}

// payoutHTML is the readable text of a final round.
func (p *Publisher) payoutHTML(ctx context.Context, tx coop.Tx, r coop.PayoutRound, st payout.Statement) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<p>Payout round %d of %s is final: %s %s by %s, %s to %s.</p><ul>", r.ID, html.EscapeString(r.Project),
		payout.FormatAmount(st.Total, st.Round.Currency), r.Round.Currency.Code, r.Round.Formula,
		r.From.Format(time.DateOnly), r.To.Format(time.DateOnly))
	for _, l := range st.Lines {
		fmt.Fprintf(&b, "<li>%s: %s</li>", html.EscapeString(p.contributorName(ctx, tx, l.Contributor)), payout.FormatAmount(l.Share, st.Round.Currency))
	}
	fmt.Fprintf(&b, "</ul><p>Check it: <code>coopfed payout verify %d</code> on the node; decision-log record %d.</p>", r.ID, r.FinalLogIndex)
	return b.String()
}

// PublishPayout implements coop.Publisher.
func (p *Publisher) PublishPayout(ctx context.Context, tx coop.Tx, project coop.Project, r coop.PayoutRound, st payout.Statement, at time.Time) error {
	if !strings.EqualFold(project.Handle, r.Project) {
		return fmt.Errorf("federation: payout round %d is of %q, not %q", r.ID, r.Project, project.Handle)
	}
	contributors := make([]string, 0, len(st.Lines))
	for _, l := range st.Lines {
		contributors = append(contributors, l.Contributor)
	}
	who, err := p.participants(ctx, tx, project, contributors)
	if err != nil || len(who) == 0 {
		return err
	}
	to, inboxes := addressed(who)
	url := r.URL(p.site)
	n := contributionNote{id: url, group: p.site.ActorID(r.Project), to: to, content: p.payoutHTML(ctx, tx, r, st),
		published: r.Finalized, activityType: "Create", activityID: url + "#create"}
	m, err := n.activity()
	if err != nil {
		return err
	}
	m["object"].(map[string]any)["coop:payout"] = payoutTerms(p.site, r, st)
	body, err := marshalDocument(m)
	if err != nil {
		return err
	}
	return tx.EnqueueDeliveries(ctx, project.ID, n.activityID, body, inboxes, at)
}

// PayoutOpener serves a final payout round's openings (coop.Service):
// the principal in ctx is the signer of the request.
type PayoutOpener interface {
	PayoutOpenings(ctx context.Context, id int64) (coop.PayoutOpening, error)
}

// servePayoutOpenings answers GET /payouts/{id}/openings: the openings of
// a final round's commitments, which only the node's members and the
// co-ops of its federation may read, so the request must be signed (as
// Mastodon's authorized fetch signs a GET: (request-target), host, date)
// by an actor whose key verifies; coop decides who may read.
func (s *Server) servePayoutOpenings(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil || id < 1 {
		failJSON(w, http.StatusNotFound, "no payout round here")
		return
	}
	checked, err := sig.Check(r, nil, sig.VerifyOptions{Host: s.site.Host, Now: s.now(), Skew: s.dateSkew})
	if err != nil {
		failJSON(w, http.StatusUnauthorized, "a payout round's openings are for members and the federation's co-ops: sign the request (HTTP signature: "+err.Error()+")")
		return
	}
	owner, key, err := s.fetcher.KeyFor(ctx, checked.KeyID(), false)
	if err == nil {
		err = checked.VerifyKey(key)
	}
	if err != nil {
		failJSON(w, http.StatusUnauthorized, "HTTP signature with key "+checked.KeyID()+": "+err.Error())
		return
	}
	ctx = coop.WithPrincipal(ctx, coop.Principal{ID: owner.ID, Channel: ledger.ChannelPeer})
	o, err := s.payouts.PayoutOpenings(ctx, id)
	switch {
	case errors.Is(err, coop.ErrNotAllowed):
		failJSON(w, http.StatusForbidden, err.Error())
		return
	case errors.Is(err, coop.ErrNotFound):
		failJSON(w, http.StatusNotFound, fmt.Sprintf("no final payout round %d here", id))
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	body, err := json.Marshal(o)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "private, no-store")
	w.Write(body)
}
