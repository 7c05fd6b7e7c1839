package federation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/store"
	"github.com/gorilla/mux"
)

// Limits on what an inbox accepts.
const (
	// DefaultMaxBodyBytes is the largest inbox body accepted unless the
	// config says otherwise (federation.max_body_bytes).
	DefaultMaxBodyBytes = 1 << 20
	// maxJSONDepth is how deeply a JSON document may nest. Activities nest
	// a few levels (Create{Note{replies{first}}}, Accept{Follow{proof}}).
	maxJSONDepth = 64
	// maxJSONKeys bounds the members of one object.
	maxJSONKeys = 1024
)

// errBadJSON is a body that is not an acceptable JSON document.
var errBadJSON = errors.New("invalid JSON")

// decodeActivityJSON decodes a JSON object with its depth and size
// bounded: at most max bytes, maxJSONDepth levels, maxJSONKeys members per
// object, no duplicate member names (two "id"s would let two readers see
// two different objects) and nothing after the object. The values are
// what encoding/json makes of the document decoded into an any with
// UseNumber (map[string]any, []any, string, json.Number, bool, nil), and
// it accepts exactly the documents that encoding/json, with these bounds,
// did (a differential fuzz test holds it to that).
func decodeActivityJSON(body []byte, max int64) (map[string]any, error) {
	m, _, err := decodeActivityJSONObject(body, max)
	return m, err
}

// decodeActivityJSONObject is decodeActivityJSON that also returns the
// bytes of the document's "object" member as received, when it is a JSON
// object (nil otherwise): a received Note is kept as it came (Raw)
// without encoding the decoded map again.
//
// It is one pass over the bytes, bounds and values at once: the inbox
// decoded each body twice before (a pass for the bounds, then
// encoding/json's scanner, a function call per byte, and its decoder on
// the scanned bytes), about 8 % of an inbound activity's CPU.
func decodeActivityJSONObject(body []byte, max int64) (map[string]any, []byte, error) {
	if int64(len(body)) > max {
		return nil, nil, fmt.Errorf("%w: the document is larger than %d bytes", errBadJSON, max)
	}
	d := jsonDecoder{b: body, objStart: -1}
	d.space()
	if d.i >= len(d.b) {
		return nil, nil, fmt.Errorf("%w: %v", errBadJSON, io.ErrUnexpectedEOF)
	}
	if d.b[d.i] != '{' {
		// Another value, or not JSON: refused either way.
		return nil, nil, fmt.Errorf("%w: not a JSON object", errBadJSON)
	}
	m, err := d.object(0)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errBadJSON, err)
	}
	d.space()
	if d.i < len(d.b) {
		return nil, nil, fmt.Errorf("%w: data after the top-level object", errBadJSON)
	}
	var object []byte
	if d.objStart >= 0 {
		object = body[d.objStart:d.objEnd]
	}
	return m, object, nil
}

// jsonDecoder is decodeActivityJSONObject's state: the document, where it
// is in it, the names of the objects open (for duplicates), and where the
// top-level "object" member's value is when it is an object.
type jsonDecoder struct {
	b                []byte
	i                int
	names            []string // the names of the open objects, innermost last
	objStart, objEnd int      // -1: no top-level "object" object
}

// jsonLinearNames is how many names of an object are compared one by one
// before they go into a map.
const jsonLinearNames = 16

var errJSONEnd = io.ErrUnexpectedEOF

func (d *jsonDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) syntax(what string) error {
	if d.i >= len(d.b) {
		return errJSONEnd
	}
	return fmt.Errorf("invalid character %q %s at offset %d", d.b[d.i], what, d.i)
}

