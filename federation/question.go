package federation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/delivery"
	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/markup"
	"github.com/coopfed/coopfed/store"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
	"github.com/gorilla/mux"
)

// A proposal goes out as a Mastodon poll where a poll can say what it
// asks (single choice, multiple choice, consent): a Question whose id is
// the proposal's page, attributed to the group that decides, with
// oneOf/anyOf options whose replies.totalItems are the counts, endTime,
// votersCount, and closed (a date-time) once closed: what Mastodon's
// PollParser and GoToSocial's ExtractPoll read. A ranked or score
// proposal goes out as a Note linking to its page, where it is voted.
// Mastodon shows a Question's content, not its name (name is read only for
// the types it converts, Article, Page ...), so the title is in the
// content, and name is left out as Mastodon's own polls leave it out.
//
// Both carry coopfed's data as coop: terms on the object:
//
//	coop:method        "single" | "approval" | "irv" | "schulze" | "score" | "consent"
//	coop:quorum        "n/d", the share of the eligible voters who must vote
//	coop:threshold     "majority" | "two-thirds" | "consensus"
//	coop:eligibility   "members" | "maintainers" | "federation"
//	coop:eligible      the number of eligible voters
//	coop:proposer      who opened it: an actor id ("admin" for the node's operator)
//	coop:opensAt       a date-time
//	coop:hideCounts    true when the counts are shown only after the close
//	coop:state         "open" | "closed" | "withdrawn"
//	coop:options       [{coop:key, name}], in order, when it has options
//	coop:block         consent only: what a block means
//	coop:scoreMin/Max  score only
//
// and the Note announcing an outcome carries coop:decision (see
// decisionTerms).

// proposalContext is documentContext with the terms of a poll that
// Mastodon defines (votersCount, as GoToSocial's Questions define it).
var proposalContext = func() []any {
	inline := maps.Clone(documentContext[2].(map[string]any))
	inline["votersCount"] = "toot:votersCount"
	return []any{documentContext[0], documentContext[1], inline}
}()

// consentBlock is what a block means, as the Question says it.
const consentBlock = "a block stops the decision (consent = no block)"

// methodNames say each method in words.
var methodNames = map[governance.Method]string{
	governance.SingleChoice:  "single choice",
	governance.Approval:      "multiple choice (approval)",
	governance.InstantRunoff: "ranked choice (instant runoff)",
	governance.Schulze:       "ranked choice (Schulze)",
	governance.Score:         "score",
	governance.Consent:       "consent",
}

// voterNames say who votes.
var voterNames = map[governance.Eligibility]string{
	governance.CoopMembers:        "the co-op's members",
	governance.ProjectMaintainers: "the project's maintainers",
	governance.FederationCoops:    "the federation's co-ops",
}

// proposalTerms are the coop: terms of a proposal's object.
func proposalTerms(v coop.ProposalView) map[string]any {
	m := map[string]any{
		"coop:method":      string(v.Method),
		"coop:quorum":      fmt.Sprintf("%d/%d", v.Quorum.Num, v.Quorum.Den),
		"coop:threshold":   string(v.Threshold),
		"coop:eligibility": string(v.Eligibility),
		"coop:eligible":    len(v.Eligible),
		"coop:proposer":    v.Proposer,
		"coop:opensAt":     v.OpensAt.UTC().Format(time.RFC3339),
		"coop:hideCounts":  v.HideCounts,
		"coop:state":       v.State.String(),
	}
	if len(v.Options) > 0 {
		opts := make([]any, len(v.Options))
		for i, o := range v.Options {
			opts[i] = map[string]any{"coop:key": o.Key, "name": o.Label}
		}
		m["coop:options"] = opts
	}
	switch v.Method {
	case governance.Consent:
		m["coop:block"] = consentBlock
	case governance.Score:
		m["coop:scoreMin"], m["coop:scoreMax"] = v.ScoreMin, v.ScoreMax
	}
	return m
}

