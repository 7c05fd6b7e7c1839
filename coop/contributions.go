package coop

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coopfed/coopfed/ledger"
)

// Contribution records (DESIGN.md, "Contributions and remuneration"): who
// did what for a project. A member records one; a maintainer of the
// project approves or rejects it, never their own. Hours and points are
// members-only: the decision log holds them, and the note, as salted
// commitments (erasable), and the kind, the project, the contributor and
// the evidence links in plain.

// Kind of work a contribution is.
const (
	KindCode       = "code"
	KindReview     = "review"
	KindDocs       = "docs"
	KindDesign     = "design"
	KindOperations = "operations"
	KindCare       = "care"
)

// ContributionKinds lists the kinds, in order.
var ContributionKinds = []string{KindCode, KindReview, KindDocs, KindDesign, KindOperations, KindCare}

// Contribution statuses.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
)

// Bounds of a contribution record.
const (
	MaxEvidence        = 10
	MaxContributionMin = 24 * 60 * 31 // a month of days, in one record
	MaxPoints          = 1_000_000
	MaxNoteLength      = 2000
)

// Contribution is a record of work for a project.
type Contribution struct {
	ID          int64
	ProjectID   int64
	Project     string // the project's slug
	Contributor string // actor URI
	Kind        string
	Minutes     int64
	Points      int64
	Evidence    []string
	Day         time.Time // the day of the work, UTC midnight
	Note        string
	Status      string
	Reason      string // why it was rejected
	CommitHash  string // imported from git
	RecordedBy  string // the principal who recorded it
	DecidedBy   string // the maintainer who approved or rejected it
	Created     time.Time
	Updated     time.Time
	LogIndex    int64 // its latest decision-log record
}

// URL is the record's address, its subject in the decision log.
func (c Contribution) URL(s Site) string {
	return s.URL("/contributions/" + strconv.FormatInt(c.ID, 10))
}

// NewContribution is what a member records.
type NewContribution struct {
	Project string // slug
	// Contributor is who did the work: a local member's handle, an
	// @name@host account or an actor URL of a member of a federation
	// member co-op; empty: the principal themself.
	Contributor string
	Kind        string
	Minutes     int64
	Points      int64
	Evidence    []string
	Day         time.Time // zero: today
	Note        string
}

// ContributionFilter selects records to list.
type ContributionFilter struct {
	Project     string // slug; required
	Status      string // "" for any
	Contributor string // actor URI; "" for any
	Kind        string // one of ContributionKinds; "" for any
	From, To    time.Time
}

// ContributionReader holds the reads of contributions.
type ContributionReader interface {
	// Contribution finds a record by ID.
	Contribution(ctx context.Context, id int64) (Contribution, error)
	// Contributions lists a project's records matching f, by day then ID.
	Contributions(ctx context.Context, projectID int64, f ContributionFilter) ([]Contribution, error)
	// MemberByEmail finds the live member whose email or alias is email
	// (lower-cased); ErrNotFound when none.
	MemberByEmail(ctx context.Context, email string) (Member, error)
	// ImportedCommits returns which of the hashes a project already holds.
	ImportedCommits(ctx context.Context, projectID int64, hashes []string) (map[string]bool, error)
}

// ContributionWriter holds the writes of contributions.
type ContributionWriter interface {
	// InsertContribution stores a new record and returns its ID.
	InsertContribution(ctx context.Context, c Contribution) (int64, error)
	// DecideContribution sets a record's status, reason, decider and log
	// index.
	DecideContribution(ctx context.Context, c Contribution) error
	// InsertAlias adds an address of a member; ErrDuplicate-like
	// ErrInvalidInput when another member holds it.
	InsertAlias(ctx context.Context, memberID int64, email string, at time.Time) error
}

// resolveContributor returns the actor URI of who did the work: a local
// live member, or a member of a co-op of this node's federation.
func (s *Service) resolveContributor(ctx context.Context, r Reader, who string) (string, error) {
	uri, err := s.maintainerURI(ctx, r, who)
	if err != nil {
		return "", err
	}
	if _, local := s.Site.HandleFromActorID(uri); local {
		return uri, nil
	}
	peers, err := r.Peers(ctx)
	if err != nil {
		return "", err
	}
	for _, p := range peers {
		if sameHost(p.Actor, uri) {
			return uri, nil
		}
	}
	return "", fmt.Errorf("%w: %s is neither a member here nor of a co-op of this node's federation", ErrInvalidInput, who)
}

