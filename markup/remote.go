package markup

import (
	"regexp"

	"github.com/microcosm-cc/bluemonday"
)

// microformatClass is one class Mastodon's sanitizer keeps: microformats
// (h-card, u-url, ...) and the few of its own that mark mentions, hashtags
// and shortened links.
const microformatClass = `(?:(?:h|p|u|dt|e)-[a-z0-9-]+|mention|hashtag|ellipsis|invisible)`

// classList is a class attribute made only of such classes.
var classList = regexp.MustCompile(`^` + microformatClass + `(?: +` + microformatClass + `)*$`)

// remotePolicy is the HTML a remote post or summary may keep, after
// Mastodon's own (Sanitize::Config::MASTODON_STRICT): paragraphs, line
// breaks, inline emphasis, quotes, code and lists; links to http(s) URLs
// only, opened with rel="nofollow noreferrer noopener" in a new tab; the
// classes above on links and spans. Everything else — script, style,
// iframes, images, event handlers, style attributes, javascript: and data:
// URLs — goes; the text inside a removed element stays, escaped, except
// in script and style, which go whole.
var remotePolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "span", "del", "pre", "blockquote", "code", "b", "strong", "u", "i", "em", "ul", "ol", "li")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("class").Matching(classList).OnElements("a", "span")
	p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("ol")
	p.AllowAttrs("value").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("li")
	p.AllowURLSchemes("http", "https")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// Remote cleans HTML that another server wrote (a post, a reply, an
// actor's summary) by remotePolicy. The inbox cleans remote HTML with it
// when it stores it, and a page cleans it again when it shows it, so that
// a page prints nothing that did not pass the sanitizer where it prints
// it, whatever way the row came.
func Remote(html string) string { return remotePolicy.Sanitize(html) }
