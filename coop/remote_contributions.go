package coop

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Remote contribution records: the records of projects of other co-ops of
// the federation, as their project's Group sent them to the members here
// who take part (a maintainer, or the contributor). The node keeps them
// as received, each under its Note's id, the latest status winning; a
// maintainer here approves or rejects one by sending the Group an Accept
// or a Reject, and the Group's node, where the record lives and is
// logged, decides and sends the new status back.

// RemoteContribution is a contribution record of another co-op's project.
type RemoteContribution struct {
	URI         string // the record's URL, its Note's id
	Project     string // the project's Group actor URI
	Number      int64  // its ID on its node
	Contributor string // actor URI
	Kind        string
	Minutes     int64
	Points      int64
	Evidence    []string
	Day         time.Time
	Status      string
	Reason      string
	LogIndex    int64 // its latest record in its node's decision log
	Received    time.Time
	// Sent is the decision a member here sent ("approve" or "reject"),
	// until the record's new status comes back; SentBy is that member.
	Sent   string
	SentBy string
}

// RemoteContributionFilter selects remote records to list.
type RemoteContributionFilter struct {
	Project string // the Group's actor URI; "" for any
	Status  string // "" for any
}

// RemoteContributionReader holds the reads of remote records.
type RemoteContributionReader interface {
	// RemoteContribution finds a remote record by its URL.
	RemoteContribution(ctx context.Context, uri string) (RemoteContribution, error)
	// RemoteContributions lists remote records matching f, by project,
	// day and number.
	RemoteContributions(ctx context.Context, f RemoteContributionFilter) ([]RemoteContribution, error)
}

// RemoteContributionWriter holds the writes of remote records.
type RemoteContributionWriter interface {
	// SetRemoteContributionSent records the decision a member sent on a
	// remote record; ErrNotFound when it is not kept.
	SetRemoteContributionSent(ctx context.Context, uri, decision, by string) error
}

// DecidableBy returns nil when member by (an actor URI of a member here)
// may send a decision on c, a record of project p (as p's co-op
// announced it): a maintainer of p, not c's contributor, while c is
// pending and no decision of a member here is on its way.
func (c RemoteContribution) DecidableBy(p RemoteProject, by string) error {
	switch {
	case p.URI != c.Project || !slices.Contains(p.Maintainers, by):
		return fmt.Errorf("%w: only a maintainer of %s approves or rejects its contributions", ErrNotAllowed, c.Project)
	case c.Contributor == by:
		return fmt.Errorf("%w: a maintainer never approves or rejects their own contribution", ErrNotAllowed)
	case c.Status != StatusPending:
		return fmt.Errorf("%w: the contribution is already %s", ErrInvalidInput, c.Status)
	case c.Sent != "":
		return fmt.Errorf("%w: a decision (%s) was already sent; the project's node has not answered yet", ErrInvalidInput, c.Sent)
	}
	return nil
}

// Decisions a member sends on a remote record.
const (
	SentApprove = "approve"
	SentReject  = "reject"
)

// RemoteContributions lists the records of other co-ops' projects this
// node received; members-only (hours and points): a member here or the
// operator.
func (s *Service) RemoteContributions(ctx context.Context, f RemoteContributionFilter) ([]RemoteContribution, error) {
	if err := s.membersOnly(ctx, "hours and points are for members"); err != nil {
		return nil, fmt.Errorf("coop: remote contributions: %w", err)
	}
	return s.Store.RemoteContributions(ctx, f)
}

// RemoteContributionView is a remote record as a member's page shows it:
// with its project as its co-op announced it (zero when this node does
// not hold it) and whether the principal may send a decision on it.
type RemoteContributionView struct {
	RemoteContribution
	ProjectInfo RemoteProject
	Decidable   bool
}