// proposalHTML is the readable content of a proposal's Question or Note:
// its title, its body (Markdown, rendered and sanitized), how it is
// decided, for a Note its options, and the link to its page.
func proposalHTML(v coop.ProposalView, poll bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<p><strong>Proposal %d: %s</strong></p>", v.Num, html.EscapeString(v.Title))
	b.WriteString(markup.HTML(v.Body))
	facts := []string{
		"Decided by " + methodNames[v.Method],
		fmt.Sprintf("quorum %d/%d of %d eligible voters", v.Quorum.Num, v.Quorum.Den, len(v.Eligible)),
		"threshold " + string(v.Threshold),
		"who votes: " + voterNames[v.Eligibility],
		"closes " + v.ClosesAt.UTC().Format("2 January 2006, 15:04 UTC"),
	}
	b.WriteString("<p>" + html.EscapeString(strings.Join(facts, " · ")) + ".</p>")
	if v.Method == governance.Consent {
		b.WriteString("<p>Block: " + html.EscapeString(consentBlock) + ".</p>")
	}
	if v.HideCounts {
		b.WriteString("<p>The counts are hidden until the proposal closes.</p>")
	}
	if poll {
		b.WriteString("<p>" + linkHTML(v.URL, v.URL) + "</p>")
		return b.String()
	}
	if len(v.Options) > 0 {
		b.WriteString("<p>Options:</p><ol>")
		for _, o := range v.Options {
			b.WriteString("<li>" + html.EscapeString(o.Label) + "</li>")
		}
		b.WriteString("</ol>")
	}
	switch v.Method {
	case governance.InstantRunoff, governance.Schulze:
		b.WriteString("<p>Rank the options in your order of preference.</p>")
	case governance.Score:
		fmt.Fprintf(&b, "<p>Give each option a score from %d to %d.</p>", v.ScoreMin, v.ScoreMax)
	}
	b.WriteString("<p>Vote on the proposal's page: " + linkHTML(v.URL, v.URL) + "</p>")
	return b.String()
}

// proposalObjectType is what Question and Note have in common here.
type proposalObjectType interface {
	vocab.Type
	SetJSONLDId(vocab.JSONLDIdProperty)
	SetActivityStreamsAttributedTo(vocab.ActivityStreamsAttributedToProperty)
	SetActivityStreamsContent(vocab.ActivityStreamsContentProperty)
	SetActivityStreamsPublished(vocab.ActivityStreamsPublishedProperty)
	SetActivityStreamsEndTime(vocab.ActivityStreamsEndTimeProperty)
	SetActivityStreamsTo(vocab.ActivityStreamsToProperty)
	SetActivityStreamsCc(vocab.ActivityStreamsCcProperty)
	SetActivityStreamsUrl(vocab.ActivityStreamsUrlProperty)
}

// closedAt is when a proposal stopped taking votes: its close, or its
// withdrawal (the view's Updated); zero while open.
func closedAt(v coop.ProposalView) time.Time {
	switch {
	case v.Outcome != nil:
		return v.Outcome.Closed
	case v.State == governance.Withdrawn:
		return v.Updated
	}
	return time.Time{}
}

// isPoll reports whether a proposal goes out as a Question.
func isPoll(v coop.ProposalView) bool {
	_, ok := coop.PollOptions(v.Proposal.Proposal)
	return ok
}

