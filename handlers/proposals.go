package handlers

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
	"github.com/gorilla/mux"
)

// The proposal pages (issue 9): the list, the form that opens one, and a
// proposal's page with its ballot form, the proposer's withdraw and
// extend forms, and after the close its outcome drawn as inline SVG.
// Every form works without JavaScript: a ranking is reordered by "up" and
// "down" submit buttons, the order kept in hidden fields.

func (a *app) proposalRoutes(r *mux.Router) {
	r.HandleFunc("/proposals", a.proposalList).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/proposals/new", a.proposalForm).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/proposals/new", a.proposalCreate).Methods(http.MethodPost)
	r.HandleFunc("/proposals/{num:[0-9]+}", a.proposal).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/proposals/{num:[0-9]+}/vote", a.proposalVote).Methods(http.MethodPost)
	r.HandleFunc("/proposals/{num:[0-9]+}/withdraw", a.proposalWithdraw).Methods(http.MethodPost)
	r.HandleFunc("/proposals/{num:[0-9]+}/extend", a.proposalExtend).Methods(http.MethodPost)
}

// ruleError answers a refused change with its reason: not allowed 403,
// a proposal's state 409, an invalid input 400; anything else as
// serveError does.
func (a *app) ruleError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, coop.ErrNotAllowed):
		a.fail(w, r, http.StatusForbidden, reasonOf(err, coop.ErrNotAllowed))
	case errors.Is(err, governance.ErrClosed), errors.Is(err, governance.ErrNotOpen), errors.Is(err, governance.ErrNotLater):
		a.fail(w, r, http.StatusConflict, "Refused: "+reasonOf(err, nil))
	case errors.Is(err, governance.ErrInvalidProposal):
		a.fail(w, r, http.StatusBadRequest, reasonOf(err, nil))
	default:
		a.serveError(w, r, err)
	}
}

// reasonOf is an error's text without its "coop: vote on proposal N: "
// context; from the sentinel's detail on when it has one.
func reasonOf(err error, sentinel error) string {
	s := err.Error()
	if sentinel != nil {
		if i := strings.Index(s, sentinel.Error()+": "); i >= 0 {
			return upperFirst(s[i+len(sentinel.Error())+2:])
		}
	}
	return upperFirst(coopContext.ReplaceAllString(s, ""))
}

// coopContext is the context coop's use cases put before an error.
var coopContext = regexp.MustCompile(`^coop: [^:]*: `)

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func proposalNum(r *http.Request) (int64, bool) {
	n, err := strconv.ParseInt(mux.Vars(r)["num"], 10, 64)
	return n, err == nil
}

// memberOnProposal checks a member's POST on the proposal of the path:
// the proposal's number (404 when there is none), the member and the
// form; ok is false after a response was written.
func (a *app) memberOnProposal(w http.ResponseWriter, r *http.Request) (context.Context, int64, bool) {
	num, ok := proposalNum(r)
	if !ok {
		a.serveError(w, r, coop.ErrNotFound)
		return nil, 0, false
	}
	_, ctx, ok := a.member(w, r)
	if !ok || !a.postForm(w, r, maxProposalForm) {
		return nil, 0, false
	}
	return ctx, num, true
}

func proposalPath(num int64) string { return "/proposals/" + strconv.FormatInt(num, 10) }

// The list.

type proposalItem struct {
	Num                 int64
	Title, Group, State string
	Method              string
	OpensAt, ClosesAt   time.Time
	URL, GroupURL       string
}

type proposalListPage struct {
	Page
	Needs, Open, Closed []proposalItem
	SignedIn            bool
}

func (a *app) item(p coop.Proposal) proposalItem {
	return proposalItem{Num: p.Num, Title: p.Title, Group: p.Group, State: p.State.String(), Method: string(p.Method),
		OpensAt: p.OpensAt, ClosesAt: p.ClosesAt, URL: proposalPath(p.Num), GroupURL: a.site.ProfileURL(p.Group)}
}

