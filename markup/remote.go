package markup

// Clean cleans HTML that someone else wrote (a reply from another server,
// kept as it was cleaned when it was received) by the same policy as
// HTML's output, so that a page prints nothing that did not pass a
// sanitizer where it prints it: no script, no event handler, no
// javascript: or data: link, links to absolute URLs only.
func Clean(html string) string { return policy.Sanitize(html) }