// proposalObject renders a proposal as its Question (or Note), as served
// at its page to ActivityPub clients and as carried by its activities,
// without @context.
func proposalObject(site coop.Site, v coop.ProposalView) (map[string]any, error) {
	names, poll := coop.PollOptions(v.Proposal.Proposal)
	var (
		u   urls
		obj proposalObjectType
		q   vocab.ActivityStreamsQuestion
	)
	if poll {
		q = streams.NewActivityStreamsQuestion()
		obj = q
	} else {
		obj = streams.NewActivityStreamsNote()
	}
	obj.SetJSONLDId(u.id(v.URL))
	page := streams.NewActivityStreamsUrlProperty()
	page.AppendIRI(u.parse(v.URL))
	obj.SetActivityStreamsUrl(page)
	attributed := streams.NewActivityStreamsAttributedToProperty()
	attributed.AppendIRI(u.parse(site.ActorID(v.Group)))
	obj.SetActivityStreamsAttributedTo(attributed)
	content := streams.NewActivityStreamsContentProperty()
	content.AppendXMLSchemaString(proposalHTML(v, poll))
	obj.SetActivityStreamsContent(content)
	published := streams.NewActivityStreamsPublishedProperty()
	published.Set(v.OpensAt.UTC())
	obj.SetActivityStreamsPublished(published)
	end := streams.NewActivityStreamsEndTimeProperty()
	end.Set(v.ClosesAt.UTC())
	obj.SetActivityStreamsEndTime(end)
	to, cc := streams.NewActivityStreamsToProperty(), streams.NewActivityStreamsCcProperty()
	to.AppendIRI(u.parse(asPublic))
	cc.AppendIRI(u.parse(site.Followers(v.Group)))
	obj.SetActivityStreamsTo(to)
	obj.SetActivityStreamsCc(cc)

	if poll {
		// Counts are published while open only when not hidden. Hidden,
		// each option goes without replies.totalItems and there is no
		// votersCount: GoToSocial then hides the counts (an option
		// without them is its hideCounts), Mastodon shows every option at
		// 0 until the final Update brings the counts at the close.
		var (
			counts []int64
			voters int64
			known  = v.Counts != nil
		)
		if known {
			counts, voters = coop.PollCounts(v.Proposal.Proposal, *v.Counts)
		}
		// A proposal has two options or more (governance's Validate), so
		// streams writes oneOf/anyOf as a list, which Mastodon requires
		// (a single one would be written bare).
		var add func(vocab.ActivityStreamsNote)
		if v.Method == governance.Approval {
			p := streams.NewActivityStreamsAnyOfProperty()
			q.SetActivityStreamsAnyOf(p)
			add = p.AppendActivityStreamsNote
		} else {
			p := streams.NewActivityStreamsOneOfProperty()
			q.SetActivityStreamsOneOf(p)
			add = p.AppendActivityStreamsNote
		}
		for i, name := range names {
			opt := streams.NewActivityStreamsNote()
			n := streams.NewActivityStreamsNameProperty()
			n.AppendXMLSchemaString(name)
			opt.SetActivityStreamsName(n)
			if known {
				c := streams.NewActivityStreamsCollection()
				total := streams.NewActivityStreamsTotalItemsProperty()
				total.Set(int(counts[i]))
				c.SetActivityStreamsTotalItems(total)
				replies := streams.NewActivityStreamsRepliesProperty()
				replies.SetActivityStreamsCollection(c)
				opt.SetActivityStreamsReplies(replies)
			}
			add(opt)
		}
		if known {
			vc := streams.NewTootVotersCountProperty()
			vc.Set(int(voters))
			q.SetTootVotersCount(vc)
		}
		if at := closedAt(v); !at.IsZero() {
			// A date-time, never a boolean: Mastodon takes `true` as
			// "closed now", whenever it reads it.
			closed := streams.NewActivityStreamsClosedProperty()
			closed.AppendXMLSchemaDateTime(at.UTC())
			q.SetActivityStreamsClosed(closed)
		}
	}
	if u.err != nil {
		return nil, u.err
	}
	m, err := streams.Serialize(obj)
	if err != nil {
		return nil, fmt.Errorf("federation: serialize proposal %d: %w", v.Num, err)
	}
	delete(m, "@context")
	maps.Copy(m, proposalTerms(v))
	return m, nil
}

// proposalDocument is a proposal's object as served at its page.
func proposalDocument(site coop.Site, v coop.ProposalView) ([]byte, error) {
	m, err := proposalObject(site, v)
	if err != nil {
		return nil, err
	}
	return encodeDocument(m, proposalContext)
}