// proposalList lists the proposals: those waiting for the signed-in
// member's vote, the open ones, then the closed and withdrawn ones.
func (a *app) proposalList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ps, err := a.svc.ListProposals(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	page := proposalListPage{Page: a.basePage(ctx, "Proposals")}
	for _, p := range ps {
		if p.State == governance.Open {
			page.Open = append(page.Open, a.item(p))
		} else {
			page.Closed = append(page.Closed, a.item(p))
		}
	}
	if v := viewerOf(r); v != nil && !v.Session.MustChange {
		page.SignedIn = true
		needs, err := a.svc.NeedsMyVote(coop.WithPrincipal(ctx, a.svc.WebPrincipal(v.Member)))
		if err != nil {
			a.serveError(w, r, err)
			return
		}
		for _, p := range needs {
			page.Needs = append(page.Needs, a.item(p))
		}
	}
	a.render(w, r, http.StatusOK, "proposals", page)
}

// The form that opens a proposal.

// proposalInput is the new-proposal form as typed, kept to show again.
type proposalInput struct {
	Group, Title, Body, Options, Method string
	ScoreMin, ScoreMax                  string
	ClosesIn, ClosesUnit                string
	Quorum, Threshold                   string
	HideCounts                          bool
}

type proposalFormPage struct {
	Page
	In      proposalInput
	Groups  []coop.Actor
	Preview template.HTML
	// Errors by field ("" for the form as a whole).
	Errors  map[string]string
	Methods []string
}

func defaultProposalInput() proposalInput {
	return proposalInput{Group: coop.CoopGroup, Method: string(governance.SingleChoice), ScoreMin: "0", ScoreMax: "5",
		ClosesIn: "7", ClosesUnit: "days", Quorum: "1/2", Threshold: string(governance.Majority)}
}

func (a *app) proposalFormPage(ctx context.Context, in proposalInput) (proposalFormPage, error) {
	groups, err := a.svc.ProposalGroups(ctx)
	if err != nil {
		return proposalFormPage{}, err
	}
	return proposalFormPage{Page: a.basePage(ctx, "New proposal"), In: in, Groups: groups, Errors: map[string]string{},
		Methods: []string{"single", "approval", "irv", "schulze", "score", "consent"}}, nil
}

func (a *app) proposalForm(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok {
		return
	}
	page, err := a.proposalFormPage(ctx, defaultProposalInput())
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "proposalnew", page)
}

// parseOptions reads the options textarea: one a line, KEY=Label or a
// label alone, whose key is made from it.
func parseOptions(text string) []governance.Option {
	var out []governance.Option
	used := map[string]bool{}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		key, label, ok := strings.Cut(line, "=")
		key, label = strings.TrimSpace(key), strings.TrimSpace(label)
		if !ok || !governance.ValidKey(key) || label == "" {
			key, label = keyOf(line), line
		}
		if used[key] || !governance.ValidKey(key) {
			key = "option-" + strconv.Itoa(len(out)+1)
		}
		used[key] = true
		out = append(out, governance.Option{Key: key, Label: label})
	}
	return out
}

// keyOf makes an option key from a label: lower case letters and digits,
// the rest as single dashes.
func keyOf(label string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(label) {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(c)
		default:
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return b.String()
}

// parseQuorum reads "N/D", "N%" or "0".
func parseQuorum(s string) (governance.Ratio, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return governance.Ratio{}, true
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64)
		return governance.Ratio{Num: n, Den: 100}, err == nil
	}
	n, d, ok := strings.Cut(s, "/")
	num, err1 := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
	den, err2 := strconv.ParseInt(strings.TrimSpace(d), 10, 64)
	return governance.Ratio{Num: num, Den: den}, ok && err1 == nil && err2 == nil
}

