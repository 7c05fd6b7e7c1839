package federation

import (
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/go-fed/activity/streams"
)

// asPublic is the special collection that makes an object public.
const asPublic = "https://www.w3.org/ns/activitystreams#Public"

// Mention is a remote or local actor a post names.
type Mention struct {
	Actor string // actor id
	Acct  string // name@host, as written after "@" in the text
	URL   string // profile page; the actor id when unknown
}

// Post is a post by a local actor: a Note in a Create.
type Post struct {
	Author    coop.Actor
	Text      string // plain text as written; rendered to HTML here
	Mentions  []Mention
	Direct    bool // only the mentioned actors see it, as a direct message
	InReplyTo string
	// ContentHTML, when set, is the Note's content as is, instead of Text
	// rendered: for documents this package writes itself (a proposal's
	// decision), never for what someone typed.
	ContentHTML string
	// CC are more actors addressed, without a mention: Mastodon takes a
	// public post delivered to a server where nobody follows its author
	// only when it addresses someone there.
	CC        []string
	Published time.Time
	// Serial makes the ids unique: the Note is /users/NAME/notes/SERIAL
	// and its Create that id + "/activity".
	Serial string
}

// NoteID is the id of the post's Note.
func (p Post) NoteID(site coop.Site) string {
	return site.ActorID(p.Author.Handle) + "/notes/" + p.Serial
}

// ActivityID is the id of the post's Create.
func (p Post) ActivityID(site coop.Site) string { return p.NoteID(site) + "/activity" }

// noteHTML renders plain text as Mastodon shows a post: escaped,
// paragraphs at blank lines, line breaks kept, and each mention linked as
// Mastodon links one (an h-card), so that the mentioned account is
// notified and the text reads as on Mastodon. A direct message whose text
// names no recipient starts with their mentions: Mastodon shows a DM that
// does not mention its recipient without notifying them.
func noteHTML(p Post) string {
	text := strings.ReplaceAll(strings.ReplaceAll(p.Text, "\r\n", "\n"), "\r", "\n")
	var lead []string
	for _, m := range p.Mentions {
		if !strings.Contains(strings.ToLower(text), "@"+strings.ToLower(m.Acct)) {
			lead = append(lead, "@"+m.Acct)
		}
	}
	if len(lead) > 0 && p.Direct {
		text = strings.Join(lead, " ") + " " + text
	}
	var b strings.Builder
	for _, para := range strings.Split(text, "\n\n") {
		para = strings.Trim(para, "\n")
		if strings.TrimSpace(para) == "" {
			continue
		}
		b.WriteString("<p>")
		lines := strings.Split(para, "\n")
		for i, line := range lines {
			if i > 0 {
				b.WriteString("<br>")
			}
			b.WriteString(linkMentions(html.EscapeString(line), p.Mentions))
		}
		b.WriteString("</p>")
	}
	return b.String()
}

// linkMentions replaces each escaped "@name@host" with Mastodon's mention
// markup. Acct values hold no HTML special characters (handles and host
// names cannot), so matching the escaped text is exact.
func linkMentions(escaped string, mentions []Mention) string {
	for _, m := range mentions {
		name, _, _ := strings.Cut(m.Acct, "@")
		link := `<span class="h-card" translate="no"><a href="` + html.EscapeString(m.URL) +
			`" class="u-url mention">@<span>` + html.EscapeString(name) + `</span></a></span>`
		escaped = replaceFold(escaped, "@"+m.Acct, link)
	}
	return escaped
}

