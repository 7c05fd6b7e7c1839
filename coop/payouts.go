package coop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/payout"
)

// Payout rounds (DESIGN.md, "Contributions and remuneration"): a budget
// split over a project's approved contribution records of a period, by a
// formula of package payout. A member creates a round (a draft, its split
// shown); a second member approves it, each with their own credentials
// (the operator, acting for anyone, counts for no one), and the round is
// final: immutable, logged with the hash of its inputs and of its
// statement, so that any member can recompute it from the log
// (VerifyPayoutRound).

// Round states.
const (
	RoundDraft = "draft"
	RoundFinal = "final"
)

// PayoutRound is a payout round as the node keeps it.
type PayoutRound struct {
	ID        int64
	ProjectID int64
	Project   string    // slug
	From, To  time.Time // the period's days: From included, To excluded
	Round     payout.Round
	// RequiresProposal, when not 0, is a proposal that must have passed
	// before the round is final.
	RequiresProposal int64
	State            string
	CreatedBy        string
	ApprovedBy       string
	Records          []int64 // the contributions split, when final
	Statement        []byte  // the statement's JSON, when final
	InputHash        string  // hex, when final
	Created          time.Time
	Finalized        time.Time
	LogIndex         int64 // payout.created
	FinalLogIndex    int64 // payout.finalized
}

// URL is the round's address, its subject in the decision log.
func (r PayoutRound) URL(s Site) string { return s.URL("/payouts/" + strconv.FormatInt(r.ID, 10)) }

// NewPayoutRound is what a member gives to create a round. Amounts are
// written in the currency's units ("1000.00" EUR, "1000" JPY).
type NewPayoutRound struct {
	Project          string
	From, To         time.Time
	Budget, Currency string
	Formula          string
	Rate, Cap, Floor string // "" for none
	RequiresProposal int64
}

// PayoutReader holds the reads of payout rounds.
type PayoutReader interface {
	// PayoutRound finds a round by ID.
	PayoutRound(ctx context.Context, id int64) (PayoutRound, error)
	// PayoutRounds lists a project's rounds, newest first.
	PayoutRounds(ctx context.Context, projectID int64) ([]PayoutRound, error)
}

// PayoutWriter holds the writes of payout rounds.
type PayoutWriter interface {
	// NextPayoutRoundID is the ID the next round inserted in this
	// transaction gets.
	NextPayoutRoundID(ctx context.Context) (int64, error)
	// InsertPayoutRound stores a draft round (with r.ID when set) and
	// returns its ID.
	InsertPayoutRound(ctx context.Context, r PayoutRound) (int64, error)
	// FinalizePayoutRound stores a round's approval, records, statement
	// and hash; only a draft (ErrInvalidInput otherwise).
	FinalizePayoutRound(ctx context.Context, r PayoutRound) error
}

// ownCredentials refuses the operator, alone or acting for someone: a
// round's duties are personal.
func ownCredentials(pr Principal, what string) error {
	if pr.ID == AdminPrincipal || pr.For != "" {
		return fmt.Errorf("%w: a member %s with their own credentials (--as NAME), never the operator", ErrNotAllowed, what)
	}
	return nil
}

// splitInputs are a round's records: the project's approved records of
// the period.
func splitInputs(ctx context.Context, r Reader, pr PayoutRound) ([]Contribution, []payout.Record, error) {
	cs, err := r.Contributions(ctx, pr.ProjectID, ContributionFilter{Project: pr.Project, Status: StatusApproved, From: pr.From, To: pr.To})
	if err != nil {
		return nil, nil, err
	}
	recs := make([]payout.Record, 0, len(cs))
	for _, c := range cs {
		recs = append(recs, payout.Record{ID: strconv.FormatInt(c.ID, 10), Contributor: c.Contributor, Date: c.Day, Minutes: c.Minutes, Points: c.Points})
	}
	return cs, recs, nil
}