// proposalActivity wraps a proposal's object in a Create or Update from
// the group that decides it.
func proposalActivity(site coop.Site, v coop.ProposalView, typ, id string, at time.Time) ([]byte, error) {
	obj, err := proposalObject(site, v)
	if err != nil {
		return nil, err
	}
	m := map[string]any{
		"id":     id,
		"type":   typ,
		"actor":  site.ActorID(v.Group),
		"to":     asPublic,
		"cc":     site.Followers(v.Group),
		"object": obj,
	}
	if typ == "Create" {
		m["published"] = v.OpensAt.UTC().Format(time.RFC3339)
	}
	// An Update carries no `updated`, nor `published` of its own: with
	// `updated`, Mastodon shows the poll as edited; without, it takes the
	// new counts only.
	return encodeDocument(m, proposalContext)
}

// createID is the id of a proposal's Create: one per proposal, so that
// queuing it twice delivers it once.
func createID(v coop.ProposalView) string { return v.URL + "#create" }

// countsID is the id of one Update of a proposal's counts. Each is new:
// GoToSocial gives all of a poll's Updates one id, and a receiver that
// remembers ids then drops every one after the first.
func countsID(v coop.ProposalView, serial string) string { return v.URL + "#counts/" + serial }

// closedID is the id of the final Update, one per proposal.
func closedID(v coop.ProposalView) string { return v.URL + "#closed" }

// proposalGroup checks that group is the actor that decides v.
func proposalGroup(group coop.Actor, v coop.ProposalView) error {
	if !strings.EqualFold(group.Handle, v.Group) {
		return fmt.Errorf("federation: proposal %d is decided by %q, not %q", v.Num, v.Group, group.Handle)
	}
	return nil
}

// PublishProposal implements coop.Publisher.
func (p *Publisher) PublishProposal(ctx context.Context, tx coop.Tx, group coop.Actor, v coop.ProposalView, at time.Time) error {
	if err := proposalGroup(group, v); err != nil {
		return err
	}
	id := createID(v)
	body, err := proposalActivity(p.site, v, "Create", id, at)
	if err != nil {
		return err
	}
	if _, err := tx.AppendOutbox(ctx, group.ID, id, "Create", body, at); err != nil {
		return err
	}
	inboxes, err := tx.FollowerInboxes(ctx, group.ID)
	if err != nil {
		return err
	}
	return tx.EnqueueDeliveries(ctx, group.ID, id, body, inboxes, at)
}

// audienceInboxes is where a proposal's counts and outcome go: the
// group's followers, and each remote actor of audience (who voted, who
// boosted it) whose document the node holds, each server once (shared
// inboxes first). Unknown, gone and local actors are skipped: no network
// I/O inside the transaction, and local ones read the node itself.
func (p *Publisher) audienceInboxes(ctx context.Context, tx coop.Tx, group coop.Actor, audience []string) ([]string, []string, error) {
	followers, err := tx.FollowerInboxes(ctx, group.ID)
	if err != nil {
		return nil, nil, err
	}
	all := make([]delivery.Recipient, 0, len(followers)+len(audience))
	for _, in := range followers {
		all = append(all, delivery.Recipient{Inbox: in})
	}
	var known []string
	if len(audience) > 0 {
		r, ok := tx.(followRecords)
		if !ok {
			return nil, nil, fmt.Errorf("federation: the transaction (%T) keeps no remote actors", tx)
		}
		for _, uri := range audience {
			if _, local := p.site.HandleFromActorID(uri); local {
				continue
			}
			a, err := r.RemoteActor(ctx, uri)
			switch {
			case errors.Is(err, store.ErrNotFound):
				continue
			case err != nil:
				return nil, nil, err
			case a.Gone() || a.Inbox == "":
				continue
			}
			known = append(known, a.ID)
			all = append(all, delivery.Recipient{Inbox: a.Inbox, SharedInbox: a.SharedInbox})
		}
	}
	return delivery.Inboxes(all), known, nil
}

