// Package negotiate picks a response media type from an HTTP Accept header
// (RFC 9110, section 12.5.1): quality values, wildcards and media type
// parameters. It is small and has no dependencies beyond the standard
// library, so that any package can use it without building go-fed's streams.
//
// Parameters matter for ActivityPub: GoToSocial asks for
// `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, and
// an ld+json document of another profile is not what it wants. So a media
// range's parameters must agree with the offer's, with two allowances: a
// `profile` may list several URIs separated by spaces (JSON-LD allows it),
// and parameters the offer does not declare, such as `charset`, are ignored
// (coopfed always answers in UTF-8).
package negotiate

import (
	"net/http"
	"strings"
)

// Media types an ActivityPub client may ask for.
const (
	// ActivityJSON is ActivityPub's own media type.
	ActivityJSON = "application/activity+json"
	// LDJSON is JSON-LD in the ActivityStreams profile, which ActivityPub
	// servers must accept as the same thing as ActivityJSON.
	LDJSON = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
	// ActivityStreamsProfile is the profile URI of ActivityStreams 2.0.
	ActivityStreamsProfile = "https://www.w3.org/ns/activitystreams"
	// JSON is plain JSON, which some clients ask for.
	JSON = "application/json"
	// HTML is a web page.
	HTML = "text/html"
)

// maxRanges bounds the work on a hostile Accept header: ranges past it are
// ignored. Browsers send fewer than ten.
const maxRanges = 64

type param struct{ name, value string }

// mediaRange is a parsed media type or media range: lower-case type and
// subtype, parameters other than q, and the weight in thousandths.
type mediaRange struct {
	typ, sub string
	params   []param
	q        int
}

func (m mediaRange) param(name string) (string, bool) {
	for _, p := range m.params {
		if p.name == name {
			return p.value, true
		}
	}
	return "", false
}

// Best returns the offer the Accept header prefers, or "" when it accepts
// none of them. Each offer is a media type, with parameters if any, and is
// returned as given. An empty header, or one with no well-formed part,
// accepts anything: the first offer wins. Among offers of equal preference
// the first wins. Malformed parts of the header are ignored.
func Best(accept string, offers ...string) string {
	parsed := make([]mediaRange, 0, len(offers))
	ok := make([]bool, 0, len(offers))
	for _, o := range offers {
		m, good := parseOne(o)
		parsed = append(parsed, m)
		ok = append(ok, good)
	}
	i := best(parseAccept(nil, accept), parsed, ok)
	if i < 0 {
		return ""
	}
	return offers[i]
}

// best returns the index of the preferred offer, or -1. Offers with
// ok[i] false are never chosen.
func best(ranges []mediaRange, offers []mediaRange, ok []bool) int {
	if len(ranges) == 0 {
		for i := range offers {
			if ok[i] {
				return i
			}
		}
		return -1
	}
	bestI, bestQ := -1, 0
	for i, o := range offers {
		if !ok[i] {
			continue
		}
		if q := quality(ranges, o); q > bestQ {
			bestI, bestQ = i, q
		}
	}
	return bestI
}

// quality is the weight the most specific matching range gives offer o;
// when several equally specific ranges match, the highest weight counts.
func quality(ranges []mediaRange, o mediaRange) int {
	spec, q := -1, 0
	for _, r := range ranges {
		s := specificity(r, o)
		if s < 0 {
			continue
		}
		if s > spec || s == spec && r.q > q {
			spec, q = s, r.q
		}
	}
	return q
}

// specificity says how closely range r matches offer o: -1 for no match,
// then */* < type/* < type/subtype, and more matching parameters above.
func specificity(r, o mediaRange) int {
	level := 0
	switch {
	case r.typ == "*":
		level = 0
	case r.typ != o.typ:
		return -1
	case r.sub == "*":
		level = 1
	case r.sub != o.sub:
		return -1
	default:
		level = 2
	}
	matched := 0
	for _, p := range r.params {
		ov, has := o.param(p.name)
		switch {
		case !has && p.name == "profile":
			// A profile is a promise about the document: an offer
			// that makes none does not keep it.
			return -1
		case !has:
			continue
		case p.name == "profile":
			if !hasField(p.value, ov) {
				return -1
			}
		case p.name == "charset":
			if !strings.EqualFold(p.value, ov) {
				return -1
			}
		case p.value != ov:
			return -1
		}
		matched++
	}
	return level*1000 + matched
}

// hasField reports whether the space-separated list holds want.
func hasField(list, want string) bool {
	for len(list) > 0 {
		var f string
		f, list, _ = strings.Cut(strings.TrimLeft(list, " \t"), " ")
		if f == want {
			return true
		}
	}
	return false
}

