package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/payout"
	"github.com/gorilla/mux"
)

// Payout rounds (issue 9): a project's rounds, the form that creates one,
// a round's page with its split, the second member's approval, the
// statement as CSV and JSON, and the verification against the decision
// log. Members-only, like the contributions (contributions.go).

type payoutRoundRow struct {
	coop.PayoutRound
	Budget  string
	Creator person
}

// roundForm is the "create a round" form's values.
type roundForm struct {
	From, To, Budget, Currency, Formula, Rate, Cap, Floor, Proposal string
}

type payoutsPage struct {
	Page
	Project   coop.Project
	Rounds    []payoutRoundRow
	Form      roundForm
	FormError string
	Formulas  []string
}

// payouts lists a project's rounds, with the form that creates one.
func (a *app) payouts(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok {
		return
	}
	today := time.Now().UTC()
	first := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	if first.Equal(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)) {
		first = first.AddDate(0, -1, 0)
	}
	a.renderPayouts(w, r, ctx, http.StatusOK, payoutsPage{Form: roundForm{From: first.Format(time.DateOnly),
		To: today.Format(time.DateOnly), Currency: "EUR", Formula: string(payout.Minutes)}})
}

func (a *app) renderPayouts(w http.ResponseWriter, r *http.Request, ctx context.Context, status int, p payoutsPage) {
	slug := mux.Vars(r)["slug"]
	pr, err := a.svc.Project(ctx, slug)
	if err != nil || pr.Removed() {
		a.fail(w, r, http.StatusNotFound, "There is no such project here.")
		return
	}
	rounds, err := a.svc.ListPayoutRounds(ctx, pr.Handle)
	if err != nil {
		a.contribFail(w, r, err)
		return
	}
	who, _, err := a.people(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	for _, rd := range rounds {
		p.Rounds = append(p.Rounds, payoutRoundRow{PayoutRound: rd, Budget: payout.FormatAmount(rd.Round.Budget, rd.Round.Currency), Creator: who.of(rd.CreatedBy)})
	}
	p.Page = a.basePage(ctx, "Payouts of "+pr.Name)
	p.Project, p.Formulas = pr, []string{string(payout.Minutes), string(payout.Points), string(payout.Equal)}
	a.render(w, r, status, "payouts", p)
}

// createPayout creates a draft round from the form and shows it, with its
// draft split.
func (a *app) createPayout(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok || !a.postForm(w, r, maxContributionForm) {
		return
	}
	slug := mux.Vars(r)["slug"]
	form := roundForm{}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"from", &form.From}, {"to", &form.To}, {"budget", &form.Budget}, {"currency", &form.Currency}, {"formula", &form.Formula},
		{"rate", &form.Rate}, {"cap", &form.Cap}, {"floor", &form.Floor}, {"proposal", &form.Proposal}} {
		*f.dst = strings.TrimSpace(r.PostFormValue(f.name))
	}
	again := func(status int, msg string) {
		a.renderPayouts(w, r, ctx, status, payoutsPage{Form: form, FormError: msg})
	}
	n := coop.NewPayoutRound{Project: slug, Budget: form.Budget, Currency: strings.ToUpper(form.Currency), Formula: form.Formula,
		Rate: form.Rate, Cap: form.Cap, Floor: form.Floor}
	var err error
	if n.From, err = time.Parse(time.DateOnly, form.From); err != nil {
		again(http.StatusBadRequest, "From: a date, YYYY-MM-DD.")
		return
	}
	if n.To, err = time.Parse(time.DateOnly, form.To); err != nil {
		again(http.StatusBadRequest, "To: a date, YYYY-MM-DD.")
		return
	}
	if form.Proposal != "" {
		if n.RequiresProposal, err = strconv.ParseInt(strings.TrimPrefix(form.Proposal, "#"), 10, 64); err != nil || n.RequiresProposal < 1 {
			again(http.StatusBadRequest, "Requires proposal: a proposal's number.")
			return
		}
	}
	rd, _, err := a.svc.CreatePayoutRound(ctx, n)
	if err != nil {
		if status, rule := contribStatus(err); rule {
			again(status, contribReason(err))
			return
		}
		a.serveError(w, r, err)
		return
	}
	http.Redirect(w, r, "/payouts/"+strconv.FormatInt(rd.ID, 10)+"?created=1", http.StatusSeeOther)
}

type splitLine struct {
	payout.Line
	Who   person
	Time  string
	Share string
}

type payoutPage struct {
	Page
	Round      coop.PayoutRound
	Project    coop.Project
	Budget     string
	Rate       string
	Cap        string
	Floor      string
	Creator    person
	Approver   person
	Lines      []splitLine
	Total      string
	Unalloc    string
	InputHash  string
	NoSplit    string
	CanApprove bool
	NoApprove  string
	Notice     string
	Error      string
	Verified   *coop.PayoutVerification
	Proposal   string
}

// roundID reads the {id} of a round's address.
func roundID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	return id, err == nil
}

