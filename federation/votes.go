package federation

import (
	"context"
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

// ProposalInbox takes the votes, direct messages and boosts of proposals
// that the inbox accepted, inside the transaction that applies their
// activity; coop.Service implements it. Refusals are recorded by it, not
// returned: an error is a failure to retry.
type ProposalInbox interface {
	ReceiveVotes(ctx context.Context, tx coop.Tx, votes []coop.RemoteVote) error
	ReceiveDirect(ctx context.Context, tx coop.Tx, m coop.DirectMessage) error
	ReceiveBoost(ctx context.Context, tx coop.Tx, b coop.Boost) error
}

// maxOptionBytes bounds the name a vote carries. A longer name is cut (at
// a rune boundary) rather than dropped, so that the vote is still refused
// and counted as one for an unknown option; the inbox's body limit bounds
// it anyway.
const maxOptionBytes = 1024

// pollVote reads an object of a Create as a Mastodon poll vote on a local
// proposal: a Note replying (inReplyTo) to a local proposal's URL
// (Site.ProposalNum), with a non-empty name and no content. ok is false
// for anything else, which is handled as any other Note.
//
// The rule follows Mastodon's ActivityPub::Activity::Create
// (app/lib/activitypub/activity/create.rb, poll_vote? and poll_vote!):
// a Note whose inReplyTo is a local status with a poll, and whose name is
// one of the poll's options (compared exactly), is a vote and is not kept
// as a status; Mastodon's VoteSerializer sends exactly that shape,
// Create{Note{name, attributedTo, inReplyTo, to}}, without content, and
// GoToSocial and Fedify send the same. Mastodon drops a vote whose name
// is no option (it becomes a reply); coopfed must refuse and count such a
// vote, so it cannot require the name to be an option: a Note replying
// to a proposal with a name and no content is a vote (the option is
// checked, and a refusal recorded, by the ProposalInbox); one with
// content is a reply, stored as any Note. The name is kept exactly as
// sent (not trimmed, not cleaned: Mastodon compares names exactly), only
// cut at maxOptionBytes. Only "name" counts, not a nameMap: Mastodon
// reads only name.
func pollVote(site coop.Site, a activity, m map[string]any) (v coop.RemoteVote, ok bool) {
	if _, note := hasType(m, map[string]bool{"Note": true}); !note {
		return v, false
	}
	num, local := site.ProposalNum(idOf(m["inReplyTo"]))
	if !local {
		return v, false
	}
	name, _ := m["name"].(string)
	if name == "" || hasContent(m) {
		return v, false
	}
	id := str(m, "id")
	if hostOf(id) == "" || !sameOrigin(id, a.Actor) {
		return v, false
	}
	if len(name) > maxOptionBytes {
		cut := maxOptionBytes
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut]
	}
	return coop.RemoteVote{Proposal: num, Account: a.Actor, Option: name, ActivityID: a.ID, NoteID: id}, true
}

// hasContent reports whether a Note has content other than blanks, as a
// string or in a contentMap (Ruby's present?, which Mastodon uses).
func hasContent(m map[string]any) bool {
	if strings.TrimSpace(str(m, "content")) != "" {
		return true
	}
	lm, _ := m["contentMap"].(map[string]any)
	for _, v := range lm {
		if s, _ := v.(string); strings.TrimSpace(s) != "" {
			return true
		}
	}
	return false
}

// createObjects returns a Create's objects: one, or each of an array.
func createObjects(a activity) []any {
	if objs, ok := a.object().([]any); ok {
		return objs
	}
	return []any{a.object()}
}

// decodeVotes returns the votes on local proposals in an activity's JSON:
// the poll votes among a Create's embedded objects (objects given by id
// are fetched by the processor, not here), in order. It is what the
// processor reads of a vote, without the store: the fuzz target's way in.
func decodeVotes(site coop.Site, body []byte) ([]coop.RemoteVote, error) {
	a, err := decodeActivity(body, int64(len(body))+1)
	if err != nil {
		return nil, err
	}
	if a.Type != "Create" {
		return nil, nil
	}
	var votes []coop.RemoteVote
	for _, o := range createObjects(a) {
		m, embedded := o.(map[string]any)
		if !embedded {
			continue
		}
		if by := idsOf(m["attributedTo"]); len(by) > 0 && by[0] != a.Actor {
			continue
		}
		if v, ok := pollVote(site, a, m); ok {
			votes = append(votes, v)
		}
	}
	return votes, nil
}

// proposalExists reports whether the local proposal num exists: a vote
// or a boost of a number that names none is not one for this node.
// Proposals are never removed, so reading before the apply transaction is
// safe.
func (p *Processor) proposalExists(ctx context.Context, num int64) (bool, error) {
	return p.db.ProposalExists(ctx, num)
}

// boost: an Announce of a local proposal (its object, by id or embedded,
// is the proposal's URL) is a coop.Boost.
func (p *Processor) boost(ctx context.Context, a activity, in store.Inbound) (effect, error) {
	if p.proposals == nil {
		return nil, nil
	}
	num, ok := p.site.ProposalNum(idOf(a.object()))
	if !ok {
		return nil, nil
	}
	if ok, err := p.proposalExists(ctx, num); err != nil || !ok {
		return nil, err
	}
	b := coop.Boost{Proposal: num, Account: a.Actor, AcceptedAt: in.ReceivedAt}
	return func(ctx context.Context, t *store.Tx) error {
		return p.proposals.ReceiveBoost(ctx, t, b)
	}, nil
}

// blockEnd matches where an HTML line or block ends, to keep it a line
// break in a message's plain text.
var blockEnd = regexp.MustCompile(`(?i)<br\s*/?>|</p\s*>`)

// maxMessageRunes bounds a direct message's plain text.
const maxMessageRunes = 5000

// messageText turns a direct message's HTML content into plain text:
// markup removed (a line break or paragraph end made a new line),
// entities decoded, control and bidirectional-override characters
// dropped (new lines kept), spaces around lines trimmed, at most
// maxMessageRunes runes.
func messageText(s string) string {
	s = blockEnd.ReplaceAllString(s, "\n")
	s = html.UnescapeString(textPolicy.Sanitize(s))
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxMessageRunes {
			break
		}
		switch {
		case r == '\n':
		case unicode.IsSpace(r):
			r = ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			continue
		}
		b.WriteRune(r)
		n++
	}
	lines := strings.Split(b.String(), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
