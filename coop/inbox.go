package coop

import (
	"time"
)

// RemoteVote is one option vote that an inbox accepted from a remote
// account: a Mastodon-style poll vote, Create{Note{name, inReplyTo}},
// where inReplyTo is the proposal's Question. Mastodon and GoToSocial
// send one per chosen option; some servers put several Notes in one
// Create: each is a RemoteVote.
type RemoteVote struct {
	Proposal int64  // the local proposal (Site.ProposalNum of inReplyTo)
	Account  string // the remote actor whose signature the inbox verified
	Option   string // the Note's name: an option's label as the Question shows it
	// ActivityID and NoteID identify the vote as sent (the Note's id is
	// what Mastodon keeps to recognise a repeat).
	ActivityID, NoteID string
	// AcceptedAt is when the inbox accepted the activity: lateness is
	// judged by it, not by when it is processed.
	AcceptedAt time.Time
}

// DirectMessage is a direct message to a local actor from a remote
// account (only its addressees see it): how a member proves they hold an
// account elsewhere, by sending the co-op's actor their link code.
type DirectMessage struct {
	To         Actor  // the local actor it was sent to
	Account    string // the remote actor whose signature the inbox verified
	Text       string // the message as plain text (tags stripped)
	NoteID     string
	AcceptedAt time.Time
}

// Boost is a remote account's Announce of a local proposal's Question:
// the booster receives the live counts too, as Mastodon sends them to
// those who boosted a poll.
type Boost struct {
	Proposal   int64
	Account    string
	AcceptedAt time.Time
}