// RemoteContributionViews lists the remote records matching f, as
// RemoteContributions does, each with its project and whether the
// principal may decide it (by the rules DecideRemoteContribution
// applies).
func (s *Service) RemoteContributionViews(ctx context.Context, f RemoteContributionFilter) ([]RemoteContributionView, error) {
	cs, err := s.RemoteContributions(ctx, f)
	if err != nil {
		return nil, err
	}
	projects, err := s.Store.RemoteProjects(ctx)
	if err != nil {
		return nil, fmt.Errorf("coop: remote contributions: %w", err)
	}
	pr, _ := PrincipalFrom(ctx)
	mayDecide := pr.For == "" && pr.ID != AdminPrincipal && s.Publisher != nil
	out := make([]RemoteContributionView, len(cs))
	for i, c := range cs {
		out[i].RemoteContribution = c
		if j := slices.IndexFunc(projects, func(p RemoteProject) bool { return p.URI == c.Project }); j >= 0 {
			out[i].ProjectInfo = projects[j]
			out[i].Decidable = mayDecide && c.DecidableBy(projects[j], pr.ID) == nil
		}
	}
	return out, nil
}

// DecideRemoteContribution approves (approve true) or rejects, with a
// reason, a pending remote record, on behalf of the principal: a member
// here (never the operator, nor the operator acting for one) who is a
// maintainer of the record's project, as the project's co-op announced
// it (the stored RemoteProject: a project this node does not hold is
// refused), and not its contributor. It sends, signed as the member,
// the Accept or Reject to the project's Group; the Group's node applies
// the same rules, logs the decision and sends the new status back,
// which is when the stored record changes. Until then the record keeps
// the decision sent.
func (s *Service) DecideRemoteContribution(ctx context.Context, uri string, approve bool, reason string) (RemoteContribution, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return RemoteContribution{}, ErrNoPrincipal
	}
	reason = strings.TrimSpace(reason)
	switch {
	case !approve && reason == "":
		return RemoteContribution{}, fmt.Errorf("coop: decide %s: %w: a rejection says why (--reason)", uri, ErrInvalidInput)
	case len(reason) > MaxNoteLength:
		return RemoteContribution{}, fmt.Errorf("coop: decide %s: %w: the reason is longer than %d bytes", uri, ErrInvalidInput, MaxNoteLength)
	case pr.For != "" || pr.ID == AdminPrincipal:
		return RemoteContribution{}, fmt.Errorf("coop: decide %s: %w: a maintainer approves with their own credentials (--as NAME), not the operator", uri, ErrNotAllowed)
	case s.Publisher == nil:
		return RemoteContribution{}, fmt.Errorf("coop: decide %s: %w: this node cannot publish", uri, ErrInvalidInput)
	}
	var out RemoteContribution
	err := s.Store.Update(ctx, func(tx Tx) error {
		me, isMember, err := s.principalMember(ctx, tx, pr)
		if err != nil {
			return err
		}
		if !isMember {
			return fmt.Errorf("%w: %s is not a member here", ErrNotAllowed, pr.ID)
		}
		rc, err := tx.RemoteContribution(ctx, uri)
		if err != nil {
			return err
		}
		projects, err := tx.RemoteProjects(ctx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(projects, func(p RemoteProject) bool { return p.URI == rc.Project })
		if i < 0 {
			return fmt.Errorf("%w: this node does not hold the project %s, nor so its maintainers", ErrNotAllowed, rc.Project)
		}
		if err := rc.DecidableBy(projects[i], pr.ID); err != nil {
			return err
		}
		rc.Sent, rc.SentBy = SentApprove, pr.ID
		if !approve {
			rc.Sent = SentReject
		}
		if err := tx.SetRemoteContributionSent(ctx, uri, rc.Sent, pr.ID); err != nil {
			return err
		}
		if err := s.Publisher.PublishContributionDecision(ctx, tx, me.Actor, rc, approve, reason, s.now()); err != nil {
			return err
		}
		out = rc
		return nil
	})
	if err != nil {
		return RemoteContribution{}, fmt.Errorf("coop: decide %s: %w", uri, err)
	}
	return out, nil
}
