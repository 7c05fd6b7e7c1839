package federation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"

	"github.com/coopfed/coopfed/coop"
	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// This file is the one place where coopfed's domain types become
// ActivityStreams documents. go-fed's streams builds every type and
// property it knows; what its v1.0.0 vocabulary lacks (endpoints,
// manuallyApprovesFollowers, PropertyValue) and coopfed's own coop: terms
// are added to the serialized map, and @context is then rewritten to
// documentContext.

// Namespaces in @context.
const (
	nsActivityStreams = "https://www.w3.org/ns/activitystreams"
	nsSecurity        = "https://w3id.org/security/v1"
	// nsCoop is coopfed's own vocabulary, prefix "coop".
	nsCoop = "https://coopfed.org/ns#"
)

// documentContext is the @context of every document coopfed serves. The
// terms outside ActivityStreams and the security vocabulary are defined
// inline, as Mastodon does, so that a strict JSON-LD peer (Fedify without
// network) has nothing to fetch: only the two context URLs every peer
// ships with appear. streams.Serialize would add
// "http://joinmastodon.org/ns" as a URL, which serves no context document.
var documentContext = []any{
	nsActivityStreams,
	nsSecurity,
	map[string]any{
		"toot":                      "http://joinmastodon.org/ns#",
		"discoverable":              "toot:discoverable",
		"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
		"schema":                    "http://schema.org#",
		"PropertyValue":             "schema:PropertyValue",
		"value":                     "schema:value",
		"coop":                      nsCoop,
		"coop:repository":           map[string]any{"@id": "coop:repository", "@type": "@id"},
		"coop:maintainers":          map[string]any{"@id": "coop:maintainers", "@type": "@id"},
		"coop:members":              map[string]any{"@id": "coop:members", "@type": "@id"},
		"coop:federation":           map[string]any{"@id": "coop:federation", "@type": "@id"},
		"coop:projects":             map[string]any{"@id": "coop:projects", "@type": "@id"},
	},
}

// Extension properties: the fediverse's terms go-fed v1.0.0 lacks, and
// coopfed's own.
const (
	propEndpoints     = "endpoints"
	propSharedInbox   = "sharedInbox"
	propManualApprove = "manuallyApprovesFollowers"
	propAttachment    = "attachment"
	propRepository    = "coop:repository"
	propLicence       = "coop:licence"
	propTags          = "coop:tags"
	propNeeds         = "coop:needs"
	propMaintainers   = "coop:maintainers"
	propMembers       = "coop:members"
	propFederation    = "coop:federation"
	propProjects      = "coop:projects"
	propDecisionLog   = "coop:decisionLog"
)

// actorType is what Person, Group and Organization have in common.
type actorType interface {
	vocab.Type
	SetJSONLDId(vocab.JSONLDIdProperty)
	SetActivityStreamsPreferredUsername(vocab.ActivityStreamsPreferredUsernameProperty)
	SetActivityStreamsName(vocab.ActivityStreamsNameProperty)
	SetActivityStreamsSummary(vocab.ActivityStreamsSummaryProperty)
	SetActivityStreamsUrl(vocab.ActivityStreamsUrlProperty)
	SetActivityStreamsInbox(vocab.ActivityStreamsInboxProperty)
	SetActivityStreamsOutbox(vocab.ActivityStreamsOutboxProperty)
	SetActivityStreamsFollowers(vocab.ActivityStreamsFollowersProperty)
	SetActivityStreamsFollowing(vocab.ActivityStreamsFollowingProperty)
	SetActivityStreamsPublished(vocab.ActivityStreamsPublishedProperty)
	SetTootDiscoverable(vocab.TootDiscoverableProperty)
	SetW3IDSecurityV1PublicKey(vocab.W3IDSecurityV1PublicKeyProperty)
}

// urls parses the URLs a document needs, keeping the first error.
type urls struct{ err error }

func (u *urls) parse(raw string) *url.URL {
	p, err := url.Parse(raw)
	if err != nil && u.err == nil {
		u.err = fmt.Errorf("federation: url %q: %w", raw, err)
	}
	return p
}

func (u *urls) id(raw string) vocab.JSONLDIdProperty {
	p := streams.NewJSONLDIdProperty()
	p.Set(u.parse(raw))
	return p
}

