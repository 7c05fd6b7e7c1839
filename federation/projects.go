package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"
	"unicode"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/delivery"
	"github.com/coopfed/coopfed/store"
)

// Projects travel between the co-ops of a federation as two activities from
// the co-op's Organization: an Add of the project's Group (its whole
// document, as served) to the co-op's coop:projects collection, which a
// coopfed peer stores, and a Create{Note} announcing it in words, which is
// what a Mastodon follower sees (Mastodon ignores the Add).

// projectAnnouncement is the text of the Note that announces p.
func projectAnnouncement(p coop.Project) string {
	var b strings.Builder
	b.WriteString("New project: " + p.Name)
	if s := strings.TrimSpace(p.Summary); s != "" {
		b.WriteString(" — " + s)
	}
	var facts []string
	if p.Repository != "" {
		facts = append(facts, "Repository: "+p.Repository)
	}
	if p.Licence != "" {
		facts = append(facts, "Licence: "+p.Licence)
	}
	if len(p.Needs) > 0 {
		facts = append(facts, "Needs: "+strings.Join(p.Needs, ", "))
	}
	if len(p.Tags) > 0 {
		facts = append(facts, "Tags: #"+strings.Join(p.Tags, " #"))
	}
	if len(facts) > 0 {
		b.WriteString("\n\n" + strings.Join(facts, "\n"))
	}
	return b.String()
}

// addProjectActivity renders the Add of p's Group to c's coop:projects.
func addProjectActivity(site coop.Site, c coop.Actor, p coop.Project) (id string, body []byte, err error) {
	group, err := projectGroup(site, p)
	if err != nil {
		return "", nil, err
	}
	id = site.ActorID(p.Handle) + "#add"
	body, err = marshalDocument(map[string]any{
		"id":     id,
		"type":   "Add",
		"actor":  site.ActorID(c.Handle),
		"to":     []string{asPublic},
		"cc":     []string{site.Followers(c.Handle)},
		"object": group,
		"target": site.Projects(c.Handle),
	})
	return id, body, err
}

// peerInboxes lists the inboxes of the federation's peers, from the actor
// cache; a peer whose actor is not cached or gone is skipped (its follow
// of the co-op, if any, still brings it the activity).
func peerInboxes(ctx context.Context, tx coop.Tx) ([]delivery.Recipient, error) {
	r, ok := tx.(followRecords)
	if !ok {
		return nil, fmt.Errorf("federation: the transaction (%T) keeps no remote actors", tx)
	}
	peers, err := tx.Peers(ctx)
	if err != nil {
		return nil, err
	}
	var out []delivery.Recipient
	for _, p := range peers {
		a, err := r.RemoteActor(ctx, p.Actor)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		case a.Gone() || a.Inbox == "":
			continue
		}
		out = append(out, delivery.Recipient{Inbox: a.Inbox, SharedInbox: a.SharedInbox})
	}
	return out, nil
}

// projectGroup is p's Group document as served, without its @context, to
// embed in an activity.
func projectGroup(site coop.Site, p coop.Project) (map[string]any, error) {
	doc, err := actorDocument(site, p.Actor, &p, nil)
	if err != nil {
		return nil, err
	}
	var group map[string]any
	if err := json.Unmarshal(doc, &group); err != nil {
		return nil, fmt.Errorf("federation: project %q: %w", p.Handle, err)
	}
	delete(group, "@context")
	return group, nil
}

