package coop

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/ledger"
)

// ErrNotAllowed is an action the principal may not take (a withdrawal by
// someone other than the proposer, a ballot from the node's operator).
var ErrNotAllowed = errors.New("not allowed")

// CoopGroup names the co-op itself as the group that decides a proposal.
const CoopGroup = "coop"

// NewProposal is what a member or the admin gives to open a proposal.
type NewProposal struct {
	// Group is CoopGroup (the co-op's members vote) or a project's slug
	// (its maintainers who are members of this co-op vote).
	Group              string
	Title, Body        string
	Options            []governance.Option // none for consent
	Method             governance.Method
	ScoreMin, ScoreMax int
	ClosesIn           time.Duration // from the opening
	Quorum             governance.Ratio
	Threshold          governance.Threshold
	HideCounts         bool
}

// ProposalURL is a proposal's page, and its subject in the decision log.
func (s Site) ProposalURL(num int64) string { return s.URL("/proposals/" + strconv.FormatInt(num, 10)) }

// principalMember returns the live local member a principal is, or
// ok == false for anyone else (the admin, the node, a remote actor).
func (s *Service) principalMember(ctx context.Context, r Reader, p Principal) (Member, bool, error) {
	h, ok := s.Site.HandleFromActorID(p.ID)
	if !ok {
		return Member{}, false, nil
	}
	m, err := liveMember(ctx, r, h)
	if err != nil {
		return Member{}, false, err
	}
	return m, true, nil
}

// groupVoters resolves the deciding group and its eligible voters now:
// the co-op's live members, or a project's maintainers who are live local
// members (remote maintainers vote on their own co-op's node, through a
// federation proposal: a later issue).
func (s *Service) groupVoters(ctx context.Context, r Reader, group string) (Actor, governance.Eligibility, []string, error) {
	if group == CoopGroup {
		c, err := r.Coop(ctx)
		if err != nil {
			return Actor{}, "", nil, err
		}
		ms, err := r.Members(ctx)
		if err != nil {
			return Actor{}, "", nil, err
		}
		voters := make([]string, 0, len(ms))
		for _, m := range ms {
			voters = append(voters, s.Site.ActorID(m.Handle))
		}
		return c, governance.CoopMembers, voters, nil
	}
	p, err := r.ProjectByHandle(ctx, group)
	if err != nil {
		if isNotFound(err) {
			return Actor{}, "", nil, fmt.Errorf("%w: no project %q (or %q for the co-op)", ErrInvalidInput, group, CoopGroup)
		}
		return Actor{}, "", nil, err
	}
	if p.Removed() {
		return Actor{}, "", nil, fmt.Errorf("%w: project %q was removed", ErrGone, group)
	}
	var voters []string
	for _, uri := range p.Maintainers {
		h, ok := s.Site.HandleFromActorID(uri)
		if !ok {
			continue
		}
		if _, err := liveMember(ctx, r, h); err == nil {
			voters = append(voters, uri)
		}
	}
	return p.Actor, governance.ProjectMaintainers, voters, nil
}