// replaceFold replaces every case-insensitive match of old in s that is
// not followed by a character that would continue a handle or host.
func replaceFold(s, old, new string) string {
	lower, lowerOld := strings.ToLower(s), strings.ToLower(old)
	var b strings.Builder
	for {
		i := strings.Index(lower, lowerOld)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(old)
		if continuesHandle(s[end:]) {
			b.WriteString(s[:end])
			s, lower = s[end:], lower[end:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(new)
		s, lower = s[end:], lower[end:]
	}
}

// continuesHandle reports whether rest, the text after a match, goes on
// with the same handle or host ("@bob@b.example" inside
// "@bob@b.example.org"); a full stop that ends a sentence does not.
func continuesHandle(rest string) bool {
	word := func(c byte) bool {
		return c == '_' || c == '-' || c == ':' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	switch {
	case rest == "":
		return false
	case word(rest[0]):
		return true
	case rest[0] == '.' || rest[0] == '@':
		return len(rest) > 1 && word(rest[1])
	}
	return false
}

// noteActivity renders a post as the Create{Note} that is stored in the
// outbox and delivered.
func noteActivity(site coop.Site, p Post) ([]byte, error) {
	m, err := noteCreate(site, p)
	if err != nil {
		return nil, err
	}
	return marshalDocument(m)
}

// noteCreate is noteActivity's Create{Note} as serialized, before its
// @context: a caller may add extension properties to the Note
// (m["object"]).
func noteCreate(site coop.Site, p Post) (map[string]any, error) {
	if p.Serial == "" {
		return nil, fmt.Errorf("federation: post by %q has no serial", p.Author.Handle)
	}
	if p.Direct && len(p.Mentions) == 0 {
		return nil, fmt.Errorf("federation: a direct message needs a recipient")
	}
	var u urls
	actor := site.ActorID(p.Author.Handle)
	to, cc := streams.NewActivityStreamsToProperty(), streams.NewActivityStreamsCcProperty()
	if p.Direct {
		for _, m := range p.Mentions {
			to.AppendIRI(u.parse(m.Actor))
		}
	} else {
		to.AppendIRI(u.parse(asPublic))
		cc.AppendIRI(u.parse(site.Followers(p.Author.Handle)))
		for _, m := range p.Mentions {
			cc.AppendIRI(u.parse(m.Actor))
		}
		for _, a := range p.CC {
			cc.AppendIRI(u.parse(a))
		}
	}

	note := streams.NewActivityStreamsNote()
	note.SetJSONLDId(u.id(p.NoteID(site)))
	attributed := streams.NewActivityStreamsAttributedToProperty()
	attributed.AppendIRI(u.parse(actor))
	note.SetActivityStreamsAttributedTo(attributed)
	content := streams.NewActivityStreamsContentProperty()
	if p.ContentHTML != "" {
		content.AppendXMLSchemaString(p.ContentHTML)
	} else {
		content.AppendXMLSchemaString(noteHTML(p))
	}
	note.SetActivityStreamsContent(content)
	published := streams.NewActivityStreamsPublishedProperty()
	published.Set(p.Published.UTC().Truncate(time.Second))
	note.SetActivityStreamsPublished(published)
	note.SetActivityStreamsTo(to)
	if cc.Len() > 0 {
		note.SetActivityStreamsCc(cc)
	}
	if p.InReplyTo != "" {
		reply := streams.NewActivityStreamsInReplyToProperty()
		reply.AppendIRI(u.parse(p.InReplyTo))
		note.SetActivityStreamsInReplyTo(reply)
	}
	if len(p.Mentions) > 0 {
		tags := streams.NewActivityStreamsTagProperty()
		for _, m := range p.Mentions {
			mention := streams.NewActivityStreamsMention()
			href := streams.NewActivityStreamsHrefProperty()
			href.Set(u.parse(m.Actor))
			mention.SetActivityStreamsHref(href)
			name := streams.NewActivityStreamsNameProperty()
			name.AppendXMLSchemaString("@" + m.Acct)
			mention.SetActivityStreamsName(name)
			tags.AppendActivityStreamsMention(mention)
		}
		note.SetActivityStreamsTag(tags)
	}
	if u.err != nil {
		return nil, u.err
	}

	create := streams.NewActivityStreamsCreate()
	create.SetJSONLDId(u.id(p.ActivityID(site)))
	actorProp := streams.NewActivityStreamsActorProperty()
	actorProp.AppendIRI(u.parse(actor))
	create.SetActivityStreamsActor(actorProp)
	create.SetActivityStreamsPublished(published)
	create.SetActivityStreamsTo(to)
	if cc.Len() > 0 {
		create.SetActivityStreamsCc(cc)
	}
	object := streams.NewActivityStreamsObjectProperty()
	object.AppendActivityStreamsNote(note)
	create.SetActivityStreamsObject(object)
	if u.err != nil {
		return nil, u.err
	}
	m, err := streams.Serialize(create)
	if err != nil {
		return nil, fmt.Errorf("federation: serialize post: %w", err)
	}
	return m, nil
}
