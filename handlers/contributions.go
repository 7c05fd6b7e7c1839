package handlers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/githistory"
	"github.com/gorilla/mux"
)

// Contributions and payouts (issue 9): a project's contribution records,
// the form that records one, the maintainers' approve and reject buttons,
// the import of a git history, and the payout rounds (payouts.go). Hours,
// points, notes and pay are members-only: every page and form here asks
// coop, which refuses a principal who is no member; a visitor is sent to
// sign in and shown nothing of them, not even that records exist.

// contributionRoutes registers the contributions and payouts pages.
func (a *app) contributionRoutes(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	r.HandleFunc("/projects/{slug}/contributions", a.contributions).Methods(get...)
	r.HandleFunc("/projects/{slug}/contributions", a.recordContribution).Methods(http.MethodPost)
	r.HandleFunc("/projects/{slug}/contributions/import", a.importContributions).Methods(http.MethodPost)
	r.HandleFunc("/contributions/{id:[0-9]+}/decision", a.decideContribution).Methods(http.MethodPost)
	r.HandleFunc("/projects/{slug}/payouts", a.payouts).Methods(get...)
	r.HandleFunc("/projects/{slug}/payouts", a.createPayout).Methods(http.MethodPost)
	r.HandleFunc("/payouts/{id:[0-9]+}", a.payoutRound).Methods(get...)
	r.HandleFunc("/payouts/{id:[0-9]+}/approve", a.approvePayout).Methods(http.MethodPost)
	r.HandleFunc("/payouts/{id:[0-9]+}/verify", a.verifyPayout).Methods(get...)
	r.HandleFunc("/payouts/{id:[0-9]+}/statement.{format:csv|json}", a.payoutStatement).Methods(get...)
}

// contribStatus is the status a use case's error calls for, and whether
// it is a rule's refusal (its reason shown) rather than a failure.
func contribStatus(err error) (int, bool) {
	switch {
	case errors.Is(err, coop.ErrNotAllowed):
		return http.StatusForbidden, true
	case errors.Is(err, coop.ErrNotFound):
		return http.StatusNotFound, true
	case errors.Is(err, coop.ErrGone):
		return http.StatusGone, true
	case errors.Is(err, coop.ErrInvalidInput), errors.Is(err, coop.ErrNotMember), errors.Is(err, githistory.ErrNotRepository),
		errors.Is(err, githistory.ErrUnknownRef), errors.Is(err, githistory.ErrNoHead):
		return http.StatusBadRequest, true
	}
	return http.StatusInternalServerError, false
}

