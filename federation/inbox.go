package federation

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

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
// two different objects) and nothing after the object. checkJSONShape
// checks the bounds in one pass over the bytes, before encoding/json
// decodes the document whole (numbers as json.Number), which is several
// times faster than decoding token by token.
func decodeActivityJSON(body []byte, max int64) (map[string]any, error) {
	m, _, err := decodeActivityJSONObject(body, max)
	return m, err
}

// decodeActivityJSONObject is decodeActivityJSON that also returns the
// bytes of the document's "object" member as received, when it is a JSON
// object (nil otherwise): a received Note is kept as it came (Raw)
// without encoding the decoded map again.
func decodeActivityJSONObject(body []byte, max int64) (map[string]any, []byte, error) {
	if int64(len(body)) > max {
		return nil, nil, fmt.Errorf("%w: the document is larger than %d bytes", errBadJSON, max)
	}
	object, err := checkJSONShape(body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errBadJSON, err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, nil, fmt.Errorf("%w: %v", errBadJSON, err)
	}
	if len(bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, nil, fmt.Errorf("%w: data after the top-level object", errBadJSON)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%w: not a JSON object", errBadJSON)
	}
	if _, isObject := m["object"].(map[string]any); !isObject {
		object = nil
	}
	return m, object, nil
}

// jsonFrame is an object or array open in checkJSONShape.
type jsonFrame struct {
	object    bool
	expectKey bool
	keys      int             // where this object's names start in the shared list
	n         int             // its members so far
	seen      map[string]bool // its names, once it has more than jsonLinearKeys
}

// jsonLinearKeys is how many names of an object are compared one by one
// before they go into a map.
const jsonLinearKeys = 16

// checkJSONShape checks the bounds of decodeActivityJSON on a document
// in one pass: depth, members per object, duplicate names (compared
// unescaped). It does not check the syntax (encoding/json does), and on
// a document that is not JSON its verdict does not matter: it only has to
// end. On the way it finds the top-level object's "object" member when
// its value is an object, and returns its bytes (nil if none; the caller
// checks the value's type after decoding).
func checkJSONShape(b []byte) (object []byte, err error) {
	var (
		stack []jsonFrame
		keys  [][]byte // the names of the open objects, innermost last
		// The value of the top-level "object" member: next is set by its
		// name, start where its '{' is; -1 when none.
		next, start = false, -1
	)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{', '[':
			if len(stack) >= maxJSONDepth {
				return nil, fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
			}
			if len(stack) == 1 && next {
				next = false
				if c == '{' {
					start = i
				}
			}
			stack = append(stack, jsonFrame{object: c == '{', expectKey: c == '{', keys: len(keys)})
		case '}', ']':
			if len(stack) == 0 {
				return nil, errors.New("unbalanced brackets")
			}
			keys = keys[:stack[len(stack)-1].keys]
			stack = stack[:len(stack)-1]
			if len(stack) == 1 && start >= 0 && object == nil {
				object = b[start : i+1]
			}
		case ',':
			if len(stack) == 1 {
				next = false
			}
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].expectKey = true
			}
		case '"':
			j, escaped := i+1, false
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					escaped = true
					j++
				}
				j++
			}
			if j >= len(b) {
				return nil, io.ErrUnexpectedEOF
			}
			raw := b[i+1 : j]
			i = j
			if len(stack) == 0 || !stack[len(stack)-1].expectKey {
				if len(stack) == 1 {
					next = false // a string value
				}
				continue
			}
			f := &stack[len(stack)-1]
			f.expectKey = false
			name := raw
			if escaped {
				var s string
				if err := json.Unmarshal(b[i-len(raw)-1:i+1], &s); err != nil {
					return nil, err
				}
				name = []byte(s)
			}
			if len(stack) == 1 {
				next = string(name) == "object"
			}
			if f.n >= maxJSONKeys {
				return nil, fmt.Errorf("an object has more than %d members", maxJSONKeys)
			}
			f.n++
			if f.seen == nil {
				for _, k := range keys[f.keys:] {
					if bytes.Equal(k, name) {
						return nil, fmt.Errorf("member %s appears twice", quote(string(name)))
					}
				}
				keys = append(keys, name)
				if f.n > jsonLinearKeys {
					f.seen = make(map[string]bool, 2*jsonLinearKeys)
					for _, k := range keys[f.keys:] {
						f.seen[string(k)] = true
					}
				}
				continue
			}
			if f.seen[string(name)] {
				return nil, fmt.Errorf("member %s appears twice", quote(string(name)))
			}
			f.seen[string(name)] = true
		}
	}
	return object, nil
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
		err = checked.Verify(key)
		if err != nil {
			// The key may have rotated: fetch it once more.
			var key2 *rsa.PublicKey
			var ferr error
			owner, key2, ferr = s.fetcher.KeyFor(ctx, keyID, true)
			switch {
			case errors.Is(ferr, ErrRemoteGone):
				return s.signerGone(ctx, keyID, owner, body)
			case ferr != nil:
				err = ferr
			case key2.Equal(key):
				// Not rotated; the signature is bad.
			default:
				err = checked.Verify(key2)
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
