package federation

import (
	"html"
	"strings"
	"unicode"

	"github.com/coopfed/coopfed/markup"
	"github.com/microcosm-cc/bluemonday"
)

// Remote text is cleaned once, when it is stored, so that whatever shows
// it later (a page, the CLI, an API) shows only what these allow.

// textPolicy keeps no markup at all.
var textPolicy = bluemonday.StrictPolicy()

// maxNameRunes bounds a remote name kept as plain text.
const maxNameRunes = 256

// sanitizeHTML cleans remote HTML (a note's content, an actor's summary)
// by markup's policy for remote HTML (Mastodon's strict one).
func sanitizeHTML(s string) string {
	if paragraphs(s) {
		return s
	}
	return markup.Remote(s)
}

// paragraphs reports whether s is text with none of plainSpecial but
// for the tags <p>, </p>, <br> and <br/>, written exactly so (plain text
// included): markup.Remote gives such a string back as it is, and a post
// of a few paragraphs, without links or mentions, skips the HTML
// tokenizer.
func paragraphs(s string) bool {
	for {
		i := strings.IndexAny(s, plainSpecial)
		if i < 0 {
			return true
		}
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "<p>"):
			s = s[3:]
		case strings.HasPrefix(s, "</p>"), strings.HasPrefix(s, "<br>"):
			s = s[4:]
		case strings.HasPrefix(s, "<br/>"):
			s = s[5:]
		default:
			return false
		}
	}
}

// plainSpecial are the bytes a policy's output may differ on from its
// input: markup and entities, the characters a text token escapes, and
// those the HTML tokenizer rewrites (NUL, a carriage return).
const plainSpecial = "<>&'\"\x00\r"

// plain reports whether s has none of plainSpecial: then both policies
// give s back as it is, and skipping them saves the HTML tokenizer (a
// buffer of several KiB for each string, empty ones included).
func plain(s string) bool { return strings.IndexAny(s, plainSpecial) < 0 }

// plainText turns a remote name into plain text: markup removed, entities
// decoded, control and bidirectional-override characters (which can
// disguise a name) and runs of spaces made one space, at most
// maxNameRunes runes. Whatever shows it must escape it, as html/template
// does.
func plainText(s string) string {
	if !plain(s) {
		s = html.UnescapeString(textPolicy.Sanitize(s))
	}
	var b strings.Builder
	n, space := 0, false
	for _, r := range s {
		if n == maxNameRunes {
			break
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
			if n == maxNameRunes {
				break
			}
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