// sameHost reports whether two URLs share a scheme and host.
func sameHost(a, b string) bool {
	sa, ra, ok1 := strings.Cut(a, "://")
	sb, rb, ok2 := strings.Cut(b, "://")
	if !ok1 || !ok2 || !strings.EqualFold(sa, sb) {
		return false
	}
	ha, _, _ := strings.Cut(ra, "/")
	hb, _, _ := strings.Cut(rb, "/")
	return strings.EqualFold(ha, hb)
}

// actingMember is the member a principal acts as (the member themself,
// or the one an operator acts for), or ok == false.
func (s *Service) actingMember(ctx context.Context, r Reader, pr Principal) (Member, bool, error) {
	id := pr.ID
	if pr.For != "" {
		id = pr.For
	}
	return s.principalMember(ctx, r, Principal{ID: id})
}

// checkContribution validates a new record's fields.
func checkContribution(n *NewContribution, today time.Time) error {
	if !slices.Contains(ContributionKinds, n.Kind) {
		return fmt.Errorf("%w: kind %q: one of %s", ErrInvalidInput, n.Kind, strings.Join(ContributionKinds, ", "))
	}
	switch {
	case n.Minutes < 0 || n.Points < 0:
		return fmt.Errorf("%w: minutes and points are never negative", ErrInvalidInput)
	case n.Minutes > MaxContributionMin:
		return fmt.Errorf("%w: %d minutes in one record; at most %d", ErrInvalidInput, n.Minutes, MaxContributionMin)
	case n.Points > MaxPoints:
		return fmt.Errorf("%w: %d points in one record; at most %d", ErrInvalidInput, n.Points, MaxPoints)
	case len(n.Evidence) > MaxEvidence:
		return fmt.Errorf("%w: %d evidence links; at most %d", ErrInvalidInput, len(n.Evidence), MaxEvidence)
	case len(n.Note) > MaxNoteLength:
		return fmt.Errorf("%w: the note is longer than %d bytes", ErrInvalidInput, MaxNoteLength)
	}
	for _, e := range n.Evidence {
		if err := checkHTTPURL("evidence", e); err != nil {
			return err
		}
	}
	if n.Day.IsZero() {
		n.Day = today
	}
	n.Day = time.Date(n.Day.Year(), n.Day.Month(), n.Day.Day(), 0, 0, 0, 0, time.UTC)
	if n.Day.After(today) {
		return fmt.Errorf("%w: the day %s is in the future", ErrInvalidInput, n.Day.Format(time.DateOnly))
	}
	return nil
}

// contributionFacts is what the log records of a record: the personal
// fields (hours, points, note) as commitments.
func (s *Service) contributionEvent(typ string, c Contribution) event {
	data := map[string]any{
		"contribution": c.ID,
		"project":      s.Site.ActorID(c.Project),
		"contributor":  c.Contributor,
		"kind":         c.Kind,
		"day":          c.Day.Format(time.DateOnly),
		"status":       c.Status,
	}
	ev := make([]any, 0, len(c.Evidence))
	for _, e := range c.Evidence {
		ev = append(ev, e)
	}
	data["evidence"] = ev
	if c.CommitHash != "" {
		data["commit"] = c.CommitHash
	}
	if c.Reason != "" {
		data["reason"] = c.Reason
	}
	personal := map[string]string{
		"minutes": strconv.FormatInt(c.Minutes, 10),
		"points":  strconv.FormatInt(c.Points, 10),
	}
	if c.Note != "" {
		personal["note"] = c.Note
	}
	return event{Type: typ, Subject: c.URL(s.Site), Data: data, Personal: personal}
}