// value decodes the value at d.i (after space), opened at the given
// depth (the containers around it).
func (d *jsonDecoder) value(depth int) (any, error) {
	if d.i >= len(d.b) {
		return nil, errJSONEnd
	}
	switch c := d.b[d.i]; {
	case c == '{':
		m, err := d.object(depth)
		if err != nil {
			return nil, err // not a typed nil
		}
		return m, nil
	case c == '[':
		return d.array(depth)
	case c == '"':
		s, _, err := d.str()
		return s, err
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.syntax("looking for the beginning of a value")
}

func (d *jsonDecoder) literal(lit string) error {
	if len(d.b)-d.i < len(lit) {
		if string(d.b[d.i:]) == lit[:len(d.b)-d.i] {
			return errJSONEnd
		}
		return fmt.Errorf("invalid literal at offset %d", d.i)
	}
	if string(d.b[d.i:d.i+len(lit)]) != lit {
		return fmt.Errorf("invalid literal at offset %d", d.i)
	}
	d.i += len(lit)
	return nil
}

// number checks a number's syntax (RFC 8259) and returns its text as a
// json.Number.
func (d *jsonDecoder) number() (any, error) {
	b, start := d.b, d.i
	i := d.i
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return nil, errJSONEnd
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		digits()
	default:
		d.i = i
		return nil, d.syntax("in numeric literal")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			d.i = i
			return nil, d.syntax("after decimal point in numeric literal")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			d.i = i
			return nil, d.syntax("in exponent of numeric literal")
		}
	}
	d.i = i
	return json.Number(b[start:i]), nil
}

// str decodes the string at d.i, as encoding/json does: escapes
// unescaped, and each byte that is not UTF-8 (and each lone surrogate)
// made U+FFFD. plain is whether s is its bytes as written (no escape,
// all UTF-8).
func (d *jsonDecoder) str() (s string, plain bool, err error) {
	b := d.b
	start := d.i + 1
	ascii, escaped := true, false
	i := start
	for ; i < len(b); i++ {
		c := b[i]
		if c == '"' {
			break
		}
		if c < 0x20 {
			return "", false, fmt.Errorf("invalid character %q in string literal at offset %d", c, i)
		}
		if c >= 0x80 {
			ascii = false
		}
		if c == '\\' {
			escaped = true
			i++ // the escaped byte: checked by the slow path
		}
	}
	if i >= len(b) {
		return "", false, errJSONEnd
	}
	d.i = i + 1
	raw := b[start:i]
	if !escaped && (ascii || utf8.Valid(raw)) {
		return jsonName(raw), true, nil
	}
	s, ok := unquoteJSON(raw)
	if !ok {
		return "", false, fmt.Errorf("invalid escape in string literal at offset %d", start)
	}
	return s, false, nil
}

// unquoteJSON unescapes the bytes of a JSON string between its quotes as
// encoding/json's unquote does: a valid surrogate pair of \u escapes is
// one rune, a lone surrogate and each byte that is not UTF-8 are U+FFFD.
// ok is false for a bad escape (and for a quote or a control character,
// which str has refused before).
func unquoteJSON(raw []byte) (s string, ok bool) {
	out := make([]byte, 0, len(raw)+2*utf8.UTFMax)
	for r := 0; r < len(raw); {
		switch c := raw[r]; {
		case c == '\\':
			if r+1 >= len(raw) {
				return "", false
			}
			switch raw[r+1] {
			case '"', '\\', '/':
				out = append(out, raw[r+1])
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				rr := hex4(raw[r:])
				if rr < 0 {
					return "", false
				}
				r += 6
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, hex4(raw[r:])); dec != unicode.ReplacementChar {
						r += 6 // a valid pair
						out = utf8.AppendRune(out, dec)
						continue
					}
					rr = unicode.ReplacementChar // a lone surrogate
				}
				out = utf8.AppendRune(out, rr)
				continue
			default:
				return "", false
			}
			r += 2
		case c == '"' || c < ' ':
			return "", false
		case c < utf8.RuneSelf:
			out = append(out, c)
			r++
		default:
			rr, size := utf8.DecodeRune(raw[r:])
			r += size
			out = utf8.AppendRune(out, rr) // RuneError for a byte not UTF-8
		}
	}
	return string(out), true
}

