package markup

import (
	"bytes"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// md parses CommonMark with GitHub's extensions. Without
// html.WithUnsafe, goldmark writes raw HTML blocks and inline tags as a
// comment ("raw HTML omitted"), which the policy then drops.
var md = goldmark.New(goldmark.WithExtensions(extension.GFM))

// policy is bluemonday's user-content policy, with links restricted to
// absolute URLs of safe schemes: the HTML also goes to other servers,
// where a relative link would point elsewhere. A fully qualified link gets
// target="_blank" and so rel="nofollow noopener".
var policy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowRelativeURLs(false)
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// HTML renders markdown as sanitized HTML.
func HTML(markdown string) string {
	var b bytes.Buffer
	if err := md.Convert([]byte(markdown), &b); err != nil {
		// goldmark's HTML renderer fails only when its writer does; a
		// bytes.Buffer does not. Show the text rather than nothing.
		return policy.Sanitize("<p>" + bluemonday.StrictPolicy().Sanitize(markdown) + "</p>")
	}
	return policy.SanitizeReader(&b).String()
}