// AddContribution records work for a project, pending a maintainer's
// approval, on behalf of the principal: a live member (for themself or
// for another member), or the operator acting for one (--for). A record
// with neither minutes nor points is refused (an imported commit counts
// its points).
func (s *Service) AddContribution(ctx context.Context, n NewContribution) (Contribution, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return Contribution{}, ErrNoPrincipal
	}
	if n.Minutes == 0 && n.Points == 0 {
		return Contribution{}, fmt.Errorf("coop: record contribution: %w: give minutes (or hours) or points", ErrInvalidInput)
	}
	s.lookUpParticipants(ctx, n.Project, n.Contributor)
	var out Contribution
	err := s.Store.Update(ctx, func(tx Tx) error {
		me, isMember, err := s.actingMember(ctx, tx, pr)
		if err != nil {
			return err
		}
		if !isMember {
			return fmt.Errorf("%w: only the co-op's members record contributions", ErrNotAllowed)
		}
		who := n.Contributor
		if who == "" {
			who = me.Handle
		}
		c, err := s.newContribution(ctx, tx, n, who, pr)
		if err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return Contribution{}, fmt.Errorf("coop: record contribution: %w", err)
	}
	return out, nil
}

// newContribution checks, stores and logs one record inside tx.
func (s *Service) newContribution(ctx context.Context, tx Tx, n NewContribution, who string, pr Principal) (Contribution, error) {
	now := s.now()
	if err := checkContribution(&n, now); err != nil {
		return Contribution{}, err
	}
	p, err := tx.ProjectByHandle(ctx, n.Project)
	if isNotFound(err) {
		return Contribution{}, fmt.Errorf("%w: no project %q", ErrInvalidInput, n.Project)
	}
	if err != nil {
		return Contribution{}, err
	}
	if p.Removed() {
		return Contribution{}, fmt.Errorf("%w: project %q was removed", ErrGone, n.Project)
	}
	contributor, err := s.resolveContributor(ctx, tx, who)
	if err != nil {
		return Contribution{}, err
	}
	recorder := pr.ID
	c := Contribution{ProjectID: p.ID, Project: p.Handle, Contributor: contributor, Kind: n.Kind, Minutes: n.Minutes,
		Points: n.Points, Evidence: slices.Clone(n.Evidence), Day: n.Day, Note: n.Note, Status: StatusPending,
		RecordedBy: recorder, Created: now, Updated: now}
	if c, err = s.storeContribution(ctx, tx, c); err != nil {
		return Contribution{}, err
	}
	return c, s.publishContribution(ctx, tx, p, c)
}

// publishContribution sends a record, new or decided, to the remote
// actors who take part in its project (Publisher.PublishContribution),
// inside the transaction that stored and logged it; without a Publisher,
// nothing.
func (s *Service) publishContribution(ctx context.Context, tx Tx, p Project, c Contribution) error {
	if s.Publisher == nil {
		return nil
	}
	return s.Publisher.PublishContribution(ctx, tx, p, c, c.Updated)
}

// lookUpTimeout bounds the look-ups before a record is sent.
const lookUpTimeout = 5 * time.Second

// lookUpParticipants has the Publisher look up, before the transaction
// that sends a project's record, the remote actors who take part in it
// (its remote maintainers, and others given as actor URLs), so that the
// node holds their documents: a record goes only to actors the node
// holds (no network I/O inside a transaction). Best effort: one not
// found now is not sent the record.
func (s *Service) lookUpParticipants(ctx context.Context, project string, others ...string) {
	if s.Publisher == nil {
		return
	}
	// A server that does not answer delays the record, not much.
	ctx, cancel := context.WithTimeout(ctx, lookUpTimeout)
	defer cancel()
	p, err := s.Store.ProjectByHandle(ctx, project)
	if err != nil {
		return
	}
	for _, uri := range append(slices.Clone(p.Maintainers), others...) {
		// An actor URL, or an @name@host account (a contributor as given
		// at the command line); a local member's handle needs nothing.
		isAcct := strings.Count(strings.TrimPrefix(uri, "@"), "@") == 1
		if _, local := s.Site.HandleFromActorID(uri); local || (checkHTTPURL("actor", uri) != nil && !isAcct) {
			continue
		}
		_, _ = s.Publisher.Recipient(ctx, uri)
	}
}

