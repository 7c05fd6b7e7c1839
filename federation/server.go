package federation

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/negotiate"
	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/store"
	"github.com/gorilla/mux"
)

// Store is what federation reads; *store.DB implements it.
type Store interface {
	coop.Reader
	CollectionPage(ctx context.Context, actorID int64, c coop.Collection, req coop.PageRequest) (coop.Page, error)
}

// Config is what a Server needs.
type Config struct {
	Site    coop.Site
	Store   Store
	Version string           // software version for NodeInfo
	Log     *slog.Logger     // nil: discard
	Clock   func() time.Time // nil: time.Now

	// DB is the database the inboxes store accepted activities in; nil
	// serves no inboxes.
	DB *store.DB
	// Fetcher fetches the keys of signed requests and caches their
	// actors; nil: one built from Site, DB, DevHosts and DevMode.
	Fetcher *Fetcher
	// DevHosts and DevMode are as for NewResolver: in development mode,
	// peers are reached over http at loopback addresses.
	DevHosts map[string]string
	DevMode  bool
	// MaxBodyBytes is the largest inbox body accepted (413 beyond it);
	// 0: DefaultMaxBodyBytes. The config's federation.max_body_bytes.
	MaxBodyBytes int64
	// DateSkew is how far a signature's Date may be from the clock; 0:
	// one hour. The config's federation.date_skew.
	DateSkew time.Duration
	// Limits bound how fast one client may call; the zero value limits
	// nothing.
	Limits Limits
	// Wake, when set, is called after an inbox stored a new activity
	// that it did not apply: (*Processor).Wake, so that it is processed
	// at once; and after one it applied that queued deliveries.
	Wake func()
	// Proposals reads a proposal as shown (coop.Service.ShowProposal),
	// for its Question served at its page. Nil: a coop.Service reading
	// Store, when Store is a coop.Store (*store.DB is); else proposals
	// are not served.
	Proposals func(ctx context.Context, num int64) (coop.ProposalView, error)
	// Payouts serves the openings of final payout rounds to members and
	// the federation's co-ops (coop.Service); nil: not served.
	Payouts PayoutOpener
	// Processor, when set, is the processor of DB's inbound queue: an
	// inbox then prepares each activity that needs nothing fetched as the
	// processor would, and stores it applied, in one transaction (see
	// store.DB.InsertInboundApplying). Nil: every activity is only stored.
	Processor *Processor
}

// defaultPageSize is how many items a collection page holds.
const defaultPageSize = 20

// Server serves the node's discovery documents (WebFinger, host-meta,
// NodeInfo), its actors and their collections. It is safe for concurrent
// use.
type Server struct {
	site     coop.Site
	store    Store
	version  string
	log      *slog.Logger
	now      func() time.Time
	pageSize int

	// Documents that depend on the configuration only, rendered once.
	hostMetaXML, hostMetaJSON, nodeInfoLinks []byte

	prepareOnce sync.Once
	revision    revisionFunc // nil: read the whole actor; see actor.go

	mu     sync.RWMutex
	actors map[int64]*rendered // by actor ID; see actor.go

	// Inboxes; see inbox.go.
	db       *store.DB
	fetcher  *Fetcher
	maxBody  int64
	dateSkew time.Duration
	wake     func()
	proc     *Processor
	limits   Limits
	blocks   blockMemo // refuseBlocked's answers by URI; see blocks.go

	proposals func(ctx context.Context, num int64) (coop.ProposalView, error) // see question.go
	payouts   PayoutOpener                                                    // see payouts.go
}

