package federation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/delivery"
	"github.com/coopfed/coopfed/store"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// Contribution records travel by visibility (DESIGN.md, "Who acts, and
// who sees"): hours and points are members-only, so a record goes from
// its project's Group as a Note addressed to, and delivered to, only the
// remote actors who take part in it (the project's remote maintainers,
// and its contributor when remote), never to the public nor to the
// Group's followers, and not into the (public) outbox. A new record is a
// Create{Note}, a decision an Update{Note} with the new status; the
// Note's id is the record's URL. An import is one Create{Note}, a
// digest, carrying its records in coop:contributions: never a post per
// commit. What a reader sees is a line such as
//
//	bob@coop.example: 1 h 30 min of review for tool, pending
//
// and a coopfed node reads coop:contribution:
//
//	id                the record's URL
//	type              "coop:Contribution"
//	coop:number       its ID on its node
//	coop:project      the project's Group actor
//	coop:contributor  an actor id
//	coop:kind         "code" | "review" | "docs" | "design" | "operations" | "care"
//	coop:minutes      a whole number
//	coop:points       a whole number
//	coop:evidence     links, an array
//	coop:day          "YYYY-MM-DD"
//	coop:status       "pending" | "approved" | "rejected"
//	coop:reason       why it was rejected, when it was
//	coop:logIndex     its latest record in the node's decision log
//
// A maintainer on another node decides by sending the Group an Accept
// (approve) or a Reject (reason in content) whose object is the record's
// URL; the Processor gives it to a ContributionInbox.

// ContributionInbox takes the decisions remote maintainers send on local
// contribution records, inside the transaction that applies their
// activity; coop.Service implements it. A refusal by a rule is an error
// wrapping coop.ErrNotAllowed, coop.ErrInvalidInput or coop.ErrNotFound,
// with nothing written: the processor logs it as a warning and drops the
// activity. Any other error is a failure to retry.
type ContributionInbox interface {
	ReceiveContributionDecision(ctx context.Context, tx coop.Tx, id int64, actor string, approve bool, reason string, at time.Time) error
}

// maxDigestRecords is how many records one digest Note carries: an
// import of more is sent as several digests, each within the inboxes'
// body limit (a record's terms are about 400 bytes).
const maxDigestRecords = 500