// storeContribution inserts c and logs contribution.recorded.
func (s *Service) storeContribution(ctx context.Context, tx Tx, c Contribution) (Contribution, error) {
	id, err := tx.InsertContribution(ctx, c)
	if err != nil {
		return Contribution{}, err
	}
	c.ID = id
	idx, err := s.logEvent(ctx, tx, s.contributionEvent("contribution.recorded", c))
	if err != nil {
		return Contribution{}, err
	}
	c.LogIndex = idx
	return c, tx.DecideContribution(ctx, c)
}

// DecideContribution approves (approve true) or rejects, with a reason, a
// pending record, on behalf of the principal, who must be a maintainer
// of its project who is a member here, and not its contributor. It is a
// personal act: the operator acting for a maintainer does not count.
func (s *Service) DecideContribution(ctx context.Context, id int64, approve bool, reason string) (Contribution, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return Contribution{}, ErrNoPrincipal
	}
	reason = strings.TrimSpace(reason)
	if !approve && reason == "" {
		return Contribution{}, fmt.Errorf("coop: decide contribution %d: %w: a rejection says why (--reason)", id, ErrInvalidInput)
	}
	if pr.For != "" || pr.ID == AdminPrincipal {
		return Contribution{}, fmt.Errorf("coop: decide contribution %d: %w: a maintainer approves with their own credentials (--as NAME), not the operator", id, ErrNotAllowed)
	}
	if c, err := s.Store.Contribution(ctx, id); err == nil {
		s.lookUpParticipants(ctx, c.Project, c.Contributor)
	}
	var out Contribution
	err := s.Store.Update(ctx, func(tx Tx) error {
		if _, isMember, err := s.principalMember(ctx, tx, pr); err != nil || !isMember {
			if err != nil {
				return err
			}
			return fmt.Errorf("%w: %s is not a member here", ErrNotAllowed, pr.ID)
		}
		var err error
		out, err = s.decide(ctx, tx, id, pr.ID, approve, reason, s.now())
		return err
	})
	if err != nil {
		return Contribution{}, fmt.Errorf("coop: decide contribution %d: %w", id, err)
	}
	return out, nil
}

// decide applies the decision of by, a maintainer, on a pending record
// inside tx: never on their own record; logged on behalf of ctx's
// principal, stored, and sent again (an Update with the new status).
func (s *Service) decide(ctx context.Context, tx Tx, id int64, by string, approve bool, reason string, at time.Time) (Contribution, error) {
	c, err := tx.Contribution(ctx, id)
	if err != nil {
		return Contribution{}, err
	}
	p, err := tx.ProjectByHandle(ctx, c.Project)
	if err != nil {
		return Contribution{}, err
	}
	if err := c.DecidableBy(p, by); err != nil {
		return Contribution{}, err
	}
	typ := "contribution.approved"
	c.Status, c.Reason = StatusApproved, ""
	if !approve {
		typ = "contribution.rejected"
		c.Status, c.Reason = StatusRejected, reason
	}
	c.DecidedBy, c.Updated = by, at
	if c.LogIndex, err = s.logEvent(ctx, tx, s.contributionEvent(typ, c)); err != nil {
		return Contribution{}, err
	}
	if err := tx.DecideContribution(ctx, c); err != nil {
		return Contribution{}, err
	}
	return c, s.publishContribution(ctx, tx, p, c)
}

// DecidableBy says whether by (an actor URI) may approve or reject the
// record c of project p, or why not (an error wrapping ErrNotAllowed or
// ErrInvalidInput): a maintainer of p, not its contributor, on a pending
// record.
func (c Contribution) DecidableBy(p Project, by string) error {
	switch {
	case !slices.Contains(p.Maintainers, by):
		return fmt.Errorf("%w: only a maintainer of %q approves or rejects its contributions", ErrNotAllowed, c.Project)
	case c.Contributor == by:
		return fmt.Errorf("%w: a maintainer never approves or rejects their own contribution", ErrNotAllowed)
	case c.Status != StatusPending:
		return fmt.Errorf("%w: contribution %d is already %s", ErrInvalidInput, c.ID, c.Status)
	}
	return nil
}