// parseDuration reads a number of hours or days (closes in, extend by).
func parseDuration(n, unit string) (time.Duration, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
	if err != nil || v <= 0 || v > 3660 {
		return 0, false
	}
	d := time.Duration(v * float64(time.Hour))
	if unit == "days" {
		d *= 24
	}
	return d, d >= time.Minute
}

// proposalCreate opens the proposal the form describes, or shows the
// form again with its errors or its preview.
func (a *app) proposalCreate(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok || !a.postForm(w, r, maxProposalForm) {
		return
	}
	f := r.PostForm
	in := proposalInput{Group: f.Get("group"), Title: f.Get("title"), Body: f.Get("body"), Options: f.Get("options"),
		Method: f.Get("method"), ScoreMin: f.Get("score_min"), ScoreMax: f.Get("score_max"), ClosesIn: f.Get("closes_in"),
		ClosesUnit: f.Get("closes_unit"), Quorum: f.Get("quorum"), Threshold: f.Get("threshold"), HideCounts: f.Get("hide_counts") != ""}
	page, err := a.proposalFormPage(ctx, in)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	if f.Get("preview") != "" {
		page.Preview = markdown(in.Body)
		a.render(w, r, http.StatusOK, "proposalnew", page)
		return
	}
	n := coop.NewProposal{Group: in.Group, Title: in.Title, Body: in.Body, Method: governance.Method(in.Method),
		Threshold: governance.Threshold(in.Threshold), HideCounts: in.HideCounts}
	if n.Method != governance.Consent || strings.TrimSpace(in.Options) != "" {
		n.Options = parseOptions(in.Options)
	}
	if n.Method == governance.Score {
		lo, err1 := strconv.Atoi(strings.TrimSpace(in.ScoreMin))
		hi, err2 := strconv.Atoi(strings.TrimSpace(in.ScoreMax))
		if err1 != nil || err2 != nil {
			page.Errors["score"] = "The lowest and highest scores are whole numbers."
		}
		n.ScoreMin, n.ScoreMax = lo, hi
	}
	var okQ, okD bool
	if n.Quorum, okQ = parseQuorum(in.Quorum); !okQ {
		page.Errors["quorum"] = "Write the quorum as a share of the eligible voters: 1/2, 2/3 or 50%, or 0 for none."
	}
	if n.ClosesIn, okD = parseDuration(in.ClosesIn, in.ClosesUnit); !okD {
		page.Errors["closes_at"] = "Closes in: a positive number of hours or days."
	}
	if strings.TrimSpace(in.Title) == "" {
		page.Errors["title"] = "A proposal needs a title."
	}
	if len(page.Errors) == 0 {
		p, err := a.svc.OpenProposal(ctx, n)
		if err == nil {
			http.Redirect(w, r, proposalPath(p.Num), http.StatusSeeOther)
			return
		}
		var pe *governance.ProposalError
		switch {
		case errors.As(err, &pe):
			field := pe.Field
			if field == "score" || field == "options" || field == "threshold" || field == "quorum" || field == "title" || field == "method" || field == "closes_at" {
				page.Errors[field] = upperFirst(pe.Detail) + "."
			} else {
				page.Errors[""] = upperFirst(pe.Detail) + "."
			}
		case errors.Is(err, coop.ErrNotAllowed):
			page.Errors["group"] = reasonOf(err, coop.ErrNotAllowed) + "."
			a.render(w, r, http.StatusForbidden, "proposalnew", page)
			return
		case errors.Is(err, coop.ErrInvalidInput):
			page.Errors["group"] = reasonOf(err, coop.ErrInvalidInput) + "."
		case errors.Is(err, coop.ErrGone):
			page.Errors["group"] = reasonOf(err, coop.ErrGone) + "."
		default:
			a.serveError(w, r, err)
			return
		}
	}
	if page.Errors[""] == "" {
		page.Errors[""] = "The proposal was not opened: see what to change below."
	}
	a.render(w, r, http.StatusBadRequest, "proposalnew", page)
}