// actorDocument renders a live actor. p holds the project's details when
// the actor is a Group, and is nil otherwise; dl is the decision log an
// Organization publishes (nil before it has one).
func actorDocument(site coop.Site, a coop.Actor, p *coop.Project, dl *coop.LogInfo) ([]byte, error) {
	var obj actorType
	switch a.Kind {
	case coop.KindPerson:
		obj = streams.NewActivityStreamsPerson()
	case coop.KindGroup:
		obj = streams.NewActivityStreamsGroup()
	case coop.KindOrganization:
		obj = streams.NewActivityStreamsOrganization()
	default:
		return nil, fmt.Errorf("federation: actor %q has unknown kind %q", a.Handle, a.Kind)
	}
	var u urls
	id := site.ActorID(a.Handle)
	obj.SetJSONLDId(u.id(id))

	username := streams.NewActivityStreamsPreferredUsernameProperty()
	username.SetXMLSchemaString(a.Handle)
	obj.SetActivityStreamsPreferredUsername(username)

	name := streams.NewActivityStreamsNameProperty()
	name.AppendXMLSchemaString(a.Name)
	obj.SetActivityStreamsName(name)

	summaryText := summaryHTML(a.Summary)
	var attachments []any
	if p != nil {
		facts := projectFacts(site, *p)
		summaryText += facts.summary()
		attachments = facts.attachments()
	}
	if summaryText != "" {
		summary := streams.NewActivityStreamsSummaryProperty()
		summary.AppendXMLSchemaString(summaryText)
		obj.SetActivityStreamsSummary(summary)
	}

	profile := streams.NewActivityStreamsUrlProperty()
	profile.AppendIRI(u.parse(site.ProfileURL(a.Handle)))
	obj.SetActivityStreamsUrl(profile)

	inbox := streams.NewActivityStreamsInboxProperty()
	inbox.SetIRI(u.parse(site.Inbox(a.Handle)))
	obj.SetActivityStreamsInbox(inbox)
	outbox := streams.NewActivityStreamsOutboxProperty()
	outbox.SetIRI(u.parse(site.Outbox(a.Handle)))
	obj.SetActivityStreamsOutbox(outbox)
	followers := streams.NewActivityStreamsFollowersProperty()
	followers.SetIRI(u.parse(site.Followers(a.Handle)))
	obj.SetActivityStreamsFollowers(followers)
	following := streams.NewActivityStreamsFollowingProperty()
	following.SetIRI(u.parse(site.Following(a.Handle)))
	obj.SetActivityStreamsFollowing(following)

	published := streams.NewActivityStreamsPublishedProperty()
	published.Set(a.CreatedAt.UTC())
	obj.SetActivityStreamsPublished(published)

	discoverable := streams.NewTootDiscoverableProperty()
	discoverable.Set(a.Discoverable)
	obj.SetTootDiscoverable(discoverable)

	// The public key only: coop.Actor never holds the private one.
	key := streams.NewW3IDSecurityV1PublicKey()
	key.SetJSONLDId(u.id(site.KeyID(a.Handle)))
	owner := streams.NewW3IDSecurityV1OwnerProperty()
	owner.Set(u.parse(id))
	key.SetW3IDSecurityV1Owner(owner)
	pem := streams.NewW3IDSecurityV1PublicKeyPemProperty()
	pem.Set(a.PublicKeyPEM)
	key.SetW3IDSecurityV1PublicKeyPem(pem)
	keys := streams.NewW3IDSecurityV1PublicKeyProperty()
	keys.AppendW3IDSecurityV1PublicKey(key)
	obj.SetW3IDSecurityV1PublicKey(keys)

	if u.err != nil {
		return nil, u.err
	}
	m, err := streams.Serialize(obj)
	if err != nil {
		return nil, fmt.Errorf("federation: serialize actor %q: %w", a.Handle, err)
	}
	m[propEndpoints] = map[string]any{propSharedInbox: site.SharedInbox()}
	m[propManualApprove] = a.ManuallyApprovesFollowers
	switch {
	case p != nil:
		if len(attachments) > 0 {
			m[propAttachment] = attachments
		}
		if p.Repository != "" {
			m[propRepository] = p.Repository
		}
		if p.Licence != "" {
			m[propLicence] = p.Licence
		}
		m[propTags] = nonNil(p.Tags)
		m[propNeeds] = nonNil(p.Needs)
		m[propMaintainers] = nonNil(p.Maintainers)
	case a.Kind == coop.KindOrganization:
		m[propMembers] = membersURL(site, a.Handle)
		m[propFederation] = site.Federation(a.Handle)
		m[propProjects] = site.Projects(a.Handle)
		if dl != nil {
			// Where the log is served (C2SP tlog-tiles), the key its
			// checkpoints are signed with, and the node's witness key,
			// whose cosignatures of its members' logs count.
			m[propDecisionLog] = map[string]any{
				"type":            "coop:DecisionLog",
				"url":             dl.URL,
				"coop:origin":     dl.Origin,
				"coop:logKey":     dl.Key,
				"coop:witnessKey": dl.WitnessKey,
			}
		}
	}
	return marshalDocument(m)
}

