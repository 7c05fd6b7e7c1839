package sig

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/go-fed/httpsig"
)

// Errors of Verify and Check; each failure wraps one of them (errors.Is).
var (
	// ErrNoSignature is a request without a Signature header.
	ErrNoSignature = errors.New("no HTTP signature")
	// ErrUnsupportedScheme is a signature of another scheme, such as an
	// RFC 9421 Signature-Input: answered 401 so that the peer falls back
	// to draft-cavage.
	ErrUnsupportedScheme = errors.New("unsupported signature scheme")
	// ErrBadSignatureHeader is a Signature header that does not parse.
	ErrBadSignatureHeader = errors.New("malformed Signature header")
	// ErrMissingHeaders is a signature that does not cover what it must,
	// or a covered header the request lacks.
	ErrMissingHeaders = errors.New("signature does not cover the required headers")
	// ErrStaleDate is a Date or (created) outside the allowed skew, or an
	// expired signature.
	ErrStaleDate = errors.New("signature date outside the allowed window")
	// ErrDigestMismatch is a Digest that does not match the body.
	ErrDigestMismatch = errors.New("digest does not match the body")
	// ErrBadSignature is a signature that does not verify with the key,
	// or a request for another host.
	ErrBadSignature = errors.New("signature does not verify")
)

// Signature is a parsed draft-cavage Signature header.
type Signature struct {
	KeyID     string
	Algorithm string   // as labelled; lower case; "" when absent
	Headers   []string // lower case, in order; "date" when absent (the draft's default)
	Signature []byte   // decoded
	Created   int64    // unix seconds; 0 when absent
	Expires   int64    // unix seconds; 0 when absent
}

// maxSignatureHeader bounds the header parsed: an RSA-4096 signature is 684
// base64 characters, and keyIds are URLs.
const maxSignatureHeader = 8 << 10

// ParseSignature parses a draft-cavage Signature header value:
// comma-separated name="value" parameters (created and expires may be bare
// integers). It refuses duplicate and unknown-but-malformed parameters,
// a missing keyId, signature or an empty headers list, and never panics.
// Unknown well-formed parameters are ignored, as the draft asks; names
// count only as the draft spells them (keyId, algorithm, headers,
// signature, created, expires), and headers are names apart by single
// spaces: as httpsig reads them, so that the signing string VerifyKey
// builds is the one httpsig would.
func ParseSignature(header string) (Signature, error) {
	var s Signature
	if len(header) > maxSignatureHeader {
		return s, fmt.Errorf("%w: longer than %d bytes", ErrBadSignatureHeader, maxSignatureHeader)
	}
	seen := map[string]bool{}
	rest := header
	var sigText, headersText string
	haveHeaders := false
	for {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return Signature{}, fmt.Errorf("%w: parameter without a value near %q", ErrBadSignatureHeader, cut(rest))
		}
		// Names as the draft spells them (keyId): httpsig, whose
		// verifier also reads the header, knows no other spelling.
		name := strings.TrimSpace(rest[:eq])
		if !token(name) {
			return Signature{}, fmt.Errorf("%w: bad parameter name %q", ErrBadSignatureHeader, cut(name))
		}
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var value string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return Signature{}, fmt.Errorf("%w: unterminated quoted value of %s", ErrBadSignatureHeader, name)
			}
			value = rest[1 : 1+end]
			if strings.IndexByte(value, '\\') >= 0 {
				return Signature{}, fmt.Errorf("%w: escapes in the value of %s", ErrBadSignatureHeader, name)
			}
			rest = rest[2+end:]
		} else {
			end := strings.IndexAny(rest, ", \t")
			if end < 0 {
				end = len(rest)
			}
			value = rest[:end]
			rest = rest[end:]
			if name != "created" && name != "expires" {
				return Signature{}, fmt.Errorf("%w: value of %s is not quoted", ErrBadSignatureHeader, name)
			}
		}
		rest = strings.TrimLeft(rest, " \t")
		if rest != "" {
			if rest[0] != ',' {
				return Signature{}, fmt.Errorf("%w: expected ',' near %q", ErrBadSignatureHeader, cut(rest))
			}
			rest = rest[1:]
			if strings.TrimSpace(rest) == "" {
				return Signature{}, fmt.Errorf("%w: trailing ','", ErrBadSignatureHeader)
			}
		}
		if seen[name] {
			return Signature{}, fmt.Errorf("%w: duplicate parameter %s", ErrBadSignatureHeader, name)
		}
		seen[name] = true
		switch name {
		case "keyId":
			s.KeyID = value
		case "algorithm":
			s.Algorithm = strings.ToLower(value)
		case "headers":
			headersText, haveHeaders = value, true
		case "signature":
			sigText = value
		case "created", "expires":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n <= 0 {
				return Signature{}, fmt.Errorf("%w: %s %q is not a positive integer", ErrBadSignatureHeader, name, cut(value))
			}
			if name == "created" {
				s.Created = n
			} else {
				s.Expires = n
			}
		}
	}
	if s.KeyID == "" {
		return Signature{}, fmt.Errorf("%w: no keyId", ErrBadSignatureHeader)
	}
	for _, c := range []byte(s.KeyID) {
		if c < 0x21 || c == 0x7f {
			return Signature{}, fmt.Errorf("%w: keyId holds a control character or space", ErrBadSignatureHeader)
		}
	}
	if sigText == "" {
		return Signature{}, fmt.Errorf("%w: no signature", ErrBadSignatureHeader)
	}
	raw, err := base64.StdEncoding.DecodeString(sigText)
	if err != nil || len(raw) == 0 {
		return Signature{}, fmt.Errorf("%w: signature is not base64", ErrBadSignatureHeader)
	}
	s.Signature = raw
	if !haveHeaders {
		s.Headers = []string{"date"}
	} else {
		// Names apart by one space each, as httpsig splits them (and as
		// every signer writes them): the signing string it builds is the
		// one that verifies.
		if headersText == "" {
			return Signature{}, fmt.Errorf("%w: empty headers", ErrBadSignatureHeader)
		}
		for _, h := range strings.Split(headersText, " ") {
			if h == "" {
				return Signature{}, fmt.Errorf("%w: headers %q: names must be apart by one space", ErrBadSignatureHeader, cut(headersText))
			}
			h = strings.ToLower(h)
			for _, prev := range s.Headers {
				if prev == h {
					return Signature{}, fmt.Errorf("%w: %s listed twice in headers", ErrBadSignatureHeader, h)
				}
			}
			s.Headers = append(s.Headers, h)
		}
		if len(s.Headers) == 0 {
			return Signature{}, fmt.Errorf("%w: empty headers", ErrBadSignatureHeader)
		}
	}
	return s, nil
}