// PublishProposalCounts implements coop.Publisher.
func (p *Publisher) PublishProposalCounts(ctx context.Context, tx coop.Tx, group coop.Actor, v coop.ProposalView, audience []string, at time.Time) error {
	// A Note proposal has no counts to show; hidden counts have nothing
	// new to show until the close (PublishOutcome).
	if !isPoll(v) || v.Counts == nil {
		return nil
	}
	if err := proposalGroup(group, v); err != nil {
		return err
	}
	serial, err := newID()
	if err != nil {
		return err
	}
	id := countsID(v, serial)
	body, err := proposalActivity(p.site, v, "Update", id, at)
	if err != nil {
		return err
	}
	inboxes, _, err := p.audienceInboxes(ctx, tx, group, audience)
	if err != nil {
		return err
	}
	return tx.EnqueueDeliveries(ctx, group.ID, id, body, inboxes, at)
}

// PublishOutcome implements coop.Publisher.
func (p *Publisher) PublishOutcome(ctx context.Context, tx coop.Tx, group coop.Actor, v coop.ProposalView, audience []string, at time.Time) error {
	if err := proposalGroup(group, v); err != nil {
		return err
	}
	if v.Outcome == nil {
		return fmt.Errorf("federation: proposal %d has no outcome to publish", v.Num)
	}
	inboxes, known, err := p.audienceInboxes(ctx, tx, group, audience)
	if err != nil {
		return err
	}
	type doc struct {
		id, typ string
		body    []byte
	}
	var docs []doc
	if isPoll(v) {
		body, err := proposalActivity(p.site, v, "Update", closedID(v), at)
		if err != nil {
			return err
		}
		docs = append(docs, doc{closedID(v), "Update", body})
	}
	serial, err := newID()
	if err != nil {
		return err
	}
	post := decisionPost(p.site, group, v, known, serial, at)
	body, err := decisionActivity(p.site, v, post)
	if err != nil {
		return err
	}
	docs = append(docs, doc{post.ActivityID(p.site), "Create", body})
	for _, d := range docs {
		if _, err := tx.AppendOutbox(ctx, group.ID, d.id, d.typ, d.body, at); err != nil {
			return err
		}
		if err := tx.EnqueueDeliveries(ctx, group.ID, d.id, d.body, inboxes, at); err != nil {
			return err
		}
	}
	return nil
}

// optionLabel is the label of an option key, or the key; for consent,
// the stance as the poll names it.
func optionLabel(v coop.ProposalView, key string) string {
	for _, o := range v.Options {
		if o.Key == key {
			return o.Label
		}
	}
	if v.Method == governance.Consent && key != "" {
		return strings.ToUpper(key[:1]) + key[1:]
	}
	return key
}

// noDecisionWhy says why there is no decision.
func noDecisionWhy(o governance.Outcome) string {
	switch o.NoDecision {
	case governance.NoDecisionWithdrawn:
		return "the proposal was withdrawn"
	case governance.NoDecisionNoBallots:
		return "no ballot was cast other than abstentions"
	case governance.NoDecisionQuorum:
		return fmt.Sprintf("the quorum was not met (%s of %d needed)", plural(o.Quorum.Have, "ballot"), o.Quorum.Need)
	case governance.NoDecisionTie:
		return "a tie"
	case governance.NoDecisionThreshold:
		if o.Method == governance.Consent && o.Consent.Block > 0 {
			return "blocked: " + consentBlock
		}
		return "the threshold (" + string(o.Threshold) + ") was not met"
	case governance.NoDecisionInvalid:
		return "the proposal is invalid: nothing was counted"
	}
	return o.NoDecision
}

