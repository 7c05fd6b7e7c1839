package governance

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Stance is a consent ballot's answer. Abstaining is Ballot.Abstain.
type Stance uint8

const (
	NoStance Stance = iota
	Agree
	Disagree
	Block
)

var stanceNames = [...]string{"", "agree", "disagree", "block"}

func (s Stance) String() string {
	if int(s) < len(stanceNames) {
		return stanceNames[s]
	}
	return fmt.Sprintf("Stance(%d)", uint8(s))
}

// Rating is one option's value on a score ballot.
type Rating struct {
	Option string
	Value  int
}

// Ballot is one voter's vote. Which fields are used depends on the
// method; an abstention uses none.
type Ballot struct {
	Voter string
	// At is when the ballot was accepted (by the inbox, the CLI or a page):
	// lateness is judged by it.
	At      time.Time
	Abstain bool
	// Choices: SingleChoice one key; Approval a set; InstantRunoff and
	// Schulze an order, most preferred first, possibly partial.
	Choices []string
	Ratings []Rating // Score; options left out get ScoreMin
	Stance  Stance   // Consent
	// Final marks a ballot its source cannot replace (a Mastodon poll
	// vote): see Recast.
	Final bool
}

// BallotError says why a ballot was refused. It matches its Reason, one
// of the named errors, with errors.Is.
type BallotError struct {
	Voter  string
	Reason error
	Detail string
}

func (e *BallotError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("ballot of %q: %v", e.Voter, e.Reason)
	}
	return fmt.Sprintf("ballot of %q: %v: %s", e.Voter, e.Reason, e.Detail)
}

func (e *BallotError) Unwrap() error { return e.Reason }