// ReceiveContributionDecision applies, inside tx (the transaction that
// applies the activity), a remote actor's Accept (approve true) or
// Reject, with a reason, of the local record id: the rules of
// DecideContribution, with the actor, over the remote channel, as the
// principal the log names: one of the project's maintainers (a member of
// another co-op's node), never the record's contributor, on a pending
// record, and a rejection says why. A decision refused by a rule is an
// error wrapping ErrNotAllowed, ErrInvalidInput or ErrNotFound, and
// nothing is written: it is neither applied nor logged (the decision log
// records decisions, and an unauthorised one is none; anyone may send an
// Accept), and the caller logs it as a warning and drops it. Any other
// error is a failure to retry.
func (s *Service) ReceiveContributionDecision(ctx context.Context, tx Tx, id int64, actor string, approve bool, reason string, at time.Time) error {
	reason = strings.TrimSpace(reason)
	if !approve && reason == "" {
		return fmt.Errorf("coop: decision on contribution %d by %s: %w: a rejection says why", id, actor, ErrInvalidInput)
	}
	if _, local := s.Site.HandleFromActorID(actor); local {
		return fmt.Errorf("coop: decision on contribution %d by %s: %w: a local maintainer decides here, not by a remote activity", id, actor, ErrNotAllowed)
	}
	ctx = WithPrincipal(ctx, Principal{ID: actor, Channel: ledger.ChannelRemote})
	if _, err := s.decide(ctx, tx, id, actor, approve, reason, at.UTC().Truncate(time.Microsecond)); err != nil {
		return fmt.Errorf("coop: decision on contribution %d by %s: %w", id, actor, err)
	}
	return nil
}

// membersOnly refuses anyone but a live member here and the operator:
// what hours, points and pay need. what says what is refused.
func (s *Service) membersOnly(ctx context.Context, what string) error {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return ErrNoPrincipal
	}
	if pr.ID == AdminPrincipal {
		return nil
	}
	_, isMember, err := s.principalMember(ctx, s.Store, pr)
	if err != nil {
		return err
	}
	if !isMember {
		return fmt.Errorf("%w: %s", ErrNotAllowed, what)
	}
	return nil
}

// ListContributions lists a project's records; members-only (hours and
// points): the principal must be a member here or the operator.
func (s *Service) ListContributions(ctx context.Context, f ContributionFilter) ([]Contribution, error) {
	if err := s.membersOnly(ctx, "hours and points are for members"); err != nil {
		return nil, fmt.Errorf("coop: contributions: %w", err)
	}
	if f.Kind != "" && !slices.Contains(ContributionKinds, f.Kind) {
		return nil, fmt.Errorf("coop: contributions: %w: kind %q: one of %s", ErrInvalidInput, f.Kind, strings.Join(ContributionKinds, ", "))
	}
	p, err := s.Store.ProjectByHandle(ctx, f.Project)
	if err != nil {
		return nil, fmt.Errorf("coop: contributions of %q: %w", f.Project, err)
	}
	return s.Store.Contributions(ctx, p.ID, f)
}

// AddAlias adds an address under which a member's commits are matched:
// the member themself or an admin (aliases.go). The address goes in the log as a
// commitment.
func (s *Service) AddAlias(ctx context.Context, handle, email string) error {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return ErrNoPrincipal
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != strings.TrimSpace(email) {
		return fmt.Errorf("coop: alias: %w: %q is not an email address", ErrInvalidInput, email)
	}
	email = strings.ToLower(addr.Address)
	err = s.Store.Update(ctx, func(tx Tx) error {
		if err := s.mayManageAliases(ctx, tx, pr, handle); err != nil {
			return err
		}
		m, err := liveMember(ctx, tx, handle)
		if err != nil {
			return err
		}
		if m.Email != "" && strings.EqualFold(m.Email, email) {
			return fmt.Errorf("%w: %s is already %s's address", ErrInvalidInput, email, handle)
		}
		if err := aliasTaken(ctx, tx, m, email); err != nil {
			return err
		}
		if err := tx.InsertAlias(ctx, m.ID, email, s.now()); err != nil {
			return err
		}
		_, err = s.logEvent(ctx, tx, event{Type: "member.alias_added", Subject: s.Site.ActorID(handle),
			Personal: map[string]string{"email": email}})
		return err
	})
	if err != nil {
		return fmt.Errorf("coop: alias: %w", err)
	}
	return nil
}