// parseRound reads a new round's parameters.
func parseRound(n NewPayoutRound) (payout.Round, error) {
	cur, err := payout.LookupCurrency(n.Currency)
	if err != nil {
		return payout.Round{}, fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	r := payout.Round{Currency: cur, Formula: payout.Formula(n.Formula)}
	for _, f := range []struct {
		name string
		s    string
		dst  *payout.Amount
	}{{"budget", n.Budget, &r.Budget}, {"rate", n.Rate, &r.Rate}, {"cap", n.Cap, &r.Cap}, {"floor", n.Floor, &r.Floor}} {
		if f.s == "" {
			continue
		}
		if *f.dst, err = payout.ParseAmount(f.s, cur); err != nil {
			return payout.Round{}, fmt.Errorf("%w: %s: %v", ErrInvalidInput, f.name, err)
		}
	}
	return r, nil
}

// CreatePayoutRound creates a draft round on behalf of a member (their
// own credentials) and returns it with its draft split: the statement
// the approved records of the period give now (or the reason there is
// none yet, such as no approved records). A payout.created record.
func (s *Service) CreatePayoutRound(ctx context.Context, n NewPayoutRound) (PayoutRound, DraftSplit, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return PayoutRound{}, DraftSplit{}, ErrNoPrincipal
	}
	if err := ownCredentials(pr, "creates a payout round"); err != nil {
		return PayoutRound{}, DraftSplit{}, err
	}
	round, err := parseRound(n)
	if err != nil {
		return PayoutRound{}, DraftSplit{}, fmt.Errorf("coop: payout round: %w", err)
	}
	from, to := n.From.UTC().Truncate(24*time.Hour), n.To.UTC().Truncate(24*time.Hour)
	if !from.Before(to) {
		return PayoutRound{}, DraftSplit{}, fmt.Errorf("coop: payout round: %w: the period ends (%s) before it starts (%s)", ErrInvalidInput, to.Format(time.DateOnly), from.Format(time.DateOnly))
	}
	var (
		out      PayoutRound
		draft    payout.Statement
		draftErr error
	)
	err = s.Store.Update(ctx, func(tx Tx) error {
		if _, isMember, err := s.principalMember(ctx, tx, pr); err != nil || !isMember {
			if err != nil {
				return err
			}
			return fmt.Errorf("%w: only the co-op's members create payout rounds", ErrNotAllowed)
		}
		p, err := tx.ProjectByHandle(ctx, n.Project)
		if isNotFound(err) {
			return fmt.Errorf("%w: no project %q", ErrInvalidInput, n.Project)
		}
		if err != nil {
			return err
		}
		if n.RequiresProposal != 0 {
			if _, err := tx.Proposal(ctx, n.RequiresProposal); err != nil {
				return fmt.Errorf("requires proposal %d: %w", n.RequiresProposal, err)
			}
		}
		now := s.now()
		r := PayoutRound{ProjectID: p.ID, Project: p.Handle, From: from, To: to, Round: round, RequiresProposal: n.RequiresProposal,
			State: RoundDraft, CreatedBy: pr.ID, Created: now}
		_, recs, err := splitInputs(ctx, tx, r)
		if err != nil {
			return err
		}
		draft, draftErr = payout.Split(round, recs)
		if errors.Is(draftErr, payout.ErrInvalidRound) || errors.Is(draftErr, payout.ErrUnknownFormula) ||
			errors.Is(draftErr, payout.ErrUnknownCurrency) || errors.Is(draftErr, payout.ErrBudgetBelowFloor) {
			return fmt.Errorf("%w: %v", ErrInvalidInput, draftErr)
		}
		if r.ID, err = tx.NextPayoutRoundID(ctx); err != nil {
			return err
		}
		data := roundFacts(s.Site, r)
		if r.LogIndex, err = s.logEvent(ctx, tx, event{Type: "payout.created", Subject: r.URL(s.Site), Data: data}); err != nil {
			return err
		}
		if _, err := tx.InsertPayoutRound(ctx, r); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return PayoutRound{}, DraftSplit{}, fmt.Errorf("coop: payout round: %w", err)
	}
	return out, DraftSplit{Statement: draft, Why: draftErr}, nil
}

// DraftSplit is a draft round's split now, or Why there is none yet (no
// approved records in the period, no points).
type DraftSplit struct {
	Statement payout.Statement
	Why       error
}

// roundFacts is what the log records of a round's parameters.
func roundFacts(site Site, r PayoutRound) map[string]any {
	d := map[string]any{
		"round":    r.ID,
		"project":  site.ActorID(r.Project),
		"from":     r.From.Format(time.DateOnly),
		"to":       r.To.Format(time.DateOnly),
		"budget":   int64(r.Round.Budget),
		"currency": r.Round.Currency.Code,
		"exponent": int64(r.Round.Currency.Exponent),
		"formula":  string(r.Round.Formula),
		"rate":     int64(r.Round.Rate),
		"cap":      int64(r.Round.Cap),
		"floor":    int64(r.Round.Floor),
	}
	if r.RequiresProposal != 0 {
		d["requires_proposal"] = site.ProposalURL(r.RequiresProposal)
	}
	return d
}

// ApprovePayoutRound makes a draft round final on behalf of a second
// member (their own credentials; not its creator), once its period is
// over and, when it requires one, its proposal has passed: the split of
// the period's approved records is stored with the hash of its inputs and
// of its statement, a payout.finalized record.
func (s *Service) ApprovePayoutRound(ctx context.Context, id int64) (PayoutRound, payout.Statement, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return PayoutRound{}, payout.Statement{}, ErrNoPrincipal
	}
	if err := ownCredentials(pr, "approves a payout round"); err != nil {
		return PayoutRound{}, payout.Statement{}, err
	}
	var (
		out PayoutRound
		st  payout.Statement
	)
	err := s.Store.Update(ctx, func(tx Tx) error {
		if _, isMember, err := s.principalMember(ctx, tx, pr); err != nil || !isMember {
			if err != nil {
				return err
			}
			return fmt.Errorf("%w: only the co-op's members approve payout rounds", ErrNotAllowed)
		}
		r, err := tx.PayoutRound(ctx, id)
		if err != nil {
			return err
		}
		now := s.now()
		if err := r.ApprovableBy(pr.ID, now); err != nil {
			return err
		}
		if r.RequiresProposal != 0 {
			o, err := tx.ProposalOutcome(ctx, r.RequiresProposal)
			if isNotFound(err) {
				return fmt.Errorf("%w: proposal %d has not closed", ErrInvalidInput, r.RequiresProposal)
			}
			if err != nil {
				return err
			}
			p, err := tx.Proposal(ctx, r.RequiresProposal)
			if err != nil {
				return err
			}
			if !proposalPassed(p, o.Outcome) {
				return fmt.Errorf("%w: proposal %d did not pass (%s)", ErrInvalidInput, r.RequiresProposal, OutcomeSummary(ProposalView{Proposal: p, Outcome: &o}))
			}
		}
		cs, recs, err := splitInputs(ctx, tx, r)
		if err != nil {
			return err
		}
		if st, err = payout.Split(r.Round, recs); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidInput, err)
		}
		r.State, r.ApprovedBy, r.Finalized = RoundFinal, pr.ID, now
		r.Records = make([]int64, 0, len(cs))
		for _, c := range cs {
			r.Records = append(r.Records, c.ID)
		}
		r.Statement = st.JSON()
		r.InputHash = hex.EncodeToString(st.InputHash[:])
		sh := sha256.Sum256(r.Statement)
		records := make([]any, 0, len(r.Records))
		for _, id := range r.Records {
			records = append(records, id)
		}
		data := map[string]any{
			"round":          r.ID,
			"records":        records,
			"input_hash":     "sha256:" + r.InputHash,
			"statement_hash": "sha256:" + hex.EncodeToString(sh[:]),
			"total":          int64(st.Total),
			"unallocated":    int64(st.Unallocated),
			"contributors":   int64(len(st.Lines)),
		}
		if r.FinalLogIndex, err = s.logEvent(ctx, tx, event{Type: "payout.finalized", Subject: r.URL(s.Site), Data: data}); err != nil {
			return err
		}
		if err := tx.FinalizePayoutRound(ctx, r); err != nil {
			return err
		}
		out = r
		if s.Publisher == nil {
			return nil
		}
		p, err := tx.ProjectByHandle(ctx, r.Project)
		if err != nil {
			return err
		}
		return s.Publisher.PublishPayout(ctx, tx, p, r, st, now)
	})
	if err != nil {
		return PayoutRound{}, payout.Statement{}, fmt.Errorf("coop: approve payout round %d: %w", id, err)
	}
	return out, st, nil
}

