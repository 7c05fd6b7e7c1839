package governance

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Method is how ballots are counted. Its value is the stable code used on
// the command line, in the decision log and in InputHash.
type Method string

const (
	SingleChoice  Method = "single"   // one option per ballot; plurality
	Approval      Method = "approval" // a set of options (multiple choice)
	InstantRunoff Method = "irv"      // a ranking, counted by instant-runoff
	Schulze       Method = "schulze"  // a ranking, counted by the Schulze method
	Score         Method = "score"    // an integer per option in [ScoreMin, ScoreMax]
	Consent       Method = "consent"  // agree, disagree or block (or abstain)
)

// Threshold is the share of the non-abstaining ballots a decision needs.
type Threshold string

const (
	Majority  Threshold = "majority"   // more than half
	TwoThirds Threshold = "two-thirds" // at least two thirds
	Consensus Threshold = "consensus"  // no block (consent only)
)

// Eligibility says who may vote; the voters themselves are fixed by Open.
type Eligibility string

const (
	CoopMembers        Eligibility = "members"     // the co-op's members
	ProjectMaintainers Eligibility = "maintainers" // a project's maintainers
	FederationCoops    Eligibility = "federation"  // the federation's co-ops
)

// State is where a proposal is in its life. The zero value is Draft.
type State uint8

const (
	Draft State = iota
	Open
	Closed
	Withdrawn
)