// Commit is a commit read from a project's history (cmd reads them with
// package githistory, merges left out).
type Commit struct {
	Hash        string
	AuthorName  string
	AuthorEmail string // as written; matched without case
	When        time.Time
	Subject     string
	URL         string // the evidence link, built from the project's repository URL
}

// ImportResult says what an import did.
type ImportResult struct {
	Created []Contribution
	// Already counts commits the project held from an earlier import.
	Already int
	// Unmatched lists the authors no member's address matched, as
	// "Name <email>", with their commit counts: listed, not dropped.
	Unmatched map[string]int
}

// ImportCommits records the commits of a project's history as pending
// code contributions of the members whose email or alias is their
// author's address, pointsPerCommit points each (at least 1), the commit
// as evidence and its subject as the note, each commit once per project
// however often it is imported. On behalf of a member (or the operator
// for one), in one transaction.
func (s *Service) ImportCommits(ctx context.Context, project string, commits []Commit, pointsPerCommit int64) (ImportResult, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return ImportResult{}, ErrNoPrincipal
	}
	if pointsPerCommit < 1 || pointsPerCommit > MaxPoints {
		return ImportResult{}, fmt.Errorf("coop: import: %w: points per commit %d", ErrInvalidInput, pointsPerCommit)
	}
	s.lookUpParticipants(ctx, project)
	res := ImportResult{Unmatched: map[string]int{}}
	err := s.Store.Update(ctx, func(tx Tx) error {
		if _, isMember, err := s.actingMember(ctx, tx, pr); err != nil || !isMember {
			if err != nil {
				return err
			}
			return fmt.Errorf("%w: only the co-op's members import contributions", ErrNotAllowed)
		}
		p, err := tx.ProjectByHandle(ctx, project)
		if isNotFound(err) {
			return fmt.Errorf("%w: no project %q", ErrInvalidInput, project)
		}
		if err != nil {
			return err
		}
		if p.Removed() {
			return fmt.Errorf("%w: project %q was removed", ErrGone, project)
		}
		hashes := make([]string, 0, len(commits))
		for _, c := range commits {
			hashes = append(hashes, c.Hash)
		}
		held, err := tx.ImportedCommits(ctx, p.ID, hashes)
		if err != nil {
			return err
		}
		members := map[string]*Member{}
		now := s.now()
		for _, cm := range commits {
			if held[cm.Hash] {
				res.Already++
				continue
			}
			held[cm.Hash] = true
			email := strings.ToLower(strings.TrimSpace(cm.AuthorEmail))
			m, seen := members[email]
			if !seen {
				got, err := tx.MemberByEmail(ctx, email)
				switch {
				case err == nil:
					m = &got
				case !isNotFound(err):
					return err
				}
				members[email] = m
			}
			if m == nil {
				res.Unmatched[fmt.Sprintf("%s <%s>", cm.AuthorName, cm.AuthorEmail)]++
				continue
			}
			day := cm.When.UTC()
			if day.After(now) {
				day = now // a clock ahead: the record is not in the future
			}
			n := NewContribution{Project: p.Handle, Kind: KindCode, Points: pointsPerCommit, Day: day, Note: truncate(cm.Subject, MaxNoteLength)}
			if cm.URL != "" {
				n.Evidence = []string{cm.URL}
			}
			if err := checkContribution(&n, now); err != nil {
				return fmt.Errorf("commit %s: %w", cm.Hash, err)
			}
			c := Contribution{ProjectID: p.ID, Project: p.Handle, Contributor: s.Site.ActorID(m.Handle), Kind: KindCode,
				Points: pointsPerCommit, Evidence: n.Evidence, Day: n.Day, Note: n.Note, Status: StatusPending,
				CommitHash: cm.Hash, RecordedBy: pr.ID, Created: now, Updated: now}
			if c, err = s.storeContribution(ctx, tx, c); err != nil {
				return err
			}
			res.Created = append(res.Created, c)
		}
		if len(res.Created) == 0 || s.Publisher == nil {
			return nil
		}
		// One digest for the import, never a post per commit.
		return s.Publisher.PublishContributionDigest(ctx, tx, p, res.Created, now)
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("coop: import into %q: %w", project, err)
	}
	return res, nil
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
