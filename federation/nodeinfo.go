package federation

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/coopfed/coopfed/coop"
)

// NodeInfo 2.1 (https://nodeinfo.diaspora.software/protocol.html): what
// software a node runs and how big it is.

const (
	nodeInfoSchema      = "http://nodeinfo.diaspora.software/ns/schema/2.1"
	nodeInfoContentType = `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"`
)

// nodeInfoLinks renders /.well-known/nodeinfo.
func nodeInfoLinks(site coop.Site) []byte {
	b, _ := json.Marshal(struct {
		Links []jrdLink `json:"links"`
	}{[]jrdLink{{Rel: nodeInfoSchema, Href: site.URL("/nodeinfo/2.1")}}})
	return b
}

type nodeInfo struct {
	Version           string           `json:"version"`
	Software          nodeInfoSoftware `json:"software"`
	Protocols         []string         `json:"protocols"`
	Services          nodeInfoServices `json:"services"`
	OpenRegistrations bool             `json:"openRegistrations"`
	Usage             nodeInfoUsage    `json:"usage"`
	Metadata          nodeInfoMetadata `json:"metadata"`
}

type nodeInfoSoftware struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type nodeInfoServices struct {
	Inbound  []string `json:"inbound"`
	Outbound []string `json:"outbound"`
}

type nodeInfoUsage struct {
	Users      nodeInfoUsers `json:"users"`
	LocalPosts int           `json:"localPosts"`
}

type nodeInfoUsers struct {
	Total          int `json:"total"`
	ActiveMonth    int `json:"activeMonth"`
	ActiveHalfyear int `json:"activeHalfyear"`
}

// nodeInfoMetadata is free-form in the schema: the co-op's name and
// summary as most servers give them, and what coopfed adds.
type nodeInfoMetadata struct {
	NodeName        string `json:"nodeName"`
	NodeDescription string `json:"nodeDescription"`
	// CoopActor is the co-op's Organization actor, which peers follow.
	CoopActor string `json:"coopActor,omitempty"`
	Projects  int    `json:"projects"`
}

func (s *Server) serveNodeInfoLinks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	writeJSON(w, http.StatusOK, "application/json; charset=utf-8", s.nodeInfoLinks)
}

// serveNodeInfo answers GET /nodeinfo/2.1.
func (s *Server) serveNodeInfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.store.Counts(ctx, s.now())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	meta := nodeInfoMetadata{Projects: c.Projects}
	// A node answers before its co-op is set up (coopfed serve creates it
	// first, but a bare database has none): the name is then empty.
	switch co, err := s.store.Coop(ctx); {
	case err == nil:
		meta.NodeName, meta.NodeDescription = co.Name, co.Summary
		meta.CoopActor = s.site.ActorID(co.Handle)
	case !errors.Is(err, coop.ErrNotFound):
		s.serverError(w, r, err)
		return
	}
	version := s.version
	if version == "" {
		version = "unknown"
	}
	body, err := json.Marshal(nodeInfo{
		Version:   "2.1",
		Software:  nodeInfoSoftware{Name: "coopfed", Version: version},
		Protocols: []string{"activitypub"},
		Services:  nodeInfoServices{Inbound: []string{}, Outbound: []string{}},
		Usage: nodeInfoUsage{
			Users:      nodeInfoUsers{Total: c.Members, ActiveMonth: c.ActiveMonth, ActiveHalfyear: c.ActiveHalfyear},
			LocalPosts: c.LocalPosts,
		},
		Metadata: meta,
	})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, nodeInfoContentType, body)
}