// coopAudience is where the co-op's announcements of its projects go: its
// followers and the federation's peers, each server once.
func coopAudience(ctx context.Context, tx coop.Tx, c coop.Actor) ([]string, error) {
	followers, err := tx.FollowerInboxes(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	peers, err := peerInboxes(ctx, tx)
	if err != nil {
		return nil, err
	}
	all := make([]delivery.Recipient, 0, len(followers)+len(peers))
	for _, in := range followers {
		all = append(all, delivery.Recipient{Inbox: in})
	}
	return delivery.Inboxes(append(all, peers...)), nil
}

// PublishProjectUpdate implements coop.Publisher. The id carries the
// project's revision, so that queuing twice delivers once.
func (p *Publisher) PublishProjectUpdate(ctx context.Context, tx coop.Tx, c coop.Actor, proj coop.Project, at time.Time) error {
	group, err := projectGroup(p.site, proj)
	if err != nil {
		return err
	}
	id := fmt.Sprintf("%s#%s/updates/%d", p.site.Projects(c.Handle), proj.Handle, proj.Revision)
	body, err := marshalDocument(map[string]any{
		"id":     id,
		"type":   "Update",
		"actor":  p.site.ActorID(c.Handle),
		"to":     []string{asPublic},
		"cc":     []string{p.site.Followers(c.Handle)},
		"object": group,
	})
	if err != nil {
		return err
	}
	inboxes, err := coopAudience(ctx, tx, c)
	if err != nil {
		return err
	}
	return tx.EnqueueDeliveries(ctx, c.ID, id, body, inboxes, at)
}

// PublishProject implements coop.Publisher.
func (p *Publisher) PublishProject(ctx context.Context, tx coop.Tx, c coop.Actor, proj coop.Project, at time.Time) error {
	serial, err := newID()
	if err != nil {
		return err
	}
	post := Post{Author: c, Text: projectAnnouncement(proj), Published: at, Serial: serial}
	noteBody, err := noteActivity(p.site, post)
	if err != nil {
		return err
	}
	addID, addBody, err := addProjectActivity(p.site, c, proj)
	if err != nil {
		return err
	}
	inboxes, err := coopAudience(ctx, tx, c)
	if err != nil {
		return err
	}
	for _, a := range []struct {
		id, typ string
		body    []byte
	}{{post.ActivityID(p.site), "Create", noteBody}, {addID, "Add", addBody}} {
		if _, err := tx.AppendOutbox(ctx, c.ID, a.id, a.typ, a.body, at); err != nil {
			return err
		}
		if err := tx.EnqueueDeliveries(ctx, c.ID, a.id, a.body, inboxes, at); err != nil {
			return err
		}
	}
	return nil
}

// addProject: an Add of a Group (embedded, on the sender's origin) to a
// collection of the sender's, from the Organization of a co-op of this
// node's federation, stores the project as announced. Anyone else's Add
// is kept in the inbound table only: following gives read access, not the
// right to have records stored as one's own.
func (p *Processor) addProject(ctx context.Context, a activity) (effect, error) {
	if !sameOrigin(idOf(a.m["target"]), a.Actor) {
		return nil, nil
	}
	return p.storeProject(ctx, a)
}

// storeProject stores the Group an Add or an Update embeds, when it is on
// the sender's origin and the sender is a federation member.
func (p *Processor) storeProject(ctx context.Context, a activity) (effect, error) {
	m, ok := a.object().(map[string]any)
	if !ok {
		return nil, nil
	}
	if _, isGroup := hasType(m, map[string]bool{"Group": true}); !isGroup {
		return nil, nil
	}
	id := str(m, "id")
	if !sameOrigin(id, a.Actor) || id == a.Actor {
		return nil, nil
	}
	if member, err := p.isPeer(ctx, a.Actor); err != nil || !member {
		return nil, err
	}
	// What is kept is plain text (sanitize.go), but for the summary,
	// kept as sanitized HTML too: a CLI or a page shows it.
	summary := projectSummary(m)
	rp := coop.RemoteProject{
		URI: id, Coop: a.Actor, Handle: plainText(str(m, "preferredUsername")), Name: plainText(textOrMap(m, "name")),
		Summary: summary, SummaryText: summaryText(summary),
		Licence: plainText(str(m, propLicence)), Tags: plainTexts(m[propTags]), Needs: plainTexts(m[propNeeds]),
		Maintainers: actorURIs(m[propMaintainers]), UpdatedAt: p.now().UTC(),
	}
	if repo := str(m, propRepository); hostOf(repo) != "" {
		rp.Repository = repo
	}
	return func(ctx context.Context, t *store.Tx) error { return t.PutRemoteProject(ctx, rp) }, nil
}

// projectSummary is a Group's description as sanitized HTML. A coopfed
// Group's summary ends with the project's facts, a paragraph made from
// its attachment (facts.summary in convert.go), for readers that show no
// profile fields; that paragraph is cut, since the facts are kept apart.
// From anyone else the summary is kept whole.
func projectSummary(m map[string]any) string {
	s := textOrMap(m, "summary")
	if list, ok := m[propAttachment].([]any); ok {
		var fs facts
		for _, v := range list {
			pv, ok := v.(map[string]any)
			if !ok || str(pv, "type") != "PropertyValue" {
				continue
			}
			fs = append(fs, fact{name: str(pv, "name"), valueHTML: str(pv, "value")})
		}
		if tail := fs.summary(); tail != "" {
			s = strings.TrimSuffix(s, tail)
		}
	}
	return sanitizeHTML(s)
}

// maxSummaryRunes bounds a remote project's summary kept as plain text.
const maxSummaryRunes = 2000

// summaryText is sanitized HTML as one line of plain text: paragraphs and
// line breaks become spaces, markup goes, entities are decoded, and
// control and bidirectional-override characters go (as in plainText).
func summaryText(sanitized string) string {
	breaks := strings.NewReplacer("</p>", " ", "<br>", " ", "<br/>", " ", "<br />", " ")
	s := html.UnescapeString(textPolicy.Sanitize(breaks.Replace(sanitized)))
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
	}), " ")
	if r := []rune(s); len(r) > maxSummaryRunes {
		s = string(r[:maxSummaryRunes])
	}
	return s
}

