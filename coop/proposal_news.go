package coop

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/ledger"
)

// What goes out about a proposal: the Question (or Note) when it opens,
// its live counts while it is open (debounced: SendCounts), its outcome
// when it closes, and notices by direct message to the members' linked
// accounts (opened, a reminder a day before the close to those who have
// not voted, the outcome). A Service without a Publisher sends nothing.

// ReminderBefore is how long before the close a member who has not voted
// is reminded.
const ReminderBefore = 24 * time.Hour

// DrainLimit is how long a closing proposal waits, past its deadline, for
// the activities its inboxes accepted before the deadline and have not
// applied yet (votes among them): lateness is judged by acceptance, so a
// vote accepted in time counts even when applied after the deadline.
const DrainLimit = 2 * time.Minute

// countsGather is how long the counts wait after a change before they go
// out, so that the votes of one burst share one Update.
const countsGather = time.Second

// groupOf returns the actor that decides proposal p.
func groupOf(ctx context.Context, r Reader, p Proposal) (Actor, error) {
	return r.ActorByHandle(ctx, p.Group)
}

// news is what goes out about a proposal: as shown, its deciding group,
// and its remote audience (voters, boosters).
type news struct {
	v        ProposalView
	group    Actor
	audience []string
}

// newsOf reads a proposal's news inside tx.
func (s *Service) newsOf(ctx context.Context, tx Tx, num int64) (news, error) {
	v, err := s.proposalView(ctx, tx, num)
	if err != nil {
		return news{}, err
	}
	g, err := groupOf(ctx, tx, v.Proposal)
	if err != nil {
		return news{}, err
	}
	audience, err := tx.ProposalAudience(ctx, num)
	if err != nil {
		return news{}, err
	}
	return news{v: v, group: g, audience: audience}, nil
}

// announceOpened publishes an opened proposal and tells the eligible
// members' linked accounts.
func (s *Service) announceOpened(ctx context.Context, tx Tx, num int64) error {
	if s.Publisher == nil {
		return nil
	}
	n, err := s.newsOf(ctx, tx, num)
	if err != nil {
		return err
	}
	v := n.v
	if err := s.Publisher.PublishProposal(ctx, tx, n.group, v, s.now()); err != nil {
		return err
	}
	how := "Vote on the poll in your app, or"
	if _, poll := PollOptions(v.Proposal.Proposal); !poll {
		how = "Vote"
	}
	text := fmt.Sprintf("A proposal you may vote on is open until %s: %q.\n%s on its page: %s",
		v.ClosesAt.UTC().Format("2006-01-02 15:04 UTC"), v.Title, how, v.URL)
	return s.notify(ctx, tx, v, NoticeOpened, nil, text)
}

// notify sends text to the linked accounts of the proposal's eligible
// voters (but those in skip), once per member and kind.
func (s *Service) notify(ctx context.Context, tx Tx, v ProposalView, kind string, skip map[string]bool, text string) error {
	if s.Publisher == nil {
		return nil
	}
	var c *Actor
	for _, voter := range v.Eligible {
		if skip[voter] {
			continue
		}
		h, ok := s.Site.HandleFromActorID(voter)
		if !ok {
			continue
		}
		m, err := liveMember(ctx, tx, h)
		if errors.Is(err, ErrNotMember) || errors.Is(err, ErrGone) {
			continue
		}
		if err != nil {
			return err
		}
		links, err := tx.AccountLinks(ctx, m.ID)
		if err != nil {
			return err
		}
		var to []string
		for _, l := range links {
			if !l.Confirmed.IsZero() {
				to = append(to, l.Account)
			}
		}
		if len(to) == 0 {
			continue
		}
		first, err := tx.MarkNotice(ctx, v.Num, m.ID, kind, s.now())
		if err != nil {
			return err
		}
		if !first {
			continue
		}
		if c == nil {
			co, err := tx.Coop(ctx)
			if err != nil {
				return err
			}
			c = &co
		}
		if err := s.direct(ctx, tx, *c, to, text); err != nil {
			return err
		}
	}
	return nil
}

// announceOutcome publishes a closed proposal's outcome to its followers
// and audience and tells the eligible members' linked accounts.
func (s *Service) announceOutcome(ctx context.Context, tx Tx, num int64) error {
	if s.Publisher == nil {
		return nil
	}
	n, err := s.newsOf(ctx, tx, num)
	if err != nil {
		return err
	}
	v := n.v
	if err := s.Publisher.PublishOutcome(ctx, tx, n.group, v, n.audience, s.now()); err != nil {
		return err
	}
	return s.notify(ctx, tx, v, NoticeOutcome, nil, fmt.Sprintf("Proposal %q closed: %s.\n%s", v.Title, OutcomeSummary(v), v.URL))
}

