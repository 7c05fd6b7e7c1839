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
	}
	id := s.site.ActorID(a.Handle) + "/" + string(c)
	req := coop.PageRequest{Before: maxID, Limit: s.pageSize}
	if !page {
		req = coop.PageRequest{Limit: 1} // the total is all that is needed
	}
	var p coop.Page
	if c == membersCollection {
		p, err = s.membersPage(ctx, req)
	} else {
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
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID > ms[j].ID })
	p := coop.Page{Total: len(ms)}
	for _, m := range ms {
		if req.Before > 0 && m.ID >= req.Before {
			continue
		}
		if len(p.Items) == req.Limit {
			p.Next = p.Items[len(p.Items)-1].Cursor
			break
		}
		p.Items = append(p.Items, coop.PageItem{Cursor: m.ID, IRI: s.site.ActorID(m.Handle)})
	}
	return p, nil
}