// proposalPassed reports whether a closed proposal passed: consent
// reached, or, for the other methods, its first option (the motion, by
// convention "yes") won.
func proposalPassed(p Proposal, o governance.Outcome) bool {
	if !o.Decided {
		return false
	}
	if p.Method == governance.Consent {
		return true
	}
	return len(p.Options) > 0 && o.Winner == p.Options[0].Key
}

// ShowPayoutRound returns a round and its statement (the final one, or
// the draft split now); members-only.
func (s *Service) ShowPayoutRound(ctx context.Context, id int64) (PayoutRound, payout.Statement, error) {
	if err := s.membersOnly(ctx, "pay is for members"); err != nil {
		return PayoutRound{}, payout.Statement{}, fmt.Errorf("coop: payout round %d: %w", id, err)
	}
	r, err := s.Store.PayoutRound(ctx, id)
	if err != nil {
		return PayoutRound{}, payout.Statement{}, fmt.Errorf("coop: payout round %d: %w", id, err)
	}
	_, recs, err := splitInputs(ctx, s.Store, r)
	if err != nil {
		return PayoutRound{}, payout.Statement{}, err
	}
	if r.State == RoundFinal {
		recs, err = s.roundRecords(ctx, s.Store, r)
		if err != nil {
			return PayoutRound{}, payout.Statement{}, err
		}
	}
	st, err := payout.Split(r.Round, recs)
	if err != nil {
		return r, payout.Statement{}, fmt.Errorf("coop: payout round %d: %w", id, err)
	}
	return r, st, nil
}