// payoutRound is a round's page: its parameters, its split (final, or
// the draft now), the approval, the downloads and the verification.
func (a *app) payoutRound(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok {
		return
	}
	p := payoutPage{}
	switch {
	case r.URL.Query().Get("created") != "":
		p.Notice = "Round created as a draft. A second member approves it to make it final."
	case r.URL.Query().Get("approved") != "":
		p.Notice = "Round approved: it is final, and its statement is in the decision log."
	}
	a.renderRound(w, r, ctx, http.StatusOK, p)
}

func (a *app) renderRound(w http.ResponseWriter, r *http.Request, ctx context.Context, status int, p payoutPage) {
	id, ok := roundID(r)
	if !ok {
		a.fail(w, r, http.StatusNotFound, "There is no such payout round.")
		return
	}
	rd, st, err := a.svc.ShowPayoutRound(ctx, id)
	if err != nil && rd.ID == 0 {
		a.contribFail(w, r, err)
		return
	}
	if err != nil {
		// The round is there; its split is not (no approved records in
		// the period yet, no points).
		p.NoSplit = "No split yet: " + strings.TrimPrefix(strings.TrimPrefix(err.Error(), "coop: payout round "+strconv.FormatInt(id, 10)+": "), "payout: ") + "."
	}
	who, _, err := a.people(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	pr, err := a.svc.Project(ctx, rd.Project)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	cur := rd.Round.Currency
	amount := func(x payout.Amount) string {
		if x == 0 {
			return ""
		}
		return payout.FormatAmount(x, cur) + " " + cur.Code
	}
	p.Page = a.basePage(ctx, "Payout round "+strconv.FormatInt(rd.ID, 10))
	p.Round, p.Project, p.Budget, p.Rate, p.Cap, p.Floor = rd, pr, amount(rd.Round.Budget), amount(rd.Round.Rate), amount(rd.Round.Cap), amount(rd.Round.Floor)
	p.Creator, p.Approver = who.of(rd.CreatedBy), who.of(rd.ApprovedBy)
	if rd.RequiresProposal != 0 {
		p.Proposal = a.site.ProposalURL(rd.RequiresProposal)
	}
	if p.NoSplit == "" {
		for _, l := range st.Lines {
			p.Lines = append(p.Lines, splitLine{Line: l, Who: who.of(l.Contributor), Time: duration(l.Minutes), Share: payout.FormatAmount(l.Share, cur)})
		}
		p.Total, p.Unalloc = payout.FormatAmount(st.Total, cur)+" "+cur.Code, payout.FormatAmount(st.Unallocated, cur)+" "+cur.Code
		p.InputHash = rd.InputHash
	}
	if rd.State == coop.RoundDraft {
		if err := a.svc.CanApprovePayoutRound(ctx, rd); err != nil {
			p.NoApprove = contribReason(err)
		} else {
			p.CanApprove = true
		}
	}
	a.render(w, r, status, "payout", p)
}

// approvePayout makes a draft round final, for a second member; the
// creator is refused with the reason.
func (a *app) approvePayout(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok || !a.postForm(w, r, maxContributionForm) {
		return
	}
	id, ok := roundID(r)
	if !ok {
		a.fail(w, r, http.StatusNotFound, "There is no such payout round.")
		return
	}
	if _, _, err := a.svc.ApprovePayoutRound(ctx, id); err != nil {
		status, rule := contribStatus(err)
		if !rule {
			a.serveError(w, r, err)
			return
		}
		a.renderRound(w, r, ctx, status, payoutPage{Error: contribReason(err)})
		return
	}
	http.Redirect(w, r, "/payouts/"+strconv.FormatInt(id, 10)+"?approved=1", http.StatusSeeOther)
}

// verifyPayout recomputes a final round from the decision log and shows
// whether it matches, or the problems.
func (a *app) verifyPayout(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok {
		return
	}
	id, ok := roundID(r)
	if !ok {
		a.fail(w, r, http.StatusNotFound, "There is no such payout round.")
		return
	}
	v, err := a.svc.VerifyPayoutRound(ctx, id)
	if err != nil {
		a.contribFail(w, r, err)
		return
	}
	a.renderRound(w, r, ctx, http.StatusOK, payoutPage{Verified: &v})
}

// payoutStatement downloads a round's statement: CSV, or JSON — for a
// final round the stored bytes whose hash the decision log holds.
func (a *app) payoutStatement(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok {
		return
	}
	id, ok := roundID(r)
	if !ok {
		a.fail(w, r, http.StatusNotFound, "There is no such payout round.")
		return
	}
	rd, st, err := a.svc.ShowPayoutRound(ctx, id)
	if err != nil && rd.ID != 0 {
		a.fail(w, r, http.StatusConflict, "This round has no split yet: no statement to download.")
		return
	}
	if err != nil {
		a.contribFail(w, r, err)
		return
	}
	format := mux.Vars(r)["format"]
	var body []byte
	h := w.Header()
	switch {
	case format == "csv":
		body = st.CSV()
		h.Set("Content-Type", "text/csv; charset=utf-8")
	case rd.State == coop.RoundFinal:
		body = rd.Statement
		h.Set("Content-Type", "application/json")
	default:
		body = st.JSON()
		h.Set("Content-Type", "application/json")
	}
	name := "payout-" + strconv.FormatInt(rd.ID, 10) + "-" + rd.State + "." + format
	h.Set("Content-Disposition", `attachment; filename="`+url.PathEscape(name)+`"`)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
