package federation

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/store"
)

// Remote actors are parsed from JSON by hand rather than with streams:
// the fields needed are few, and the shapes peers send vary beyond what
// go-fed v1.0.0 reads (Fedify's "as:Endpoints", a publicKey array,
// GoToSocial's key stub whose id is the actor's). What is kept is checked
// where it matters: the document's id is the URL asked for, on the same
// host; the key names its owner and the owner lists the key.

// ErrKeyNotOwned is a key whose owner does not list it, or is on another
// host than the key.
var ErrKeyNotOwned = errors.New("key does not belong to its claimed owner")

// actorTypes are the ActivityStreams actor types.
var actorTypes = map[string]bool{
	"Person": true, "Group": true, "Organization": true, "Service": true, "Application": true,
}

// idOf returns v's id: v itself when it is a string, its "id" when it is
// an object; "" otherwise.
func idOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		s, _ := x["id"].(string)
		return s
	}
	return ""
}

// idsOf returns the ids of a property that may be one value or an array.
func idsOf(v any) []string {
	if a, ok := v.([]any); ok {
		var out []string
		for _, x := range a {
			if id := idOf(x); id != "" {
				out = append(out, id)
			}
		}
		return out
	}
	if id := idOf(v); id != "" {
		return []string{id}
	}
	return nil
}

