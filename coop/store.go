package coop

import (
	"context"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// PersonalValue is the plain value and salt behind one commitment of a
// decision-log record; Erased once forgotten.
type PersonalValue struct {
	Field  string
	Value  string
	Salt   []byte
	Erased bool
}

// Store is the storage the use cases need; package store implements it on
// SQLite. Reads outside Update see only committed data. Every method takes
// ctx first. "Not found" is ErrNotFound, never a zero value with a nil error.
type Store interface {
	Reader
	DeliveryQueueStore
	// Update runs fn in one write transaction, so that everything fn writes
	// lands together or not at all. fn's error rolls the transaction back and
	// is returned. Writers are serialized; a CLI and a running node may both
	// call Update on the same database.
	Update(ctx context.Context, fn func(Tx) error) error
	// UpdateDurable is Update with a commit that is on disk when it
	// returns, together with every commit before it (the node signs
	// checkpoints so).
	UpdateDurable(ctx context.Context, fn func(Tx) error) error
}

// Reader holds the read methods, available both on the Store and inside a
// transaction.
type Reader interface {
	ProposalReader
	VotingReader
	ContributionReader
	RemoteContributionReader
	PayoutReader
	SessionReader
	ProjectPageReader
	ReportReader
	DiscussionReader
	NotificationReader
	AliasReader
	// ActorByHandle finds a local actor of any kind, removed ones included,
	// comparing handles without case.
	ActorByHandle(ctx context.Context, handle string) (Actor, error)
	// MemberByHandle finds a member, removed ones included.
	MemberByHandle(ctx context.Context, handle string) (Member, error)
	// MemberPasswordHash returns a member's argon2id password hash.
	MemberPasswordHash(ctx context.Context, id int64) (string, error)
	// ProjectByHandle finds a project by its slug.
	ProjectByHandle(ctx context.Context, slug string) (Project, error)
	// Coop finds the co-op's Organization actor.
	Coop(ctx context.Context) (Actor, error)
	// Members lists live members by handle.
	Members(ctx context.Context) ([]Member, error)
	// Projects lists live projects by slug.
	Projects(ctx context.Context) ([]Project, error)
	// Counts returns the figures NodeInfo publishes; activity is judged
	// against now.
	Counts(ctx context.Context, now time.Time) (Counts, error)
	// Follower finds followerURI among a local actor's followers, pending
	// ones included.
	Follower(ctx context.Context, actorID int64, followerURI string) (Follower, error)
	// FollowersOf lists a local actor's followers, pending ones included,
	// oldest first.
	FollowersOf(ctx context.Context, actorID int64) ([]Follower, error)
	// Peers lists the co-ops of this node's federation, oldest first, each
	// with the state of the co-op's follow of it.
	Peers(ctx context.Context) ([]Peer, error)
	// Peer finds a co-op of the federation by its actor URI.
	Peer(ctx context.Context, actorURI string) (Peer, error)
	// RemoteProjects lists the projects the federation's member co-ops
	// announced.
	RemoteProjects(ctx context.Context) ([]RemoteProject, error)
	// OpenLog returns the node's open decision log; ErrNotFound when none
	// is open.
	OpenLog(ctx context.Context) (DecisionLog, error)
	// Logs lists every decision log of the node, oldest first.
	Logs(ctx context.Context) ([]DecisionLog, error)
	// Checkpoints lists every checkpoint of a log the node signed, by
	// size, each with its cosignatures.
	Checkpoints(ctx context.Context, logID int64) ([]LogCheckpoint, error)
	// CheckpointAt returns the log's signed checkpoint of the given size.
	CheckpointAt(ctx context.Context, logID, size int64) (LogCheckpoint, error)
	// CosignedSize is the largest size of a log that a witness (by key
	// name) cosigned; 0 when none.
	CosignedSize(ctx context.Context, logID int64, witness string) (int64, error)
	// WitnessedLog finds a log this node witnesses by origin.
	WitnessedLog(ctx context.Context, origin string) (WitnessedLog, error)
	// WitnessedLogs lists the logs this node witnesses.
	WitnessedLogs(ctx context.Context) ([]WitnessedLog, error)
	// EvidenceList lists the inconsistent checkpoints found, newest first.
	EvidenceList(ctx context.Context) ([]LogEvidence, error)
	// PersonalFields returns the plain values behind a record's
	// commitments, by field, erased ones marked.
	PersonalFields(ctx context.Context, logID, idx int64) ([]PersonalValue, error)
	// LogRecords returns records [from, to) of a log.
	LogRecords(ctx context.Context, logID, from, to int64) ([][]byte, error)
	// LogHashReader reads a log's stored tree hashes.
	LogHashReader(ctx context.Context, logID int64) tlog.HashReader
	// LatestCheckpoint returns the log's largest signed checkpoint;
	// ErrNotFound before the first.
	LatestCheckpoint(ctx context.Context, logID int64) (LogCheckpoint, error)
	// WitnessKey returns the node's witness key; ErrNotFound before one
	// is made.
	WitnessKey(ctx context.Context) (WitnessKey, error)
	// ActorImages returns a local actor's avatar and header (nil when it
	// has none).
	ActorImages(ctx context.Context, actorID int64) (ActorImages, error)
	// Media finds a stored image by the hex SHA-256 of its bytes.
	Media(ctx context.Context, sha256 string) (Media, error)
}

// Tx is a write transaction.
type Tx interface {
	Reader
	ProposalWriter
	VotingWriter
	ContributionWriter
	RemoteContributionWriter
	PayoutWriter
	SessionWriter
	ProjectMaintainerWriter
	ReportWriter
	DiscussionWriter
	NotificationWriter
	AliasWriter
	// InsertActor stores a new actor with its private key (PKCS#8 PEM) and
	// returns it with its ID. A handle taken by any actor, removed ones
	// included, is ErrHandleTaken.
	InsertActor(ctx context.Context, a Actor, privateKeyPEM string) (Actor, error)
	// InsertMember stores the member part of m; m.ID is its actor's ID.
	InsertMember(ctx context.Context, m Member, passwordHash string) error
	// InsertProject stores the project part of p; p.ID is its actor's ID.
	InsertProject(ctx context.Context, p Project) error
	// UpdateProject replaces a project's name, summary, repository,
	// licence, tags and needs (not its maintainers) and bumps its
	// revision.
	UpdateProject(ctx context.Context, p Project, at time.Time) error
	// UpdateActorProfile changes the actor's name and summary and bumps its
	// revision.
	UpdateActorProfile(ctx context.Context, id int64, name, summary string, at time.Time) error
	// RemoveActor marks the actor removed at the given time and bumps its
	// revision. Its row, and so its handle, stays.
	RemoveActor(ctx context.Context, id int64, at time.Time) error
	// SetPassword replaces a member's password hash.
	SetPassword(ctx context.Context, id int64, passwordHash string, mustChange bool) error
	// SetMemberRole replaces a member's role.
	SetMemberRole(ctx context.Context, id int64, role Role) error
	// SetManualApproval sets whether the actor approves followers by hand
	// and bumps its revision.
	SetManualApproval(ctx context.Context, id int64, on bool, at time.Time) error

	// AppendOutbox records an activity a local actor published.
	AppendOutbox(ctx context.Context, actorID int64, activityID, activityType string, body []byte, published time.Time) (int64, error)
	// EnqueueDeliveries queues one delivery of an activity per inbox; an
	// inbox that already has the activity is skipped.
	EnqueueDeliveries(ctx context.Context, senderID int64, activityID string, body []byte, inboxes []string, at time.Time) error
	// FollowerInboxes is where an actor's posts to its followers go: each
	// accepted follower's shared inbox, else its inbox, once each.
	FollowerInboxes(ctx context.Context, actorID int64) ([]string, error)
	// AddFollowing records that a local actor follows targetURI, in state
	// "pending" or "accepted".
	AddFollowing(ctx context.Context, actorID int64, targetURI, followID, state string, at time.Time) error
	// RemoveFollowing forgets a follow and returns the id of the Follow
	// sent; ErrNotFound when there is none.
	RemoveFollowing(ctx context.Context, actorID int64, targetURI string) (followID string, err error)
	// AcceptFollower sets a pending follower accepted; ErrNotFound when
	// followerURI has no pending follow of the actor.
	AcceptFollower(ctx context.Context, actorID int64, followerURI string) error
	// RemoveFollower removes followerURI from a local actor's followers;
	// with followID set, only that follow. It reports whether a row went.
	RemoveFollower(ctx context.Context, actorID int64, followerURI, followID string) (bool, error)
	// InsertPeer adds a co-op to the federation (p.FollowState is not
	// stored); one listed already is ErrPeerExists.
	InsertPeer(ctx context.Context, p Peer) error
	// DeletePeer removes a co-op from the federation; ErrNotFound when it
	// is not listed.
	DeletePeer(ctx context.Context, actorURI string) error
	// CreateLog opens a new, empty decision log.
	CreateLog(ctx context.Context, origin, skey, vkey string, at time.Time) (DecisionLog, error)
	// CloseLog closes a log: nothing is appended to it afterwards.
	CloseLog(ctx context.Context, logID int64, at time.Time) error
	// AppendLog appends a record's exact bytes and the tree's new hashes
	// to a log and returns the record's index.
	AppendLog(ctx context.Context, logID int64, data []byte) (int64, error)
	// PersonalRecords lists the indexes of a log's records that have
	// plain personal values not yet erased.
	PersonalRecords(ctx context.Context, logID int64) ([]int64, error)
	// ErasePersonal forgets the plain values and salts of a record's
	// personal fields (field "" for all) and returns how many went.
	ErasePersonal(ctx context.Context, logID, idx int64, field string, at time.Time) (int64, error)
	// SavePersonal stores the plain value and salt behind a commitment.
	SavePersonal(ctx context.Context, logID, idx int64, field, value string, salt []byte) error
	// SaveCheckpoint stores a signed checkpoint.
	SaveCheckpoint(ctx context.Context, logID, size int64, note []byte, at time.Time) error
	// SetWitnessKey stores the node's witness key, once.
	SetWitnessKey(ctx context.Context, k WitnessKey, at time.Time) error

	// PinWitnessed starts witnessing a log; one pinned already is left as
	// it is.
	PinWitnessed(ctx context.Context, w WitnessedLog) error
	// RetireWitnessed marks a witnessed log retired after its member's
	// key rotation.
	RetireWitnessed(ctx context.Context, origin string, at time.Time) error
	// UnpinWitnessed stops witnessing the logs of a peer.
	UnpinWitnessed(ctx context.Context, peer string) error
	// KeepWitnessed stores a newer checkpoint of a witnessed log.
	KeepWitnessed(ctx context.Context, origin string, size int64, hash [32]byte, note []byte, at time.Time) error
	// SaveEvidence keeps a pair of inconsistent checkpoints and returns
	// its id, or 0 when the pair was kept before.
	SaveEvidence(ctx context.Context, e LogEvidence) (int64, error)
	// SaveCosignature stores a witness's cosignature line of a checkpoint.
	SaveCosignature(ctx context.Context, logID, size int64, witness, line string, at time.Time) error
	// SetLogFloor records the largest size a witness holds of a log.
	SetLogFloor(ctx context.Context, logID, floor int64, witness string) error

	// PutMedia stores an image; one stored already (the same hash) is
	// left as it is.
	PutMedia(ctx context.Context, m Media, at time.Time) error
	// SetActorImage sets a local actor's avatar or header to the stored
	// image sha256, or removes it when sha256 is "". An image no actor
	// shows any more is deleted. It does not move the actor's revision.
	SetActorImage(ctx context.Context, actorID int64, slot ImageSlot, sha256 string) error

	// BumpRevision moves an actor's revision on, for a change to what it
	// publishes that lives outside its own row (its federation list).
	BumpRevision(ctx context.Context, actorID int64, at time.Time) error
}

// Resolver finds the actor URI of a remote account (WebFinger);
// package federation implements it.
type Resolver interface {
	// ResolveAccount returns the actor URI of "name@host".
	ResolveAccount(ctx context.Context, acct string) (string, error)
}

// Collection names one of a local actor's collections.
type Collection string

// The collections every local actor has.
const (
	Outbox    Collection = "outbox"
	Followers Collection = "followers"
	Following Collection = "following"
)

// Federation is the co-op's collection of the co-ops that form its
// federation (coop:federation); only the Organization has it.
const Federation Collection = "federation"

// Projects is the co-op's collection of its live projects' Group actors
// (coop:projects); only the Organization has it.
const ProjectsCollection Collection = "projects"

// PageRequest asks for one page of a collection, newest first.
type PageRequest struct {
	// Before is a cursor from an earlier page: only items older than it are
	// returned. Zero starts at the newest item.
	Before int64
	Limit  int
}

// Page is one page of a collection.
type Page struct {
	Total int        // items in the whole collection
	Items []PageItem // newest first
	// Next is the cursor of the next (older) page, zero on the last page.
	Next int64
}

// PageItem is one item of a collection page: an actor IRI (followers,
// following) or an activity (outbox).
type PageItem struct {
	Cursor   int64
	IRI      string
	Activity []byte // the activity's JSON, for the outbox
}
