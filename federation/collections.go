package federation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/coopfed/coopfed/coop"
	"github.com/gorilla/mux"
)

// membersCollection is the co-op's collection of member actors; the store
// knows the other three.
const membersCollection coop.Collection = "members"

// errBadPage is a page request that cannot be answered: a 400.
var errBadPage = errors.New("bad page request")

// pageQuery reads ?page=true&max_id=N. page says whether a page is asked
// for rather than the collection; a max_id implies a page.
func pageQuery(r *http.Request) (page bool, maxID int64, err error) {
	q := r.URL.Query()
	if v := q.Get("page"); v != "" {
		page, err = strconv.ParseBool(v)
		if err != nil {
			return false, 0, fmt.Errorf("%w: page must be true or false, not %s", errBadPage, quote(v))
		}
	}
	if v := q.Get("max_id"); v != "" {
		maxID, err = strconv.ParseInt(v, 10, 64)
		if err != nil || maxID <= 0 {
			return false, 0, fmt.Errorf("%w: max_id must be a positive whole number, as in a page's next link, not %s", errBadPage, quote(v))
		}
		page = true
	}
	return page, maxID, nil
}

// serveCollection answers GET /users/{handle}/{collection}: the
// OrderedCollection, or with ?page=true one OrderedCollectionPage, newest
// first, each page linking to the next older one.
func (s *Server) serveCollection(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	handle, c := vars["handle"], coop.Collection(vars["collection"])
	ctx := r.Context()
	page, maxID, err := pageQuery(r)
	if err != nil {
		failJSON(w, http.StatusBadRequest, err.Error())
		return
	}
	if coop.CheckHandle(handle) != nil {
		failJSON(w, http.StatusNotFound, fmt.Sprintf("no actor %s on this node", quote(handle)))
		return
	}
	a, err := s.store.ActorByHandle(ctx, handle)
	switch {
	case errors.Is(err, coop.ErrNotFound):
		failJSON(w, http.StatusNotFound, fmt.Sprintf("no actor %s on this node", quote(handle)))
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	case a.Removed():
		failJSON(w, http.StatusGone, fmt.Sprintf("actor %q was removed", a.Handle))
		return
	case c == membersCollection && a.Kind != coop.KindOrganization:
		failJSON(w, http.StatusNotFound, fmt.Sprintf("only the co-op has members; %q is a %s", a.Handle, a.Kind))
		return
	case c == coop.Federation && a.Kind != coop.KindOrganization:
		failJSON(w, http.StatusNotFound, fmt.Sprintf("only the co-op has a federation; %q is a %s", a.Handle, a.Kind))
		return
	case c == coop.ProjectsCollection && a.Kind != coop.KindOrganization:
		failJSON(w, http.StatusNotFound, fmt.Sprintf("only the co-op lists projects; %q is a %s", a.Handle, a.Kind))
		return
	}
	id := s.site.ActorID(a.Handle) + "/" + string(c)
	req := coop.PageRequest{Before: maxID, Limit: s.pageSize}
	if !page {
		req = coop.PageRequest{Limit: 1} // the total is all that is needed
	}
	var p coop.Page
	switch c {
	case membersCollection:
		p, err = s.membersPage(ctx, req)
	case coop.ProjectsCollection:
		p, err = s.projectsPage(ctx, req)
	default:
		p, err = s.store.CollectionPage(ctx, a.ID, c, req)
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var body []byte
	if page {
		body, err = pageDocument(id, maxID, p)
	} else {
		body, err = collectionDocument(id, p.Total)
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=0, must-revalidate")
	writeJSON(w, http.StatusOK, contentTypeAP, body)
}

// membersPage pages the live members the way the store pages the other
// collections: newest first, with the actor ID as the cursor.
func (s *Server) membersPage(ctx context.Context, req coop.PageRequest) (coop.Page, error) {
	ms, err := s.store.Members(ctx)
	if err != nil {
		return coop.Page{}, err
	}
	ids := make([]actorRef, len(ms))
	for i, m := range ms {
		ids[i] = actorRef{m.ID, m.Handle}
	}
	return s.actorsPage(ids, req), nil
}

// projectsPage pages the live projects' Group actors as membersPage pages
// the members.
func (s *Server) projectsPage(ctx context.Context, req coop.PageRequest) (coop.Page, error) {
	ps, err := s.store.Projects(ctx)
	if err != nil {
		return coop.Page{}, err
	}
	ids := make([]actorRef, len(ps))
	for i, p := range ps {
		ids[i] = actorRef{p.ID, p.Handle}
	}
	return s.actorsPage(ids, req), nil
}

// actorRef is a local actor as a collection lists it.
type actorRef struct {
	id     int64
	handle string
}

// actorsPage pages local actors newest first, with the actor ID as the
// cursor.
func (s *Server) actorsPage(as []actorRef, req coop.PageRequest) coop.Page {
	sort.Slice(as, func(i, j int) bool { return as[i].id > as[j].id })
	p := coop.Page{Total: len(as)}
	for _, a := range as {
		if req.Before > 0 && a.id >= req.Before {
			continue
		}
		if len(p.Items) == req.Limit {
			p.Next = p.Items[len(p.Items)-1].Cursor
			break
		}
		p.Items = append(p.Items, coop.PageItem{Cursor: a.id, IRI: s.site.ActorID(a.handle)})
	}
	return p
}