// parseAccept parses an Accept header onto dst, skipping malformed ranges.
func parseAccept(dst []mediaRange, accept string) []mediaRange {
	out := dst
	for len(accept) > 0 && len(out)-len(dst) < maxRanges {
		var part string
		part, accept = nextElement(accept)
		if m, ok := parseOne(part); ok {
			out = append(out, m)
		}
	}
	return out
}

// nextElement splits off the first comma-separated element, minding
// quoted strings, which may hold commas.
func nextElement(s string) (elem, rest string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == ',':
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// parseOne parses one media range with its parameters. The parameters
// after q are accept extensions and are dropped.
func parseOne(s string) (mediaRange, bool) {
	s = trimOWS(s)
	typ, s := token(s)
	if typ == "" || len(s) == 0 || s[0] != '/' {
		return mediaRange{}, false
	}
	sub, s := token(s[1:])
	if sub == "" || typ == "*" && sub != "*" {
		return mediaRange{}, false
	}
	m := mediaRange{typ: strings.ToLower(typ), sub: strings.ToLower(sub), q: 1000}
	afterQ := false
	for {
		s = trimOWS(s)
		if s == "" {
			return m, true
		}
		if s[0] != ';' {
			return mediaRange{}, false
		}
		s = trimOWS(s[1:])
		if s == "" {
			return m, true // a trailing ";" is harmless
		}
		var name, value string
		name, s = token(s)
		if name == "" || len(s) == 0 || s[0] != '=' {
			return mediaRange{}, false
		}
		s = s[1:]
		if len(s) > 0 && s[0] == '"' {
			var ok bool
			value, s, ok = quotedString(s)
			if !ok {
				return mediaRange{}, false
			}
		} else {
			value, s = token(s)
			if value == "" {
				return mediaRange{}, false
			}
		}
		name = strings.ToLower(name)
		switch {
		case afterQ:
			// accept-ext: ignored
		case name == "q":
			q, ok := parseQ(value)
			if !ok {
				return mediaRange{}, false
			}
			m.q, afterQ = q, true
		default:
			m.params = append(m.params, param{name, value})
		}
	}
}

// parseQ parses a qvalue (0 to 1, up to three decimals) into thousandths.
func parseQ(s string) (int, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return q, true
	}
	if s[1] != '.' {
		return 0, false
	}
	scale := 100
	for i := 2; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	if q > 1000 {
		return 0, false
	}
	return q, true
}

func trimOWS(s string) string { return strings.Trim(s, " \t") }

// token splits off the longest prefix of RFC 9110 token characters.
func token(s string) (tok, rest string) {
	i := 0
	for i < len(s) && isTchar(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// quotedString parses a quoted-string at the start of s, undoing
// backslash escapes.
func quotedString(s string) (value, rest string, ok bool) {
	if end := strings.IndexAny(s[1:], `"\\`); end >= 0 && s[1+end] == '"' {
		return s[1 : 1+end], s[2+end:], true // no escapes: no copy
	}
	var b strings.Builder
	escaped := false
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			b.WriteByte(c)
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

// IsActivityStreams reports whether a Content-Type, or the type of a
// WebFinger link, names an ActivityStreams document:
// application/activity+json, or application/ld+json with the ActivityStreams
// profile.
func IsActivityStreams(mediaType string) bool {
	m, ok := parseOne(mediaType)
	if !ok || m.typ != "application" {
		return false
	}
	switch m.sub {
	case "activity+json":
		return true
	case "ld+json":
		p, has := m.param("profile")
		return has && hasField(p, ActivityStreamsProfile)
	}
	return false
}

// The offers WantsActivityPub weighs, parsed once. ActivityPub types come
// first for an id URL and last for a profile page, so that */* and a
// missing Accept header pick each URL's default.
var (
	apOffers   = mustParse(ActivityJSON, LDJSON, JSON, HTML)
	htmlOffers = mustParse(HTML, ActivityJSON, LDJSON, JSON)
	allOK      = []bool{true, true, true, true}
)

func mustParse(offers ...string) []mediaRange {
	out := make([]mediaRange, len(offers))
	for i, o := range offers {
		m, ok := parseOne(o)
		if !ok {
			panic("negotiate: bad offer " + o)
		}
		out[i] = m
	}
	return out
}

// WantsActivityPub reports whether the request asks for an ActivityPub
// document (ActivityStreams JSON, JSON-LD or plain JSON) rather than a web
// page. preferHTML says which one a missing Accept header or */* gets:
// false for an actor's id URL, true for its profile page.
func WantsActivityPub(r *http.Request, preferHTML bool) bool {
	var accept string
	switch vs := r.Header.Values("Accept"); len(vs) {
	case 0:
	case 1:
		accept = vs[0]
	default:
		accept = strings.Join(vs, ",")
	}
	offers := apOffers
	if preferHTML {
		offers = htmlOffers
	}
	var buf [8]mediaRange
	i := best(parseAccept(buf[:0], accept), offers, allOK)
	return i >= 0 && offers[i].typ == "application"
}
