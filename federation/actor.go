package federation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/gorilla/mux"
)

// rendered is an actor's document as served, cached until the actor's
// Revision moves.
type rendered struct {
	revision int64
	body     []byte
	etag     string
	gone     bool // body is a Tombstone, served with 410
}

// ActorJSON returns the document served for the actor with the given
// handle. For a removed actor it returns the Tombstone served with 410
// Gone, and an error that Is coop.ErrGone. An unknown handle is
// coop.ErrNotFound.
func (s *Server) ActorJSON(ctx context.Context, handle string) ([]byte, error) {
	doc, err := s.actorDocument(ctx, handle)
	if err != nil {
		return nil, err
	}
	if doc.gone {
		return doc.body, fmt.Errorf("actor %q: %w", handle, coop.ErrGone)
	}
	return doc.body, nil
}

// revisionFunc reads an actor's ID and Revision.
type revisionFunc func(ctx context.Context, handle string) (id, revision int64, err error)

// revisionPreparer is an optional Store method (*store.DB has it): a
// prepared read of an actor's ID and Revision, much cheaper than reading
// the whole Actor on every request. Without it, the whole row is read.
type revisionPreparer interface {
	PrepareActorRevision(ctx context.Context) (func(ctx context.Context, handle string) (id, revision int64, err error), error)
}

// revisions returns the store's prepared revision read, preparing it on
// first use, or nil when the store has none.
func (s *Server) revisions() revisionFunc {
	s.prepareOnce.Do(func() {
		p, ok := s.store.(revisionPreparer)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		fn, err := p.PrepareActorRevision(ctx)
		if err != nil {
			// Serving goes on with whole-row reads.
			s.log.Error("federation: prepare the actor revision read", "err", err)
			return
		}
		s.revision = fn
	})
	return s.revision
}

// cached returns the cached document of actor id at revision, or nil.
func (s *Server) cached(id, revision int64) *rendered {
	s.mu.RLock()
	doc := s.actors[id]
	s.mu.RUnlock()
	if doc != nil && doc.revision == revision {
		return doc
	}
	return nil
}

// actorDocument reads the actor's row on every call, so that a change made
// by the CLI shows at once, and renders the document again only when the
// row's Revision differs from the cached one.
func (s *Server) actorDocument(ctx context.Context, handle string) (*rendered, error) {
	if coop.CheckHandle(handle) != nil {
		return nil, fmt.Errorf("actor %q: %w", handle, coop.ErrNotFound)
	}
	if read := s.revisions(); read != nil {
		// Without cancellation: database/sql watches a cancellable context
		// with a goroutine per query, which costs more than this one-row
		// read by index, which cannot wait on a lock (WAL readers do not).
		id, revision, err := read(context.WithoutCancel(ctx), handle)
		if err != nil {
			return nil, err
		}
		if doc := s.cached(id, revision); doc != nil {
			return doc, nil
		}
	}
	a, err := s.store.ActorByHandle(ctx, handle)
	if err != nil {
		return nil, err
	}
	if doc := s.cached(a.ID, a.Revision); doc != nil {
		return doc, nil
	}
	doc, err := s.render(ctx, a)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	// Two requests may render at once; keep the newer revision.
	if old := s.actors[a.ID]; old == nil || old.revision <= doc.revision {
		s.actors[a.ID] = doc
	}
	s.mu.Unlock()
	return doc, nil
}

// render builds an actor's document: a Tombstone once removed, and for a
// project the Group with the project's details.
func (s *Server) render(ctx context.Context, a coop.Actor) (*rendered, error) {
	var (
		body []byte
		err  error
	)
	switch {
	case a.Removed():
		body, err = tombstoneDocument(s.site, a)
	case a.Kind == coop.KindGroup:
		var p coop.Project
		p, err = s.store.ProjectByHandle(ctx, a.Handle)
		if err != nil {
			return nil, err
		}
		// The project was read after the actor; its own revision is the
		// one that matches what is rendered.
		a = p.Actor
		if a.Removed() {
			body, err = tombstoneDocument(s.site, a)
		} else {
			body, err = actorDocument(s.site, a, &p, nil)
		}
	default:
		var dl *coop.LogInfo
		if a.Kind == coop.KindOrganization {
			if dl, err = decisionLogOf(ctx, s.store, s.site); err != nil {
				return nil, err
			}
		}
		body, err = actorDocument(s.site, a, nil, dl)
	}
	if err == nil && !a.Removed() {
		body, err = withImages(ctx, s.store, s.site, a, body)
	}
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	return &rendered{
		revision: a.Revision,
		body:     body,
		etag:     `"` + hex.EncodeToString(sum[:12]) + `"`,
		gone:     a.Removed(),
	}, nil
}

// serveActor answers GET /users/{handle} and /@{handle} for ActivityPub
// clients.
func (s *Server) serveActor(w http.ResponseWriter, r *http.Request) {
	handle := mux.Vars(r)["handle"]
	doc, err := s.actorDocument(r.Context(), handle)
	switch {
	case errors.Is(err, coop.ErrNotFound):
		failJSON(w, http.StatusNotFound, fmt.Sprintf("no actor %s on this node", quote(handle)))
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	h := w.Header()
	// The same URL serves a web page to browsers.
	h.Set("Vary", "Accept")
	h.Set("ETag", doc.etag)
	// Peers may keep the document but must ask again before using it, so
	// that a new key or a removal is seen at once; a matching ETag makes
	// that a 304.
	h.Set("Cache-Control", "public, max-age=0, must-revalidate")
	status := http.StatusOK
	if doc.gone {
		status = http.StatusGone
	} else if etagMatches(r.Header.Get("If-None-Match"), doc.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(doc.body)))
	writeJSON(w, status, contentTypeAP, doc.body)
}

// etagMatches reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for header != "" {
		var tag string
		tag, header, _ = strings.Cut(header, ",")
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}

// decisionLogOf is the decision log the co-op's Organization publishes;
// nil before the node has one.
func decisionLogOf(ctx context.Context, r coop.Reader, site coop.Site) (*coop.LogInfo, error) {
	l, err := r.OpenLog(ctx)
	if errors.Is(err, coop.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	w, err := r.WitnessKey(ctx)
	if err != nil && !errors.Is(err, coop.ErrNotFound) {
		return nil, err
	}
	return &coop.LogInfo{Origin: l.Origin, URL: site.LogURL(), Key: l.VKey, WitnessKey: w.VKey}, nil
}

// withImages adds a live actor's avatar and header to its document, as
// the ActivityStreams properties Mastodon reads for them: `icon` (the
// avatar) and `image` (the header), each one Image object with a `url`
// string and a `mediaType`, as Mastodon's own actor serializer writes
// them. Mastodon's ProcessAccountService takes the url of the first of
// each property's values and, on every Update or refetch, clears the
// avatar or header when the property is absent: so an image removed is
// an image left out. A document without images is returned as it is.
func withImages(ctx context.Context, r coop.Reader, site coop.Site, a coop.Actor, doc []byte) ([]byte, error) {
	imgs, err := r.ActorImages(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if imgs.Avatar == nil && imgs.Header == nil {
		return doc, nil
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("federation: images of actor %q: %w", a.Handle, err)
	}
	for prop, img := range map[string]*coop.Image{"icon": imgs.Avatar, "image": imgs.Header} {
		if img != nil {
			m[prop] = map[string]any{"type": "Image", "mediaType": img.MediaType, "url": site.MediaURL(*img)}
		}
	}
	return marshalDocument(m)
}
