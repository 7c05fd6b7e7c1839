package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation/negotiate"
)

// ErrNoAccount is a remote account that WebFinger does not know, or whose
// descriptor names no ActivityPub actor. Errors that wrap it also wrap
// coop.ErrInvalidInput: a user gave a name that leads nowhere.
var ErrNoAccount = errors.New("no such account")

// Limits on a WebFinger look-up.
const (
	resolveTimeout = 10 * time.Second
	maxJRDBytes    = 1 << 20
	maxRedirects   = 3
)

// Resolver finds the actor URI of a remote account with WebFinger. It
// implements coop.Resolver.
//
// It speaks https and dials only public addresses, so that a name given
// by a user cannot make the node probe its own network. In development
// mode it speaks plain http to hosts mapped by the dev-hosts table (dialing
// the mapped loopback address instead of resolving the name) and to
// loopback hosts, so that several nodes federate on one machine.
type Resolver struct {
	*netPolicy
	site   coop.Site
	client *http.Client
	blocks Blocklist // nil: no blocks
}

var _ coop.Resolver = (*Resolver)(nil)

// NewResolver builds a Resolver. devHosts maps a peer's host, as in its
// accounts (with ":port" when it has one), to the loopback "127.0.0.1:PORT"
// it listens on; it is used only when devMode is set.
func NewResolver(site coop.Site, devHosts map[string]string, devMode bool) *Resolver {
	p := newNetPolicy(devHosts, devMode)
	return &Resolver{netPolicy: p, site: site, client: p.client(resolveTimeout)}
}

// RefuseBlocked makes r refuse (coop.ErrBlocked) an account on a blocked
// domain, a redirect to one, and a blocked actor. It returns r.
func (r *Resolver) RefuseBlocked(bl Blocklist) *Resolver {
	r.blocks = bl
	return r
}

// ResolveAccount returns the actor URI of "name@host" (an "acct:" scheme
// or a leading "@" are tolerated).
func (r *Resolver) ResolveAccount(ctx context.Context, acct string) (string, error) {
	name, host, err := splitAcct(acct)
	if err != nil {
		return "", err
	}
	resource := "acct:" + name + "@" + host
	if r.blocks != nil {
		if err := checkBlocked(ctx, r.blocks, "https://"+host+"/"); err != nil {
			return "", fmt.Errorf("webfinger %s: %w", resource, err)
		}
	}
	u := url.URL{
		Scheme:   r.Scheme(host),
		Host:     host,
		Path:     "/.well-known/webfinger",
		RawQuery: url.Values{"resource": {resource}}.Encode(),
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("webfinger %s: %w", resource, err)
	}
	req.Header.Set("Accept", "application/jrd+json, application/json")
	req.Header.Set("User-Agent", "coopfed (+"+r.site.Base()+"/)")
	client := r.client
	if r.blocks != nil {
		c := *r.client
		check := c.CheckRedirect
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if err := check(req, via); err != nil {
				return err
			}
			return checkBlocked(req.Context(), r.blocks, req.URL.String())
		}
		client = &c
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("webfinger %s: %w", resource, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return "", fmt.Errorf("%w: %w: %s does not know %s (WebFinger answered %d)", coop.ErrInvalidInput, ErrNoAccount, host, resource, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("webfinger %s: %s answered %s", resource, host, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJRDBytes+1))
	if err != nil {
		return "", fmt.Errorf("webfinger %s: read: %w", resource, err)
	}
	if len(body) > maxJRDBytes {
		return "", fmt.Errorf("webfinger %s: the answer is larger than %d bytes", resource, maxJRDBytes)
	}
	var doc jrd
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("webfinger %s: the answer is not a JRD: %w", resource, err)
	}
	for _, l := range doc.Links {
		if l.Rel != relSelf || !negotiate.IsActivityStreams(l.Type) {
			continue
		}
		if err := r.checkActorURL(l.Href); err != nil {
			return "", fmt.Errorf("webfinger %s: %w", resource, err)
		}
		if r.blocks != nil {
			if err := checkBlocked(ctx, r.blocks, l.Href); err != nil {
				return "", fmt.Errorf("webfinger %s: %w", resource, err)
			}
		}
		return l.Href, nil
	}
	return "", fmt.Errorf("%w: %w: %s names no ActivityPub actor for %s", coop.ErrInvalidInput, ErrNoAccount, host, resource)
}

// splitAcct splits name@host, refusing what cannot be an account.
func splitAcct(acct string) (name, host string, err error) {
	s := strings.TrimSpace(acct)
	if hasPrefixFold(s, "acct:") {
		s = s[len("acct:"):]
	}
	s = strings.TrimPrefix(s, "@")
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || i == len(s)-1 {
		return "", "", fmt.Errorf("%w: account %q is not name@host", coop.ErrInvalidInput, acct)
	}
	name, host = s[:i], strings.ToLower(s[i+1:])
	for _, c := range []byte(name) {
		if c <= ' ' || c == 0x7f || strings.IndexByte(`/?#@%\"<>`, c) >= 0 {
			return "", "", fmt.Errorf("%w: account %q: the name holds %q", coop.ErrInvalidInput, acct, c)
		}
	}
	if len(host) > 261 || !validHost(host) {
		return "", "", fmt.Errorf("%w: account %q: %q is not a host name", coop.ErrInvalidInput, acct, host)
	}
	return name, host, nil
}

// validHost accepts a DNS name or IP literal with an optional port.
func validHost(host string) bool {
	u, err := url.Parse("https://" + host)
	if err != nil || u.Host != host || u.Hostname() == "" || u.User != nil {
		return false
	}
	for _, c := range []byte(u.Hostname()) {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}

// checkActorURL accepts an actor URI that this node may fetch later.
func (r *Resolver) checkActorURL(href string) error {
	u, err := url.Parse(href)
	switch {
	case err != nil || u.Host == "" || u.User != nil:
		return fmt.Errorf("actor link %q is not a URL", href)
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("actor link %q is not http(s)", href)
	case u.Scheme != r.Scheme(u.Host):
		return fmt.Errorf("actor link %q: this node reaches %s only over %s", href, u.Host, r.Scheme(u.Host))
	}
	return nil
}