// OpenProposal opens a proposal now, on behalf of the principal ctx
// carries: the admin, a member (for the co-op) or a maintainer (for a
// project). The eligible voters are fixed now. The opening is a
// proposal.opened record in the same transaction.
func (s *Service) OpenProposal(ctx context.Context, n NewProposal) (Proposal, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return Proposal{}, ErrNoPrincipal
	}
	var out Proposal
	err := s.Store.Update(ctx, func(tx Tx) error {
		group, elig, voters, err := s.groupVoters(ctx, tx, n.Group)
		if err != nil {
			return err
		}
		// The operator acting for a member opens it as that member's
		// proposal (the record names both); the operator alone is the
		// proposer of its own.
		proposer := pr.ID
		if pr.For != "" {
			proposer = pr.For
		}
		if proposer != AdminPrincipal {
			_, isMember, err := s.principalMember(ctx, tx, Principal{ID: proposer})
			if err != nil {
				return err
			}
			if !isMember {
				return fmt.Errorf("%w: only the co-op's members open proposals", ErrNotAllowed)
			}
			if elig == governance.ProjectMaintainers && !contains(voters, proposer) {
				return fmt.Errorf("%w: only a maintainer of %q opens its proposals", ErrNotAllowed, n.Group)
			}
		}
		now := s.now()
		gp := governance.Proposal{
			ID: "new", Title: strings.TrimSpace(n.Title), Body: n.Body, Proposer: proposer,
			Options: n.Options, Method: n.Method, ScoreMin: n.ScoreMin, ScoreMax: n.ScoreMax,
			ClosesAt: now.Add(n.ClosesIn), Quorum: n.Quorum, Threshold: n.Threshold,
			Eligibility: elig, HideCounts: n.HideCounts,
		}
		if len(voters) == 0 {
			return fmt.Errorf("%w: %q has no eligible voter", ErrInvalidInput, n.Group)
		}
		if gp, err = gp.Open(voters, now); err != nil {
			return err
		}
		if err := checkPollNames(gp); err != nil {
			return err
		}
		p := Proposal{Proposal: gp, Group: group.Handle, GroupKind: group.Kind, GroupID: group.ID, Created: now, Updated: now}
		if p.Num, err = tx.InsertProposal(ctx, p); err != nil {
			return err
		}
		p.ID = strconv.FormatInt(p.Num, 10)
		options := make([]any, 0, len(p.Options))
		for _, o := range p.Options {
			options = append(options, map[string]any{"key": o.Key, "label": o.Label})
		}
		data := map[string]any{
			"proposal":    p.ID,
			"group":       s.Site.ActorID(p.Group),
			"title":       p.Title,
			"body":        ledger.HashText(p.Body),
			"options":     options,
			"method":      string(p.Method),
			"opens_at":    p.OpensAt.Format(time.RFC3339Nano),
			"closes_at":   p.ClosesAt.Format(time.RFC3339Nano),
			"quorum":      fmt.Sprintf("%d/%d", p.Quorum.Num, p.Quorum.Den),
			"threshold":   string(p.Threshold),
			"eligibility": string(p.Eligibility),
			"eligible":    len(p.Eligible),
			"hide_counts": p.HideCounts,
		}
		if p.Method == governance.Score {
			data["score_min"], data["score_max"] = p.ScoreMin, p.ScoreMax
		}
		// The state is the voter list: who holds it can check it.
		if _, err := s.logEvent(ctx, tx, event{Type: "proposal.opened", Subject: s.Site.ProposalURL(p.Num),
			Data: data, State: map[string]any{"eligible": p.Eligible}}); err != nil {
			return err
		}
		out = p
		return s.announceOpened(ctx, tx, p.Num)
	})
	if err != nil {
		return Proposal{}, fmt.Errorf("coop: open proposal: %w", err)
	}
	return out, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// VoteResult is an accepted ballot and its record.
type VoteResult struct {
	Ballot   governance.Ballot
	Replaced bool  // it replaced the voter's earlier ballot
	LogIndex int64 // the ballot's record: the voter's receipt is its proof
}

// RefusedError is a vote that was refused: the refusal is stored and
// logged (LogIndex) and counted; the error says why.
type RefusedError struct {
	Reason   string // governance.ReasonCode
	Detail   string
	LogIndex int64
}

func (e *RefusedError) Error() string {
	s := "vote refused: " + e.Reason
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return fmt.Sprintf("%s (recorded as refused, log record %d)", s, e.LogIndex)
}

// Vote casts the principal's ballot on proposal num, written as the
// command line writes it (governance.ParseBallot), accepted now. A ballot
// from coopfed's own channels replaces the voter's earlier one until the
// deadline. A refused vote (late, ineligible, unknown option, malformed)
// is stored with its reason, logged and counted, and returned as a
// *RefusedError after the commit: never dropped. The node's operator
// does not vote (ErrNotAllowed, nothing recorded: no voter cast
// anything).
func (s *Service) Vote(ctx context.Context, num int64, args []string) (VoteResult, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return VoteResult{}, ErrNoPrincipal
	}
	if pr.ID == AdminPrincipal || pr.For != "" {
		return VoteResult{}, fmt.Errorf("coop: vote: %w: the node's operator does not vote; a member votes with --as NAME and their password", ErrNotAllowed)
	}
	var (
		res     *VoteResult
		refused *RefusedError
	)
	err := s.Store.Update(ctx, func(tx Tx) error {
		p, err := tx.Proposal(ctx, num)
		if err != nil {
			return err
		}
		b, err := governance.ParseBallot(p.Proposal, pr.ID, args)
		res, refused, err = s.cast(ctx, tx, castInput{p: p, voter: pr.ID, ballot: b, parseErr: err, at: s.now(), channel: pr.Channel})
		return err
	})
	if err != nil {
		return VoteResult{}, fmt.Errorf("coop: vote on proposal %d: %w", num, err)
	}
	if refused != nil {
		return VoteResult{}, refused
	}
	return *res, nil
}

