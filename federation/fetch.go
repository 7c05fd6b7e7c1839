package federation

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/netpolicy"
	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/store"
)

// netPolicy is netpolicy.Policy with the HTTP client this package's
// requests (WebFinger, signed GETs) use.
type netPolicy struct{ *netpolicy.Policy }

func newNetPolicy(devHosts map[string]string, devMode bool) *netPolicy {
	return &netPolicy{netpolicy.New(devHosts, devMode)}
}

// client builds an HTTP client that dials under the policy, with an
// overall timeout, and checks every redirect hop again (scheme here; the
// address dialled in Dial).
func (p *netPolicy) client(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			// Never a proxy from the environment: the dial rules must hold.
			Proxy:                  nil,
			DialContext:            p.Dial,
			ForceAttemptHTTP2:      true,
			TLSHandshakeTimeout:    timeout,
			ResponseHeaderTimeout:  timeout,
			MaxResponseHeaderBytes: 64 << 10,
			MaxIdleConns:           16,
			IdleConnTimeout:        90 * time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("more than %d redirects", maxRedirects)
			}
			if req.URL.User != nil {
				return fmt.Errorf("redirect to %s refused: user information in the URL", req.URL.Redacted())
			}
			if req.URL.Scheme != p.Scheme(req.URL.Host) {
				return fmt.Errorf("redirect to %s refused: this node reaches %s only over %s", req.URL.Redacted(), req.URL.Host, p.Scheme(req.URL.Host))
			}
			return nil
		},
	}
}

// Limits on a signed GET.
const (
	fetchTimeout  = 10 * time.Second
	maxFetchBytes = 1 << 20
)

// acceptActivityPub is the Accept header of a signed GET.
const acceptActivityPub = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

// Errors of a fetch.
var (
	// ErrRemoteGone is a remote object or actor that answers 410 Gone, or
	// an actor this node knows to be deleted.
	ErrRemoteGone = errors.New("gone")
	// ErrRemoteNotFound is a remote object that answers 404.
	ErrRemoteNotFound = errors.New("not found on its server")
)

// FetcherConfig is what a Fetcher needs.
type FetcherConfig struct {
	Site     coop.Site
	DB       *store.DB         // the remote actor cache, and the co-op's key
	DevHosts map[string]string // as for NewResolver; used in development mode only
	DevMode  bool
	Clock    func() time.Time // nil: time.Now
	Log      *slog.Logger     // nil: discard
	// MaxAge is how long a cached actor is used before it is fetched
	// again; 0: one day.
	MaxAge time.Duration
	// MinRefetch is how soon after a fetch a key may be fetched again on a
	// failed signature; 0: one minute. It keeps a peer sending bad
	// signatures from making this node fetch on every request.
	MinRefetch time.Duration
}

// Fetcher fetches remote documents with GETs signed by the co-op's
// Organization actor (GoToSocial, and Mastodon in secure mode, refuse
// unsigned ones), with a timeout, a size limit and the dial rules of
// netPolicy, and keeps the remote actor cache. It is safe for concurrent
// use.
type Fetcher struct {
	site       coop.Site
	db         *store.DB
	policy     *netPolicy
	client     *http.Client
	now        func() time.Time
	log        *slog.Logger
	maxAge     time.Duration
	minRefetch time.Duration

	keyMu  sync.Mutex
	key    *rsa.PrivateKey
	keyID  string
	flight [64]sync.Mutex // by hash of a URI: one fetch of a URI at a time

	keys  sync.Map // PEM text → *sig.PublicKey: parsed and prepared once (see parseKey)
	nkeys atomic.Int64
}

// maxParsedKeys bounds Fetcher.keys; past it, keys are parsed each time.
const maxParsedKeys = 10000

// parseKey parses a PEM public key and prepares it for verifying
// (sig.NewPublicKey), once per text: every signed request needs its
// sender's key, and parsing it was a twentieth of an inbox POST's CPU,
// preparing it (the modulus' constants, which crypto/rsa recomputes on
// every verification) a fourteenth. A key is immutable, so the text
// alone names it.
func (f *Fetcher) parseKey(pemText string) (*sig.PublicKey, error) {
	if k, ok := f.keys.Load(pemText); ok {
		return k.(*sig.PublicKey), nil
	}
	rk, err := sig.ParsePublicKey(pemText)
	if err != nil {
		return nil, err
	}
	k, err := sig.NewPublicKey(rk)
	if err != nil {
		return nil, err
	}
	if f.nkeys.Add(1) <= maxParsedKeys {
		f.keys.Store(pemText, k)
	}
	return k, nil
}

