package coop

import (
	"fmt"
	"strings"

	"github.com/coopfed/coopfed/governance"
)

// consentPoll names the consent stances as a poll shows them, in the
// order it shows them. The meaning of "Block" travels in the Question's
// coop: data (a block stops a consent decision).
var consentPoll = []struct {
	name   string
	stance governance.Stance
}{
	{"Agree", governance.Agree},
	{"Abstain", governance.NoStance}, // an abstention
	{"Disagree", governance.Disagree},
	{"Block", governance.Block},
}

// PollOptions returns the option names a proposal's Question shows, in
// order (a Mastodon vote sends one back as its Note's name): the
// options' labels, or for consent Agree, Abstain, Disagree, Block. ok is
// false for the methods a Mastodon poll cannot express (ranked, score):
// those go out as a Note linking to the proposal's page.
func PollOptions(p governance.Proposal) (names []string, ok bool) {
	switch p.Method {
	case governance.SingleChoice, governance.Approval:
		for _, o := range p.Options {
			names = append(names, o.Label)
		}
		return names, true
	case governance.Consent:
		for _, c := range consentPoll {
			names = append(names, c.name)
		}
		return names, true
	}
	return nil, false
}

// PollCounts returns how many voters chose each of PollOptions' names, in
// the same order, and how many voted at all (Mastodon's votersCount):
// from a tally of the proposal (governance.Outcome, provisional or
// final).
func PollCounts(p governance.Proposal, o governance.Outcome) (counts []int64, voters int64) {
	switch p.Method {
	case governance.SingleChoice, governance.Approval:
		byKey := make(map[string]int64, len(o.Options))
		for _, c := range o.Options {
			byKey[c.Option] = c.Count
		}
		for _, opt := range p.Options {
			counts = append(counts, byKey[opt.Key])
		}
	case governance.Consent:
		counts = []int64{int64(o.Consent.Agree), int64(o.Abstentions), int64(o.Consent.Disagree), int64(o.Consent.Block)}
	}
	return counts, int64(o.Cast)
}

// pollBallot turns the name a Mastodon vote sends into a ballot of voter
// on p: the option whose label it is (or, for consent, the stance).
// Names compare exactly, as Mastodon compares them (the Question's names
// are unique; see checkPollNames).
func pollBallot(p governance.Proposal, voter, name string) (governance.Ballot, error) {
	b := governance.Ballot{Voter: voter, Final: true}
	switch p.Method {
	case governance.SingleChoice, governance.Approval:
		for _, o := range p.Options {
			if o.Label == name {
				b.Choices = []string{o.Key}
				return b, nil
			}
		}
	case governance.Consent:
		for _, c := range consentPoll {
			if c.name == name {
				if c.stance == governance.NoStance {
					b.Abstain = true
				} else {
					b.Stance = c.stance
				}
				return b, nil
			}
		}
	default:
		return b, &governance.BallotError{Voter: voter, Reason: governance.ErrInvalidBallot,
			Detail: fmt.Sprintf("a %s proposal is not a poll: vote on its page", p.Method)}
	}
	return b, &governance.BallotError{Voter: voter, Reason: governance.ErrUnknownOption, Detail: fmt.Sprintf("%q", name)}
}

// checkPollNames refuses a proposal that would go out as a Question with
// two options of the same name (a vote names its option by name).
func checkPollNames(p governance.Proposal) error {
	names, ok := PollOptions(p)
	if !ok {
		return nil
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		k := strings.TrimSpace(n)
		if seen[k] {
			return fmt.Errorf("%w: two options are named %q: a poll's option names must differ", ErrInvalidInput, k)
		}
		seen[k] = true
	}
	return nil
}