// WithdrawProposal ends an open proposal without a decision, before its
// deadline; only its proposer may.
func (s *Service) WithdrawProposal(ctx context.Context, num int64) (Proposal, error) {
	return s.changeProposal(ctx, num, "withdraw", func(tx Tx, p Proposal, pr Principal, now time.Time) (Proposal, event, error) {
		if pr.ID != p.Proposer && pr.For != p.Proposer {
			return p, event{}, fmt.Errorf("%w: only the proposer withdraws a proposal (or the operator for them, with --for)", ErrNotAllowed)
		}
		gp, err := p.Withdraw(now)
		if err != nil {
			return p, event{}, err
		}
		p.Proposal = gp
		return p, event{Type: "proposal.withdrawn", Data: map[string]any{"proposal": p.ID}}, nil
	})
}

// ExtendProposal moves an open proposal's deadline to closesIn from now,
// later than it was and before it passes; the proposer or the admin may.
func (s *Service) ExtendProposal(ctx context.Context, num int64, closesIn time.Duration) (Proposal, error) {
	return s.changeProposal(ctx, num, "extend", func(tx Tx, p Proposal, pr Principal, now time.Time) (Proposal, event, error) {
		if pr.ID != p.Proposer && pr.ID != AdminPrincipal {
			return p, event{}, fmt.Errorf("%w: only the proposer or the admin extends a proposal", ErrNotAllowed)
		}
		was := p.ClosesAt
		gp, err := p.Extend(now.Add(closesIn), now)
		if err != nil {
			return p, event{}, err
		}
		p.Proposal = gp
		// The Question's endTime changed: it goes out with the counts.
		if err := tx.SetCountsChanged(ctx, p.Num, now); err != nil {
			return p, event{}, err
		}
		return p, event{Type: "proposal.extended", Data: map[string]any{"proposal": p.ID,
			"closes_at_was": was.Format(time.RFC3339Nano), "closes_at": p.ClosesAt.Format(time.RFC3339Nano)}}, nil
	})
}

// changeProposal runs a change of a proposal's state or deadline and logs
// it in the same transaction.
func (s *Service) changeProposal(ctx context.Context, num int64, what string,
	change func(Tx, Proposal, Principal, time.Time) (Proposal, event, error)) (Proposal, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return Proposal{}, ErrNoPrincipal
	}
	var out Proposal
	err := s.Store.Update(ctx, func(tx Tx) error {
		p, err := tx.Proposal(ctx, num)
		if err != nil {
			return err
		}
		now := s.now()
		p, ev, err := change(tx, p, pr, now)
		if err != nil {
			return err
		}
		p.Updated = now
		if err := tx.SetProposalState(ctx, num, p.State, p.ClosesAt, now); err != nil {
			return err
		}
		ev.Subject = s.Site.ProposalURL(num)
		idx, err := s.logEvent(ctx, tx, ev)
		if err != nil {
			return err
		}
		out = p
		if p.State == governance.Withdrawn {
			return s.announceWithdrawn(ctx, tx, num, idx)
		}
		return nil
	})
	if err != nil {
		return Proposal{}, fmt.Errorf("coop: %s proposal %d: %w", what, num, err)
	}
	return out, nil
}

// reasonError is the named error behind a stored refusal's reason code.
func reasonError(code string) error {
	switch code {
	case governance.ReasonClosed:
		return governance.ErrClosed
	case governance.ReasonNotOpen:
		return governance.ErrNotOpen
	case governance.ReasonNotEligible:
		return governance.ErrNotEligible
	case governance.ReasonUnknownOption:
		return governance.ErrUnknownOption
	case governance.ReasonInvalidBallot:
		return governance.ErrInvalidBallot
	case governance.ReasonAlreadyVoted:
		return governance.ErrAlreadyVoted
	}
	return errors.New(code)
}