// A proposal's page.

type proposalPage struct {
	Page
	View       coop.ProposalView
	GroupName  string
	GroupURL   string
	ReceiptURL string
	// Member is true when a member is signed in; Me is where they stand.
	Member bool
	Me     coop.MyVote
	// MyBallot is the member's standing ballot as the command line
	// writes it; MyReceipt its record's receipt page.
	MyBallot  string
	MyReceipt string
	Ballot    ballotForm
	// Refused is the reason a ballot just sent was refused; Notice what
	// was done.
	Refused string
	Notice  string
	Chart   template.HTML
	Rounds  []roundRow
	// Discussion is the replies, oldest first (discussion.go);
	// ReplyText and ReplyError a refused reply's text and reason.
	Discussion []discussionReply
	ReplyText  string
	ReplyError string
}

// ballotForm is the ballot form's state: by method, the option chosen,
// the options approved, the ranking, the scores, the stance.
type ballotForm struct {
	Method             string
	Options            []ballotOption
	Stance             string
	ScoreMin, ScoreMax int
	// Focus is the reorder button to focus after a move ("up-KEY").
	Focus string
}

type ballotOption struct {
	Key, Label string
	Checked    bool
	Score      int
	Rank       int // 1-based position in a ranking
	First      bool
	Last       bool
}

// roundRow is one instant-runoff round as the table shows it.
type roundRow struct {
	N          int
	Votes      []governance.OptionCount
	Exhausted  int
	Eliminated string
}

// newBallotForm fills the form from a standing ballot (or the proposal's
// order for a new one).
func newBallotForm(p coop.Proposal, b *coop.StoredBallot) ballotForm {
	f := ballotForm{Method: string(p.Method), ScoreMin: p.ScoreMin, ScoreMax: p.ScoreMax}
	opts := slices.Clone(p.Options)
	chosen := map[string]bool{}
	scores := map[string]int{}
	if b != nil && !b.Abstain {
		for _, c := range b.Choices {
			chosen[c] = true
		}
		for _, rt := range b.Ratings {
			scores[rt.Option] = rt.Value
		}
		if b.Stance != governance.NoStance {
			f.Stance = b.Stance.String()
		}
		if p.Method == governance.InstantRunoff || p.Method == governance.Schulze {
			// The ranking first, the options it leaves out after.
			opts = reorder(p.Options, b.Choices)
		}
	}
	for _, o := range opts {
		sc, ok := scores[o.Key]
		if !ok {
			sc = p.ScoreMin
		}
		f.Options = append(f.Options, ballotOption{Key: o.Key, Label: o.Label, Checked: chosen[o.Key], Score: sc})
	}
	f.number()
	return f
}

func (f *ballotForm) number() {
	for i := range f.Options {
		f.Options[i].Rank, f.Options[i].First, f.Options[i].Last = i+1, i == 0, i == len(f.Options)-1
	}
}

// reorder puts the options in the order of keys (unknown keys and
// repeats ignored), the options keys leaves out after, in their order.
func reorder(options []governance.Option, keys []string) []governance.Option {
	var out []governance.Option
	done := map[string]bool{}
	for _, k := range keys {
		for _, o := range options {
			if o.Key == k && !done[k] {
				out, done[k] = append(out, o), true
			}
		}
	}
	for _, o := range options {
		if !done[o.Key] {
			out = append(out, o)
		}
	}
	return out
}

func (a *app) proposal(w http.ResponseWriter, r *http.Request) {
	num, ok := proposalNum(r)
	if !ok {
		a.serveError(w, r, coop.ErrNotFound)
		return
	}
	page, err := a.proposalPage(r, num)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	switch r.URL.Query().Get("done") {
	case "cast":
		page.Notice = "Your ballot was cast."
	case "replaced":
		page.Notice = "Your ballot replaced your earlier one."
	case "extended":
		page.Notice = "The deadline was moved."
	case "withdrawn":
		page.Notice = "You withdrew this proposal."
	case "replied":
		page.Notice = "Your reply was published."
	}
	a.render(w, r, http.StatusOK, "proposal", page)
}