// announceWithdrawn tells the followers and the audience that a
// proposal was withdrawn: its poll closes (a final Update{Question}) and
// a Note says there is no decision. The outcome is not stored: a
// withdrawn proposal has none; the one sent is the tally at the
// withdrawal, which says "withdrawn".
func (s *Service) announceWithdrawn(ctx context.Context, tx Tx, num, logIndex int64) error {
	if s.Publisher == nil {
		return nil
	}
	n, err := s.newsOf(ctx, tx, num)
	if err != nil {
		return err
	}
	ballots, refusals, _, err := tallyInputs(ctx, tx, num)
	if err != nil {
		return err
	}
	o := governance.Tally(n.v.Proposal.Proposal, ballots, refusals)
	l, err := tx.OpenLog(ctx)
	if err != nil {
		return err
	}
	n.v.Outcome = &StoredOutcome{Outcome: o, LogID: l.ID, LogIndex: logIndex, Closed: s.now()}
	n.v.Counts = &n.v.Outcome.Outcome
	return s.Publisher.PublishOutcome(ctx, tx, n.group, n.v, n.audience, s.now())
}

// OutcomeSummary says in a few words what a closed proposal decided.
func OutcomeSummary(v ProposalView) string {
	if v.Outcome == nil {
		return "no outcome yet"
	}
	o := v.Outcome.Outcome
	if !o.Decided {
		return "no decision (" + strings.ReplaceAll(o.NoDecision, "-", " ") + "): the status quo stands"
	}
	if v.Method == governance.Consent {
		return "consent (no block)"
	}
	for _, opt := range v.Options {
		if opt.Key == o.Winner {
			return fmt.Sprintf("%q won", opt.Label)
		}
	}
	return fmt.Sprintf("%q won", o.Winner)
}

// SendCounts sends the live counts of the open proposals whose counts
// changed: at most one Update per proposal every `every`, and not before
// the votes of a burst have gathered. It returns how many went out.
// Counts hidden until the close are not sent.
func (s *Service) SendCounts(ctx context.Context, every time.Duration) (int, error) {
	if s.Publisher == nil {
		return 0, nil
	}
	now := s.now()
	due, err := s.Store.CountsDue(ctx, now.Add(-countsGather), now.Add(-every))
	if err != nil {
		return 0, fmt.Errorf("coop: send counts: %w", err)
	}
	sent := 0
	for _, num := range due {
		err := s.Store.Update(ctx, func(tx Tx) error {
			n, err := s.newsOf(ctx, tx, num)
			if err != nil {
				return err
			}
			if n.v.Counts != nil && n.v.State == governance.Open {
				if err := s.Publisher.PublishProposalCounts(ctx, tx, n.group, n.v, n.audience, s.now()); err != nil {
					return err
				}
				sent++
			}
			return tx.SetCountsSent(ctx, num, s.now())
		})
		if err != nil {
			return sent, fmt.Errorf("coop: send counts of proposal %d: %w", num, err)
		}
	}
	return sent, nil
}

// SendReminders reminds the members who may vote on a proposal closing
// within ReminderBefore and have not voted, through their linked
// accounts, once.
func (s *Service) SendReminders(ctx context.Context) error {
	if s.Publisher == nil {
		return nil
	}
	now := s.now()
	// The open proposals closing within ReminderBefore (and those past
	// their deadline, not closed yet, which are skipped).
	nums, err := s.Store.DueProposals(ctx, now.Add(ReminderBefore))
	if err != nil {
		return fmt.Errorf("coop: reminders: %w", err)
	}
	for _, num := range nums {
		err := s.Store.Update(ctx, func(tx Tx) error {
			p, err := tx.Proposal(ctx, num) // no tally: who may vote, and who did
			if err != nil {
				return err
			}
			if p.State != governance.Open || !now.Before(p.ClosesAt) {
				return nil
			}
			v := ProposalView{Proposal: p, URL: s.Site.ProposalURL(num)}
			bs, err := tx.Ballots(ctx, num)
			if err != nil {
				return err
			}
			voted := make(map[string]bool, len(bs))
			for _, b := range bs {
				voted[b.Voter] = true
			}
			return s.notify(ctx, tx, v, NoticeReminder, voted, fmt.Sprintf(
				"Reminder: you have not voted on %q, which closes at %s.\n%s",
				v.Title, v.ClosesAt.UTC().Format("2006-01-02 15:04 UTC"), v.URL))
		})
		if err != nil {
			return fmt.Errorf("coop: reminders of proposal %d: %w", num, err)
		}
	}
	return nil
}

// closePrincipal is the node itself, closing proposals on schedule.
func (s *Service) closePrincipal(ctx context.Context) context.Context {
	return WithPrincipal(ctx, Principal{ID: s.Site.Host, Channel: ledger.ChannelSystem})
}

// Decision is a closed proposal and what it decided, in words.
type Decision struct {
	Proposal Proposal
	Summary  string
}

// RecentDecisions lists the latest closed proposals, newest first, at
// most limit, each with OutcomeSummary's words: from the stored outcomes,
// without reading any ballot.
func (s *Service) RecentDecisions(ctx context.Context, limit int) ([]Decision, error) {
	ps, err := s.Store.Proposals(ctx) // newest first
	if err != nil {
		return nil, fmt.Errorf("coop: recent decisions: %w", err)
	}
	var out []Decision
	for _, p := range ps {
		if len(out) == limit {
			break
		}
		if p.State != governance.Closed {
			continue
		}
		o, err := s.Store.ProposalOutcome(ctx, p.Num)
		if err != nil {
			return nil, fmt.Errorf("coop: recent decisions: %w", err)
		}
		out = append(out, Decision{Proposal: p, Summary: OutcomeSummary(ProposalView{Proposal: p, Outcome: &o})})
	}
	return out, nil
}