// contribReason is a rule error's reason as a sentence: what follows the
// named error in its text ("coop: ...: not allowed: a maintainer never
// ..." gives "A maintainer never ...").
func contribReason(err error) string {
	msg := err.Error()
	for _, e := range []error{coop.ErrNotAllowed, coop.ErrInvalidInput, coop.ErrNotFound, coop.ErrGone, coop.ErrNotMember} {
		if i := strings.LastIndex(msg, e.Error()+": "); i >= 0 && errors.Is(err, e) {
			msg = msg[i+len(e.Error())+2:]
			break
		}
	}
	msg = cliHint.ReplaceAllString(strings.TrimPrefix(msg, "coop: "), "")
	if msg == "" {
		return "Refused."
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

// cliHint is a command-line flag a rule's reason names for the CLI
// ("(--reason)", "(--as NAME)"): no use on a page.
var cliHint = regexp.MustCompile(`\s*\(--[^)]*\)`)

// contribFail answers a use case's error: a refusal with its reason, or a
// failure (logged, generic).
func (a *app) contribFail(w http.ResponseWriter, r *http.Request, err error) {
	if status, rule := contribStatus(err); rule {
		a.fail(w, r, status, contribReason(err))
		return
	}
	a.serveError(w, r, err)
}

// person is a contributor as the pages show them: a member here by name,
// linked to their page, or a remote actor by URL.
type person struct {
	Name, URL string
}

// people names the actors of the pages: the members here, by actor URI.
type people map[string]person

func (a *app) people(ctx context.Context) (people, []coop.Member, error) {
	ms, err := a.svc.Members(ctx)
	if err != nil {
		return nil, nil, err
	}
	p := people{}
	var live []coop.Member
	for _, m := range ms {
		p[a.site.ActorID(m.Handle)] = person{Name: m.Handle, URL: a.site.ProfileURL(m.Handle)}
		if !m.Removed() {
			live = append(live, m)
		}
	}
	return p, live, nil
}

func (p people) of(uri string) person {
	if x, ok := p[uri]; ok {
		return x
	}
	return person{Name: uri, URL: uri}
}

// duration writes minutes as hours and minutes ("2 h 05").
func duration(min int64) string {
	if min == 0 {
		return "—"
	}
	return strconv.FormatInt(min/60, 10) + " h " + strconv.FormatInt(min%60/10, 10) + strconv.FormatInt(min%10, 10)
}

type contributionRow struct {
	coop.Contribution
	Who       person
	Time      string
	CanDecide bool
}

// contributionFilter is the list's filter as the GET form gives it.
type contributionFilter struct {
	Status, Member, Kind, From, To string
}

// recordForm is the "record a contribution" form's values, kept when it
// is shown again with an error.
type recordForm struct {
	Kind, Hours, Minutes, Points, Evidence, Day, Note, Contributor string
}

type importForm struct {
	Path, Ref, Since, Until, Points string
}

type contributionsPage struct {
	Page
	Project    coop.Project
	Filter     contributionFilter
	Statuses   []string
	Kinds      []string
	Members    []coop.Member
	Me         string
	Records    []contributionRow
	TotalTime  string
	TotalPts   int64
	Form       recordForm
	FormError  string
	Import     importForm
	ImportErr  string
	Imported   *coop.HistoryImport
	Unmatched  []string
	Notice     string
	FilterNote string
}

// contributions lists a project's records, filtered by the GET form.
func (a *app) contributions(w http.ResponseWriter, r *http.Request) {
	v, ctx, ok := a.member(w, r)
	if !ok {
		return
	}
	p := contributionsPage{Form: recordForm{Kind: coop.KindCode, Day: time.Now().UTC().Format(time.DateOnly)},
		Import: importForm{Points: "1"}}
	if r.URL.Query().Get("recorded") != "" {
		p.Notice = "Recorded, pending a maintainer's approval."
	}
	if r.URL.Query().Get("decided") != "" {
		p.Notice = "Decision recorded."
	}
	a.renderContributions(w, r, ctx, v, http.StatusOK, p)
}

// renderContributions fills the list and the form's choices into p and
// renders it with status.
func (a *app) renderContributions(w http.ResponseWriter, r *http.Request, ctx context.Context, v *viewer, status int, p contributionsPage) {
	slug := mux.Vars(r)["slug"]
	pr, err := a.svc.Project(ctx, slug)
	if err != nil || pr.Removed() {
		a.fail(w, r, http.StatusNotFound, "There is no such project here.")
		return
	}
	who, live, err := a.people(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	q := r.URL.Query()
	p.Filter = contributionFilter{Status: q.Get("status"), Member: q.Get("member"), Kind: q.Get("kind"), From: q.Get("from"), To: q.Get("to")}
	f := coop.ContributionFilter{Project: pr.Handle}
	if slices.Contains([]string{coop.StatusPending, coop.StatusApproved, coop.StatusRejected}, p.Filter.Status) {
		f.Status = p.Filter.Status
	}
	if p.Filter.Member != "" {
		f.Contributor = a.site.ActorID(p.Filter.Member)
	}
	if slices.Contains(coop.ContributionKinds, p.Filter.Kind) {
		f.Kind = p.Filter.Kind
	}
	var bad []string
	if p.Filter.From != "" {
		if f.From, err = time.Parse(time.DateOnly, p.Filter.From); err != nil {
			bad = append(bad, "from")
		}
	}
	if p.Filter.To != "" {
		if f.To, err = time.Parse(time.DateOnly, p.Filter.To); err != nil {
			bad = append(bad, "to")
		}
	}
	if bad != nil {
		p.FilterNote = "The " + strings.Join(bad, " and ") + " date is not a date (YYYY-MM-DD): left out of the filter."
	}
	cs, err := a.svc.ListContributions(ctx, f)
	if err != nil {
		a.contribFail(w, r, err)
		return
	}
	me := a.site.ActorID(v.Member.Handle)
	var total int64
	for _, c := range cs {
		p.Records = append(p.Records, contributionRow{Contribution: c, Who: who.of(c.Contributor), Time: duration(c.Minutes),
			CanDecide: c.DecidableBy(pr, me) == nil})
		total += c.Minutes
		p.TotalPts += c.Points
	}
	p.TotalTime = duration(total)
	p.Page = a.basePage(ctx, "Contributions to "+pr.Name)
	p.Project, p.Statuses, p.Kinds, p.Me = pr, []string{coop.StatusPending, coop.StatusApproved, coop.StatusRejected}, coop.ContributionKinds, v.Member.Handle
	for _, m := range live {
		if m.Handle != v.Member.Handle {
			p.Members = append(p.Members, m)
		}
	}
	a.render(w, r, status, "contributions", p)
}

// parseMinutes reads the form's hours ("1.5" or "1:30") and minutes into
// minutes.
func parseMinutes(hours, minutes string) (int64, string) {
	var total int64
	if hours = strings.TrimSpace(hours); hours != "" {
		if h, m, ok := strings.Cut(hours, ":"); ok {
			hh, err1 := strconv.ParseInt(h, 10, 32)
			mm, err2 := strconv.ParseInt(m, 10, 32)
			if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 {
				return 0, "Hours: write them like 1.5 or 1:30."
			}
			total = hh*60 + mm
		} else {
			h, err := strconv.ParseFloat(strings.ReplaceAll(hours, ",", "."), 64)
			if err != nil || h < 0 || math.IsNaN(h) || h > 1e6 {
				return 0, "Hours: write them like 1.5 or 1:30."
			}
			total = int64(math.Round(h * 60))
		}
	}
	if minutes = strings.TrimSpace(minutes); minutes != "" {
		m, err := strconv.ParseInt(minutes, 10, 32)
		if err != nil || m < 0 {
			return 0, "Minutes: a whole number."
		}
		total += m
	}
	return total, ""
}

// recordContribution records a contribution from the form.
func (a *app) recordContribution(w http.ResponseWriter, r *http.Request) {
	v, ctx, ok := a.member(w, r)
	if !ok || !a.postForm(w, r, maxContributionForm) {
		return
	}
	slug := mux.Vars(r)["slug"]
	form := recordForm{Kind: r.PostFormValue("kind"), Hours: r.PostFormValue("hours"), Minutes: r.PostFormValue("minutes"),
		Points: r.PostFormValue("points"), Evidence: r.PostFormValue("evidence"), Day: r.PostFormValue("day"),
		Note: r.PostFormValue("note"), Contributor: r.PostFormValue("contributor")}
	again := func(status int, msg string) {
		a.renderContributions(w, r, ctx, v, status, contributionsPage{Form: form, FormError: msg, Import: importForm{Points: "1"}})
	}
	n := coop.NewContribution{Project: slug, Kind: form.Kind, Note: strings.TrimSpace(form.Note), Contributor: strings.TrimSpace(form.Contributor)}
	var msg string
	if n.Minutes, msg = parseMinutes(form.Hours, form.Minutes); msg != "" {
		again(http.StatusBadRequest, msg)
		return
	}
	if s := strings.TrimSpace(form.Points); s != "" {
		pts, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			again(http.StatusBadRequest, "Points: a whole number.")
			return
		}
		n.Points = pts
	}
	for _, line := range strings.Split(form.Evidence, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			n.Evidence = append(n.Evidence, line)
		}
	}
	if s := strings.TrimSpace(form.Day); s != "" {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			again(http.StatusBadRequest, "Day: a date, YYYY-MM-DD.")
			return
		}
		n.Day = d
	}
	if _, err := a.svc.AddContribution(ctx, n); err != nil {
		if status, rule := contribStatus(err); rule {
			again(status, contribReason(err))
			return
		}
		a.serveError(w, r, err)
		return
	}
	http.Redirect(w, r, "/projects/"+url.PathEscape(slug)+"/contributions?recorded=1", http.StatusSeeOther)
}

