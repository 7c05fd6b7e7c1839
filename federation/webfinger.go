package federation

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/negotiate"
)

// WebFinger (RFC 7033) and host-meta (RFC 6415): how a peer turns
// @name@host into an actor URL.

// Errors of ParseResource besides coop.ErrNotFound (no such local account).
var (
	// ErrBadResource is a resource that is not an acct: URI nor an
	// http(s) URL: a 400.
	ErrBadResource = errors.New("malformed resource")
	// ErrOtherHost is a resource on another host than this node's: a 404.
	ErrOtherHost = errors.New("resource is not on this node")
)

// maxResourceLen bounds a resource: a handle is at most 30 bytes, a host
// at most 253.
const maxResourceLen = 1024

// Link relations and types of the JRD.
const (
	relSelf        = "self"
	relProfilePage = "http://webfinger.net/rel/profile-page"
)

// ParseResource returns the handle a WebFinger resource names on this
// node. It takes acct:name@host (a leading "@" before the name tolerated,
// and the acct: scheme optional, as Mastodon allows), and an actor's id or
// profile URL. The host is compared without case, with the scheme's default
// port optional, and must be site.Host (ErrOtherHost). A resource of no
// known form is ErrBadResource; a name that cannot be a handle here is
// coop.ErrNotFound.
func ParseResource(resource string, site coop.Site) (handle string, err error) {
	r := strings.TrimSpace(resource)
	switch {
	case r == "":
		return "", fmt.Errorf("%w: empty; ask for acct:name@%s", ErrBadResource, site.Host)
	case len(r) > maxResourceLen:
		return "", fmt.Errorf("%w: longer than %d bytes", ErrBadResource, maxResourceLen)
	case hasPrefixFold(r, "acct:"):
		return parseAcct(r[len("acct:"):], site)
	case hasPrefixFold(r, "https://"), hasPrefixFold(r, "http://"):
		return parseActorURL(r, site)
	case looksLikeAcct(r):
		return parseAcct(r, site)
	}
	return "", fmt.Errorf("%w: %s is neither acct:name@host nor an actor URL", ErrBadResource, quote(r))
}

// looksLikeAcct reports whether r is name@host without the acct: scheme:
// an "@", no "/", and no other scheme (a ":" only after the "@", as in a
// port).
func looksLikeAcct(r string) bool {
	at, colon := strings.IndexByte(r, '@'), strings.IndexByte(r, ':')
	return at >= 0 && !strings.Contains(r, "/") && (colon < 0 || colon > at)
}

func parseAcct(s string, site coop.Site) (string, error) {
	s = strings.TrimPrefix(s, "@")
	i := strings.LastIndexByte(s, '@')
	if i < 0 {
		return "", fmt.Errorf("%w: %s has no @host", ErrBadResource, quote("acct:"+s))
	}
	name, host := s[:i], s[i+1:]
	if name == "" || host == "" {
		return "", fmt.Errorf("%w: %s wants a name and a host, as in acct:name@%s", ErrBadResource, quote("acct:"+s), site.Host)
	}
	if strings.Contains(name, "%") {
		// RFC 7565 lets the name be percent-encoded.
		n, err := url.PathUnescape(name)
		if err != nil {
			return "", fmt.Errorf("%w: %s: bad percent-encoding", ErrBadResource, quote("acct:"+s))
		}
		name = n
	}
	if !sameHost(host, site) {
		return "", fmt.Errorf("%w: %s is not %s", ErrOtherHost, quote(host), site.Host)
	}
	return localHandle(name)
}

func parseActorURL(s string, site coop.Site) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", fmt.Errorf("%w: %s is not a URL", ErrBadResource, quote(s))
	}
	if !sameHost(u.Host, site) {
		return "", fmt.Errorf("%w: %s is not %s", ErrOtherHost, quote(u.Host), site.Host)
	}
	var name string
	switch p := strings.TrimSuffix(u.Path, "/"); {
	case u.RawQuery != "" || u.Fragment != "":
	case strings.HasPrefix(p, "/users/"):
		name = p[len("/users/"):]
	case strings.HasPrefix(p, "/@"):
		name = p[len("/@"):]
	}
	if name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("%w: %s is not an actor's URL here", coop.ErrNotFound, quote(s))
	}
	return localHandle(name)
}