// str returns m[k] when it is a string.
func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// typesOf returns the types of an object ("type" may be an array).
func typesOf(m map[string]any) []string {
	switch t := m["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// hasType reports whether m is of one of the given types.
func hasType(m map[string]any, want map[string]bool) (string, bool) {
	for _, t := range typesOf(m) {
		if want[t] {
			return t, true
		}
	}
	return "", false
}

// hostOf returns the lower-case host[:port] of an absolute http(s) URI, or
// "" when it is not one.
func hostOf(uri string) string {
	if _, host, ok := plainOrigin(uri); ok {
		return strings.ToLower(host) // no copy when host has no upper case
	}
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// sameOrigin reports whether two URIs are on the same host (and scheme).
func sameOrigin(a, b string) bool {
	sa, ha, okA := plainOrigin(a)
	sb, hb, okB := plainOrigin(b)
	if okA && okB {
		return sa == sb && strings.EqualFold(ha, hb)
	}
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host != "" &&
		strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host)
}

// plainOrigin is the scheme and host[:port] of an http(s) URI as nearly
// every id in the fediverse is written, read without url.Parse (which
// allocated a URL for each of the dozen looks at an inbox POST's ids):
// "http://" or "https://" in lower case, a host of letters, digits,
// dots and dashes with an optional numeric port, and nothing in the
// whole URI that url.Parse could refuse or decode (no control byte,
// space, non-ASCII byte or %). For any other URI ok is false, and the
// callers ask url.Parse; FuzzPlainOrigin holds the two to the same
// answers.
func plainOrigin(uri string) (scheme, host string, ok bool) {
	var rest string
	switch {
	case strings.HasPrefix(uri, "https://"):
		scheme, rest = "https", uri[len("https://"):]
	case strings.HasPrefix(uri, "http://"):
		scheme, rest = "http", uri[len("http://"):]
	default:
		return "", "", false
	}
	for i := 0; i < len(uri); i++ {
		if c := uri[i]; c <= ' ' || c >= 0x7f || c == '%' {
			return "", "", false
		}
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host = rest[:end]
	name, port, hasPort := strings.Cut(host, ":")
	if name == "" || hasPort && port == "" {
		return "", "", false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return "", "", false
		}
	}
	for i := 0; i < len(port); i++ {
		if c := port[i]; c < '0' || c > '9' {
			return "", "", false
		}
	}
	return scheme, host, true
}

// withoutFragment drops a URI's #fragment.
func withoutFragment(uri string) string {
	if i := strings.IndexByte(uri, '#'); i >= 0 {
		return uri[:i]
	}
	return uri
}

// publicKeyJSON is a key as actors publish it.
type publicKeyJSON struct {
	ID, Owner, PEM string
}

// publicKeys returns the keys of an actor's (or a key stub's) publicKey,
// which may be one object or an array.
func publicKeys(m map[string]any) []publicKeyJSON {
	var raw []any
	switch pk := m["publicKey"].(type) {
	case map[string]any:
		raw = []any{pk}
	case []any:
		raw = pk
	}
	var out []publicKeyJSON
	for _, x := range raw {
		k, ok := x.(map[string]any)
		if !ok {
			continue
		}
		out = append(out, publicKeyJSON{ID: str(k, "id"), Owner: idOf(k["owner"]), PEM: str(k, "publicKeyPem")})
	}
	return out
}

// parseActor reads an actor document. It checks that it is an actor, that
// its id is an http(s) URI and that its key is its own; it does not check
// where the document came from (the callers do).
func parseActor(body []byte) (store.RemoteActor, error) {
	m, err := decodeJSON(body)
	if err != nil {
		return store.RemoteActor{}, err
	}
	return actorFromMap(m)
}

func actorFromMap(m map[string]any) (store.RemoteActor, error) { return actorWithKey(m, "") }

// actorWithKey reads an actor document, keeping the key with id want when
// it lists several (any valid one when want is "" or absent).
func actorWithKey(m map[string]any, want string) (store.RemoteActor, error) {
	a := store.RemoteActor{ID: str(m, "id")}
	a.Host = hostOf(a.ID)
	if a.Host == "" {
		return store.RemoteActor{}, fmt.Errorf("actor id %s is not an http(s) URI", quote(a.ID))
	}
	t, ok := hasType(m, actorTypes)
	if !ok {
		return store.RemoteActor{}, fmt.Errorf("%s is a %v, not an actor", a.ID, typesOf(m))
	}
	a.Type = t
	a.PreferredUsername = plainText(str(m, "preferredUsername"))
	a.Name = plainText(str(m, "name"))
	a.Inbox = idOf(m["inbox"])
	a.Followers = idOf(m["followers"])
	if ep, ok := m["endpoints"].(map[string]any); ok {
		a.SharedInbox = idOf(ep["sharedInbox"])
	}
	if a.Inbox == "" || hostOf(a.Inbox) == "" {
		return store.RemoteActor{}, fmt.Errorf("actor %s has no inbox", a.ID)
	}
	keys := publicKeys(m)
	for i, k := range keys {
		if k.ID == want && want != "" {
			keys[0], keys[i] = keys[i], keys[0]
			break
		}
	}
	for _, k := range keys {
		if k.ID == "" || k.PEM == "" {
			continue
		}
		if k.Owner != "" && k.Owner != a.ID {
			continue
		}
		if _, err := sig.ParsePublicKey(k.PEM); err != nil {
			continue
		}
		a.KeyID, a.PublicKeyPEM = k.ID, k.PEM
		break
	}
	if a.KeyID == "" {
		return store.RemoteActor{}, fmt.Errorf("actor %s has no RSA publicKey of its own", a.ID)
	}
	if !sameOrigin(a.KeyID, a.ID) {
		return store.RemoteActor{}, fmt.Errorf("%w: actor %s has key %s on another host", ErrKeyNotOwned, a.ID, a.KeyID)
	}
	return a, nil
}

// decodeJSON decodes a JSON object with the activity decoder's limits.
func decodeJSON(body []byte) (map[string]any, error) {
	return decodeActivityJSON(body, maxFetchBytes)
}

// Actor returns the remote actor with the given URI: from the cache, unless
// refresh is set or the cached copy is older than the maximum age, else
// fetched with a signed GET and cached. A deleted actor (cached as gone, or
// answering 410) is ErrRemoteGone and is not fetched again.
func (f *Fetcher) Actor(ctx context.Context, uri string, refresh bool) (store.RemoteActor, error) {
	cached, err := f.db.RemoteActor(ctx, uri)
	switch {
	case err == nil && cached.Gone():
		return cached, fmt.Errorf("actor %s: %w", uri, ErrRemoteGone)
	case err == nil && !refresh && f.now().Sub(cached.FetchedAt) < f.maxAge:
		return cached, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.RemoteActor{}, err
	}
	unlock := f.lock(uri)
	defer unlock()
	// Another request may have fetched it meanwhile.
	if again, err := f.db.RemoteActor(ctx, uri); err == nil && again.FetchedAt.After(cached.FetchedAt) {
		if again.Gone() {
			return again, fmt.Errorf("actor %s: %w", uri, ErrRemoteGone)
		}
		return again, nil
	}
	a, err := f.fetchActor(ctx, uri, "")
	if err != nil {
		if errors.Is(err, ErrRemoteGone) {
			if merr := f.db.MarkRemoteActorGone(ctx, uri, cached.KeyID, hostOf(uri), f.now()); merr != nil {
				return store.RemoteActor{}, merr
			}
		}
		return store.RemoteActor{}, err
	}
	return a, nil
}

// fetchActor fetches an actor document, checks it came from its own id,
// and caches it with its key keyID (when it lists several).
func (f *Fetcher) fetchActor(ctx context.Context, uri, keyID string) (store.RemoteActor, error) {
	body, final, err := f.Get(ctx, uri)
	if err != nil {
		return store.RemoteActor{}, err
	}
	m, err := decodeJSON(body)
	if err != nil {
		return store.RemoteActor{}, fmt.Errorf("actor %s: %w", uri, err)
	}
	a, err := actorWithKey(m, keyID)
	if err != nil {
		return store.RemoteActor{}, fmt.Errorf("actor %s: %w", uri, err)
	}
	if a.ID != withoutFragment(uri) || !strings.EqualFold(final.Host, a.Host) {
		return store.RemoteActor{}, fmt.Errorf("actor %s: the document fetched from %s has id %s", uri, final, quote(a.ID))
	}
	a.FetchedAt = f.now()
	if err := f.db.PutRemoteActor(ctx, a); err != nil {
		return store.RemoteActor{}, err
	}
	return a, nil
}

// KeyFor returns the key with the given id and the actor that owns it,
// checked both ways: the key names its owner, and the owner's document
// lists the key, on the same host. Keys are cached with their actor; with
// refresh set (a signature failed against the cached key, which may have
// rotated) they are fetched again, unless fetched within the last
// MinRefetch. The key id may be a fragment of the actor (Mastodon, Fedify:
// .../users/a#main-key) or a document of its own (GoToSocial:
// .../users/a/main-key, a stub with the owner's id and publicKey).
func (f *Fetcher) KeyFor(ctx context.Context, keyID string, refresh bool) (store.RemoteActor, *sig.PublicKey, error) {
	if hostOf(keyID) == "" {
		return store.RemoteActor{}, nil, fmt.Errorf("key id %s is not an http(s) URI", quote(keyID))
	}
	cached, err := f.db.RemoteActorByKeyID(ctx, keyID)
	switch {
	case err == nil && cached.Gone():
		return cached, nil, fmt.Errorf("key %s: actor %s: %w", keyID, cached.ID, ErrRemoteGone)
	case err == nil && (!refresh && f.now().Sub(cached.FetchedAt) < f.maxAge || refresh && f.now().Sub(cached.FetchedAt) < f.minRefetch):
		k, err := f.parseKey(cached.PublicKeyPEM)
		return cached, k, err
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.RemoteActor{}, nil, err
	}
	unlock := f.lock(keyID)
	defer unlock()
	if again, err := f.db.RemoteActorByKeyID(ctx, keyID); err == nil && again.FetchedAt.After(cached.FetchedAt) && !again.Gone() {
		k, err := f.parseKey(again.PublicKeyPEM)
		return again, k, err
	}
	a, err := f.fetchKey(ctx, keyID)
	if err != nil {
		if errors.Is(err, ErrRemoteGone) && cached.ID != "" {
			if merr := f.db.MarkRemoteActorGone(ctx, cached.ID, keyID, cached.Host, f.now()); merr != nil {
				return store.RemoteActor{}, nil, merr
			}
		}
		return store.RemoteActor{}, nil, err
	}
	k, err := f.parseKey(a.PublicKeyPEM)
	return a, k, err
}

// fetchKey dereferences a key id and its owner.
func (f *Fetcher) fetchKey(ctx context.Context, keyID string) (store.RemoteActor, error) {
	body, final, err := f.Get(ctx, keyID)
	if err != nil {
		return store.RemoteActor{}, err
	}
	m, err := decodeJSON(body)
	if err != nil {
		return store.RemoteActor{}, fmt.Errorf("key %s: %w", keyID, err)
	}
	if !strings.EqualFold(final.Host, hostOf(keyID)) {
		return store.RemoteActor{}, fmt.Errorf("key %s: redirected to another host %s", keyID, final.Host)
	}
	// Who the document says owns the key: a key document's owner, or the
	// actor (or stub) whose publicKey lists it.
	var owner string
	if str(m, "id") == keyID && str(m, "publicKeyPem") != "" {
		owner = idOf(m["owner"])
	} else {
		for _, k := range publicKeys(m) {
			if k.ID == keyID {
				owner = k.Owner
				if owner == "" {
					owner = str(m, "id")
				}
			}
		}
	}
	if owner == "" {
		return store.RemoteActor{}, fmt.Errorf("%w: %s names no owner of key %s", ErrKeyNotOwned, final, keyID)
	}
	if !sameOrigin(owner, keyID) {
		return store.RemoteActor{}, fmt.Errorf("%w: key %s claims owner %s on another host", ErrKeyNotOwned, keyID, owner)
	}
	var a store.RemoteActor
	if str(m, "id") == owner && withoutFragment(keyID) == owner {
		// The key is a fragment of the actor's own document, just fetched.
		if a, err = actorWithKey(m, keyID); err != nil {
			return store.RemoteActor{}, fmt.Errorf("key %s: %w", keyID, err)
		}
		a.FetchedAt = f.now()
		if err := f.db.PutRemoteActor(ctx, a); err != nil {
			return store.RemoteActor{}, err
		}
	} else if a, err = f.fetchActor(ctx, owner, keyID); err != nil {
		return store.RemoteActor{}, fmt.Errorf("key %s: owner: %w", keyID, err)
	}
	if a.KeyID != keyID {
		return store.RemoteActor{}, fmt.Errorf("%w: actor %s lists key %s, not %s", ErrKeyNotOwned, a.ID, a.KeyID, keyID)
	}
	return a, nil
}