// hex4 reads a \uXXXX escape at the start of b: its value, or -1.
func hex4(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// jsonName returns raw as a string: the names activities use most
// without allocating.
func jsonName(raw []byte) string {
	switch string(raw) {
	case "@context":
		return "@context"
	case "id":
		return "id"
	case "type":
		return "type"
	case "actor":
		return "actor"
	case "object":
		return "object"
	case "to":
		return "to"
	case "cc":
		return "cc"
	case "published":
		return "published"
	case "attributedTo":
		return "attributedTo"
	case "content":
		return "content"
	case "tag":
		return "tag"
	case "href":
		return "href"
	case "name":
		return "name"
	case "url":
		return "url"
	case "inReplyTo":
		return "inReplyTo"
	case "Create":
		return "Create"
	case "Note":
		return "Note"
	case "Mention":
		return "Mention"
	case "https://www.w3.org/ns/activitystreams":
		return "https://www.w3.org/ns/activitystreams"
	case "https://www.w3.org/ns/activitystreams#Public":
		return "https://www.w3.org/ns/activitystreams#Public"
	}
	return string(raw)
}

// object decodes the object at d.i, opened at the given depth: at most
// maxJSONKeys members, no name twice. Names are compared as
// encoding/json decodes them when they hold an escape, as they are
// written otherwise (as the bounds check before this decoder did).
func (d *jsonDecoder) object(depth int) (map[string]any, error) {
	if depth >= maxJSONDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
	}
	d.i++ // '{'
	m := make(map[string]any)
	base := len(d.names)
	defer func() { d.names = d.names[:base] }()
	var seen map[string]bool // the names, once there are more than jsonLinearNames
	n := 0
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, nil
	}
	for {
		if d.i >= len(d.b) {
			return nil, errJSONEnd
		}
		if d.b[d.i] != '"' {
			return nil, d.syntax("looking for the beginning of an object key string")
		}
		nameStart := d.i + 1
		name, plain, err := d.str()
		if err != nil {
			return nil, err
		}
		if n >= maxJSONKeys {
			return nil, fmt.Errorf("an object has more than %d members", maxJSONKeys)
		}
		n++
		same := name // what duplicates are compared by
		if raw := d.b[nameStart : d.i-1]; !plain && bytes.IndexByte(raw, '\\') < 0 {
			same = string(raw) // not UTF-8: compared as written
		}
		if seen == nil {
			for _, k := range d.names[base:] {
				if k == same {
					return nil, fmt.Errorf("member %s appears twice", quote(name))
				}
			}
			d.names = append(d.names, same)
			if n > jsonLinearNames {
				seen = make(map[string]bool, 2*jsonLinearNames)
				for _, k := range d.names[base:] {
					seen[k] = true
				}
			}
		} else {
			if seen[same] {
				return nil, fmt.Errorf("member %s appears twice", quote(name))
			}
			seen[same] = true
		}
		d.space()
		if d.i >= len(d.b) {
			return nil, errJSONEnd
		}
		if d.b[d.i] != ':' {
			return nil, d.syntax("after object key")
		}
		d.i++
		d.space()
		top := depth == 0 && name == "object" && d.i < len(d.b) && d.b[d.i] == '{'
		valueStart := d.i
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if top {
			d.objStart, d.objEnd = valueStart, d.i
		}
		m[name] = v
		d.space()
		if d.i >= len(d.b) {
			return nil, errJSONEnd
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			return m, nil
		default:
			return nil, d.syntax("after object key:value pair")
		}
	}
}

// array decodes the array at d.i, opened at the given depth.
func (d *jsonDecoder) array(depth int) (any, error) {
	if depth >= maxJSONDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
	}
	d.i++ // '['
	a := make([]any, 0)
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, nil
	}
	for {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.space()
		if d.i >= len(d.b) {
			return nil, errJSONEnd
		}
		switch d.b[d.i] {
		case ',':
			d.i++
			d.space()
		case ']':
			d.i++
			return a, nil
		default:
			return nil, d.syntax("after array element")
		}
	}
}

// activity is an incoming activity, decoded.
type activity struct {
	m     map[string]any
	ID    string
	Type  string
	Actor string
	// rawObject is the "object" member's bytes as received, when it is
	// one embedded object; nil otherwise.
	rawObject []byte
}

// object is the activity's object property, as sent.
func (a activity) object() any { return a.m["object"] }

