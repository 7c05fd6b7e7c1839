package coop

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/coopfed/coopfed/governance"
)

// A member's notifications (issue 9): what they need to know, derived
// each time from what the node keeps — proposals waiting for their vote,
// outcomes of proposals they could vote on, decisions on their
// contributions, payout rounds of their projects waiting for a second
// approval, replies to the proposals they opened, links of fediverse
// accounts waiting for their confirmation — with one mark per member,
// "read up to", rather than a copy of every event. As on Mastodon, the
// newest come first and those after the mark are unread.

// Kinds of notification.
const (
	NoteVoteNeeded           = "vote-needed"
	NoteOutcome              = "outcome"
	NoteContributionApproved = "contribution-approved"
	NoteContributionRejected = "contribution-rejected"
	NotePayoutApproval       = "payout-approval"
	NoteReply                = "reply"
	NoteLinkPending          = "link-pending"
)

// Notification is one thing a member needs to know.
type Notification struct {
	Kind string
	At   time.Time
	// Subject is what it is about (a proposal's title, a contribution's
	// project and kind, a payout round's project, an account), Path the
	// local page to open.
	Subject string
	Path    string
	// Detail says more: an outcome's summary, a rejection's reason, the
	// author of a reply.
	Detail string
	Unread bool
}

// Notifications is a member's notifications, newest first.
type Notifications struct {
	Items     []Notification
	Unread    int
	ReadUntil time.Time // zero before the first "mark all as read"
}

// NotificationReader reads the marks.
type NotificationReader interface {
	// NotificationsReadUntil is the time up to which a member read their
	// notifications; zero when they never marked them.
	NotificationsReadUntil(ctx context.Context, memberID int64) (time.Time, error)
}

// NotificationWriter sets the marks.
type NotificationWriter interface {
	// SetNotificationsRead sets the time up to which a member read their
	// notifications.
	SetNotificationsRead(ctx context.Context, memberID int64, until time.Time) error
}

// maxNotifications bounds the list: the newest are what a member reads.
const maxNotifications = 100

// Notifications returns the principal member's notifications.
func (s *Service) Notifications(ctx context.Context) (Notifications, error) {
	m, pr, err := s.notifiedMember(ctx)
	if err != nil {
		return Notifications{}, fmt.Errorf("coop: notifications: %w", err)
	}
	items, err := s.notifications(ctx, m, pr)
	if err != nil {
		return Notifications{}, fmt.Errorf("coop: notifications: %w", err)
	}
	out := Notifications{}
	if out.ReadUntil, err = s.Store.NotificationsReadUntil(ctx, m.ID); err != nil {
		return Notifications{}, fmt.Errorf("coop: notifications: %w", err)
	}
	for i := range items {
		if items[i].At.After(out.ReadUntil) {
			items[i].Unread = true
			out.Unread++
		}
	}
	out.Items = items
	return out, nil
}

// MarkNotificationsRead marks every notification of the principal member
// read: up to now, or to the newest one when it is later (a remote
// server's clock ahead of ours), so that all those shown are read and
// only a later one is unread again.
func (s *Service) MarkNotificationsRead(ctx context.Context) error {
	m, pr, err := s.notifiedMember(ctx)
	if err != nil {
		return fmt.Errorf("coop: mark notifications read: %w", err)
	}
	until := s.now()
	items, err := s.notifications(ctx, m, pr)
	if err != nil {
		return fmt.Errorf("coop: mark notifications read: %w", err)
	}
	if len(items) > 0 && items[0].At.After(until) {
		until = items[0].At
	}
	err = s.Store.Update(ctx, func(tx Tx) error { return tx.SetNotificationsRead(ctx, m.ID, until) })
	if err != nil {
		return fmt.Errorf("coop: mark notifications read: %w", err)
	}
	return nil
}

