package handlers

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/gorilla/mux"
)

// The decision log for people (issue 9): /decisions lists the records,
// newest first; /decisions/{index} shows one with its inclusion proof and
// the checkpoint it is in; /decisions/verify checks a pasted receipt. The
// machine endpoints stay under /log/ (log.go).

// decisionsPerPage is how many records a page of /decisions lists.
const decisionsPerPage = 50

// weblogRoutes registers the decision-log pages and "my account".
func (a *app) weblogRoutes(r *mux.Router) {
	r.HandleFunc("/decisions", a.decisions).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/decisions/verify", a.verifyForm).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/decisions/verify", a.verifyReceipt).Methods(http.MethodPost)
	r.HandleFunc("/decisions/{index:[0-9]+}", a.decision).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/account", a.account).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/account/link-code", a.linkCode).Methods(http.MethodPost)
	r.HandleFunc("/account/links/confirm", a.confirmLink).Methods(http.MethodPost)
	r.HandleFunc("/account/data.json", a.myData).Methods(http.MethodGet, http.MethodHead)
}

// readerCtx is the request's context with the signed-in member as the
// principal, when there is one who may act: what they may read depends
// on who they are. A visitor, or a session that must change its password
// first, reads as nobody.
func (a *app) readerCtx(r *http.Request) context.Context {
	ctx := r.Context()
	if v := viewerOf(r); v != nil && !v.Session.MustChange {
		return coop.WithPrincipal(ctx, a.svc.WebPrincipal(v.Member))
	}
	return ctx
}

// field is one of a record's data fields as a page shows it.
type field struct {
	Name  string
	Value string
	// Plain is the value behind a commitment, for whom may see it.
	Plain    string
	HasPlain bool
}

// entryView is a record as a page shows it.
type entryView struct {
	Index     int64
	URL       string
	Type      string
	Time      time.Time
	Principal string
	OnBehalf  string
	Channel   string
	Subject   string
	StateHash string
	Fields    []field
	Signed    bool
}

func viewEntry(e coop.LogEntry) entryView {
	r := e.Record
	v := entryView{Index: e.Index, URL: "/decisions/" + strconv.FormatInt(e.Index, 10), Type: r.Type, Time: r.Time,
		Principal: r.Principal, Channel: r.Channel, Subject: r.Subject, StateHash: r.StateHash, Signed: e.Signed}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range r.Data {
			if !yield(k) {
				return
			}
		}
	}) {
		val := r.Data[k]
		if k == "on_behalf_of" {
			v.OnBehalf, _ = val.(string)
			continue
		}
		f := field{Name: k}
		if s, ok := val.(string); ok {
			f.Value = s
		} else {
			b, _ := json.Marshal(val)
			f.Value = string(b)
		}
		f.Plain, f.HasPlain = e.Openings[k]
		v.Fields = append(v.Fields, f)
	}
	return v
}

type decisionsPage struct {
	Page
	Origin     string
	Size       int64
	Signed     int64
	Entries    []entryView
	Older      string // the next page's URL, "" on the last
	Newer      string
	Witnessing coop.Witnessing
}

func (a *app) decisions(w http.ResponseWriter, r *http.Request) {
	ctx := a.readerCtx(r)
	var before int64
	if s := r.URL.Query().Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			a.fail(w, r, http.StatusBadRequest, "before= takes a record index.")
			return
		}
		before = n
	}
	lp, err := a.svc.DecisionRecords(ctx, before, decisionsPerPage)
	if errors.Is(err, coop.ErrNotFound) {
		lp, err = coop.LogPage{}, nil // no log yet: an empty page
	}
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	wit, err := a.svc.LogWitnessing(ctx)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	p := decisionsPage{Page: a.basePage(ctx, "Decision log"), Origin: lp.Origin, Size: lp.Size, Signed: lp.Signed, Witnessing: wit}
	for _, e := range lp.Entries {
		p.Entries = append(p.Entries, viewEntry(e))
	}
	if n := len(lp.Entries); n > 0 {
		if last := lp.Entries[n-1].Index; last > 0 {
			p.Older = "/decisions?before=" + strconv.FormatInt(last, 10)
		}
		if first := lp.Entries[0].Index; first+1 < lp.Size {
			p.Newer = "/decisions?before=" + strconv.FormatInt(min(lp.Size, first+1+decisionsPerPage), 10)
		}
	}
	a.render(w, r, http.StatusOK, "decisions", p)
}