// roundRecords are a final round's records as the database holds them.
func (s *Service) roundRecords(ctx context.Context, r Reader, pr PayoutRound) ([]payout.Record, error) {
	recs := make([]payout.Record, 0, len(pr.Records))
	for _, id := range pr.Records {
		c, err := r.Contribution(ctx, id)
		if err != nil {
			return nil, err
		}
		recs = append(recs, payout.Record{ID: strconv.FormatInt(c.ID, 10), Contributor: c.Contributor, Date: c.Day, Minutes: c.Minutes, Points: c.Points})
	}
	return recs, nil
}

// PayoutVerification is what VerifyPayoutRound found.
type PayoutVerification struct {
	Round     PayoutRound
	Statement payout.Statement // recomputed from the log
	Records   int
	// Problems lists every disagreement; none means the split matches.
	Problems []string
}

// OK reports whether the round checks out.
func (v PayoutVerification) OK() bool { return len(v.Problems) == 0 }

// VerifyPayoutRound recomputes a final round from the decision log
// alone: the parameters from its payout.created record, the list of
// records from its payout.finalized record, each record's contributor
// and day from its contribution.approved record and its minutes and
// points from that record's commitments opened with the plain values and
// salts the node keeps (members-only); then payout.Split, whose input
// hash and statement hash must be the ones the finalized record holds.
// Every disagreement is listed. The node's open log is read (a round
// finalized before a rotation of the log is not verified here yet).
func (s *Service) VerifyPayoutRound(ctx context.Context, id int64) (PayoutVerification, error) {
	if err := s.membersOnly(ctx, "pay is for members"); err != nil {
		return PayoutVerification{}, fmt.Errorf("coop: verify payout round %d: %w", id, err)
	}
	r, err := s.Store.PayoutRound(ctx, id)
	if err != nil {
		return PayoutVerification{}, fmt.Errorf("coop: verify payout round %d: %w", id, err)
	}
	v := PayoutVerification{Round: r}
	if r.State != RoundFinal {
		return v, fmt.Errorf("coop: verify payout round %d: %w: a draft has nothing to verify yet", id, ErrInvalidInput)
	}
	l, err := s.Store.OpenLog(ctx)
	if err != nil {
		return v, err
	}
	src := recordSource{
		record: func(idx int64) (ledger.Record, error) {
			raw, err := s.Store.LogRecords(ctx, l.ID, idx, idx+1)
			if err != nil {
				return ledger.Record{}, err
			}
			if len(raw) != 1 {
				return ledger.Record{}, fmt.Errorf("record %d is not in the log", idx)
			}
			return ledger.ParseRecord(raw[0])
		},
		indexOf: func(cid int64) (int64, error) {
			c, err := s.Store.Contribution(ctx, cid)
			return c.LogIndex, err
		},
		open: func(idx int64, rec ledger.Record, fields ...string) (map[string]int64, error) {
			return s.openCommitments(ctx, l.ID, idx, rec, fields...)
		},
	}
	return s.recompute(v, r.URL(s.Site), src)
}

// recordSource is where a verification reads a log: its records, the
// index of a contribution's approval, and the openings of its
// commitments.
type recordSource struct {
	record  func(idx int64) (ledger.Record, error)
	indexOf func(contribution int64) (int64, error)
	open    func(idx int64, rec ledger.Record, fields ...string) (map[string]int64, error)
}