// decideContribution approves or rejects a pending record: coop refuses
// anyone but a maintainer of its project who is not its contributor.
func (a *app) decideContribution(w http.ResponseWriter, r *http.Request) {
	_, ctx, ok := a.member(w, r)
	if !ok || !a.postForm(w, r, maxContributionForm) {
		return
	}
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		a.fail(w, r, http.StatusNotFound, "There is no such contribution.")
		return
	}
	approve, ok := a.approveOrReject(w, r)
	if !ok {
		return
	}
	c, err := a.svc.DecideContribution(ctx, id, approve, r.PostFormValue("reason"))
	if err != nil {
		a.contribFail(w, r, err)
		return
	}
	http.Redirect(w, r, "/projects/"+url.PathEscape(c.Project)+"/contributions?decided=1", http.StatusSeeOther)
}

// importContributions reads a git clone on the node's disk and records
// its commits as pending code contributions of the members whose
// addresses wrote them.
func (a *app) importContributions(w http.ResponseWriter, r *http.Request) {
	v, ctx, ok := a.member(w, r)
	if !ok || !a.postForm(w, r, maxContributionForm) {
		return
	}
	slug := mux.Vars(r)["slug"]
	form := importForm{Path: strings.TrimSpace(r.PostFormValue("path")), Ref: strings.TrimSpace(r.PostFormValue("ref")),
		Since: strings.TrimSpace(r.PostFormValue("since")), Until: strings.TrimSpace(r.PostFormValue("until")),
		Points: strings.TrimSpace(r.PostFormValue("points"))}
	page := contributionsPage{Form: recordForm{Kind: coop.KindCode, Day: time.Now().UTC().Format(time.DateOnly)}, Import: form}
	again := func(status int, msg string) {
		page.ImportErr = msg
		a.renderContributions(w, r, ctx, v, status, page)
	}
	if form.Path == "" {
		again(http.StatusBadRequest, "Give the path of the clone on the server.")
		return
	}
	opts := githistory.Options{Ref: form.Ref}
	var err error
	if form.Since != "" {
		if opts.Since, err = time.Parse(time.DateOnly, form.Since); err != nil {
			again(http.StatusBadRequest, "Since: a date, YYYY-MM-DD.")
			return
		}
	}
	if form.Until != "" {
		if opts.Until, err = time.Parse(time.DateOnly, form.Until); err != nil {
			again(http.StatusBadRequest, "Until: a date, YYYY-MM-DD.")
			return
		}
	}
	points := int64(1)
	if form.Points != "" {
		if points, err = strconv.ParseInt(form.Points, 10, 64); err != nil {
			again(http.StatusBadRequest, "Points per commit: a whole number.")
			return
		}
	}
	res, err := a.svc.ImportHistory(ctx, slug, form.Path, opts, points)
	if err != nil {
		status, rule := contribStatus(err)
		if !rule {
			a.serveError(w, r, err)
			return
		}
		reason := contribReason(err)
		if status != http.StatusForbidden && !errors.Is(err, coop.ErrInvalidInput) {
			// githistory's errors: name what went wrong, not the path.
			reason = "The path is not a git repository this node can read, or the branch or tag does not exist."
		}
		again(status, reason)
		return
	}
	page.Imported = &res
	for author, n := range res.Unmatched {
		page.Unmatched = append(page.Unmatched, author+": "+strconv.Itoa(n)+" commits")
	}
	slices.Sort(page.Unmatched)
	a.renderContributions(w, r, ctx, v, http.StatusOK, page)
}

// approveOrReject reads an approve-or-reject form's choice; anything else is
// answered 400 and ok is false.
func (a *app) approveOrReject(w http.ResponseWriter, r *http.Request) (approve, ok bool) {
	switch r.PostFormValue("decision") {
	case "approve":
		return true, true
	case "reject":
		return false, true
	default:
		a.fail(w, r, http.StatusBadRequest, "Approve or reject: the form says neither.")
		return false, false
	}
}