type decisionPage struct {
	Page
	Entry      entryView
	Receipt    bool
	ReceiptURL string
	Proof      []string // the inclusion proof's hashes, base64
	TreeSize   int64
	Checkpoint string
	Cosigners  []coop.LogWitness
	LogKey     string
	Witnesses  []string
	NodeURL    string
}

func (a *app) decision(w http.ResponseWriter, r *http.Request) {
	ctx := a.readerCtx(r)
	index, err := strconv.ParseInt(mux.Vars(r)["index"], 10, 64)
	if err != nil {
		a.serveError(w, r, coop.ErrNotFound)
		return
	}
	e, err := a.svc.DecisionRecord(ctx, index)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	p := decisionPage{Page: a.basePage(ctx, "Decision "+strconv.FormatInt(index, 10)), Entry: viewEntry(e),
		NodeURL: a.site.URL("/log/receipt/" + strconv.FormatInt(index, 10))}
	if p.LogKey, p.Witnesses, err = a.svc.LogKeys(ctx); err != nil {
		a.serveError(w, r, err)
		return
	}
	if e.Signed {
		rc, err := a.svc.LogReceipt(ctx, index)
		if err != nil {
			a.serveError(w, r, err)
			return
		}
		p.Receipt, p.ReceiptURL, p.Checkpoint = true, "/log/receipt/"+strconv.FormatInt(index, 10), string(rc.Checkpoint)
		for _, h := range rc.Proof {
			p.Proof = append(p.Proof, base64.StdEncoding.EncodeToString(h[:]))
		}
		// The node checks its own receipt as anyone would: the
		// cosigners named are those whose cosignatures verify.
		c, err := a.svc.VerifyReceipt(ctx, rc.Marshal())
		if err != nil {
			a.serveError(w, r, err)
			return
		}
		p.TreeSize = c.Size
		wit, err := a.svc.LogWitnessing(ctx)
		if err != nil {
			a.serveError(w, r, err)
			return
		}
		peers := map[string]string{}
		for _, x := range wit.Witnesses {
			peers[x.Name] = x.Peer
		}
		for _, n := range c.Cosigners {
			p.Cosigners = append(p.Cosigners, coop.LogWitness{Name: n, Peer: peers[n]})
		}
	}
	a.render(w, r, http.StatusOK, "decision", p)
}

type verifyPage struct {
	Page
	CSRF    string
	Receipt string
	Result  *coop.ReceiptCheck
	Error   string
}

// formToken is the CSRF token of a form: the session's, or for a visitor
// a token bound to a cookie of its own (as the sign-in form's).
func (a *app) formToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if v := viewerOf(r); v != nil {
		return v.Session.CSRF, nil
	}
	if c, err := r.Cookie(preCookie); err == nil && c.Value != "" {
		return c.Value, nil
	}
	token, err := a.svc.NewFormToken()
	if err != nil {
		return "", err
	}
	a.setCookie(w, preCookie, token, time.Hour)
	return token, nil
}

func (a *app) verifyForm(w http.ResponseWriter, r *http.Request) {
	token, err := a.formToken(w, r)
	if err != nil {
		a.serveError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "verify", verifyPage{Page: a.basePage(r.Context(), "Verify a receipt"), CSRF: token})
}

// maxReceipt bounds a pasted receipt: a record, a proof of at most 63
// hashes and a checkpoint with a few cosignatures fit in far less.
const maxReceipt = 64 << 10

func (a *app) verifyReceipt(w http.ResponseWriter, r *http.Request) {
	ctx := a.readerCtx(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxReceipt)
	if err := r.ParseForm(); err != nil {
		a.fail(w, r, http.StatusRequestEntityTooLarge, "The form could not be read (a receipt is at most 64 KiB).")
		return
	}
	if !a.csrfOK(r) {
		a.fail(w, r, http.StatusForbidden, "This form has expired or did not come from this site: open the page again.")
		return
	}
	text := strings.ReplaceAll(r.PostFormValue("receipt"), "\r\n", "\n")
	p := verifyPage{Page: a.basePage(ctx, "Verify a receipt"), CSRF: r.PostFormValue("csrf"), Receipt: text}
	c, err := a.svc.VerifyReceipt(ctx, []byte(text))
	var re *coop.ReceiptError
	switch {
	case errors.As(err, &re):
		p.Error = re.Error()
		a.render(w, r, http.StatusUnprocessableEntity, "verify", p)
		return
	case err != nil:
		a.serveError(w, r, err)
		return
	}
	p.Result = &c
	a.render(w, r, http.StatusOK, "verify", p)
}
