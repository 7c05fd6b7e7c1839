package coop

import (
	"context"
	"time"

	"github.com/coopfed/coopfed/governance"
)

// Proposal is a governance.Proposal as the node keeps it: decided by a
// group (the co-op's Organization or a project's Group), numbered by the
// store. Its governance ID is the number in decimal.
type Proposal struct {
	governance.Proposal
	Num       int64
	Group     string // the deciding actor's handle
	GroupKind Kind   // KindOrganization (the co-op) or KindGroup (a project)
	GroupID   int64  // the deciding actor's ID
	Created   time.Time
	Updated   time.Time
}

// StoredBallot is an accepted ballot: the standing one of its voter, or,
// with Replaced set, one a later ballot replaced.
type StoredBallot struct {
	governance.Ballot
	Channel  string
	LogIndex int64 // its record in the decision log
	Replaced time.Time
}

// StoredRefusal is a refused vote, kept so that it is counted and shown.
type StoredRefusal struct {
	Voter    string
	At       time.Time
	Reason   string // governance.ReasonCode
	Detail   string
	Count    int
	Channel  string
	LogIndex int64
}

// StoredOutcome is the outcome of a closed proposal and where the log
// records it.
type StoredOutcome struct {
	Outcome  governance.Outcome
	LogID    int64
	LogIndex int64 // the proposal.closed record
	Closed   time.Time
}

// ProposalReader holds the reads of proposals, on the Store and inside a
// transaction.
type ProposalReader interface {
	// Proposal finds a proposal by number.
	Proposal(ctx context.Context, num int64) (Proposal, error)
	// Proposals lists every proposal, newest first.
	Proposals(ctx context.Context) ([]Proposal, error)
	// DueProposals lists the open proposals whose deadline is at or
	// before now, earliest first.
	DueProposals(ctx context.Context, now time.Time) ([]int64, error)
	// NextDeadline is the earliest deadline of an open proposal;
	// ErrNotFound when none is open.
	NextDeadline(ctx context.Context) (time.Time, error)
	// Ballots lists every ballot of a proposal, replaced ones included,
	// in the order they were accepted.
	Ballots(ctx context.Context, num int64) ([]StoredBallot, error)
	// Refusals lists a proposal's refused votes in the order they came.
	Refusals(ctx context.Context, num int64) ([]StoredRefusal, error)
	// ProposalOutcome returns a closed proposal's outcome; ErrNotFound
	// before the close.
	ProposalOutcome(ctx context.Context, num int64) (StoredOutcome, error)
}

// ProposalWriter holds the writes of proposals, inside a transaction.
type ProposalWriter interface {
	// InsertProposal stores an open proposal, its options and its
	// eligible voters, and returns its number.
	InsertProposal(ctx context.Context, p Proposal) (int64, error)
	// SetProposalState sets a proposal's state and deadline.
	SetProposalState(ctx context.Context, num int64, state governance.State, closesAt, at time.Time) error
	// InsertBallot stores a voter's ballot; their standing ballot, if
	// any, is marked replaced at the new ballot's time.
	InsertBallot(ctx context.Context, num int64, b StoredBallot) error
	// InsertRefusal stores a refused vote.
	InsertRefusal(ctx context.Context, num int64, r StoredRefusal) error
	// SaveOutcome stores a closed proposal's outcome.
	SaveOutcome(ctx context.Context, num int64, o StoredOutcome) error
}