func refuse(b Ballot, reason error, format string, args ...any) error {
	return &BallotError{Voter: b.Voter, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// optionIndex returns the index of key among the options, or -1.
func (p Proposal) optionIndex(key string) int {
	for i := range p.Options {
		if p.Options[i].Key == key {
			return i
		}
	}
	return -1
}

// optionTable finds an option's index by its key's first byte and
// length, then one comparison: faster than comparing the key with each
// option's in turn, which a tally does for every choice of every ballot.
type optionTable struct {
	keys []string
	slot [256]int8 // -1: no option; -2: several, compare with each
}

func newOptionTable(p Proposal) *optionTable {
	t := &optionTable{keys: make([]string, len(p.Options))}
	for i := range t.slot {
		t.slot[i] = -1
	}
	for i, o := range p.Options {
		t.keys[i] = o.Key
		h := optionSlot(o.Key)
		if t.slot[h] == -1 && i < MaxOptions {
			t.slot[h] = int8(i)
		} else {
			t.slot[h] = -2
		}
	}
	return t
}

func optionSlot(key string) byte {
	if key == "" {
		return 0
	}
	return key[0] ^ byte(len(key)<<5) ^ byte(len(key)>>3)
}

// index returns the index of key among the options, or -1.
func (t *optionTable) index(key string) int {
	switch i := t.slot[optionSlot(key)]; i {
	case -1:
		return -1
	case -2:
		for i := range t.keys {
			if t.keys[i] == key {
				return i
			}
		}
		return -1
	default:
		if t.keys[i] == key {
			return int(i)
		}
		return -1
	}
}

// CheckBallot checks b against the proposal's method and options (not its
// state, time or voters) and returns it normalized: an approval set in
// the options' order without repeats, ratings in the options' order.
func (p Proposal) CheckBallot(b Ballot) (Ballot, error) {
	if b.Voter == "" {
		return b, refuse(b, ErrInvalidBallot, "no voter")
	}
	if b.Abstain {
		if len(b.Choices) != 0 || len(b.Ratings) != 0 || b.Stance != NoStance {
			return b, refuse(b, ErrInvalidBallot, "an abstention with choices")
		}
		return b, nil
	}
	if p.Method != Score && len(b.Ratings) != 0 || p.Method != Consent && b.Stance != NoStance ||
		(p.Method == Score || p.Method == Consent) && len(b.Choices) != 0 {
		return b, refuse(b, ErrInvalidBallot, "fields of another method than %s", p.Method)
	}
	switch p.Method {
	case SingleChoice:
		if len(b.Choices) != 1 {
			return b, refuse(b, ErrInvalidBallot, "%d choices; want one", len(b.Choices))
		}
		if p.optionIndex(b.Choices[0]) < 0 {
			return b, refuse(b, ErrUnknownOption, "%q", b.Choices[0])
		}
	case Approval:
		if len(b.Choices) == 0 {
			return b, refuse(b, ErrInvalidBallot, "no choices")
		}
		var set uint64
		for _, c := range b.Choices {
			i := p.optionIndex(c)
			if i < 0 {
				return b, refuse(b, ErrUnknownOption, "%q", c)
			}
			set |= 1 << i
		}
		b.Choices = p.setKeys(set)
	case InstantRunoff, Schulze:
		if len(b.Choices) == 0 {
			return b, refuse(b, ErrInvalidBallot, "no choices")
		}
		var set uint64
		for _, c := range b.Choices {
			i := p.optionIndex(c)
			if i < 0 {
				return b, refuse(b, ErrUnknownOption, "%q", c)
			}
			if set&(1<<i) != 0 {
				return b, refuse(b, ErrInvalidBallot, "%q ranked twice", c)
			}
			set |= 1 << i
		}
		b.Choices = slices.Clone(b.Choices)
	case Score:
		if len(b.Ratings) == 0 {
			return b, refuse(b, ErrInvalidBallot, "no ratings")
		}
		byIndex := make([]Rating, len(p.Options))
		var set uint64
		for _, r := range b.Ratings {
			i := p.optionIndex(r.Option)
			if i < 0 {
				return b, refuse(b, ErrUnknownOption, "%q", r.Option)
			}
			if set&(1<<i) != 0 {
				return b, refuse(b, ErrInvalidBallot, "%q rated twice", r.Option)
			}
			if r.Value < p.ScoreMin || r.Value > p.ScoreMax {
				return b, refuse(b, ErrInvalidBallot, "%s=%d outside [%d, %d]", r.Option, r.Value, p.ScoreMin, p.ScoreMax)
			}
			set |= 1 << i
			byIndex[i] = r
		}
		out := make([]Rating, 0, len(b.Ratings))
		for i, r := range byIndex {
			if set&(1<<i) != 0 {
				out = append(out, r)
			}
		}
		b.Ratings = out
	case Consent:
		if b.Stance < Agree || b.Stance > Block {
			return b, refuse(b, ErrInvalidBallot, "no stance (agree, disagree, block or abstain)")
		}
	default:
		return b, refuse(b, ErrInvalidBallot, "unknown method %q", p.Method)
	}
	return b, nil
}

func (p Proposal) setKeys(set uint64) []string {
	keys := make([]string, 0, 8)
	for i := range p.Options {
		if set&(1<<i) != 0 {
			keys = append(keys, p.Options[i].Key)
		}
	}
	return keys
}

// Cast checks a ballot accepted at acceptedAt: the proposal is open, the
// deadline has not passed (a ballot accepted at ClosesAt exactly is late),
// the voter is eligible, and the ballot fits the method. It returns the
// normalized ballot with At set. The error is a *BallotError whose Reason
// is ErrNotOpen, ErrClosed, ErrNotEligible, ErrUnknownOption or
// ErrInvalidBallot; the caller records it as a Refusal.
func (p Proposal) Cast(b Ballot, acceptedAt time.Time) (Ballot, error) {
	// The same conditions as TakesBallots, each with its reason.
	switch {
	case p.State == Draft:
		return b, refuse(b, ErrNotOpen, "still a draft")
	case p.State == Closed || p.State == Withdrawn:
		return b, refuse(b, ErrClosed, "%s", p.State)
	case acceptedAt.Before(p.OpensAt):
		return b, refuse(b, ErrNotOpen, "accepted before the opening")
	case !acceptedAt.Before(p.ClosesAt):
		return b, refuse(b, ErrClosed, "accepted at %s, deadline %s",
			acceptedAt.UTC().Format(time.RFC3339Nano), p.ClosesAt.UTC().Format(time.RFC3339Nano))
	case !p.IsEligible(b.Voter):
		return b, refuse(b, ErrNotEligible, "")
	}
	b, err := p.CheckBallot(b)
	if err != nil {
		return b, err
	}
	b.At = acceptedAt
	return b, nil
}

// Recast casts next from a voter whose standing ballot is prev. A ballot
// that is not Final is replaced by next. A Final ballot (a Mastodon vote)
// cannot be replaced: on an approval proposal a Final next adds its
// options to it (Mastodon sends one vote per option; the ballot is their
// union, a repeated option counting once); otherwise next is refused with
// ErrAlreadyVoted.
func (p Proposal) Recast(prev, next Ballot, acceptedAt time.Time) (Ballot, error) {
	if prev.Voter != next.Voter {
		return next, refuse(next, ErrInvalidBallot, "replaces a ballot of %q", prev.Voter)
	}
	b, err := p.Cast(next, acceptedAt)
	if err != nil || !prev.Final {
		return b, err
	}
	if p.Method != Approval || !b.Final || prev.Abstain || b.Abstain {
		return next, refuse(next, ErrAlreadyVoted, "")
	}
	b.Choices = append(slices.Clone(prev.Choices), b.Choices...)
	return p.CheckBallot(b)
}

// Refusal is a vote that was refused, kept so that it is counted. Count is
// how many votes it stands for (0 means 1): strangers' refused votes are
// kept in aggregate, with no Voter.
type Refusal struct {
	Voter  string
	At     time.Time
	Reason error
	Count  int
}

// Reasons, as ReasonCode names them.
const (
	ReasonClosed        = "closed"
	ReasonNotOpen       = "not-open"
	ReasonNotEligible   = "not-eligible"
	ReasonUnknownOption = "unknown-option"
	ReasonInvalidBallot = "invalid-ballot"
	ReasonAlreadyVoted  = "already-voted"
	ReasonOther         = "other"
)

// TakesBallots reports whether a ballot accepted at at can count: the
// proposal is open and at is in [OpensAt, ClosesAt). An open proposal
// whose deadline has passed takes no more ballots; it waits for its
// close to be recorded.
func (p Proposal) TakesBallots(at time.Time) bool {
	return p.State == Open && !at.Before(p.OpensAt) && at.Before(p.ClosesAt)
}

// ReasonCode is the stable name of a refusal's reason: the first of the
// named errors that err matches, or "other".
func ReasonCode(err error) string {
	switch {
	case errors.Is(err, ErrClosed):
		return ReasonClosed
	case errors.Is(err, ErrNotOpen):
		return ReasonNotOpen
	case errors.Is(err, ErrNotEligible):
		return ReasonNotEligible
	case errors.Is(err, ErrUnknownOption):
		return ReasonUnknownOption
	case errors.Is(err, ErrInvalidBallot):
		return ReasonInvalidBallot
	case errors.Is(err, ErrAlreadyVoted):
		return ReasonAlreadyVoted
	}
	return ReasonOther
}