// durationText says minutes as "1 h 30 min", "2 h" or "45 min".
func durationText(min int64) string {
	h, m := min/60, min%60
	switch {
	case h == 0:
		return fmt.Sprintf("%d min", m)
	case m == 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}

// amountText says a record's minutes and points.
func amountText(c coop.Contribution) string {
	var parts []string
	if c.Minutes > 0 {
		parts = append(parts, durationText(c.Minutes))
	}
	if c.Points > 0 || c.Minutes == 0 {
		parts = append(parts, plural(int(c.Points), "point"))
	}
	return strings.Join(parts, " and ")
}

// contributionLine is what a reader sees of a record, as plain text.
func contributionLine(who string, c coop.Contribution) string {
	status := c.Status
	if c.Status == coop.StatusRejected && c.Reason != "" {
		status += ": " + c.Reason
	}
	return fmt.Sprintf("%s: %s of %s for %s, %s", who, amountText(c), c.Kind, c.Project, status)
}

// contributionHTML is a record's Note content: its line, its evidence
// links, and its decision-log record.
func contributionHTML(site coop.Site, who string, c coop.Contribution) string {
	var b strings.Builder
	b.WriteString("<p>" + html.EscapeString(contributionLine(who, c)) + "</p>")
	if len(c.Evidence) > 0 {
		links := make([]string, len(c.Evidence))
		for i, e := range c.Evidence {
			links[i] = linkHTML(e, e)
		}
		b.WriteString("<p>Evidence: " + strings.Join(links, "<br>") + "</p>")
	}
	b.WriteString(fmt.Sprintf("<p>Decision log record %d: ", c.LogIndex) +
		linkHTML(receiptURL(site, c.LogIndex), receiptURL(site, c.LogIndex)) + "</p>")
	return b.String()
}

// contributionTerms is coop:contribution, what a coopfed node reads of a
// record.
func contributionTerms(site coop.Site, c coop.Contribution) map[string]any {
	ev := make([]any, 0, len(c.Evidence))
	for _, e := range c.Evidence {
		ev = append(ev, e)
	}
	m := map[string]any{
		"id":               c.URL(site),
		"type":             "coop:Contribution",
		"coop:number":      c.ID,
		"coop:project":     site.ActorID(c.Project),
		"coop:contributor": c.Contributor,
		"coop:kind":        c.Kind,
		"coop:minutes":     c.Minutes,
		"coop:points":      c.Points,
		"coop:evidence":    ev,
		"coop:day":         c.Day.UTC().Format(time.DateOnly),
		"coop:status":      c.Status,
		"coop:logIndex":    c.LogIndex,
	}
	if c.Reason != "" {
		m["coop:reason"] = c.Reason
	}
	return m
}

// contributionNote is a Note from a project's Group to the actors of to
// only: streams builds it, and the caller adds the coop: terms.
type contributionNote struct {
	id, activityID, activityType string
	group                        string // the Group's actor id
	to                           []string
	content                      string
	published, updated           time.Time
}

// activity renders the Create or Update of the Note, serialized, without
// its @context.
func (n contributionNote) activity() (map[string]any, error) {
	var u urls
	to := streams.NewActivityStreamsToProperty()
	for _, a := range n.to {
		to.AppendIRI(u.parse(a))
	}
	note := streams.NewActivityStreamsNote()
	note.SetJSONLDId(u.id(n.id))
	attributed := streams.NewActivityStreamsAttributedToProperty()
	attributed.AppendIRI(u.parse(n.group))
	note.SetActivityStreamsAttributedTo(attributed)
	content := streams.NewActivityStreamsContentProperty()
	content.AppendXMLSchemaString(n.content)
	note.SetActivityStreamsContent(content)
	published := streams.NewActivityStreamsPublishedProperty()
	published.Set(n.published.UTC().Truncate(time.Second))
	note.SetActivityStreamsPublished(published)
	if !n.updated.IsZero() {
		updated := streams.NewActivityStreamsUpdatedProperty()
		updated.Set(n.updated.UTC().Truncate(time.Second))
		note.SetActivityStreamsUpdated(updated)
	}
	note.SetActivityStreamsTo(to)
	actor := streams.NewActivityStreamsActorProperty()
	actor.AppendIRI(u.parse(n.group))
	object := streams.NewActivityStreamsObjectProperty()
	object.AppendActivityStreamsNote(note)
	var act vocab.Type
	switch n.activityType {
	case "Create":
		c := streams.NewActivityStreamsCreate()
		c.SetJSONLDId(u.id(n.activityID))
		c.SetActivityStreamsActor(actor)
		c.SetActivityStreamsPublished(published)
		c.SetActivityStreamsTo(to)
		c.SetActivityStreamsObject(object)
		act = c
	case "Update":
		up := streams.NewActivityStreamsUpdate()
		up.SetJSONLDId(u.id(n.activityID))
		up.SetActivityStreamsActor(actor)
		up.SetActivityStreamsTo(to)
		up.SetActivityStreamsObject(object)
		act = up
	default:
		return nil, fmt.Errorf("federation: a contribution goes in a Create or an Update, not a %s", n.activityType)
	}
	if u.err != nil {
		return nil, u.err
	}
	m, err := streams.Serialize(act)
	if err != nil {
		return nil, fmt.Errorf("federation: serialize contribution note: %w", err)
	}
	delete(m, "@context")
	return m, nil
}

// contributionActivity renders a record's Create{Note} (while pending)
// or Update{Note} (once decided), to the actors of to; who names the
// contributor in the text.
func contributionActivity(site coop.Site, c coop.Contribution, who string, to []string) (id string, body []byte, err error) {
	url := c.URL(site)
	n := contributionNote{id: url, group: site.ActorID(c.Project), to: to,
		content: contributionHTML(site, who, c), published: c.Created}
	if c.Status == coop.StatusPending {
		n.activityType, n.activityID = "Create", url+"#create"
	} else {
		// One Update per decision, which the log index names.
		n.activityType, n.activityID = "Update", url+"#updates/"+strconv.FormatInt(c.LogIndex, 10)
		n.updated = c.Updated
	}
	m, err := n.activity()
	if err != nil {
		return "", nil, err
	}
	m["object"].(map[string]any)["coop:contribution"] = contributionTerms(site, c)
	body, err = marshalDocument(m)
	return n.activityID, body, err
}

// digestHTML says what an import created.
func digestHTML(site coop.Site, project string, cs []coop.Contribution, part, parts int) string {
	var points int64
	who := map[string]bool{}
	for _, c := range cs {
		points += c.Points
		who[c.Contributor] = true
	}
	line := fmt.Sprintf("%s by %s imported into %s (%s), pending a maintainer's approval",
		plural(len(cs), "commit"), plural(len(who), "member"), project, plural(int(points), "point"))
	if parts > 1 {
		line += fmt.Sprintf(" (part %d of %d)", part, parts)
	}
	first, last := cs[0].ID, cs[len(cs)-1].ID
	return "<p>" + html.EscapeString(line+".") + "</p>" +
		fmt.Sprintf("<p>Records %d to %d; decision log records %d to %d: ", first, last, cs[0].LogIndex, cs[len(cs)-1].LogIndex) +
		linkHTML(site.LogURL(), site.LogURL()) + "</p>"
}

// digestActivity renders the Create{Note} of an import's records (or of
// one part of them), with each record's terms in coop:contributions.
func digestActivity(site coop.Site, project string, cs []coop.Contribution, part, parts int, to []string, at time.Time) (id string, body []byte, err error) {
	// The first record names the digest: an import creates each once.
	noteID := fmt.Sprintf("%s/imports/%d", site.ActorID(project), cs[0].ID)
	n := contributionNote{id: noteID, activityType: "Create", activityID: noteID + "/activity", group: site.ActorID(project),
		to: to, content: digestHTML(site, project, cs, part, parts), published: at}
	m, err := n.activity()
	if err != nil {
		return "", nil, err
	}
	terms := make([]any, len(cs))
	for i, c := range cs {
		terms[i] = contributionTerms(site, c)
	}
	m["object"].(map[string]any)["coop:contributions"] = terms
	body, err = marshalDocument(m)
	return n.activityID, body, err
}

// participants are the remote actors who take part in a project's
// records, as the node holds them: its remote maintainers and the
// contributors given, each once, in that order. Local actors read the
// node itself; one the node does not hold, or gone, is skipped (no
// network I/O inside the transaction: coop looks them up before it).
func (p *Publisher) participants(ctx context.Context, tx coop.Tx, project coop.Project, contributors []string) ([]store.RemoteActor, error) {
	r, ok := tx.(followRecords)
	if !ok {
		return nil, fmt.Errorf("federation: the transaction (%T) keeps no remote actors", tx)
	}
	var out []store.RemoteActor
	seen := map[string]bool{}
	for _, uri := range append(slices.Clone(project.Maintainers), contributors...) {
		if seen[uri] {
			continue
		}
		seen[uri] = true
		if _, local := p.site.HandleFromActorID(uri); local {
			continue
		}
		a, err := r.RemoteActor(ctx, uri)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		case a.Gone() || a.Inbox == "":
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// addressed lists the actors' ids and where to deliver to them.
func addressed(as []store.RemoteActor) (to, inboxes []string) {
	rs := make([]delivery.Recipient, 0, len(as))
	for _, a := range as {
		to = append(to, a.ID)
		rs = append(rs, delivery.Recipient{Inbox: a.Inbox, SharedInbox: a.SharedInbox})
	}
	return to, delivery.Inboxes(rs)
}

// contributorName is how a record's text names its contributor: name@host.
func (p *Publisher) contributorName(ctx context.Context, tx coop.Tx, uri string) string {
	if h, local := p.site.HandleFromActorID(uri); local {
		return p.site.Acct(h)
	}
	if r, ok := tx.(followRecords); ok {
		if a, err := r.RemoteActor(ctx, uri); err == nil && a.PreferredUsername != "" {
			return a.PreferredUsername + "@" + a.Host
		}
	}
	return uri
}

// PublishContribution implements coop.Publisher.
func (p *Publisher) PublishContribution(ctx context.Context, tx coop.Tx, project coop.Project, c coop.Contribution, at time.Time) error {
	if !strings.EqualFold(project.Handle, c.Project) {
		return fmt.Errorf("federation: contribution %d is of %q, not %q", c.ID, c.Project, project.Handle)
	}
	who, err := p.participants(ctx, tx, project, []string{c.Contributor})
	if err != nil || len(who) == 0 {
		return err
	}
	to, inboxes := addressed(who)
	id, body, err := contributionActivity(p.site, c, p.contributorName(ctx, tx, c.Contributor), to)
	if err != nil {
		return err
	}
	return tx.EnqueueDeliveries(ctx, project.ID, id, body, inboxes, at)
}

// PublishContributionDigest implements coop.Publisher.
func (p *Publisher) PublishContributionDigest(ctx context.Context, tx coop.Tx, project coop.Project, created []coop.Contribution, at time.Time) error {
	if len(created) == 0 {
		return nil
	}
	contributors := make([]string, 0, len(created))
	for _, c := range created {
		contributors = append(contributors, c.Contributor)
	}
	who, err := p.participants(ctx, tx, project, contributors)
	if err != nil || len(who) == 0 {
		return err
	}
	to, inboxes := addressed(who)
	parts := (len(created) + maxDigestRecords - 1) / maxDigestRecords
	for i := range parts {
		cs := created[i*maxDigestRecords : min((i+1)*maxDigestRecords, len(created))]
		id, body, err := digestActivity(p.site, project.Handle, cs, i+1, parts, to, at)
		if err != nil {
			return err
		}
		if err := tx.EnqueueDeliveries(ctx, project.ID, id, body, inboxes, at); err != nil {
			return err
		}
	}
	return nil
}

// decisionID is the id of a member's Accept or Reject of a remote record.
func decisionID(site coop.Site, member coop.Actor, recordURL string, approve bool) string {
	sum := sha256.Sum256([]byte(recordURL))
	typ := "reject"
	if approve {
		typ = "accept"
	}
	return site.ActorID(member.Handle) + "#contributions/" + hex.EncodeToString(sum[:12]) + "/" + typ
}

// contributionDecisionActivity renders a member's Accept (approve) or
// Reject of a remote record, to its project's Group; a Reject's content
// is the reason.
func contributionDecisionActivity(site coop.Site, member coop.Actor, rc coop.RemoteContribution, approve bool, reason string) (id string, body []byte, err error) {
	var u urls
	id = decisionID(site, member, rc.URI, approve)
	actor := streams.NewActivityStreamsActorProperty()
	actor.AppendIRI(u.parse(site.ActorID(member.Handle)))
	object := streams.NewActivityStreamsObjectProperty()
	object.AppendIRI(u.parse(rc.URI))
	to := streams.NewActivityStreamsToProperty()
	to.AppendIRI(u.parse(rc.Project))
	var act vocab.Type
	if approve {
		a := streams.NewActivityStreamsAccept()
		a.SetJSONLDId(u.id(id))
		a.SetActivityStreamsActor(actor)
		a.SetActivityStreamsObject(object)
		a.SetActivityStreamsTo(to)
		act = a
	} else {
		r := streams.NewActivityStreamsReject()
		r.SetJSONLDId(u.id(id))
		r.SetActivityStreamsActor(actor)
		r.SetActivityStreamsObject(object)
		r.SetActivityStreamsTo(to)
		content := streams.NewActivityStreamsContentProperty()
		content.AppendXMLSchemaString(html.EscapeString(reason))
		r.SetActivityStreamsContent(content)
		act = r
	}
	if u.err != nil {
		return "", nil, u.err
	}
	m, err := streams.Serialize(act)
	if err != nil {
		return "", nil, fmt.Errorf("federation: serialize contribution decision: %w", err)
	}
	body, err = marshalDocument(m)
	return id, body, err
}

// PublishContributionDecision implements coop.Publisher: the Accept or
// Reject goes to the Group's own inbox (it is addressed to one actor),
// signed as the member.
func (p *Publisher) PublishContributionDecision(ctx context.Context, tx coop.Tx, member coop.Actor, rc coop.RemoteContribution, approve bool, reason string, at time.Time) error {
	r, ok := tx.(followRecords)
	if !ok {
		return fmt.Errorf("federation: the transaction (%T) keeps no remote actors", tx)
	}
	g, err := r.RemoteActor(ctx, rc.Project)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: this node does not hold the project %s", coop.ErrGone, rc.Project)
	case err != nil:
		return err
	case g.Gone() || g.Inbox == "":
		return fmt.Errorf("%w: the project %s", coop.ErrGone, rc.Project)
	}
	id, body, err := contributionDecisionActivity(p.site, member, rc, approve, reason)
	if err != nil {
		return err
	}
	return tx.EnqueueDeliveries(ctx, member.ID, id, body, []string{g.Inbox}, at)
}

// contributionsOf reads the records a Note carries, as a project's Group
// on another node sent them: coop:contribution (one record, the Note's
// own) or coop:contributions (an import's digest). ok is false when the
// Note carries none. Only records of the sender's own project, on its
// origin, with valid fields, are kept.
func contributionsOf(sender string, m map[string]any, at time.Time) (cs []coop.RemoteContribution, ok bool) {
	var raw []any
	if one, has := m["coop:contribution"]; has {
		raw, ok = []any{one}, true
	}
	if many, has := m["coop:contributions"].([]any); has {
		raw, ok = append(raw, many...), true
	}
	for _, v := range raw {
		if len(cs) == maxDigestRecords {
			break
		}
		t, isMap := v.(map[string]any)
		if !isMap {
			continue
		}
		if c, valid := remoteContribution(sender, t, at); valid {
			cs = append(cs, c)
		}
	}
	return cs, ok
}

// remoteContribution reads one record's terms.
func remoteContribution(sender string, t map[string]any, at time.Time) (coop.RemoteContribution, bool) {
	c := coop.RemoteContribution{URI: str(t, "id"), Project: idOf(t["coop:project"]), Contributor: idOf(t["coop:contributor"]),
		Kind: str(t, "coop:kind"), Status: str(t, "coop:status"), Received: at}
	if len(c.URI) > maxURILength || hostOf(c.URI) == "" || !sameOrigin(c.URI, sender) || c.Project != sender ||
		hostOf(c.Contributor) == "" || len(c.Contributor) > maxURILength || !slices.Contains(coop.ContributionKinds, c.Kind) {
		return c, false
	}
	switch c.Status {
	case coop.StatusPending, coop.StatusApproved, coop.StatusRejected:
	default:
		return c, false
	}
	// Activities are decoded with json.Number (decodeJSON).
	num := func(k string, max int64) (int64, bool) {
		var n int64
		switch v := t[k].(type) {
		case json.Number:
			i, err := v.Int64()
			if err != nil {
				return 0, false
			}
			n = i
		case float64:
			if v != float64(int64(v)) {
				return 0, false
			}
			n = int64(v)
		default:
			return 0, false
		}
		return n, n >= 0 && n <= max
	}
	var ok1, ok2, ok3, ok4 bool
	c.Number, ok1 = num("coop:number", 1<<53)
	c.Minutes, ok2 = num("coop:minutes", coop.MaxContributionMin)
	c.Points, ok3 = num("coop:points", coop.MaxPoints)
	c.LogIndex, ok4 = num("coop:logIndex", 1<<53)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return c, false
	}
	day, err := time.Parse(time.DateOnly, str(t, "coop:day"))
	if err != nil {
		return c, false
	}
	c.Day = day
	for _, e := range idsOf(t["coop:evidence"]) {
		if len(c.Evidence) == coop.MaxEvidence {
			break
		}
		if hostOf(e) != "" && len(e) <= maxURILength {
			c.Evidence = append(c.Evidence, e)
		}
	}
	if c.Status == coop.StatusRejected {
		c.Reason = truncateBytes(plainText(str(t, "coop:reason")), coop.MaxNoteLength)
	}
	return c, true
}

// truncateBytes cuts s to at most n bytes on a character boundary.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// contributionSender reports whether a Note from a.Actor carrying
// records is one to store: from a Group (as the node holds its actor) of
// a co-op of this node's federation (on a peer's origin), addressed to a
// local member. Anyone else's records are not stored: following gives
// read access, not the right to have records stored as one's own.
func (p *Processor) contributionSender(ctx context.Context, a activity, m map[string]any) (bool, error) {
	if ok, err := p.peerOnHostOf(ctx, a.Actor); err != nil || !ok {
		return false, err
	}
	g, err := p.db.RemoteActor(ctx, a.Actor)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case g.Type != "Group" || g.Gone():
		return false, nil
	}
	for _, src := range []map[string]any{a.m, m} {
		for _, k := range []string{"to", "cc", "bto", "bcc", "audience"} {
			for _, id := range idsOf(src[k]) {
				local, ok, err := p.localActor(ctx, id)
				if err != nil {
					return false, err
				}
				if ok && local.Kind == coop.KindPerson {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// receivedContributions returns the records a Create's or an Update's
// Note carries, when they are to be stored (contributionSender).
func (p *Processor) receivedContributions(ctx context.Context, a activity, m map[string]any, at time.Time) ([]coop.RemoteContribution, error) {
	cs, ok := contributionsOf(a.Actor, m, at)
	if !ok || len(cs) == 0 {
		return nil, nil
	}
	if str(m, "id") == "" || !sameOrigin(str(m, "id"), a.Actor) {
		return nil, nil
	}
	if ok, err := p.contributionSender(ctx, a, m); err != nil || !ok {
		return nil, err
	}
	return cs, nil
}

// storeContributions is the effect that stores received records.
func storeContributions(cs []coop.RemoteContribution) effect {
	return func(ctx context.Context, t *store.Tx) error {
		for _, c := range cs {
			if err := t.PutRemoteContribution(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}
}

// updateContribution: an Update of a Note that carries records (a
// record's new status) stores them as a Create's would be; ok is false
// for an Update of anything else.
func (p *Processor) updateContribution(ctx context.Context, a activity, in store.Inbound) (effect, bool, error) {
	m, embedded := a.object().(map[string]any)
	if !embedded {
		return nil, false, nil
	}
	if _, note := hasType(m, map[string]bool{"Note": true}); !note {
		return nil, false, nil
	}
	if _, ok := contributionsOf(a.Actor, m, in.ReceivedAt); !ok {
		return nil, false, nil
	}
	cs, err := p.receivedContributions(ctx, a, m, in.ReceivedAt)
	if err != nil || len(cs) == 0 {
		return nil, true, err
	}
	return storeContributions(cs), true, nil
}

// contributionDecision: an Accept or a Reject whose object is a local
// record's URL is a remote maintainer's decision on it, for the
// ContributionInbox (its content, or else its summary, is a Reject's
// reason); ok is false for any other object (the answer to a Follow).
// A decision the rules refuse is logged as a warning and dropped, and
// the activity is done: see ContributionInbox.
func (p *Processor) contributionDecision(a activity, in store.Inbound) (effect, bool) {
	id, ok := p.site.ContributionID(idOf(a.object()))
	if !ok {
		return nil, false
	}
	if p.contributions == nil {
		return nil, true
	}
	approve := a.Type == "Accept"
	reason := ""
	if !approve {
		reason = messageText(textOrMap(a.m, "content"))
		if reason == "" {
			reason = messageText(textOrMap(a.m, "summary"))
		}
		reason = truncateBytes(reason, coop.MaxNoteLength)
	}
	at := in.ReceivedAt
	return func(ctx context.Context, t *store.Tx) error {
		err := p.contributions.ReceiveContributionDecision(ctx, t, id, a.Actor, approve, reason, at)
		if errors.Is(err, coop.ErrNotAllowed) || errors.Is(err, coop.ErrInvalidInput) || errors.Is(err, coop.ErrNotFound) {
			p.log.Warn("contribution decision refused", "contribution_id", id, "actor", a.Actor, "activity_id", a.ID, "err", err)
			return nil
		}
		return err
	}, true
}
