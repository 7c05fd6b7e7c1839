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
	// ProposalForVoter is Proposal with Eligible holding voter alone,
	// when eligible, rather than every eligible voter: what casting one
	// ballot needs.
	ProposalForVoter(ctx context.Context, num int64, voter string) (Proposal, error)
	// ProposalExists reports whether proposal num exists.
	ProposalExists(ctx context.Context, num int64) (bool, error)
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
	// StandingBallot finds a voter's standing ballot on a proposal;
	// ErrNotFound when they have none.
	StandingBallot(ctx context.Context, num int64, voter string) (StoredBallot, error)
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

// AccountLink links a remote account to a member: pending from the
// direct message with the member's code until the member confirms it.
type AccountLink struct {
	Account   string // the remote actor's URI
	MemberID  int64
	Handle    string // the member's
	Requested time.Time
	Confirmed time.Time // zero while pending
	NoteID    string    // the direct message that carried the code
}

// PendingVote is a vote from an account not linked (or not confirmed)
// when it came, held until the link is confirmed or the proposal closes.
type PendingVote struct {
	ID       int64
	Proposal int64
	Account  string
	Option   string
	NoteID   string
	Accepted time.Time
}

// StrangerRefusal counts the refused votes of accounts that are no
// member's, by reason: kept in aggregate, not one by one. AfterClose
// counts those that came after the outcome was fixed.
type StrangerRefusal struct {
	Reason     string
	AfterClose bool
	Count      int
}

// Notice kinds: what a member's linked accounts are told of a proposal.
const (
	NoticeOpened   = "opened"
	NoticeReminder = "reminder"
	NoticeOutcome  = "outcome"
)

// VotingReader holds the reads of remote voting, on the Store and inside
// a transaction.
type VotingReader interface {
	// AccountLink finds the link of a remote account, pending or
	// confirmed; ErrNotFound when it has none.
	AccountLink(ctx context.Context, account string) (AccountLink, error)
	// AccountLinks lists a member's links, oldest first.
	AccountLinks(ctx context.Context, memberID int64) ([]AccountLink, error)
	// PendingVotesOf lists an account's pending votes, in the order they
	// were accepted.
	PendingVotesOf(ctx context.Context, account string) ([]PendingVote, error)
	// PendingVotes lists a proposal's pending votes.
	PendingVotes(ctx context.Context, num int64) ([]PendingVote, error)
	// StrangerRefusals lists a proposal's aggregate refusals.
	StrangerRefusals(ctx context.Context, num int64) ([]StrangerRefusal, error)
	// ProposalAudience lists the remote actors who voted on or boosted a
	// proposal.
	ProposalAudience(ctx context.Context, num int64) ([]string, error)
	// CountsDue lists the open proposals whose counts changed at or
	// before changedBefore and were last sent (if ever) at or before
	// sentBefore.
	CountsDue(ctx context.Context, changedBefore, sentBefore time.Time) ([]int64, error)
	// UnprocessedInbound counts the activities the inboxes accepted at or
	// before t that are not yet applied (queued or in flight): votes a
	// closing proposal waits for.
	UnprocessedInbound(ctx context.Context, t time.Time) (int, error)
}

// VotingWriter holds the writes of remote voting, inside a transaction.
type VotingWriter interface {
	// InsertLinkCode stores the hash of a member's new link code.
	InsertLinkCode(ctx context.Context, memberID int64, hash string, created, expires time.Time) error
	// UseLinkCode marks the code with this hash used at now and returns
	// its member; ErrNotFound when no unused code has the hash or it
	// expired.
	UseLinkCode(ctx context.Context, hash string, now time.Time) (int64, error)
	// PutAccountLink stores a pending link, replacing a pending one of the
	// same account (never a confirmed one: ErrAccountLinked).
	PutAccountLink(ctx context.Context, l AccountLink) error
	// ConfirmAccountLink confirms an account's pending link to member.
	ConfirmAccountLink(ctx context.Context, account string, memberID int64, at time.Time) error
	// InsertPendingVote holds a vote; false when the same account's vote
	// for the same option on the proposal is already held.
	InsertPendingVote(ctx context.Context, v PendingVote) (bool, error)
	// DeletePendingVote drops a held vote (counted or refused).
	DeletePendingVote(ctx context.Context, id int64) error
	// MarkLinkHint records that an account was told how to link; false
	// when it already was.
	MarkLinkHint(ctx context.Context, account string, at time.Time) (bool, error)
	// AddStrangerRefusals counts n more refused votes of strangers.
	AddStrangerRefusals(ctx context.Context, num int64, reason string, afterClose bool, n int) error
	// AddProposalAudience adds a remote actor to a proposal's audience.
	AddProposalAudience(ctx context.Context, num int64, account string) error
	// SetCountsChanged notes that a proposal's counts changed at at (kept
	// when an earlier change is not sent yet).
	SetCountsChanged(ctx context.Context, num int64, at time.Time) error
	// SetCountsSent notes that the counts were sent at at.
	SetCountsSent(ctx context.Context, num int64, at time.Time) error
	// MarkNotice records that a member was sent a notice of a kind about
	// a proposal; false when they already were.
	MarkNotice(ctx context.Context, num, memberID int64, kind string, at time.Time) (bool, error)
}