// decodeActivity decodes an activity and checks what every activity must
// have: an http(s) id, a type, and one actor given as an http(s) URI (or
// an object with one), with the activity's id on the actor's host.
func decodeActivity(body []byte, max int64) (activity, error) {
	m, object, err := decodeActivityJSONObject(body, max)
	if err != nil {
		return activity{}, err
	}
	a, err := activityFromJSON(m)
	a.rawObject = object
	return a, err
}

// activityFromJSON is decodeActivity's checks on a decoded document.
func activityFromJSON(m map[string]any) (activity, error) {
	a := activity{m: m, ID: str(m, "id")}
	if hostOf(a.ID) == "" {
		return activity{}, fmt.Errorf("%w: the activity's id %s is not an http(s) URI", errBadJSON, quote(a.ID))
	}
	types := typesOf(m)
	if len(types) == 0 || types[0] == "" {
		return activity{}, fmt.Errorf("%w: the activity has no type", errBadJSON)
	}
	a.Type = types[0]
	actors := idsOf(m["actor"])
	if len(actors) != 1 || hostOf(actors[0]) == "" {
		return activity{}, fmt.Errorf("%w: the activity needs exactly one actor, an http(s) URI", errBadJSON)
	}
	a.Actor = actors[0]
	if !sameOrigin(a.ID, a.Actor) {
		return activity{}, fmt.Errorf("%w: the activity %s is not on its actor's host %s", errForeignOrigin, a.ID, hostOf(a.Actor))
	}
	return a, nil
}

// errForeignOrigin is an activity or object whose id is on another host
// than its actor: this node trusts an object only from its own origin
// (the class of Mastodon's CVE-2024-23832).
var errForeignOrigin = errors.New("object from another origin")

// contentObjectTypes are the activities whose embedded object's content
// is used, and so must come from the actor's own origin.
var contentObjectTypes = map[string]bool{"Create": true, "Update": true}

// checkOrigins refuses a Create or Update that embeds an object whose id
// is on another host than the actor (or that has no id): its content
// cannot be trusted from this sender. Other activities use their object's
// id only, which is looked up, not trusted.
func checkOrigins(a activity) error {
	if !contentObjectTypes[a.Type] {
		return nil
	}
	objs, ok := a.object().([]any)
	if !ok {
		objs = []any{a.object()}
	}
	if len(objs) == 0 || a.object() == nil {
		return fmt.Errorf("%w: a %s needs an object", errBadJSON, a.Type)
	}
	for _, o := range objs {
		m, embedded := o.(map[string]any)
		id := idOf(o)
		if hostOf(id) == "" {
			return fmt.Errorf("%w: the %s's object has no http(s) id", errBadJSON, a.Type)
		}
		if embedded && !sameOrigin(id, a.Actor) {
			return fmt.Errorf("%w: the %s's object %s is not on its actor's host %s; this node takes it only from its origin",
				errForeignOrigin, a.Type, id, hostOf(a.Actor))
		}
		if embedded {
			if by := idsOf(m["attributedTo"]); len(by) > 0 && a.Type == "Create" && by[0] != a.Actor {
				return fmt.Errorf("%w: the Create's object %s is attributed to %s, not the actor", errForeignOrigin, id, by[0])
			}
		}
	}
	return nil
}

// inboxContentType checks an inbox POST's Content-Type: the
// ActivityStreams types, and plain application/json, which some servers
// send, accepted too (it is logged).
func inboxContentType(ct string) (plainJSON bool, err error) {
	mt, params, perr := mime.ParseMediaType(ct)
	switch {
	case perr != nil:
		return false, fmt.Errorf("Content-Type %s does not parse", quote(ct))
	case mt == "application/activity+json":
		return false, nil
	case mt == "application/ld+json":
		if p, ok := params["profile"]; ok && !strings.Contains(p, nsActivityStreams) {
			return false, fmt.Errorf("Content-Type %s: the profile is not ActivityStreams", quote(ct))
		}
		return false, nil
	case mt == "application/json":
		return true, nil
	}
	return false, fmt.Errorf("Content-Type %s is not application/activity+json nor application/ld+json; profile=\"%s\"", quote(ct), nsActivityStreams)
}

// inboxError is a refusal: its status and a reason for the peer.
type inboxError struct {
	status     int
	reason     string
	retryAfter string // the Retry-After header of a 429, in seconds
}