// recompute checks a final round from its log: v.Round's LogIndex and
// FinalLogIndex are its payout.created and payout.finalized records, and
// subject its URL.
func (s *Service) recompute(v PayoutVerification, subject string, src recordSource) (PayoutVerification, error) {
	problem := func(format string, args ...any) { v.Problems = append(v.Problems, fmt.Sprintf(format, args...)) }
	created, err := src.record(v.Round.LogIndex)
	if err != nil {
		return v, err
	}
	final, err := src.record(v.Round.FinalLogIndex)
	if err != nil {
		return v, err
	}
	if created.Type != "payout.created" || created.Subject != subject || final.Type != "payout.finalized" || final.Subject != subject {
		problem("records %d and %d are not this round's creation and finalization", v.Round.LogIndex, v.Round.FinalLogIndex)
		return v, nil
	}
	round, err := roundFromRecord(created.Data)
	if err != nil {
		problem("the logged parameters: %v", err)
		return v, nil
	}
	from, err1 := time.Parse(time.DateOnly, fmt.Sprint(created.Data["from"]))
	to, err2 := time.Parse(time.DateOnly, fmt.Sprint(created.Data["to"]))
	if err1 != nil || err2 != nil {
		problem("the logged period: %v %v", created.Data["from"], created.Data["to"])
		return v, nil
	}
	ids, _ := final.Data["records"].([]any)
	var recs []payout.Record
	for _, x := range ids {
		cid, ok := jsonInt(x)
		if !ok {
			problem("record list holds %v", x)
			continue
		}
		idx, err := src.indexOf(cid)
		if err != nil {
			problem("contribution %d: %v", cid, err)
			continue
		}
		rec, err := src.record(idx)
		if err != nil {
			problem("contribution %d: %v", cid, err)
			continue
		}
		if got, _ := jsonInt(rec.Data["contribution"]); rec.Type != "contribution.approved" || got != cid {
			problem("contribution %d: record %d is not its approval", cid, idx)
			continue
		}
		if rec.Data["project"] != created.Data["project"] {
			problem("contribution %d is of another project", cid)
		}
		day, err := time.Parse(time.DateOnly, fmt.Sprint(rec.Data["day"]))
		if err != nil {
			problem("contribution %d: day %v", cid, rec.Data["day"])
			continue
		}
		if day.Before(from) || !day.Before(to) {
			problem("contribution %d (%s) is outside the period", cid, day.Format(time.DateOnly))
		}
		opened, err := src.open(idx, rec, "minutes", "points")
		if err != nil {
			problem("contribution %d: %v", cid, err)
			continue
		}
		recs = append(recs, payout.Record{ID: strconv.FormatInt(cid, 10), Contributor: fmt.Sprint(rec.Data["contributor"]), Date: day,
			Minutes: opened["minutes"], Points: opened["points"]})
	}
	v.Records = len(recs)
	st, err := payout.Split(round, recs)
	if err != nil {
		problem("the split: %v", err)
		return v, nil
	}
	v.Statement = st
	if want := fmt.Sprint(final.Data["input_hash"]); want != "sha256:"+hex.EncodeToString(st.InputHash[:]) {
		problem("input hash: the log says %s, the records give sha256:%x", want, st.InputHash)
	}
	sh := sha256.Sum256(st.JSON())
	if want := fmt.Sprint(final.Data["statement_hash"]); want != "sha256:"+hex.EncodeToString(sh[:]) {
		problem("statement hash: the log says %s, the recomputed statement gives sha256:%x", want, sh)
	}
	return v, nil
}

// openCommitments opens a record's integer commitments with the values
// and salts the node keeps.
func (s *Service) openCommitments(ctx context.Context, logID, idx int64, rec ledger.Record, fields ...string) (map[string]int64, error) {
	ps, err := s.Store.PersonalFields(ctx, logID, idx)
	if err != nil {
		return nil, err
	}
	os := make(map[string]Opening, len(ps))
	for _, p := range ps {
		if !p.Erased {
			os[p.Field] = Opening{Value: p.Value, Salt: p.Salt}
		}
	}
	return openWith(os, rec, fields...)
}

// roundFromRecord reads a round's parameters from its payout.created
// record's data.
func roundFromRecord(d map[string]any) (payout.Round, error) {
	cur, err := payout.LookupCurrency(fmt.Sprint(d["currency"]))
	if err != nil {
		return payout.Round{}, err
	}
	if e, _ := jsonInt(d["exponent"]); e != int64(cur.Exponent) {
		return payout.Round{}, fmt.Errorf("exponent %v for %s", d["exponent"], cur.Code)
	}
	r := payout.Round{Currency: cur, Formula: payout.Formula(fmt.Sprint(d["formula"]))}
	for k, dst := range map[string]*payout.Amount{"budget": &r.Budget, "rate": &r.Rate, "cap": &r.Cap, "floor": &r.Floor} {
		n, ok := jsonInt(d[k])
		if !ok {
			return payout.Round{}, fmt.Errorf("%s %v", k, d[k])
		}
		*dst = payout.Amount(n)
	}
	return r, nil
}

// jsonInt reads an integer of a parsed record's data.
func jsonInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	case interface{ Int64() (int64, error) }:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}