// plural says n things.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// decisionHTML is the readable announcement of a closed proposal.
func decisionHTML(site coop.Site, v coop.ProposalView) string {
	o := v.Outcome.Outcome
	var b strings.Builder
	title := html.EscapeString(fmt.Sprintf("Proposal %d: %s", v.Num, v.Title))
	if o.Decided {
		fmt.Fprintf(&b, "<p><strong>Decided: %s</strong> — %s</p>", html.EscapeString(optionLabel(v, o.Winner)), title)
	} else {
		fmt.Fprintf(&b, "<p><strong>No decision</strong> — %s: %s; the status quo stands.</p>", title, html.EscapeString(noDecisionWhy(o)))
	}
	var counts []string
	if names, ok := coop.PollOptions(v.Proposal.Proposal); ok {
		cs, _ := coop.PollCounts(v.Proposal.Proposal, o)
		for i, n := range names {
			counts = append(counts, fmt.Sprintf("%s %d", n, cs[i]))
		}
	} else {
		for _, c := range o.Options {
			counts = append(counts, fmt.Sprintf("%s %d", optionLabel(v, c.Option), c.Count))
		}
	}
	line := ""
	if len(counts) > 0 {
		line = strings.Join(counts, " · ") + ". "
		switch v.Method {
		case governance.InstantRunoff, governance.Schulze:
			line = "First preferences: " + line
		case governance.Score:
			line = "Total scores: " + line
		}
	}
	quorum := "met"
	if !o.Quorum.Met {
		quorum = "not met"
	}
	line += fmt.Sprintf("%s of %d eligible voters (%s); quorum %s (%d of %d needed).",
		plural(o.Cast, "ballot"), o.Eligible, plural(o.Abstentions, "abstention"), quorum, o.Quorum.Have, o.Quorum.Need)
	b.WriteString("<p>" + html.EscapeString(line) + "</p>")
	b.WriteString("<p>The proposal: " + linkHTML(v.URL, v.URL) + "<br>" +
		fmt.Sprintf("Decision log record %d: ", v.Outcome.LogIndex) +
		linkHTML(receiptURL(site, v.Outcome.LogIndex), receiptURL(site, v.Outcome.LogIndex)) + "</p>")
	return b.String()
}

// receiptURL is where the log record idx is proved (handlers serves it).
func receiptURL(site coop.Site, idx int64) string {
	return site.URL("/log/receipt/" + strconv.FormatInt(idx, 10))
}

// decisionTerms is coop:decision, what a coopfed peer reads of an
// outcome: the result, the counts it was decided from, the quorum, and
// the decision log's record of it (its index, and the hash of the exact
// inputs, as the record holds it).
func decisionTerms(site coop.Site, v coop.ProposalView) map[string]any {
	o := v.Outcome.Outcome
	options := make([]any, 0, len(o.Options))
	for _, c := range o.Options {
		opt := map[string]any{"coop:key": c.Option, "name": optionLabel(v, c.Option), "coop:count": c.Count}
		if o.Method == governance.Score {
			opt["coop:support"] = c.Support
		}
		options = append(options, opt)
	}
	tally := map[string]any{
		"coop:eligible":    o.Eligible,
		"coop:cast":        o.Cast,
		"coop:abstentions": o.Abstentions,
		"coop:options":     options,
	}
	if o.Method == governance.Consent {
		tally["coop:agree"], tally["coop:disagree"], tally["coop:block"] = o.Consent.Agree, o.Consent.Disagree, o.Consent.Block
	}
	d := map[string]any{
		"type":           "coop:Decision",
		"coop:proposal":  v.URL,
		"coop:decided":   o.Decided,
		"coop:tally":     tally,
		"coop:quorum":    map[string]any{"coop:have": o.Quorum.Have, "coop:need": o.Quorum.Need, "coop:met": o.Quorum.Met},
		"coop:closed":    v.Outcome.Closed.UTC().Format(time.RFC3339Nano),
		"coop:inputHash": fmt.Sprintf("sha256:%x", o.InputHash),
		"coop:logIndex":  v.Outcome.LogIndex,
		"coop:receipt":   receiptURL(site, v.Outcome.LogIndex),
	}
	if o.Decided {
		d["coop:result"], d["coop:winner"] = "decided", o.Winner
	} else {
		d["coop:result"], d["coop:noDecision"] = "no-decision", o.NoDecision
	}
	return d
}