// NewServer builds a Server.
func NewServer(cfg Config) *Server {
	s := &Server{
		site:     cfg.Site,
		store:    cfg.Store,
		version:  cfg.Version,
		log:      cfg.Log,
		now:      cfg.Clock,
		pageSize: defaultPageSize,
		actors:   make(map[int64]*rendered),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.db, s.fetcher, s.maxBody, s.dateSkew, s.wake = cfg.DB, cfg.Fetcher, cfg.MaxBodyBytes, cfg.DateSkew, cfg.Wake
	s.limits, s.proc = cfg.Limits, cfg.Processor
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.dateSkew <= 0 {
		s.dateSkew = sig.DefaultSkew
	}
	if s.fetcher == nil && s.db != nil {
		s.fetcher = NewFetcher(FetcherConfig{Site: cfg.Site, DB: cfg.DB, DevHosts: cfg.DevHosts, DevMode: cfg.DevMode,
			Clock: cfg.Clock, Log: cfg.Log})
	}
	s.proposals = cfg.Proposals
	s.payouts = cfg.Payouts
	if st, ok := cfg.Store.(coop.Store); ok && s.proposals == nil {
		// Reading a proposal is a use case of coop's (the tally while
		// open, the stored outcome once closed): ask it, read-only.
		s.proposals = (&coop.Service{Store: st, Site: cfg.Site, Clock: cfg.Clock}).ShowProposal
	}
	s.hostMetaXML, s.hostMetaJSON = hostMeta(cfg.Site)
	s.nodeInfoLinks = nodeInfoLinks(cfg.Site)
	return s
}

// Routes registers the federation routes on r. Register them before the
// web pages: the actor routes claim only requests that ask for ActivityPub,
// so that a browser at the same URL falls through to the page registered
// after them.
func (s *Server) Routes(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	// Every route is limited by client address first (limits.go).
	l := s.limited
	r.HandleFunc("/.well-known/webfinger", l(s.serveWebFinger)).Methods(get...)
	r.HandleFunc("/.well-known/host-meta", l(s.serveHostMetaXML)).Methods(get...)
	r.HandleFunc("/.well-known/host-meta.json", l(s.serveHostMetaJSON)).Methods(get...)
	r.HandleFunc("/.well-known/nodeinfo", l(s.serveNodeInfoLinks)).Methods(get...)
	r.HandleFunc("/nodeinfo/2.1", l(s.serveNodeInfo)).Methods(get...)
	r.HandleFunc("/users/{handle}", l(s.serveActor)).Methods(get...).MatcherFunc(wantsActivityPub(false))
	r.HandleFunc("/@{handle}", l(s.serveActor)).Methods(get...).MatcherFunc(wantsActivityPub(true))
	if s.proposals != nil {
		// The page of a proposal is its Question's id: ActivityPub clients
		// get the Question (Mastodon refetches it for the counts), anyone
		// else the page registered after.
		r.HandleFunc("/proposals/{num:[0-9]+}", l(s.serveProposal)).Methods(get...).MatcherFunc(wantsActivityPub(true))
	}
	r.HandleFunc("/users/{handle}/{collection:outbox|followers|following|members|federation|projects}", l(s.serveCollection)).Methods(get...)
	if s.payouts != nil && s.fetcher != nil {
		r.HandleFunc("/payouts/{id:[0-9]+}/openings", l(s.servePayoutOpenings)).Methods(get...)
	}
	if s.db != nil {
		r.HandleFunc("/users/{handle}/inbox", l(s.serveInbox)).Methods(http.MethodPost)
		r.HandleFunc("/inbox", l(s.serveInbox)).Methods(http.MethodPost)
	}
}

func wantsActivityPub(preferHTML bool) mux.MatcherFunc {
	return func(r *http.Request, _ *mux.RouteMatch) bool {
		return negotiate.WantsActivityPub(r, preferHTML)
	}
}

// contentTypeAP is the Content-Type of every ActivityStreams document.
const contentTypeAP = "application/activity+json; charset=utf-8"

// writeJSON writes a JSON body with the given Content-Type and status.
func writeJSON(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}

// failJSON answers a JSON endpoint with {"error": reason}.
func failJSON(w http.ResponseWriter, status int, reason string) {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{reason})
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	writeJSON(w, status, "application/json; charset=utf-8", append(body, '\n'))
}

// serverError logs err, the one place a failed request is logged, and
// answers with a reason that gives nothing away.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("federation request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	failJSON(w, http.StatusInternalServerError, "something went wrong on this server; its administrator can find the details in the log")
}

// quote quotes what a client sent for an error message, cut short so that
// a long input does not come back whole.
func quote(s string) string {
	const limit = 64
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}
