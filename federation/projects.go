package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

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
	doc, err := actorDocument(site, p.Actor, &p)
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
	_, err := p.db.Peer(ctx, a.Actor)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	// What is kept is plain text (sanitize.go): a CLI or a page shows it.
	rp := coop.RemoteProject{
		URI: id, Coop: a.Actor, Handle: plainText(str(m, "preferredUsername")), Name: plainText(textOrMap(m, "name")),
		Licence: plainText(str(m, propLicence)), Tags: plainTexts(m[propTags]), Needs: plainTexts(m[propNeeds]),
		UpdatedAt: p.now().UTC(),
	}
	if repo := str(m, propRepository); hostOf(repo) != "" {
		rp.Repository = repo
	}
	return func(ctx context.Context, t *store.Tx) error { return t.PutRemoteProject(ctx, rp) }, nil
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