// decisionPost is the Note that announces v's outcome, from group,
// addressed also to the known actors of the audience (Mastodon takes a
// post only when it is addressed to, or its author followed by, someone
// on the server).
func decisionPost(site coop.Site, group coop.Actor, v coop.ProposalView, cc []string, serial string, at time.Time) Post {
	return Post{Author: group, ContentHTML: decisionHTML(site, v), CC: cc, Published: at, Serial: serial}
}

// decisionActivity renders the Create{Note} announcing v's outcome, with
// coop:decision and the proposal's own terms on the Note.
func decisionActivity(site coop.Site, v coop.ProposalView, post Post) ([]byte, error) {
	m, err := noteCreate(site, post)
	if err != nil {
		return nil, err
	}
	note, ok := m["object"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("federation: decision of proposal %d: no Note", v.Num)
	}
	note["coop:decision"] = decisionTerms(site, v)
	return encodeDocument(m, proposalContext)
}

// directPost is the direct message from a local actor to the actors of
// to whose documents the node holds; ok is false when it knows none.
func directPost(ctx context.Context, r followRecords, from coop.Actor, to []string, text, serial string, at time.Time) (Post, []coop.Recipient, bool, error) {
	post := Post{Author: from, Text: text, Direct: true, Published: at, Serial: serial}
	var rs []coop.Recipient
	seen := map[string]bool{}
	for _, uri := range to {
		if seen[uri] {
			continue
		}
		seen[uri] = true
		a, err := r.RemoteActor(ctx, uri)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return Post{}, nil, false, err
		case a.Gone() || a.Inbox == "":
			continue
		}
		acct := a.PreferredUsername + "@" + a.Host
		post.Mentions = append(post.Mentions, Mention{Actor: a.ID, Acct: acct, URL: a.ID})
		rs = append(rs, coop.Recipient{Actor: a.ID, Acct: acct, URL: a.ID, Inbox: a.Inbox, SharedInbox: a.SharedInbox})
	}
	return post, rs, len(rs) > 0, nil
}

// PublishDirect implements coop.Publisher: the Note of a direct post
// (noteActivity), delivered as PublishPost delivers a direct message, and
// kept out of the public outbox.
func (p *Publisher) PublishDirect(ctx context.Context, tx coop.Tx, from coop.Actor, to []string, text string, at time.Time) error {
	r, ok := tx.(followRecords)
	if !ok {
		return fmt.Errorf("federation: direct message: the transaction (%T) keeps no remote actors", tx)
	}
	serial, err := newID()
	if err != nil {
		return err
	}
	post, rs, ok, err := directPost(ctx, r, from, to, text, serial, at)
	if err != nil || !ok {
		return err
	}
	body, err := noteActivity(p.site, post)
	if err != nil {
		return err
	}
	return tx.EnqueueDeliveries(ctx, from.ID, post.ActivityID(p.site), body, inboxesOf(nil, rs), at)
}

// serveProposal answers GET /proposals/{num} for ActivityPub clients: the
// proposal's Question (or Note) with its counts now.
func (s *Server) serveProposal(w http.ResponseWriter, r *http.Request) {
	raw := mux.Vars(r)["num"]
	num, err := strconv.ParseInt(raw, 10, 64)
	var v coop.ProposalView
	if err == nil && num > 0 {
		v, err = s.proposals(r.Context(), num)
	} else {
		err = coop.ErrNotFound
	}
	switch {
	case errors.Is(err, coop.ErrNotFound):
		w.Header().Set("Vary", "Accept")
		failJSON(w, http.StatusNotFound, fmt.Sprintf("no proposal %s on this node", quote(raw)))
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	body, err := proposalDocument(s.site, v)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h := w.Header()
	h.Set("Vary", "Accept")
	h.Set("ETag", etag)
	// The counts move with every vote: a cache must ask again each time.
	h.Set("Cache-Control", "public, max-age=0, must-revalidate")
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	writeJSON(w, http.StatusOK, contentTypeAP, body)
}