// notifiedMember is the principal as a live member acting for themself:
// notifications are their own, not the operator's nor an admin's for
// someone else.
func (s *Service) notifiedMember(ctx context.Context) (Member, Principal, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return Member{}, pr, ErrNoPrincipal
	}
	m, isMember, err := s.principalMember(ctx, s.Store, pr)
	if err != nil {
		return Member{}, pr, err
	}
	if !isMember || pr.For != "" {
		return Member{}, pr, fmt.Errorf("%w: notifications are a member's own", ErrNotAllowed)
	}
	return m, pr, nil
}

func (s *Service) notifications(ctx context.Context, m Member, pr Principal) ([]Notification, error) {
	var out []Notification
	now := s.now()
	ps, err := s.Store.Proposals(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		path := "/proposals/" + strconv.FormatInt(p.Num, 10)
		eligible := p.IsEligible(pr.ID)
		switch {
		case eligible && p.State == governance.Open && now.Before(p.ClosesAt):
			_, err := s.Store.StandingBallot(ctx, p.Num, pr.ID)
			if err == nil {
				break
			}
			if !isNotFound(err) {
				return nil, err
			}
			out = append(out, Notification{Kind: NoteVoteNeeded, At: p.OpensAt, Subject: p.Title, Path: path,
				Detail: "closes " + p.ClosesAt.UTC().Format("2006-01-02 15:04 UTC")})
		case eligible && p.State == governance.Closed:
			o, err := s.Store.ProposalOutcome(ctx, p.Num)
			if isNotFound(err) {
				break
			}
			if err != nil {
				return nil, err
			}
			out = append(out, Notification{Kind: NoteOutcome, At: o.Closed, Subject: p.Title, Path: path,
				Detail: OutcomeSummary(ProposalView{Proposal: p, Outcome: &o})})
		}
		if p.Proposer != pr.ID {
			continue
		}
		notes, err := s.Store.Discussion(ctx, s.Site.ProposalURL(p.Num))
		if err != nil {
			return nil, err
		}
		for _, n := range notes {
			if n.Local && n.AuthorHandle == m.Handle {
				continue
			}
			r := s.reply(n, s.Site.ProposalURL(p.Num))
			who := r.Name
			if r.Acct != "" {
				who += " (" + r.Acct + ")"
			}
			out = append(out, Notification{Kind: NoteReply, At: n.Published, Subject: p.Title, Path: path + "#discussion", Detail: who})
		}
	}
	projects, err := s.Store.Projects(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range projects {
		cs, err := s.Store.Contributions(ctx, p.ID, ContributionFilter{Project: p.Handle, Contributor: pr.ID})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			n := Notification{At: c.Updated, Subject: p.Name + ": " + c.Kind + " on " + c.Day.Format(time.DateOnly),
				Path: "/projects/" + p.Handle + "/contributions"}
			switch c.Status {
			case StatusApproved:
				n.Kind = NoteContributionApproved
			case StatusRejected:
				n.Kind, n.Detail = NoteContributionRejected, c.Reason
			default:
				continue
			}
			out = append(out, n)
		}
		if !contains(p.Maintainers, pr.ID) {
			continue
		}
		rounds, err := s.Store.PayoutRounds(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		for _, r := range rounds {
			if r.ApprovableBy(pr.ID, now) != nil {
				continue
			}
			at := r.Created
			if r.To.After(at) {
				at = r.To // approvable once its period is over
			}
			out = append(out, Notification{Kind: NotePayoutApproval, At: at, Subject: p.Name + ", " +
				r.From.Format(time.DateOnly) + " to " + r.To.Format(time.DateOnly), Path: "/payouts/" + strconv.FormatInt(r.ID, 10)})
		}
	}
	links, err := s.Store.AccountLinks(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		if l.Confirmed.IsZero() {
			out = append(out, Notification{Kind: NoteLinkPending, At: l.Requested, Subject: l.Account, Path: "/account#link"})
		}
	}
	slices.SortStableFunc(out, func(a, b Notification) int { return b.At.Compare(a.At) })
	if len(out) > maxNotifications {
		out = out[:maxNotifications]
	}
	return out, nil
}