func (e *inboxError) Error() string { return fmt.Sprintf("%d: %s", e.status, e.reason) }

func refuse(status int, format string, args ...any) error {
	return &inboxError{status: status, reason: fmt.Sprintf(format, args...)}
}

// serveInbox answers POST /users/{handle}/inbox and POST /inbox. It checks,
// cheapest first: the body's size (413), its Content-Type (415), blocks
// of the keyId's or the actor's domain or account (403), the HTTP
// signature (401: scheme, covered headers, host, Date, Digest, then the
// key, fetched or cached, with one refetch when it fails), the rate of the
// key's host (429), the JSON (400),
// that the key's owner is the activity's actor (401), the personal inbox's
// actor (404, 410), and the origin of the activity and of an embedded
// object (400). Only then is the activity stored, with its processing
// queued in the same statement, and 202 sent; or, with a Processor
// configured and an activity that needs nothing fetched, stored and
// applied in one transaction (Processor.inline). A refusal changes
// nothing.
func (s *Server) serveInbox(w http.ResponseWriter, r *http.Request) {
	status, err := s.inbox(r)
	var ie *inboxError
	switch {
	case errors.As(err, &ie):
		s.log.Info("inbox refused", "path", r.URL.Path, "status", ie.status, "reason", ie.reason, "remote_addr", r.RemoteAddr)
		if ie.retryAfter != "" {
			w.Header().Set("Retry-After", ie.retryAfter)
		}
		failJSON(w, ie.status, ie.reason)
	case err != nil:
		s.serverError(w, r, err)
	default:
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
	}
}

func (s *Server) inbox(r *http.Request) (int, error) {
	ctx := r.Context()
	// The group committer waits for the inserts of requests being
	// checked: it makes bigger groups, so fewer commits.
	arrived := func() {}
	if s.db != nil {
		arrived = s.db.ExpectInbound()
		defer arrived()
	}
	if r.ContentLength > s.maxBody {
		return 0, refuse(http.StatusRequestEntityTooLarge, "the body is %d bytes; this inbox takes at most %d", r.ContentLength, s.maxBody)
	}
	// Read into a buffer of the announced length, so that it is not
	// grown and copied on the way (a lying length only costs growth).
	buf := bytes.NewBuffer(make([]byte, 0, max(min(r.ContentLength, s.maxBody+1), 0)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, s.maxBody+1)); err != nil {
		return 0, refuse(http.StatusBadRequest, "reading the body: %v", err)
	}
	body := buf.Bytes()
	if int64(len(body)) > s.maxBody {
		return 0, refuse(http.StatusRequestEntityTooLarge, "the body is larger than %d bytes", s.maxBody)
	}
	plain, err := inboxContentType(r.Header.Get("Content-Type"))
	if err != nil {
		return 0, refuse(http.StatusUnsupportedMediaType, "%v", err)
	}
	if plain {
		s.log.Debug("inbox: plain application/json accepted", "path", r.URL.Path)
	}

	// Decoded once, here, for the block check; a document that does not
	// decode is refused after the signature, in its turn.
	m, rawObject, jsonErr := decodeActivityJSONObject(body, s.maxBody)
	if err := s.refuseBlocked(ctx, r, m); err != nil {
		return 0, err
	}
	checked, err := sig.Check(r, body, sig.VerifyOptions{Host: s.site.Host, Now: s.now(), Skew: s.dateSkew})
	if err != nil {
		return 0, refuse(http.StatusUnauthorized, "HTTP signature: %v", err)
	}
	keyID := checked.KeyID()
	owner, key, err := s.fetcher.KeyFor(ctx, keyID, false)
	if errors.Is(err, ErrRemoteGone) {
		return s.signerGone(ctx, keyID, owner, body)
	}
	if err == nil {
		err = checked.VerifyKey(key)
		if err != nil {
			// The key may have rotated: fetch it once more.
			var key2 *sig.PublicKey
			var ferr error
			owner, key2, ferr = s.fetcher.KeyFor(ctx, keyID, true)
			switch {
			case errors.Is(ferr, ErrRemoteGone):
				return s.signerGone(ctx, keyID, owner, body)
			case ferr != nil:
				err = ferr
			case key2.Equal(key.PublicKey):
				// Not rotated; the signature is bad.
			default:
				err = checked.VerifyKey(key2)
			}
		}
	}
	if err != nil {
		return 0, refuse(http.StatusUnauthorized, "HTTP signature with key %s: %v", keyID, err)
	}
	if err := s.limitHost(keyID); err != nil {
		return 0, err
	}

	if jsonErr != nil {
		return 0, refuse(http.StatusBadRequest, "%v", jsonErr)
	}
	a, err := activityFromJSON(m)
	if err != nil {
		return 0, refuse(http.StatusBadRequest, "%v", err)
	}
	a.rawObject = rawObject
	if a.Actor != owner.ID {
		return 0, refuse(http.StatusUnauthorized, "the activity's actor %s is not %s, the owner of key %s", a.Actor, owner.ID, keyID)
	}
	var recipient int64
	if handle, personal := mux.Vars(r)["handle"]; personal {
		local, err := s.store.ActorByHandle(ctx, handle)
		switch {
		case errors.Is(err, coop.ErrNotFound):
			return 0, refuse(http.StatusNotFound, "no actor %s on this node", quote(handle))
		case err != nil:
			return 0, err
		case local.Removed():
			return 0, refuse(http.StatusGone, "actor %s was removed", quote(handle))
		}
		recipient = local.ID
	}
	if err := checkOrigins(a); err != nil {
		return 0, refuse(http.StatusBadRequest, "%v", err)
	}

	in := store.Inbound{
		ActivityID: a.ID, ActivityType: a.Type, ActorURI: a.Actor, KeyID: keyID,
		RecipientID: recipient, Body: body, ReceivedAt: s.now(),
	}
	if a.Type == "Update" {
		sum := sha256.Sum256(body)
		in.ContentHash = hex.EncodeToString(sum[:])
	}
	var prepared *inlineEffect
	if s.proc != nil {
		prepared = s.proc.inline(ctx, a, in)
	}
	var eff store.InboundEffect
	if prepared != nil {
		eff = prepared // not a typed nil
	}
	arrived()
	_, inserted, applied, err := s.db.InsertInboundApplying(ctx, in, eff)
	if err != nil {
		return 0, err
	}
	if inserted && (!applied || prepared.wake) && s.wake != nil {
		s.wake()
	}
	return http.StatusAccepted, nil
}

