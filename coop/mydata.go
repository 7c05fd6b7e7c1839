package coop

import (
	"context"
	"fmt"
	"time"
)

// MyData is what the node holds about one member, for them to download
// (their right of access): their profile, the accounts linked to them,
// their ballots and the contributions recorded for them. It is an export
// document, not a domain value: its JSON names are part of what the
// member gets, and so are written here.
type MyData struct {
	Exported      time.Time        `json:"exported"`
	Profile       MyProfile        `json:"profile"`
	Links         []MyLink         `json:"linked_accounts"`
	Ballots       []MyBallot       `json:"ballots"`
	Contributions []MyContribution `json:"contributions"`
}

// MyProfile is the member's account.
type MyProfile struct {
	Handle  string    `json:"handle"`
	Actor   string    `json:"actor"`
	Name    string    `json:"name"`
	Summary string    `json:"summary"`
	Email   string    `json:"email"`
	Role    string    `json:"role"`
	Joined  time.Time `json:"joined"`
}

// MyLink is an account on another server linked to the member.
type MyLink struct {
	Account   string     `json:"account"`
	Requested time.Time  `json:"requested"`
	Confirmed *time.Time `json:"confirmed,omitempty"`
}

// MyBallot is one of the member's ballots, replaced ones included.
type MyBallot struct {
	Proposal int64      `json:"proposal"`
	Title    string     `json:"title"`
	At       time.Time  `json:"at"`
	Channel  string     `json:"channel"`
	Abstain  bool       `json:"abstain,omitempty"`
	Choices  []string   `json:"choices,omitempty"`
	Ratings  []MyRating `json:"ratings,omitempty"`
	Stance   string     `json:"stance,omitempty"`
	LogIndex int64      `json:"log_index"`
	Replaced *time.Time `json:"replaced,omitempty"`
}

// MyRating is one option's value on a score ballot.
type MyRating struct {
	Option string `json:"option"`
	Value  int    `json:"value"`
}

// MyContribution is a contribution recorded for the member.
type MyContribution struct {
	ID       int64     `json:"id"`
	Project  string    `json:"project"`
	Kind     string    `json:"kind"`
	Minutes  int64     `json:"minutes"`
	Points   int64     `json:"points"`
	Day      string    `json:"day"`
	Note     string    `json:"note,omitempty"`
	Evidence []string  `json:"evidence,omitempty"`
	Status   string    `json:"status"`
	Reason   string    `json:"reason,omitempty"`
	Created  time.Time `json:"created"`
	LogIndex int64     `json:"log_index"`
}

// MyData gathers what the node holds about the member the context's
// principal is, for that member alone: an admin acting for them, or
// anyone else, is refused (ErrNotAllowed), as is a visitor.
func (s *Service) MyData(ctx context.Context) (MyData, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return MyData{}, ErrNoPrincipal
	}
	if pr.For != "" {
		return MyData{}, fmt.Errorf("coop: my data: %w: a member downloads their own data", ErrNotAllowed)
	}
	m, ok, err := s.principalMember(ctx, s.Store, pr)
	if err != nil {
		return MyData{}, fmt.Errorf("coop: my data: %w", err)
	}
	if !ok {
		return MyData{}, fmt.Errorf("coop: my data: %w: only members have data here to download", ErrNotAllowed)
	}
	uri := s.Site.ActorID(m.Handle)
	d := MyData{Exported: s.now().UTC(), Profile: MyProfile{Handle: m.Handle, Actor: uri, Name: m.Name,
		Summary: m.Summary, Email: m.Email, Role: string(m.Role), Joined: m.CreatedAt.UTC()},
		Links: []MyLink{}, Ballots: []MyBallot{}, Contributions: []MyContribution{}}
	links, err := s.Store.AccountLinks(ctx, m.ID)
	if err != nil {
		return MyData{}, fmt.Errorf("coop: my data: %w", err)
	}
	for _, l := range links {
		ml := MyLink{Account: l.Account, Requested: l.Requested.UTC()}
		if !l.Confirmed.IsZero() {
			c := l.Confirmed.UTC()
			ml.Confirmed = &c
		}
		d.Links = append(d.Links, ml)
	}
	ps, err := s.Store.Proposals(ctx)
	if err != nil {
		return MyData{}, fmt.Errorf("coop: my data: %w", err)
	}
	for i := len(ps) - 1; i >= 0; i-- { // oldest first
		p := ps[i]
		bs, err := s.Store.Ballots(ctx, p.Num)
		if err != nil {
			return MyData{}, fmt.Errorf("coop: my data: %w", err)
		}
		for _, b := range bs {
			if b.Voter != uri {
				continue
			}
			mb := MyBallot{Proposal: p.Num, Title: p.Title, At: b.At.UTC(), Channel: b.Channel, Abstain: b.Abstain,
				Choices: b.Choices, Stance: string(b.Stance), LogIndex: b.LogIndex}
			for _, r := range b.Ratings {
				mb.Ratings = append(mb.Ratings, MyRating{Option: r.Option, Value: r.Value})
			}
			if !b.Replaced.IsZero() {
				r := b.Replaced.UTC()
				mb.Replaced = &r
			}
			d.Ballots = append(d.Ballots, mb)
		}
	}
	projects, err := s.Store.Projects(ctx)
	if err != nil {
		return MyData{}, fmt.Errorf("coop: my data: %w", err)
	}
	for _, p := range projects {
		cs, err := s.Store.Contributions(ctx, p.ID, ContributionFilter{Project: p.Handle, Contributor: uri})
		if err != nil {
			return MyData{}, fmt.Errorf("coop: my data: %w", err)
		}
		for _, c := range cs {
			d.Contributions = append(d.Contributions, MyContribution{ID: c.ID, Project: c.Project, Kind: c.Kind,
				Minutes: c.Minutes, Points: c.Points, Day: c.Day.Format(time.DateOnly), Note: c.Note, Evidence: c.Evidence,
				Status: c.Status, Reason: c.Reason, Created: c.Created.UTC(), LogIndex: c.LogIndex})
		}
	}
	return d, nil
}