// tallyInputs loads what Tally counts: every ballot (replaced ones
// included, so that the InputHash covers the history the log shows) and
// every refusal.
func tallyInputs(ctx context.Context, r Reader, num int64) ([]governance.Ballot, []governance.Refusal, []StoredRefusal, error) {
	bs, err := r.Ballots(ctx, num)
	if err != nil {
		return nil, nil, nil, err
	}
	rs, err := r.Refusals(ctx, num)
	if err != nil {
		return nil, nil, nil, err
	}
	ballots := make([]governance.Ballot, 0, len(bs))
	for _, b := range bs {
		ballots = append(ballots, b.Ballot)
	}
	refusals := make([]governance.Refusal, 0, len(rs))
	for _, x := range rs {
		refusals = append(refusals, governance.Refusal{Voter: x.Voter, At: x.At, Reason: reasonError(x.Reason), Count: x.Count})
	}
	strangers, err := r.StrangerRefusals(ctx, num)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, x := range strangers {
		if !x.AfterClose {
			refusals = append(refusals, governance.Refusal{Reason: reasonError(x.Reason), Count: x.Count})
		}
	}
	return ballots, refusals, rs, nil
}

// CloseProposal closes an open proposal whose deadline has passed
// (governance.ErrNotDue before), with the ballots it has: it tallies
// them, stores the outcome and logs proposal.closed with the outcome's
// counts and InputHash, all in one transaction.
func (s *Service) CloseProposal(ctx context.Context, num int64) (StoredOutcome, error) {
	var out StoredOutcome
	err := s.Store.Update(ctx, func(tx Tx) error {
		p, err := tx.Proposal(ctx, num)
		if err != nil {
			return err
		}
		now := s.now()
		gp, err := p.Close(now)
		if err != nil {
			return err
		}
		// Votes still held (their account never confirmed as a member's)
		// are refused now, in aggregate.
		held, err := tx.PendingVotes(ctx, num)
		if err != nil {
			return err
		}
		for _, v := range held {
			if err := tx.DeletePendingVote(ctx, v.ID); err != nil {
				return err
			}
		}
		if len(held) > 0 {
			if err := tx.AddStrangerRefusals(ctx, num, governance.ReasonNotEligible, false, len(held)); err != nil {
				return err
			}
		}
		ballots, refusals, _, err := tallyInputs(ctx, tx, num)
		if err != nil {
			return err
		}
		o := governance.Tally(gp, ballots, refusals)
		idx, err := s.logEvent(ctx, tx, event{Type: "proposal.closed", Subject: s.Site.ProposalURL(num), Data: outcomeFacts(o)})
		if err != nil {
			return err
		}
		l, err := tx.OpenLog(ctx)
		if err != nil {
			return err
		}
		out = StoredOutcome{Outcome: o, LogID: l.ID, LogIndex: idx, Closed: now}
		if err := tx.SaveOutcome(ctx, num, out); err != nil {
			return err
		}
		if err := tx.SetProposalState(ctx, num, gp.State, gp.ClosesAt, now); err != nil {
			return err
		}
		return s.announceOutcome(ctx, tx, num)
	})
	if err != nil {
		return StoredOutcome{}, fmt.Errorf("coop: close proposal %d: %w", num, err)
	}
	return out, nil
}

// outcomeFacts is what the decision log records of an outcome.
func outcomeFacts(o governance.Outcome) map[string]any {
	options := make([]any, 0, len(o.Options))
	for _, c := range o.Options {
		options = append(options, map[string]any{"option": c.Option, "count": c.Count, "support": c.Support})
	}
	refused := make(map[string]any, len(o.Refused))
	for k, v := range o.Refused {
		refused[k] = v
	}
	d := map[string]any{
		"proposal":    o.ProposalID,
		"method":      string(o.Method),
		"threshold":   string(o.Threshold),
		"eligible":    o.Eligible,
		"cast":        o.Cast,
		"abstentions": o.Abstentions,
		"replaced":    o.Replaced,
		"refused":     refused,
		"quorum":      map[string]any{"met": o.Quorum.Met, "have": o.Quorum.Have, "need": o.Quorum.Need},
		"options":     options,
		"decided":     o.Decided,
		"winner":      o.Winner,
		"no_decision": o.NoDecision,
		"input_hash":  fmt.Sprintf("sha256:%x", o.InputHash),
	}
	if o.Method == governance.Consent {
		d["consent"] = map[string]any{"agree": o.Consent.Agree, "disagree": o.Consent.Disagree, "block": o.Consent.Block}
	}
	return d
}