// signerGone answers a request signed by a key whose actor is gone (its
// key or actor answers 410, or is known deleted). A Delete of that actor
// is what a server sends when an account goes: it is accepted (the actor
// is marked gone, its follows removed) without verifying, since its key
// is gone too; the 410 from the actor's own host is the proof. Anything
// else is refused. Neither fetches again: a gone actor is not fetched
// for each of the many Deletes a server sends.
func (s *Server) signerGone(ctx context.Context, keyID string, owner store.RemoteActor, body []byte) (int, error) {
	a, err := decodeActivity(body, s.maxBody)
	if err != nil || a.Type != "Delete" {
		return 0, refuse(http.StatusUnauthorized, "the actor of key %s is gone", keyID)
	}
	actor := owner.ID
	if actor == "" {
		// Unknown until now: the actor that claims the key, if the key
		// is under its URI on its host.
		rest, under := strings.CutPrefix(keyID, a.Actor)
		if !sameOrigin(a.Actor, keyID) || !under || rest != "" && rest[0] != '#' && rest[0] != '/' {
			return 0, refuse(http.StatusUnauthorized, "the actor of key %s is gone", keyID)
		}
		actor = a.Actor
	}
	if a.Actor != actor || idOf(a.object()) != actor {
		return 0, refuse(http.StatusUnauthorized, "the actor of key %s is gone", keyID)
	}
	err = s.db.Write(ctx, func(t *store.Tx) error {
		if err := t.MarkRemoteActorGone(ctx, actor, keyID, hostOf(actor), s.now()); err != nil {
			return err
		}
		_, err := t.RemoveFollowsOf(ctx, actor)
		return err
	})
	if err != nil {
		return 0, err
	}
	return http.StatusAccepted, nil
}