// NewFetcher builds a Fetcher.
func NewFetcher(cfg FetcherConfig) *Fetcher {
	p := newNetPolicy(cfg.DevHosts, cfg.DevMode)
	f := &Fetcher{
		site: cfg.Site, db: cfg.DB, policy: p, client: p.client(fetchTimeout),
		now: cfg.Clock, log: cfg.Log, maxAge: cfg.MaxAge, minRefetch: cfg.MinRefetch,
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if f.maxAge <= 0 {
		f.maxAge = 24 * time.Hour
	}
	if f.minRefetch <= 0 {
		f.minRefetch = time.Minute
	}
	return f
}

// signingKey returns the co-op actor's key and keyId, read once.
func (f *Fetcher) signingKey(ctx context.Context) (*rsa.PrivateKey, string, error) {
	f.keyMu.Lock()
	defer f.keyMu.Unlock()
	if f.key != nil {
		return f.key, f.keyID, nil
	}
	c, err := f.db.Coop(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("signing key: %w", err)
	}
	pemText, err := f.db.PrivateKeyPEM(ctx, c.ID)
	if err != nil {
		return nil, "", fmt.Errorf("signing key: %w", err)
	}
	k, err := sig.ParsePrivateKey(pemText)
	if err != nil {
		return nil, "", err
	}
	f.key, f.keyID = k, f.site.KeyID(c.Handle)
	return f.key, f.keyID, nil
}

// checkFetchURL accepts a URL this node may fetch: http(s), no user
// information, and the scheme the policy gives its host.
func (f *Fetcher) checkFetchURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.Opaque != "":
		return nil, fmt.Errorf("fetch %s: not a URL this node fetches", quote(raw))
	case u.Scheme != f.policy.Scheme(u.Host):
		return nil, fmt.Errorf("fetch %s: this node reaches %s only over %s", quote(raw), u.Host, f.policy.Scheme(u.Host))
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// Get fetches an ActivityStreams document with a signed GET and returns its
// body and the URL it came from after redirects. A URL, or a redirect,
// to a blocked domain or account is refused (coop.ErrBlocked) unfetched. 410 is ErrRemoteGone, 404
// ErrRemoteNotFound.
func (f *Fetcher) Get(ctx context.Context, rawURL string) ([]byte, *url.URL, error) {
	return f.get(ctx, rawURL, acceptActivityPub, true)
}

// GetDocument is Get for any document another node serves to signed
// requests (a payout round's openings in JSON, a log receipt in text):
// the same dial rules, signature and limits, no ActivityStreams type
// required. It implements coop.RemoteGetter.
func (f *Fetcher) GetDocument(ctx context.Context, rawURL string) ([]byte, error) {
	b, _, err := f.get(ctx, rawURL, "application/json, text/plain;q=0.9, */*;q=0.1", false)
	return b, err
}

// Getter adapts a Fetcher to coop.RemoteGetter.
type Getter struct{ F *Fetcher }

// Get implements coop.RemoteGetter.
func (g Getter) Get(ctx context.Context, rawURL string) ([]byte, error) {
	return g.F.GetDocument(ctx, rawURL)
}

var _ coop.RemoteGetter = Getter{}

func (f *Fetcher) get(ctx context.Context, rawURL, accept string, activityStreams bool) ([]byte, *url.URL, error) {
	u, err := f.checkFetchURL(rawURL)
	if err != nil {
		return nil, nil, err
	}
	if err := checkBlocked(ctx, f.db, u.String()); err != nil {
		return nil, nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	key, keyID, err := f.signingKey(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "coopfed (+"+f.site.Base()+"/)")
	if err := sig.Sign(req, keyID, key, nil, f.now()); err != nil {
		return nil, nil, err
	}
	// A redirect is signed again for its own URL (Go copies the headers,
	// which would carry a signature of the first URL).
	client := *f.client
	check := client.CheckRedirect
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if err := check(r, via); err != nil {
			return err
		}
		if err := checkBlocked(r.Context(), f.db, r.URL.String()); err != nil {
			return err
		}
		r.Header.Del("Signature")
		r.Host = ""
		return sig.Sign(r, keyID, key, nil, f.now())
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	defer resp.Body.Close()
	final := resp.Request.URL
	switch {
	case resp.StatusCode == http.StatusGone:
		return nil, final, fmt.Errorf("fetch %s: %w (410)", u, ErrRemoteGone)
	case resp.StatusCode == http.StatusNotFound:
		return nil, final, fmt.Errorf("fetch %s: %w (404)", u, ErrRemoteNotFound)
	case resp.StatusCode != http.StatusOK:
		return nil, final, fmt.Errorf("fetch %s: %s", u, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" && activityStreams {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == "application/activity+json" || mt == "application/ld+json" || mt == "application/json") {
			return nil, final, fmt.Errorf("fetch %s: Content-Type %s is not ActivityStreams JSON", u, quote(ct))
		}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBytes+1))
	if err != nil {
		return nil, final, fmt.Errorf("fetch %s: read: %w", u, err)
	}
	if len(body) > maxFetchBytes {
		return nil, final, fmt.Errorf("fetch %s: the document is larger than %d bytes", u, maxFetchBytes)
	}
	return body, final, nil
}

// lock serializes fetches of one URI, so that a burst of requests signed
// with a new key fetches it once.
func (f *Fetcher) lock(uri string) func() {
	h := fnv.New32a()
	h.Write([]byte(uri))
	mu := &f.flight[h.Sum32()%uint32(len(f.flight))]
	mu.Lock()
	return mu.Unlock
}