// membersURL is the co-op's members collection.
func membersURL(site coop.Site, handle string) string {
	return site.ActorID(handle) + "/members"
}

// tombstoneDocument renders what a removed actor's URL answers with 410.
func tombstoneDocument(site coop.Site, a coop.Actor) ([]byte, error) {
	var u urls
	t := streams.NewActivityStreamsTombstone()
	t.SetJSONLDId(u.id(site.ActorID(a.Handle)))
	former := streams.NewActivityStreamsFormerTypeProperty()
	former.AppendXMLSchemaString(string(a.Kind))
	t.SetActivityStreamsFormerType(former)
	deleted := streams.NewActivityStreamsDeletedProperty()
	deleted.Set(a.RemovedAt.UTC())
	t.SetActivityStreamsDeleted(deleted)
	if u.err != nil {
		return nil, u.err
	}
	m, err := streams.Serialize(t)
	if err != nil {
		return nil, fmt.Errorf("federation: serialize tombstone of %q: %w", a.Handle, err)
	}
	return marshalDocument(m)
}

// collectionDocument renders a paged collection's entry point: its size
// and a link to the first page, and no items.
func collectionDocument(id string, total int) ([]byte, error) {
	var u urls
	c := streams.NewActivityStreamsOrderedCollection()
	c.SetJSONLDId(u.id(id))
	n := streams.NewActivityStreamsTotalItemsProperty()
	n.Set(total)
	c.SetActivityStreamsTotalItems(n)
	first := streams.NewActivityStreamsFirstProperty()
	first.SetIRI(u.parse(pageURL(id, 0)))
	c.SetActivityStreamsFirst(first)
	if u.err != nil {
		return nil, u.err
	}
	m, err := streams.Serialize(c)
	if err != nil {
		return nil, fmt.Errorf("federation: serialize collection %s: %w", id, err)
	}
	return marshalDocument(m)
}

// pageURL is the URL of the page of collection id that starts below the
// cursor maxID (0: the first page).
func pageURL(id string, maxID int64) string {
	if maxID == 0 {
		return id + "?page=true"
	}
	return id + "?page=true&max_id=" + strconv.FormatInt(maxID, 10)
}

// pageDocument renders one page of collection id. Items are actor IRIs
// (followers, following, members) or, for the outbox, the stored activities
// as they were published.
func pageDocument(id string, maxID int64, page coop.Page) ([]byte, error) {
	var u urls
	p := streams.NewActivityStreamsOrderedCollectionPage()
	p.SetJSONLDId(u.id(pageURL(id, maxID)))
	partOf := streams.NewActivityStreamsPartOfProperty()
	partOf.SetIRI(u.parse(id))
	p.SetActivityStreamsPartOf(partOf)
	n := streams.NewActivityStreamsTotalItemsProperty()
	n.Set(page.Total)
	p.SetActivityStreamsTotalItems(n)
	if page.Next != 0 {
		next := streams.NewActivityStreamsNextProperty()
		next.SetIRI(u.parse(pageURL(id, page.Next)))
		p.SetActivityStreamsNext(next)
	}
	if u.err != nil {
		return nil, u.err
	}
	m, err := streams.Serialize(p)
	if err != nil {
		return nil, fmt.Errorf("federation: serialize page of %s: %w", id, err)
	}
	// orderedItems is set here rather than through streams: streams writes
	// a one-item list as a bare value and drops an empty one, and a stored
	// activity must go out byte for byte as it was published.
	items := make([]any, 0, len(page.Items))
	for _, it := range page.Items {
		if it.Activity != nil {
			if !json.Valid(it.Activity) {
				return nil, fmt.Errorf("federation: page of %s: stored activity %d is not JSON", id, it.Cursor)
			}
			items = append(items, json.RawMessage(it.Activity))
			continue
		}
		items = append(items, it.IRI)
	}
	m["orderedItems"] = items
	return marshalDocument(m)
}