// actorURIs returns the http(s) URIs of a property that may be one IRI or
// an array (of IRIs or objects with ids), at most maxProjectList.
func actorURIs(v any) []string {
	var out []string
	for _, id := range idsOf(v) {
		if len(out) == maxProjectList {
			break
		}
		if hostOf(id) != "" && len(id) <= maxURILength {
			out = append(out, id)
		}
	}
	return out
}

// maxURILength bounds a URI kept of a remote project.
const maxURILength = 2048

// removeProjectActivity renders the Remove of p's Group from c's
// coop:projects. Mastodon ignores a Remove whose target is not an
// account's featured collection; coopfed peers drop the project.
func removeProjectActivity(site coop.Site, c coop.Actor, p coop.Project) (id string, body []byte, err error) {
	id = site.ActorID(p.Handle) + "#remove"
	body, err = marshalDocument(map[string]any{
		"id":     id,
		"type":   "Remove",
		"actor":  site.ActorID(c.Handle),
		"to":     []string{asPublic},
		"cc":     []string{site.Followers(c.Handle)},
		"object": site.ActorID(p.Handle),
		"target": site.Projects(c.Handle),
	})
	return id, body, err
}

// deleteGroupActivity renders the Delete of p's Group by the Group
// itself, the form Mastodon and GoToSocial act on: Mastodon's
// ActivityPub::Activity::Delete deletes the account when the object is
// the sender itself (@account.uri == object_uri, delete_person), and
// takes a Delete of another URI for the deletion of a status, which a
// Delete of the Group by the co-op would be to it.
func deleteGroupActivity(site coop.Site, p coop.Project) (id string, body []byte, err error) {
	group := site.ActorID(p.Handle)
	id = group + "#delete"
	body, err = marshalDocument(map[string]any{
		"id":     id,
		"type":   "Delete",
		"actor":  group,
		"to":     []string{asPublic},
		"cc":     []string{site.Followers(p.Handle)},
		"object": group,
	})
	return id, body, err
}