func token(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// cut shortens what a peer sent for an error message.
func cut(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Covers reports whether the signature covers the header h (lower case).
func (s Signature) Covers(h string) bool {
	for _, x := range s.Headers {
		if x == h {
			return true
		}
	}
	return false
}

// maxDigestHeader bounds the Digest header parsed.
const maxDigestHeader = 4 << 10

// CheckDigest checks an RFC 3230 Digest header against body. The header
// may list several digests, comma-separated; a SHA-256 one is required
// (the algorithm name compared without case) and must match. Other
// algorithms are ignored. A header with two SHA-256 digests is refused.
func CheckDigest(header string, body []byte) error {
	if strings.TrimSpace(header) == "" {
		return fmt.Errorf("%w: no Digest header", ErrMissingHeaders)
	}
	if len(header) > maxDigestHeader {
		return fmt.Errorf("%w: Digest header longer than %d bytes", ErrDigestMismatch, maxDigestHeader)
	}
	var want []byte
	for _, part := range strings.Split(header, ",") {
		algo, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || algo == "" {
			return fmt.Errorf("%w: malformed Digest %q", ErrDigestMismatch, cut(part))
		}
		if !strings.EqualFold(algo, "SHA-256") {
			continue
		}
		if want != nil {
			return fmt.Errorf("%w: two SHA-256 digests", ErrDigestMismatch)
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil || len(b) != sha256.Size {
			return fmt.Errorf("%w: SHA-256 digest %q is not 32 bytes in base64", ErrDigestMismatch, cut(value))
		}
		want = b
	}
	if want == nil {
		return fmt.Errorf("%w: the Digest has no SHA-256 value", ErrDigestMismatch)
	}
	got := sha256.Sum256(body)
	if subtle.ConstantTimeCompare(got[:], want) != 1 {
		return fmt.Errorf("%w: SHA-256 of the %d-byte body differs from the Digest header", ErrDigestMismatch, len(body))
	}
	return nil
}

// DefaultSkew is how far a signature's Date or (created) may be from now,
// either way, unless VerifyOptions says otherwise: Mastodon's one hour.
const DefaultSkew = time.Hour

// VerifyOptions are what Check and Verify compare a request with.
type VerifyOptions struct {
	// Host is the node's public host (with ":port" when not the scheme's
	// default), as peers sign it. The request's Host must be it.
	Host string
	// Now is the time to check Date and (created) against.
	Now time.Time
	// Skew is how far Date or (created) may be from Now; 0: DefaultSkew.
	Skew time.Duration
}

// Checked is a request that passed the cheap checks; Verify does the RSA
// work. It may be called more than once (with a refetched key).
type Checked struct {
	Signature Signature
	v         httpsig.Verifier
	req       *http.Request // what httpsig reads: method, URL, the signed headers and Host
	digest    []byte        // SHA-256 of the signing string, once VerifyKey built it
}

// KeyID is the signature's keyId.
func (c *Checked) KeyID() string { return c.Signature.KeyID }

// Verify checks the signature with an RSA public key. Whatever the
// algorithm label says (rsa-sha256 or hs2019), it checks RSASSA-PKCS1-v1_5
// with SHA-256, as Mastodon, GoToSocial and Fedify do.
func (c *Checked) Verify(key *rsa.PublicKey) error {
	if key == nil {
		return fmt.Errorf("%w: no key", ErrBadSignature)
	}
	if err := c.v.Verify(key, httpsig.RSA_SHA256); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return nil
}

// VerifyKey is Verify with a key prepared once (see PublicKey): the
// signing string as httpsig builds it (see signingString), verified
// with the key's modulus kept. TestVerifyKeyMatchesHTTPSig and
// FuzzVerifyKeyMatchesHTTPSig hold it to Verify.
func (c *Checked) VerifyKey(key *PublicKey) error {
	if key == nil {
		return fmt.Errorf("%w: no key", ErrBadSignature)
	}
	if c.digest == nil {
		text, err := c.signingString()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
		d := sha256.Sum256([]byte(text))
		c.digest = d[:]
	}
	if err := key.VerifySHA256(c.digest, c.Signature.Signature); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return nil
}

// signingString is the draft-cavage signing string of the checked
// request, built as go-fed/httpsig v1.1.0 builds it for its verifier
// (signatureString and addRequestTarget in its signing.go): for each
// signed name in order, lower case, "name: value" lines joined by "\n";
// (request-target) is the lower-case method, a space, the URL's path
// and "?query" when there is one; (created) and (expires) their
// parameters; a header its values, each trimmed, joined by ", ".
func (c *Checked) signingString() (string, error) {
	var b strings.Builder
	for i, name := range c.Signature.Headers {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(name)
		b.WriteString(": ")
		switch name {
		case httpsig.RequestTarget:
			b.WriteString(strings.ToLower(c.req.Method))
			b.WriteByte(' ')
			b.WriteString(c.req.URL.Path)
			if c.req.URL.RawQuery != "" {
				b.WriteByte('?')
				b.WriteString(c.req.URL.RawQuery)
			}
		case "(created)":
			if c.Signature.Created == 0 {
				return "", errors.New("missing created value")
			}
			b.WriteString(strconv.FormatInt(c.Signature.Created, 10))
		case "(expires)":
			if c.Signature.Expires == 0 {
				return "", errors.New("missing expires value")
			}
			b.WriteString(strconv.FormatInt(c.Signature.Expires, 10))
		default:
			values, ok := c.req.Header[textproto.CanonicalMIMEHeaderKey(name)]
			if !ok {
				return "", fmt.Errorf("missing header %q", name)
			}
			for j, v := range values {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(strings.TrimSpace(v))
			}
		}
	}
	return b.String(), nil
}

// Check does every check of an incoming signed request that needs no key,
// in the order cheapest first: a draft-cavage Signature header (an RFC
// 9421 Signature-Input alone is ErrUnsupportedScheme), its parameters, the
// headers it covers ((request-target), host, date or (created), and
// digest when there is a body or the method is POST), the request's Host
// against opts.Host, the Date or (created) within the skew, and the Digest
// against body. body is the request's body as read (nil for a GET).
func Check(r *http.Request, body []byte, opts VerifyOptions) (*Checked, error) {
	header := r.Header.Values("Signature")
	if len(header) == 0 {
		if r.Header.Get("Signature-Input") != "" {
			return nil, fmt.Errorf("%w: RFC 9421 signatures are not supported; sign with draft-cavage HTTP signatures", ErrUnsupportedScheme)
		}
		if a := r.Header.Get("Authorization"); a != "" && !hasPrefixFold(a, "Signature ") {
			return nil, fmt.Errorf("%w: Authorization is not an HTTP signature", ErrUnsupportedScheme)
		}
		return nil, ErrNoSignature
	}
	if len(header) > 1 {
		return nil, fmt.Errorf("%w: more than one Signature header", ErrBadSignatureHeader)
	}
	s, err := ParseSignature(header[0])
	if err != nil {
		if r.Header.Get("Signature-Input") != "" {
			return nil, fmt.Errorf("%w: RFC 9421 signatures are not supported; sign with draft-cavage HTTP signatures", ErrUnsupportedScheme)
		}
		return nil, err
	}
	switch s.Algorithm {
	case "", "rsa-sha256", "hs2019":
	default:
		return nil, fmt.Errorf("%w: algorithm %q (want rsa-sha256 or hs2019)", ErrUnsupportedScheme, cut(s.Algorithm))
	}
	needBody := body != nil || r.Method == http.MethodPost
	need := []string{httpsig.RequestTarget, "host"}
	if needBody {
		need = append(need, "digest")
	}
	for _, h := range need {
		if !s.Covers(h) {
			return nil, fmt.Errorf("%w: %s is not signed (signed: %s)", ErrMissingHeaders, h, strings.Join(s.Headers, " "))
		}
	}
	// (created) stands in for date with hs2019.
	if !s.Covers("date") && !(s.Covers("(created)") && s.Created != 0) {
		return nil, fmt.Errorf("%w: neither date nor (created) is signed", ErrMissingHeaders)
	}
	for _, h := range s.Headers {
		switch h {
		case httpsig.RequestTarget, "host":
		case "(created)":
			if s.Created == 0 {
				return nil, fmt.Errorf("%w: (created) signed without a created parameter", ErrMissingHeaders)
			}
		case "(expires)":
			if s.Expires == 0 {
				return nil, fmt.Errorf("%w: (expires) signed without an expires parameter", ErrMissingHeaders)
			}
		default:
			if len(r.Header.Values(h)) == 0 {
				return nil, fmt.Errorf("%w: %s is signed but not sent", ErrMissingHeaders, h)
			}
		}
	}
	if !sameHost(r.Host, opts.Host) {
		return nil, fmt.Errorf("%w: the request is for host %q, this node is %q", ErrBadSignature, cut(r.Host), opts.Host)
	}
	skew := opts.Skew
	if skew <= 0 {
		skew = DefaultSkew
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	within := func(t time.Time) bool { d := now.Sub(t); return d <= skew && d >= -skew }
	if s.Covers("date") {
		d, err := http.ParseTime(r.Header.Get("Date"))
		if err != nil {
			return nil, fmt.Errorf("%w: Date %q does not parse", ErrStaleDate, cut(r.Header.Get("Date")))
		}
		if !within(d) {
			return nil, fmt.Errorf("%w: Date %s is more than %s from this node's time %s", ErrStaleDate,
				d.UTC().Format(time.RFC3339), skew, now.UTC().Format(time.RFC3339))
		}
	}
	if s.Created != 0 && !within(time.Unix(s.Created, 0)) {
		return nil, fmt.Errorf("%w: created %d is more than %s from this node's time", ErrStaleDate, s.Created, skew)
	}
	if s.Expires != 0 && now.After(time.Unix(s.Expires, 0).Add(skew)) {
		return nil, fmt.Errorf("%w: the signature expired at %d", ErrStaleDate, s.Expires)
	}
	if needBody || s.Covers("digest") {
		if err := CheckDigest(r.Header.Get("Digest"), body); err != nil {
			return nil, err
		}
	}
	// httpsig builds the signing string from the headers as signed: the
	// Host as the peer sent it (checked above to be the public host, so a
	// request a proxy passes on verifies the same) and the request's path
	// and query.
	// Only what httpsig reads is copied (the signature's parameters and
	// the signed headers, their values shared, never changed), not the
	// whole header.
	h := make(http.Header, len(s.Headers)+3)
	for _, k := range []string{"Signature", "Authorization"} {
		if v, ok := r.Header[k]; ok {
			h[k] = v
		}
	}
	for _, name := range s.Headers {
		k := textproto.CanonicalMIMEHeaderKey(name)
		if v, ok := r.Header[k]; ok {
			h[k] = v
		}
	}
	h.Set("Host", r.Host)
	rr := &http.Request{Method: r.Method, URL: r.URL, Header: h, Host: r.Host}
	v, err := httpsig.NewVerifier(rr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignatureHeader, err)
	}
	if v.KeyId() != s.KeyID {
		// httpsig splits parameters on every comma; ours does not.
		return nil, fmt.Errorf("%w: keyId %q holds a comma", ErrBadSignatureHeader, cut(s.KeyID))
	}
	return &Checked{Signature: s, v: v, req: rr}, nil
}

// Verify checks a signed request (see Check) and then its signature with
// the key that key returns for the signature's keyId. It returns the keyId.
func Verify(r *http.Request, body []byte, opts VerifyOptions, key func(keyID string) (*rsa.PublicKey, error)) (string, error) {
	c, err := Check(r, body, opts)
	if err != nil {
		return "", err
	}
	k, err := key(c.KeyID())
	if err != nil {
		return c.KeyID(), fmt.Errorf("%w: key %s: %w", ErrBadSignature, c.KeyID(), err)
	}
	return c.KeyID(), c.Verify(k)
}

// sameHost compares hosts without case, a default port (:80, :443) being
// the same as none.
func sameHost(a, b string) bool {
	norm := func(h string) string {
		h = strings.ToLower(h)
		if host, port, err := net.SplitHostPort(h); err == nil && (port == "80" || port == "443") {
			if strings.Contains(host, ":") {
				return "[" + host + "]"
			}
			return host
		}
		return h
	}
	return a != "" && norm(a) == norm(b)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