func (s State) String() string {
	switch s {
	case Draft:
		return "draft"
	case Open:
		return "open"
	case Closed:
		return "closed"
	case Withdrawn:
		return "withdrawn"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Ratio is an exact fraction Num/Den. The zero value means 0 (no quorum).
type Ratio struct {
	Num, Den int64
}

// Option is one choice of a proposal: a stable key (what ballots, the log
// and the command line name) and a label for people.
type Option struct {
	Key   string
	Label string
}

// Limits on a proposal, so that every count fits an int64 and approval
// ballots fit a 64-bit set.
const (
	MaxOptions   = 64
	MaxScore     = 1_000_000 // |ScoreMin|, |ScoreMax| at most this
	MaxQuorumDen = 1_000_000
)

// Proposal is a question put to a fixed set of voters. It is a value: every
// rule returns a new Proposal and never changes its receiver.
type Proposal struct {
	ID       string
	Title    string
	Body     string // Markdown
	Proposer string
	Options  []Option // none for Consent
	Method   Method
	// ScoreMin and ScoreMax bound a Score ballot's values (inclusive).
	ScoreMin, ScoreMax int
	OpensAt, ClosesAt  time.Time
	Quorum             Ratio
	Threshold          Threshold
	Eligibility        Eligibility
	// Eligible is the voter set, fixed by Open: sorted, without repeats.
	Eligible []string
	State    State
	// HideCounts asks that counts be shown only after the close.
	HideCounts bool
}

// Named errors of the rules; test with errors.Is.
var (
	ErrClosed          = errors.New("proposal closed")
	ErrNotOpen         = errors.New("proposal not open")
	ErrNotEligible     = errors.New("voter not eligible")
	ErrUnknownOption   = errors.New("unknown option")
	ErrInvalidBallot   = errors.New("invalid ballot")
	ErrAlreadyVoted    = errors.New("already voted")
	ErrOptionsFixed    = errors.New("options are fixed once the proposal opens")
	ErrNotLater        = errors.New("new close is not later than the current one")
	ErrNotDue          = errors.New("proposal closes later")
	ErrInvalidProposal = errors.New("invalid proposal")
)

// ProposalError says which rule a proposal breaks; it matches
// ErrInvalidProposal.
type ProposalError struct {
	Field, Detail string
}

func (e *ProposalError) Error() string {
	return fmt.Sprintf("invalid proposal: %s: %s", e.Field, e.Detail)
}

func (e *ProposalError) Unwrap() error { return ErrInvalidProposal }

func invalid(field, format string, args ...any) error {
	return &ProposalError{Field: field, Detail: fmt.Sprintf(format, args...)}
}

// ValidKey reports whether s can be an option key: 1 to 64 bytes of
// a-z, 0-9, '-' and '_', starting with a letter or digit, and not
// "abstain" (the word every ballot may use to abstain).
func ValidKey(s string) bool {
	if len(s) == 0 || len(s) > 64 || s == "abstain" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// Validate checks the proposal's own rules (not its state).
func (p Proposal) Validate() error {
	if p.ID == "" {
		return invalid("id", "empty")
	}
	if p.Title == "" {
		return invalid("title", "empty")
	}
	switch p.Method {
	case SingleChoice, Approval, InstantRunoff, Schulze, Score:
		if len(p.Options) < 2 || len(p.Options) > MaxOptions {
			return invalid("options", "%d options; want 2 to %d", len(p.Options), MaxOptions)
		}
	case Consent:
		if len(p.Options) != 0 {
			return invalid("options", "a consent proposal has no options (agree, disagree, block, abstain)")
		}
	default:
		return invalid("method", "unknown method %q", p.Method)
	}
	seen := make(map[string]bool, len(p.Options))
	for _, o := range p.Options {
		if !ValidKey(o.Key) {
			return invalid("options", "bad key %q", o.Key)
		}
		if seen[o.Key] {
			return invalid("options", "key %q twice", o.Key)
		}
		seen[o.Key] = true
	}
	if p.Method == Score {
		if p.ScoreMin >= p.ScoreMax || p.ScoreMin < -MaxScore || p.ScoreMax > MaxScore {
			return invalid("score", "range [%d, %d]; want min < max within ±%d", p.ScoreMin, p.ScoreMax, MaxScore)
		}
	}
	switch p.Threshold {
	case Majority:
	case TwoThirds:
		if p.Method == Schulze {
			return invalid("threshold", "schulze takes only the majority threshold")
		}
	case Consensus:
		if p.Method != Consent {
			return invalid("threshold", "consensus is for consent proposals")
		}
	default:
		return invalid("threshold", "unknown threshold %q", p.Threshold)
	}
	q := p.Quorum
	if !(q.Num == 0 && q.Den == 0) && (q.Den <= 0 || q.Den > MaxQuorumDen || q.Num < 0 || q.Num > q.Den) {
		return invalid("quorum", "%d/%d; want 0 <= num <= den <= %d", q.Num, q.Den, MaxQuorumDen)
	}
	switch p.Eligibility {
	case CoopMembers, ProjectMaintainers, FederationCoops:
	default:
		return invalid("eligibility", "unknown eligibility %q", p.Eligibility)
	}
	if p.ClosesAt.IsZero() {
		return invalid("closes_at", "not set")
	}
	return nil
}

// mutable is the check every rule that changes a proposal makes first.
func (p Proposal) mutable() error {
	if p.State == Closed || p.State == Withdrawn {
		return fmt.Errorf("%w (%s)", ErrClosed, p.State)
	}
	return nil
}

// Open fixes the eligible voters and opens the proposal at now. eligible
// is copied, sorted and cleared of repeats.
func (p Proposal) Open(eligible []string, now time.Time) (Proposal, error) {
	if err := p.mutable(); err != nil {
		return p, err
	}
	if p.State != Draft {
		return p, fmt.Errorf("%w: already open", ErrInvalidProposal)
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	if !now.Before(p.ClosesAt) {
		return p, invalid("closes_at", "%s is not after the opening %s", p.ClosesAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	voters := slices.Clone(eligible)
	slices.Sort(voters)
	voters = slices.Compact(voters)
	if len(voters) == 0 || voters[0] == "" {
		return p, invalid("eligible", "no voters, or an empty voter name")
	}
	p.Options = slices.Clone(p.Options)
	p.Eligible = voters
	p.OpensAt = now
	p.State = Open
	return p, nil
}

// SetOptions replaces the options of a draft.
func (p Proposal) SetOptions(options []Option) (Proposal, error) {
	if err := p.mutable(); err != nil {
		return p, err
	}
	if p.State != Draft {
		return p, ErrOptionsFixed
	}
	p.Options = slices.Clone(options)
	return p, nil
}

// Withdraw ends a draft or an open proposal without a decision. An open
// proposal whose deadline has passed can only be closed.
func (p Proposal) Withdraw(now time.Time) (Proposal, error) {
	if err := p.mutable(); err != nil {
		return p, err
	}
	if p.State == Open && !now.Before(p.ClosesAt) {
		return p, fmt.Errorf("%w: its deadline passed; close it", ErrClosed)
	}
	p.State = Withdrawn
	return p, nil
}

// Extend moves the deadline of an open proposal later, before it passes.
func (p Proposal) Extend(newClose, now time.Time) (Proposal, error) {
	if err := p.mutable(); err != nil {
		return p, err
	}
	if p.State != Open {
		return p, ErrNotOpen
	}
	if !now.Before(p.ClosesAt) {
		return p, fmt.Errorf("%w: its deadline passed", ErrClosed)
	}
	if !newClose.After(p.ClosesAt) {
		return p, ErrNotLater
	}
	p.ClosesAt = newClose
	return p, nil
}

// Close closes an open proposal at or after its deadline.
func (p Proposal) Close(now time.Time) (Proposal, error) {
	if err := p.mutable(); err != nil {
		return p, err
	}
	if p.State != Open {
		return p, ErrNotOpen
	}
	if now.Before(p.ClosesAt) {
		return p, ErrNotDue
	}
	p.State = Closed
	return p, nil
}

// IsEligible reports whether voter is in the fixed voter set.
func (p Proposal) IsEligible(voter string) bool {
	_, ok := slices.BinarySearch(p.Eligible, voter)
	return ok
}
