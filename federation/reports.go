package federation

import (
	"context"
	"errors"
	"strings"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

// Flags: reports received from other servers (coop.Report).
//
// What one looks like, from Mastodon (app/serializers/activitypub/
// flag_serializer.rb, ActivityPub::FlagSerializer): sent when its user
// reports an account of another server and ticks "forward"
// (app/services/report_service.rb, ReportService#forward_to_origin!), by
// its instance actor (Account.representative, not the user), to the
// reported account's own inbox, HTTP-signed:
//
//	{"@context": "https://www.w3.org/ns/activitystreams",
//	 "id": "https://mastodon.example/0b7ff0cc-...", "type": "Flag",
//	 "actor": "https://mastodon.example/actor",
//	 "content": "the user's comment, plain text",
//	 "object": ["<reported account URI>", "<status URI>", ...]}
//
// What Mastodon does with one it receives
// (app/lib/activitypub/activity/flag.rb, ActivityPub::Activity::Flag#perform):
// of the objects, it keeps the accounts and statuses that are its own
// (.select(&:local?)) and ignores the rest; a Flag naming nothing of its
// own creates nothing; the comment is cut at 5000 characters
// (report_comment); the report keeps the Flag's id (report_uri).
//
// coopfed does the same, with two differences: one report per Flag (not
// one per reported account), and a Flag that names only local objects
// (no account) is kept too. Local accounts are the live members,
// projects and the co-op (by actor id or profile URL); local objects
// are posts this node sent (/users/NAME/notes/SERIAL, found in an outbox
// or the delivery queue), proposals and contribution records. The
// comment is kept as plain text (messageText: markup removed, at most
// maxMessageRunes = 5000 runes, as Mastodon). The same Flag twice
// stores one report (by its id). Object URIs are only looked up, never
// fetched.

// maxFlagObjects bounds how many objects of one Flag are looked at.
const maxFlagObjects = 100

// flagged is a Flag as read: its objects' http(s) ids, each once, in
// order, and its comment as plain text.
type flagged struct {
	Objects []string
	Comment string
}

// flagOf reads a decoded Flag.
func flagOf(a activity) flagged {
	var f flagged
	seen := map[string]bool{}
	for _, id := range idsOf(a.object()) {
		if len(f.Objects) == maxFlagObjects {
			break
		}
		if hostOf(id) == "" || seen[id] {
			continue
		}
		seen[id] = true
		f.Objects = append(f.Objects, id)
	}
	f.Comment = messageText(textOrMap(a.m, "content"))
	return f
}

// flag: a Flag that names local accounts or objects is stored as an open
// report; one that names nothing of ours is accepted and dropped.
func (p *Processor) flag(ctx context.Context, a activity, in store.Inbound) (effect, error) {
	f := flagOf(a)
	r := coop.Report{FlagID: a.ID, Reporter: a.Actor, Comment: f.Comment, ReceivedAt: in.ReceivedAt}
	accounts := map[string]bool{}
	for _, uri := range f.Objects {
		account, object, err := p.localTarget(ctx, uri)
		if err != nil {
			return nil, err
		}
		if account != "" && !accounts[account] {
			accounts[account] = true
			r.Accounts = append(r.Accounts, account)
		}
		if object != "" {
			r.Objects = append(r.Objects, object)
		}
	}
	if len(r.Accounts) == 0 && len(r.Objects) == 0 {
		return nil, nil
	}
	return func(ctx context.Context, t *store.Tx) error {
		_, _, err := t.InsertReport(ctx, r)
		return err
	}, nil
}

// localTarget says what uri is here: a live local actor (account, its
// actor id), a local object (object, uri itself), or neither.
func (p *Processor) localTarget(ctx context.Context, uri string) (account, object string, err error) {
	if !sameOrigin(uri, p.site.Base()) {
		return "", "", nil
	}
	actorID := uri
	if rest, ok := cutPrefixFold(uri, p.site.URL("/@")); ok {
		actorID = p.site.URL("/users/" + rest) // the profile page's URL
	}
	if local, ok, err := p.localActor(ctx, actorID); err != nil || ok {
		if ok {
			account = p.site.ActorID(local.Handle)
		}
		return account, "", err
	}
	if num, ok := p.site.ProposalNum(uri); ok {
		exists, err := p.db.ProposalExists(ctx, num)
		if err != nil || !exists {
			return "", "", err
		}
		return "", uri, nil
	}
	if id, ok := p.site.ContributionID(uri); ok {
		_, err := p.db.Contribution(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return "", "", nil
		}
		if err != nil {
			return "", "", err
		}
		return "", uri, nil
	}
	// A post: /users/NAME/notes/SERIAL, sent by this node.
	rest, ok := cutPrefixFold(uri, p.site.URL("/users/"))
	if !ok {
		return "", "", nil
	}
	handle, serial, ok := strings.Cut(rest, "/notes/")
	if !ok || serial == "" || strings.ContainsAny(serial, "/?#") {
		return "", "", nil
	}
	if _, ok := p.site.HandleFromActorID(p.site.URL("/users/" + handle)); !ok {
		return "", "", nil
	}
	sent, err := p.db.Published(ctx, uri+"/activity") // Post.ActivityID
	if err != nil || !sent {
		return "", "", err
	}
	return "", uri, nil
}

// cutPrefixFold is strings.CutPrefix with the prefix compared without
// case (a host's case does not matter).
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}
