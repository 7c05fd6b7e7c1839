package coop

import (
	"errors"
	"fmt"
	"time"
)

// Kind is the ActivityStreams type an actor is published as.
type Kind string

// The three kinds of local actor, as DESIGN.md maps them.
const (
	KindOrganization Kind = "Organization" // the co-op itself
	KindPerson       Kind = "Person"       // a member
	KindGroup        Kind = "Group"        // a project
)

// Valid reports whether k is one of the kinds coopfed publishes.
func (k Kind) Valid() bool {
	switch k {
	case KindOrganization, KindPerson, KindGroup:
		return true
	}
	return false
}

// Actor is a local actor: the co-op, a member or a project. Members,
// projects and the co-op share one namespace of handles.
type Actor struct {
	ID      int64
	Kind    Kind
	Handle  string // as chosen, case kept; compared without case
	Name    string // display name
	Summary string // plain text; rendered to HTML where it is published
	// PublicKeyPEM is the actor's RSA-2048 public key (PKIX, PEM). The private
	// half stays in the store and is never part of this struct.
	PublicKeyPEM              string
	ManuallyApprovesFollowers bool
	Discoverable              bool
	CreatedAt                 time.Time
	UpdatedAt                 time.Time
	// RemovedAt is the time the actor was removed; zero while it is live.
	// A removed actor keeps its row so that its handle is never reused.
	RemovedAt time.Time
	// Revision grows by one with every change to what the actor publishes,
	// so a rendered document can be cached until it moves.
	Revision int64
}

// Removed reports whether the actor was removed.
func (a Actor) Removed() bool { return !a.RemovedAt.IsZero() }

// Role is a member's role in the co-op.
type Role string

// Roles a member can hold.
const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// ParseRole turns a role name into a Role.
func ParseRole(s string) (Role, error) {
	switch Role(s) {
	case RoleAdmin, RoleMember:
		return Role(s), nil
	}
	return "", fmt.Errorf("%w: %q (want admin or member)", ErrInvalidRole, s)
}

// Member is a member of the co-op: a Person actor with credentials.
type Member struct {
	Actor
	Email string
	Role  Role
	// MustChangePassword is set while the member holds a one-time password.
	MustChangePassword bool
}

// Admin reports whether m, a live member, takes admin actions (the rule
// requireAdmin applies to a member).
func (m Member) Admin() bool { return m.Role == RoleAdmin }

// Project is a piece of software the co-op builds: a Group actor.
type Project struct {
	Actor
	Repository string   // URL of the source repository
	Licence    string   // SPDX licence expression
	Tags       []string // topics, lower case, unique
	Needs      []string // what the project looks for (e.g. "review", "design")
	// Maintainers are actor URIs, local or on other nodes.
	Maintainers []string
}

// Counts are the figures NodeInfo publishes.
type Counts struct {
	Members        int // live members
	ActiveMonth    int // members active in the last 30 days
	ActiveHalfyear int // members active in the last 180 days
	Projects       int // live projects
	LocalPosts     int
}

// Rule errors. Callers test them with errors.Is; handlers and the CLI show
// their text.
var (
	ErrNotFound       = errors.New("not found")
	ErrGone           = errors.New("gone")
	ErrHandleTaken    = errors.New("handle is taken")
	ErrHandleReserved = errors.New("handle is reserved")
	ErrInvalidHandle  = errors.New("invalid handle")
	ErrInvalidRole    = errors.New("invalid role")
	ErrInvalidInput   = errors.New("invalid input")
	ErrNotMember      = errors.New("not a member")
	ErrAccountLinked  = errors.New("the account is linked to another member")
)
