// Package markup renders the Markdown people write in coopfed (a
// proposal's body) as HTML that is safe to show on a page and to send to
// other servers.
//
// Markdown is parsed by goldmark (CommonMark, with GitHub's tables,
// strikethrough and bare links) with raw HTML left out, and its output is
// then cleaned by bluemonday's policy for user content: whatever the
// parser lets through, no script, no event handler, no javascript: or
// data: link reaches a reader. Links keep only absolute http(s) and mailto
// URLs and carry rel="nofollow noopener".
//
// It does no I/O and imports neither coop nor federation: handlers (the
// proposal's page) and federation (the Question's content) both call
// HTML.
package markup