// marshalDocument sets the @context and encodes m. HTML characters stay as
// they are (summaries are HTML), which JSON allows.
func marshalDocument(m map[string]any) ([]byte, error) {
	return encodeDocument(m, documentContext)
}

// encodeDocument is marshalDocument with another @context.
func encodeDocument(m map[string]any, context []any) ([]byte, error) {
	m["@context"] = context
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("federation: encode document: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// summaryHTML renders a plain-text summary as the HTML that Mastodon shows:
// escaped, a paragraph per block separated by blank lines, and line breaks
// kept.
func summaryHTML(text string) string {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	var b strings.Builder
	var para []string
	flush := func() {
		if len(para) == 0 {
			return
		}
		b.WriteString("<p>")
		for i, line := range para {
			if i > 0 {
				b.WriteString("<br>")
			}
			b.WriteString(html.EscapeString(line))
		}
		b.WriteString("</p>")
		para = para[:0]
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, " \t")
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		para = append(para, line)
	}
	flush()
	return b.String()
}

// fact is one line about a project, as HTML.
type fact struct{ name, valueHTML string }

type facts []fact

// projectFacts lists what a Group's readers should see about the project,
// most useful first: Mastodon shows a profile's first fields.
func projectFacts(site coop.Site, p coop.Project) facts {
	var out facts
	if p.Repository != "" {
		out = append(out, fact{"Repository", linkHTML(p.Repository, p.Repository)})
	}
	if p.Licence != "" {
		out = append(out, fact{"Licence", html.EscapeString(p.Licence)})
	}
	if len(p.Maintainers) > 0 {
		links := make([]string, len(p.Maintainers))
		for i, uri := range p.Maintainers {
			if h, ok := site.HandleFromActorID(uri); ok {
				links[i] = linkHTML(site.ProfileURL(h), "@"+h)
			} else {
				links[i] = linkHTML(uri, strings.TrimPrefix(strings.TrimPrefix(uri, "https://"), "http://"))
			}
		}
		out = append(out, fact{"Maintainers", strings.Join(links, ", ")})
	}
	if len(p.Needs) > 0 {
		out = append(out, fact{"Needs", html.EscapeString(strings.Join(p.Needs, ", "))})
	}
	if len(p.Tags) > 0 {
		out = append(out, fact{"Tags", html.EscapeString("#" + strings.Join(p.Tags, " #"))})
	}
	return out
}

// summary is the facts as a paragraph to follow the project's description.
func (fs facts) summary() string {
	if len(fs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("<p>")
	for i, f := range fs {
		if i > 0 {
			b.WriteString("<br>")
		}
		b.WriteString(f.name)
		b.WriteString(": ")
		b.WriteString(f.valueHTML)
	}
	b.WriteString("</p>")
	return b.String()
}

// attachments is the facts as PropertyValues, which Mastodon shows as
// profile fields.
func (fs facts) attachments() []any {
	out := make([]any, len(fs))
	for i, f := range fs {
		out[i] = map[string]any{"type": "PropertyValue", "name": f.name, "value": f.valueHTML}
	}
	return out
}

// linkHTML is a link as Mastodon writes one in profile fields; anything but
// an http(s) URL stays text.
func linkHTML(href, text string) string {
	u, err := url.Parse(href)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return html.EscapeString(text)
	}
	return `<a href="` + html.EscapeString(href) + `" rel="nofollow noopener noreferrer" target="_blank">` +
		html.EscapeString(text) + `</a>`
}
