package sig

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-fed/httpsig"
)

// Headers signed on the way out, in this order. GETs sign no digest.
var (
	postHeaders = []string{httpsig.RequestTarget, "host", "date", "digest"}
	getHeaders  = []string{httpsig.RequestTarget, "host", "date"}
)

// Digest is the RFC 3230 Digest header value of body: "SHA-256=<base64>".
func Digest(body []byte) string {
	sum := sha256.Sum256(body)
	return "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
}

// Sign signs r with the RSA key whose id is keyID. For a request with a
// body (a POST) it sets Digest and signs (request-target) host date digest;
// without (a GET) it signs (request-target) host date. It sets Date from
// now and Host from r.URL.Host unless r.Host is set (a dev-hosts mapping
// dials another address but keeps the peer's host name).
func Sign(r *http.Request, keyID string, key *rsa.PrivateKey, body []byte, now time.Time) error {
	digest := ""
	if body != nil {
		digest = Digest(body)
	}
	return SignDigest(r, keyID, key, digest, now)
}

// SignDigest is Sign for a caller that has the body's Digest (Digest(body))
// already, or "" for a request without a body. A fan-out sends one body to
// many inboxes: its digest is the same for all of them, and only the
// signature, which covers the inbox's path and host, differs.
func SignDigest(r *http.Request, keyID string, key *rsa.PrivateKey, digest string, now time.Time) error {
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	r.Header.Set("Host", host)
	r.Header.Set("Date", now.UTC().Format(http.TimeFormat))
	headers := getHeaders
	if digest != "" {
		r.Header.Set("Digest", digest)
		headers = postHeaders
	}
	// httpsig labels RSA-SHA256 signatures "hs2019", as GoToSocial does;
	// Mastodon, GoToSocial and Fedify verify RSA-SHA256 under that label.
	// The digest is set above, so httpsig is not given the body: it would
	// compute a second Digest header of its own.
	signer, _, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.RSA_SHA256}, httpsig.DigestSha256, headers, httpsig.Signature, 0)
	if err != nil {
		return fmt.Errorf("sig: new signer: %w", err)
	}
	if err := signer.SignRequest(key, keyID, r, nil); err != nil {
		return fmt.Errorf("sig: sign %s %s: %w", r.Method, r.URL, err)
	}
	// Go sends r.Host, not r.Header["Host"]; keep them the same.
	r.Host = host
	r.Header.Del("Host")
	return nil
}

// ParsePrivateKey reads an actor's private key as store keeps it: PKCS#8
// PEM (PKCS#1 accepted too). The key comes back with its CRT values
// precomputed (x509 does it; Precompute again is free and says so here):
// without them every signature would redo that work, and an RSA-2048
// signature by the CRT is several times cheaper than without. Callers
// that sign often parse once and keep the key.
func ParsePrivateKey(pemText string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("sig: private key: no PEM block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("sig: private key: %T, want RSA", k)
		}
		rk.Precompute()
		return rk, nil
	}
	k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("sig: private key: %w", err)
	}
	k.Precompute()
	return k, nil
}

// ParsePublicKey reads a publicKeyPem as actors publish it: PKIX ("PUBLIC
// KEY") or PKCS#1 ("RSA PUBLIC KEY"), RSA only.
func ParsePublicKey(pemText string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("sig: public key: no PEM block")
	}
	if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("sig: public key: %T, want RSA", k)
		}
		return rk, nil
	}
	k, err := x509.ParsePKCS1PublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("sig: public key: %w", err)
	}
	return k, nil
}

// Post sends body to inbox as an ActivityPub POST signed with the RSA key
// whose id is keyID, and returns the answer's status (its body is read
// and dropped). The bench and the test senders that act as remote actors
// use it; the delivery workers build their own requests (one digest per
// activity, a user agent, dial rules).
func Post(client *http.Client, inbox, keyID string, key *rsa.PrivateKey, body []byte, now time.Time) (int, error) {
	req, err := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/activity+json")
	if err := Sign(req, keyID, key, body, now); err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
