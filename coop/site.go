package coop

import (
	"net/url"
	"strings"
)

// Site is the node's public address and URL scheme. Every URL coopfed
// publishes is built here, so that the scheme has one definition.
type Site struct {
	Scheme string // "https" in production, "http" in development mode
	Host   string // public host, with ":port" when not the scheme's default
}

// Base is the node's root URL without a trailing slash.
func (s Site) Base() string { return s.Scheme + "://" + s.Host }

// URL returns the absolute URL of path, which starts with "/".
func (s Site) URL(path string) string { return s.Base() + path }

// ActorID is the ActivityPub id of the actor with the given handle.
func (s Site) ActorID(handle string) string { return s.URL("/users/" + url.PathEscape(handle)) }

// ProfileURL is the actor's human-readable page (the `url` property).
func (s Site) ProfileURL(handle string) string { return s.URL("/@" + url.PathEscape(handle)) }

// KeyID is the id of the actor's public key.
func (s Site) KeyID(handle string) string { return s.ActorID(handle) + "#main-key" }

// Inbox is the actor's inbox URL.
func (s Site) Inbox(handle string) string { return s.ActorID(handle) + "/inbox" }

// Outbox is the actor's outbox URL.
func (s Site) Outbox(handle string) string { return s.ActorID(handle) + "/outbox" }

// Followers is the actor's followers collection URL.
func (s Site) Followers(handle string) string { return s.ActorID(handle) + "/followers" }

// Following is the actor's following collection URL.
func (s Site) Following(handle string) string { return s.ActorID(handle) + "/following" }

// Federation is the co-op's coop:federation collection URL.
func (s Site) Federation(handle string) string { return s.ActorID(handle) + "/federation" }

// Projects is the co-op's coop:projects collection URL.
func (s Site) Projects(handle string) string { return s.ActorID(handle) + "/projects" }

// SharedInbox is the node's shared inbox URL.
func (s Site) SharedInbox() string { return s.URL("/inbox") }

// Acct is the WebFinger account of the handle, without the "acct:" scheme.
func (s Site) Acct(handle string) string { return handle + "@" + s.Host }

// HandleFromActorID returns the handle of a local actor id, and false when
// uri is not the id of an actor on this node.
func (s Site) HandleFromActorID(uri string) (string, bool) {
	prefix := s.URL("/users/")
	if len(uri) <= len(prefix) || !strings.EqualFold(uri[:len(prefix)], prefix) {
		return "", false
	}
	rest := uri[len(prefix):]
	if strings.ContainsAny(rest, "/?#") {
		return "", false
	}
	h, err := url.PathUnescape(rest)
	if err != nil || CheckHandle(h) != nil {
		return "", false
	}
	return h, true
}

// ProposalNum returns the number of the local proposal whose URL (its
// page, and its Question's id) is uri; ok is false for any other URI.
func (s Site) ProposalNum(uri string) (int64, bool) { return s.pathNum(uri, "/proposals/") }

// ContributionID returns the ID of the local contribution record whose
// URL (Contribution.URL, its Note's id) is uri; ok is false for any other
// URI.
func (s Site) ContributionID(uri string) (int64, bool) { return s.pathNum(uri, "/contributions/") }

// pathNum reads uri as this node's URL of path followed by a positive
// number written without leading zeros, and nothing after it.
func (s Site) pathNum(uri, path string) (int64, bool) {
	prefix := s.URL(path)
	if len(uri) <= len(prefix) || !strings.EqualFold(uri[:len(prefix)], prefix) {
		return 0, false
	}
	rest := uri[len(prefix):]
	if len(rest) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if n == 0 || rest[0] == '0' {
		return 0, false
	}
	return n, true
}