// proposalPage reads proposal num as the request's viewer sees it.
func (a *app) proposalPage(r *http.Request, num int64) (proposalPage, error) {
	ctx := r.Context()
	v, err := a.svc.ShowProposal(ctx, num)
	if err != nil {
		return proposalPage{}, err
	}
	p := proposalPage{Page: a.basePage(ctx, v.Title), View: v, GroupName: v.Group, GroupURL: a.site.ProfileURL(v.Group)}
	if g, err := a.svc.Actor(ctx, v.Group); err == nil {
		p.GroupName = g.Name
	}
	if v.Outcome != nil {
		p.ReceiptURL = "/log/receipt/" + strconv.FormatInt(v.Outcome.LogIndex, 10)
	}
	if vw := viewerOf(r); vw != nil && !vw.Session.MustChange {
		p.Member = true
		if p.Me, err = a.svc.MyVote(coop.WithPrincipal(ctx, a.svc.WebPrincipal(vw.Member)), num); err != nil {
			return proposalPage{}, err
		}
		if b := p.Me.Ballot; b != nil {
			p.MyBallot = strings.Join(governance.FormatBallot(b.Ballot), " ")
			p.MyReceipt = "/log/receipt/" + strconv.FormatInt(b.LogIndex, 10)
		}
	}
	p.Ballot = newBallotForm(v.Proposal, p.Me.Ballot)
	if p.Discussion, err = a.discussion(ctx, num); err != nil {
		return proposalPage{}, err
	}
	if c := v.Counts; c != nil {
		p.Chart = outcomeChart(v.Num, v.Options, c)
		for i, rd := range c.Rounds {
			p.Rounds = append(p.Rounds, roundRow{N: i + 1, Votes: rd.Votes, Exhausted: rd.Exhausted, Eliminated: strings.Join(rd.Eliminated, ", ")})
		}
	}
	return p, nil
}

// ballotArgs writes the ballot form as the command line writes a ballot
// (governance.ParseBallot reads it in coop).
func ballotArgs(p coop.Proposal, f url.Values) []string {
	if f.Get("abstain") != "" {
		return []string{"abstain"}
	}
	switch p.Method {
	case governance.SingleChoice:
		return []string{f.Get("choice")}
	case governance.Approval:
		return f["choice"]
	case governance.InstantRunoff, governance.Schulze:
		return f["rank"]
	case governance.Score:
		var out []string
		for _, o := range p.Options {
			out = append(out, o.Key+"="+strings.TrimSpace(f.Get("score-"+o.Key)))
		}
		return out
	case governance.Consent:
		return []string{f.Get("stance")}
	}
	return nil
}