// PublishProjectRemoval implements coop.Publisher. The Remove goes into
// the co-op's outbox, where a peer's backfill finds it, and the Delete
// into the Group's. The Delete is signed with the Group's key: a server
// that follows the Group has it cached; one that must fetch it finds 410,
// and takes the Delete as the actor's (inbox.go, signerGone).
func (p *Publisher) PublishProjectRemoval(ctx context.Context, tx coop.Tx, c coop.Actor, proj coop.Project, at time.Time) error {
	removeID, removeBody, err := removeProjectActivity(p.site, c, proj)
	if err != nil {
		return err
	}
	deleteID, deleteBody, err := deleteGroupActivity(p.site, proj)
	if err != nil {
		return err
	}
	audience, err := coopAudience(ctx, tx, c)
	if err != nil {
		return err
	}
	followers, err := tx.FollowerInboxes(ctx, proj.ID)
	if err != nil {
		return err
	}
	all := make([]delivery.Recipient, 0, len(followers)+len(audience))
	for _, in := range append(followers, audience...) {
		all = append(all, delivery.Recipient{Inbox: in})
	}
	for _, a := range []struct {
		sender   int64
		id, typ  string
		body     []byte
		audience []string
	}{
		{c.ID, removeID, "Remove", removeBody, audience},
		{proj.ID, deleteID, "Delete", deleteBody, delivery.Inboxes(all)},
	} {
		if _, err := tx.AppendOutbox(ctx, a.sender, a.id, a.typ, a.body, at); err != nil {
			return err
		}
		if err := tx.EnqueueDeliveries(ctx, a.sender, a.id, a.body, a.audience, at); err != nil {
			return err
		}
	}
	return nil
}

// removeProject: a Remove of a Group from the sender's own collection
// (its coop:projects), by a federation member on the Group's own host,
// marks the stored project removed. A project never stored gets a removed
// row all the same, so that its Add, if it comes after (a delivery
// retried, a backfill), is ignored. Anyone else's Remove is kept in the
// inbound table only.
func (p *Processor) removeProject(ctx context.Context, a activity) (effect, error) {
	uri := idOf(a.object())
	if !sameOrigin(idOf(a.m["target"]), a.Actor) || !sameOrigin(uri, a.Actor) || uri == a.Actor {
		return nil, nil
	}
	if m, ok := a.object().(map[string]any); ok {
		if _, isGroup := hasType(m, map[string]bool{"Group": true}); !isGroup {
			return nil, nil
		}
	}
	member, err := p.isPeer(ctx, a.Actor)
	if err != nil || !member {
		return nil, err
	}
	return func(ctx context.Context, t *store.Tx) error {
		_, err := t.RemoveRemoteProject(ctx, uri, a.Actor, p.now().UTC(), true)
		return err
	}, nil
}

// deleteProject adds to then, the effect of a Delete on actors and notes
// (process.go), the removal of a stored project: when the Group deletes
// itself and a federation member lives on its host, or when a federation
// member on its host deletes it. Only a project already stored is marked:
// a Delete names any kind of object.
func (p *Processor) deleteProject(ctx context.Context, a activity, then effect) (effect, error) {
	uri := idOf(a.object())
	if uri == "" || !sameOrigin(uri, a.Actor) {
		return then, nil
	}
	var (
		ok  bool
		err error
	)
	if uri == a.Actor {
		ok, err = p.peerOnHostOf(ctx, uri)
	} else {
		ok, err = p.isPeer(ctx, a.Actor)
	}
	if err != nil || !ok {
		return then, err
	}
	return func(ctx context.Context, t *store.Tx) error {
		if then != nil {
			if err := then(ctx, t); err != nil {
				return err
			}
		}
		_, err := t.RemoveRemoteProject(ctx, uri, a.Actor, p.now().UTC(), false)
		return err
	}, nil
}

// isPeer reports whether actorURI is a co-op of this node's federation.
func (p *Processor) isPeer(ctx context.Context, actorURI string) (bool, error) {
	_, err := p.db.Peer(ctx, actorURI)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// peerOnHostOf reports whether a co-op of this node's federation lives on
// uri's origin.
func (p *Processor) peerOnHostOf(ctx context.Context, uri string) (bool, error) {
	peers, err := p.db.Peers(ctx)
	if err != nil {
		return false, err
	}
	for _, pr := range peers {
		if sameOrigin(pr.Actor, uri) {
			return true, nil
		}
	}
	return false, nil
}

// maxProjectList bounds the tags and the needs kept of a remote project.
const maxProjectList = 64

// plainTexts returns the strings of a property that may be one string or
// an array, as plain text, non-empty, at most maxProjectList.
func plainTexts(v any) []string {
	var raw []any
	switch x := v.(type) {
	case string:
		raw = []any{x}
	case []any:
		raw = x
	}
	var out []string
	for _, e := range raw {
		if s, ok := e.(string); ok && len(out) < maxProjectList {
			if s = plainText(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}