// CloseDue closes every open proposal whose deadline has passed, each in
// its own transaction, as the node itself (the scheduler; on start, those
// whose deadline passed while the node was down). It returns the numbers
// closed; a failure stops it.
//
// A proposal first drains the votes accepted before its deadline: while
// the inbound queue holds activities accepted at or before the deadline
// that are not applied yet, its close waits, up to DrainLimit past the
// deadline.
func (s *Service) CloseDue(ctx context.Context) ([]int64, error) {
	ctx = s.closePrincipal(ctx)
	now := s.now()
	due, err := s.Store.DueProposals(ctx, now)
	if err != nil {
		return nil, err
	}
	var closed []int64
	for _, num := range due {
		p, err := s.Store.Proposal(ctx, num)
		if err != nil {
			return closed, err
		}
		if now.Before(p.ClosesAt.Add(DrainLimit)) {
			n, err := s.Store.UnprocessedInbound(ctx, p.ClosesAt)
			if err != nil {
				return closed, err
			}
			if n > 0 {
				continue // next round
			}
		}
		if _, err := s.CloseProposal(ctx, num); err != nil {
			// Closed meanwhile by another process (the CLI): not a failure.
			if errors.Is(err, governance.ErrClosed) || errors.Is(err, governance.ErrNotOpen) {
				continue
			}
			return closed, err
		}
		closed = append(closed, num)
	}
	return closed, nil
}

// NextDeadline is the earliest deadline of an open proposal; ErrNotFound
// when none is open.
func (s *Service) NextDeadline(ctx context.Context) (time.Time, error) {
	return s.Store.NextDeadline(ctx)
}

// ListProposals lists every proposal, newest first.
func (s *Service) ListProposals(ctx context.Context) ([]Proposal, error) {
	return s.Store.Proposals(ctx)
}

// ProposalView is a proposal as shown: its counts (a provisional tally
// while open, unless hidden until the close), its refusals with their
// reasons, and after the close its outcome.
type ProposalView struct {
	Proposal
	URL      string
	Standing int // ballots standing now (one per voter who voted)
	// Counts is the tally: provisional while open, nil while the counts
	// are hidden until the close.
	Counts   *governance.Outcome
	Refusals []StoredRefusal
	// Strangers counts the refused votes of accounts that are no
	// member's, by reason (those after the close apart).
	Strangers []StrangerRefusal
	Outcome   *StoredOutcome
	// TakesBallots is false once the deadline has passed, even while the
	// close is not yet recorded (the scheduler is counting).
	TakesBallots bool
}

// ShowProposal returns proposal num as shown.
func (s *Service) ShowProposal(ctx context.Context, num int64) (ProposalView, error) {
	v, err := s.proposalView(ctx, s.Store, num)
	if err != nil {
		return ProposalView{}, fmt.Errorf("coop: show proposal %d: %w", num, err)
	}
	return v, nil
}

// proposalView reads proposal num as shown, through r (the store, or a
// transaction).
func (s *Service) proposalView(ctx context.Context, r Reader, num int64) (ProposalView, error) {
	p, err := r.Proposal(ctx, num)
	if err != nil {
		return ProposalView{}, err
	}
	v := ProposalView{Proposal: p, URL: s.Site.ProposalURL(num), TakesBallots: p.TakesBallots(s.now())}
	ballots, refusals, stored, err := tallyInputs(ctx, r, num)
	if err != nil {
		return ProposalView{}, err
	}
	v.Refusals = stored
	if v.Strangers, err = r.StrangerRefusals(ctx, num); err != nil {
		return ProposalView{}, err
	}
	voters := map[string]bool{}
	for _, b := range ballots {
		voters[b.Voter] = true
	}
	v.Standing = len(voters)
	switch p.State {
	case governance.Closed:
		o, err := r.ProposalOutcome(ctx, num)
		if err != nil {
			return ProposalView{}, err
		}
		v.Outcome = &o
		v.Counts = &o.Outcome
	case governance.Open:
		if !p.HideCounts {
			o := governance.Tally(p.Proposal, ballots, refusals)
			v.Counts = &o
		}
	}
	return v, nil
}