// localHandle checks that name can be a handle here.
func localHandle(name string) (string, error) {
	if coop.CheckHandle(name) != nil {
		return "", fmt.Errorf("%w: no account %s on this node", coop.ErrNotFound, quote(name))
	}
	return name, nil
}

// sameHost reports whether host is the site's, without case and with the
// scheme's default port optional.
func sameHost(host string, site coop.Site) bool {
	return strings.EqualFold(stripDefaultPort(host, site.Scheme), stripDefaultPort(site.Host, site.Scheme))
}

func stripDefaultPort(host, scheme string) string {
	port := ":443"
	if strings.EqualFold(scheme, "http") {
		port = ":80"
	}
	return strings.TrimSuffix(host, port)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// jrd is a JSON Resource Descriptor (RFC 7033, section 4.4).
type jrd struct {
	Subject string    `json:"subject"`
	Aliases []string  `json:"aliases,omitempty"`
	Links   []jrdLink `json:"links"`
}

type jrdLink struct {
	Rel      string `json:"rel"`
	Type     string `json:"type,omitempty"`
	Href     string `json:"href,omitempty"`
	Template string `json:"template,omitempty"`
}

// serveWebFinger answers GET /.well-known/webfinger?resource=...
func (s *Server) serveWebFinger(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	q := r.URL.Query()
	resource := q.Get("resource")
	if resource == "" {
		failJSON(w, http.StatusBadRequest, fmt.Sprintf("the resource parameter is missing; ask for ?resource=acct:name@%s", s.site.Host))
		return
	}
	handle, err := ParseResource(resource, s.site)
	if err == nil {
		var a coop.Actor
		a, err = s.store.ActorByHandle(r.Context(), handle)
		if err == nil && a.Removed() {
			failJSON(w, http.StatusGone, fmt.Sprintf("account %q was removed", a.Handle))
			return
		}
		if err == nil {
			s.writeJRD(w, resource, a, q["rel"])
			return
		}
	}
	switch {
	case errors.Is(err, ErrBadResource):
		failJSON(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrOtherHost):
		failJSON(w, http.StatusNotFound, err.Error())
	case errors.Is(err, coop.ErrNotFound):
		reason := err.Error() // ParseResource's, naming what was asked
		if handle != "" {
			reason = fmt.Sprintf("no account %q on this node", handle)
		}
		failJSON(w, http.StatusNotFound, reason)
	default:
		s.serverError(w, r, err)
	}
}

// writeJRD answers with the actor's JRD; subject is the resource as asked.
func (s *Server) writeJRD(w http.ResponseWriter, subject string, a coop.Actor, rels []string) {
	id, profile := s.site.ActorID(a.Handle), s.site.ProfileURL(a.Handle)
	doc := jrd{
		Subject: subject,
		Aliases: []string{id, profile},
		Links: []jrdLink{
			{Rel: relSelf, Type: negotiate.ActivityJSON, Href: id},
			{Rel: relProfilePage, Type: "text/html", Href: profile},
		},
	}
	if len(rels) > 0 {
		// RFC 7033, section 4.3: only the link relations asked for.
		doc.Links = slices.DeleteFunc(doc.Links, func(l jrdLink) bool { return !slices.Contains(rels, l.Rel) })
	}
	body, _ := json.Marshal(doc) // strings only: cannot fail
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, "application/jrd+json", body)
}

// hostMeta renders host-meta in XRD and in JSON, pointing at WebFinger.
func hostMeta(site coop.Site) (xrd, jsonDoc []byte) {
	template := site.URL("/.well-known/webfinger?resource={uri}")
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">` + "\n")
	b.WriteString(`  <Link rel="lrdd" type="application/jrd+json" template="`)
	xml.EscapeText(&b, []byte(template)) // a strings.Builder does not fail
	b.WriteString(`"/>` + "\n</XRD>\n")
	jsonDoc, _ = json.Marshal(struct {
		Links []jrdLink `json:"links"`
	}{[]jrdLink{{Rel: "lrdd", Type: "application/jrd+json", Template: template}}})
	return []byte(b.String()), jsonDoc
}

func (s *Server) serveHostMetaXML(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("Content-Type", "application/xrd+xml; charset=utf-8")
	w.Write(s.hostMetaXML)
}

func (s *Server) serveHostMetaJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	writeJSON(w, http.StatusOK, "application/json; charset=utf-8", s.hostMetaJSON)
}