// proposalVote casts the member's ballot, or moves an option of a
// ranking up or down and shows the form again.
func (a *app) proposalVote(w http.ResponseWriter, r *http.Request) {
	ctx, num, ok := a.memberOnProposal(w, r)
	if !ok {
		return
	}
	page, err := a.proposalPage(r, num)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	prop := page.View.Proposal
	if move := r.PostForm.Get("move"); move != "" {
		dir, key, _ := strings.Cut(move, ":")
		order := reorder(prop.Options, r.PostForm["rank"])
		i := slices.IndexFunc(order, func(o governance.Option) bool { return o.Key == key })
		switch {
		case i > 0 && dir == "up":
			order[i-1], order[i] = order[i], order[i-1]
		case i >= 0 && i < len(order)-1 && dir == "down":
			order[i], order[i+1] = order[i+1], order[i]
		}
		page.Ballot.Options = page.Ballot.Options[:0]
		for _, o := range order {
			page.Ballot.Options = append(page.Ballot.Options, ballotOption{Key: o.Key, Label: o.Label})
		}
		page.Ballot.number()
		page.Ballot.Focus = dir + "-" + key
		// A move at the top (or bottom) keeps the focus on a button
		// that still exists.
		if j := slices.IndexFunc(order, func(o governance.Option) bool { return o.Key == key }); (dir == "up" && j == 0) || (dir == "down" && j == len(order)-1) {
			page.Ballot.Focus = map[string]string{"up": "down", "down": "up"}[dir] + "-" + key
		}
		a.render(w, r, http.StatusOK, "proposal", page)
		return
	}
	args := ballotArgs(prop, r.PostForm)
	if len(args) == 1 && args[0] == "" {
		// Nothing chosen is no ballot yet (a browser's required field
		// says so before sending): nothing to record.
		page.Refused = "Choose an answer first, or abstain."
		a.render(w, r, http.StatusBadRequest, "proposal", page)
		return
	}
	res, err := a.svc.Vote(ctx, num, args)
	var refused *coop.RefusedError
	switch {
	case errors.As(err, &refused):
		if page, err = a.proposalPage(r, num); err != nil { // the refusal is listed now
			a.serveError(w, r, err)
			return
		}
		page.Refused = refusalText(refused)
		status := http.StatusUnprocessableEntity
		switch refused.Reason {
		case governance.ReasonNotEligible:
			status = http.StatusForbidden
		case governance.ReasonClosed, governance.ReasonNotOpen:
			status = http.StatusConflict
		}
		a.render(w, r, status, "proposal", page)
		return
	case err != nil:
		a.ruleError(w, r, err)
		return
	}
	done := "cast"
	if res.Replaced {
		done = "replaced"
	}
	http.Redirect(w, r, proposalPath(num)+"?done="+done+"#your-ballot", http.StatusSeeOther)
}

// refusalReasons say in words what a refusal's code means.
var refusalReasons = map[string]string{
	governance.ReasonClosed:        "the proposal is closed: its deadline passed",
	governance.ReasonNotOpen:       "the proposal is not open",
	governance.ReasonNotEligible:   "you are not one of this proposal's voters (they were fixed when it opened)",
	governance.ReasonUnknownOption: "the ballot names an option the proposal does not have",
	governance.ReasonInvalidBallot: "the ballot does not fit the method",
	governance.ReasonAlreadyVoted:  "you already voted",
}

func refusalText(e *coop.RefusedError) string {
	s, ok := refusalReasons[e.Reason]
	if !ok {
		s = e.Reason
	}
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return fmt.Sprintf("Your ballot was refused: %s. The refusal is counted and recorded as record %d of the decision log.", s, e.LogIndex)
}

func (a *app) proposalWithdraw(w http.ResponseWriter, r *http.Request) {
	ctx, num, ok := a.memberOnProposal(w, r)
	if !ok {
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		a.fail(w, r, http.StatusBadRequest, "Tick the box that confirms the withdrawal: it cannot be undone.")
		return
	}
	if _, err := a.svc.WithdrawProposal(ctx, num); err != nil {
		a.ruleError(w, r, err)
		return
	}
	http.Redirect(w, r, proposalPath(num)+"?done=withdrawn", http.StatusSeeOther)
}

func (a *app) proposalExtend(w http.ResponseWriter, r *http.Request) {
	ctx, num, ok := a.memberOnProposal(w, r)
	if !ok {
		return
	}
	d, ok := parseDuration(r.PostForm.Get("closes_in"), r.PostForm.Get("closes_unit"))
	if !ok {
		a.fail(w, r, http.StatusBadRequest, "Closes in: a positive number of hours or days.")
		return
	}
	if _, err := a.svc.ExtendProposal(ctx, num, d); err != nil {
		a.ruleError(w, r, err)
		return
	}
	http.Redirect(w, r, proposalPath(num)+"?done=extended", http.StatusSeeOther)
}
