package sig

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-fed/httpsig"
)

func TestSignVerifiesWithHTTPSig(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		method  string
		body    []byte
		headers string
	}{
		{"POST signs the digest", "POST", []byte(`{"type":"Create"}`), "(request-target) host date digest"},
		{"GET signs no digest", "GET", nil, "(request-target) host date"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(tt.method, "http://127.0.0.1:9/users/bob/inbox?x=1", bytes.NewReader(tt.body))
			r.Host = "beta.test" // dialled through a dev-hosts mapping
			if err := Sign(r, "https://a.test/users/alice#main-key", key, tt.body, now); err != nil {
				t.Fatal(err)
			}
			s := r.Header.Get("Signature")
			if !strings.Contains(s, `headers="`+tt.headers+`"`) || !strings.Contains(s, `algorithm="hs2019"`) {
				t.Fatalf("Signature = %s", s)
			}
			if r.Host != "beta.test" || r.Header.Get("Host") != "" {
				t.Fatalf("host %q, header %q", r.Host, r.Header.Get("Host"))
			}
			if r.Header.Get("Date") != "Wed, 25 Nov 2026 12:00:00 GMT" {
				t.Fatalf("Date = %q", r.Header.Get("Date"))
			}
			if tt.body != nil && r.Header.Get("Digest") != Digest(tt.body) {
				t.Fatalf("Digest = %q", r.Header.Get("Digest"))
			}
			// What a receiver sees: the Host header back in place.
			r.Header.Set("Host", r.Host)
			v, err := httpsig.NewVerifier(r)
			if err != nil {
				t.Fatal(err)
			}
			if v.KeyId() != "https://a.test/users/alice#main-key" {
				t.Fatalf("keyId %q", v.KeyId())
			}
			if err := v.Verify(&key.PublicKey, httpsig.RSA_SHA256); err != nil {
				t.Fatalf("verify: %v", err)
			}
			r.Header.Set("Host", "other.test")
			v, _ = httpsig.NewVerifier(r)
			if err := v.Verify(&key.PublicKey, httpsig.RSA_SHA256); err == nil {
				t.Fatal("a changed host still verifies")
			}
		})
	}
}

// TestSignDigest: a digest computed once signs the same request as Sign
// with the body.
func TestSignDigest(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"Create"}`)
	digest := Digest(body)
	var sigs []string
	for _, sign := range []func(*http.Request) error{
		func(r *http.Request) error { return Sign(r, "https://a.test/users/alice#main-key", key, body, now) },
		func(r *http.Request) error {
			return SignDigest(r, "https://a.test/users/alice#main-key", key, digest, now)
		},
	} {
		r, _ := http.NewRequest("POST", "https://beta.test/users/bob/inbox", bytes.NewReader(body))
		if err := sign(r); err != nil {
			t.Fatal(err)
		}
		if r.Header.Get("Digest") != digest {
			t.Fatalf("Digest = %q, want %q", r.Header.Get("Digest"), digest)
		}
		sigs = append(sigs, r.Header.Get("Signature"))
	}
	// RSA PKCS#1 v1.5 is deterministic: the same input, the same signature.
	if sigs[0] != sigs[1] {
		t.Fatalf("Sign and SignDigest differ:\n%s\n%s", sigs[0], sigs[1])
	}
}

func TestParseKeys(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	pkix, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	for name, pemText := range map[string]string{
		"PKCS#8": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		"PKCS#1": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
	} {
		k, err := ParsePrivateKey(pemText)
		if err != nil || !k.Equal(key) {
			t.Errorf("private %s: %v", name, err)
			continue
		}
		// Signing goes by the CRT only with these.
		if p := k.Precomputed; p.Dp == nil || p.Dq == nil || p.Qinv == nil {
			t.Errorf("private %s: no precomputed CRT values", name)
		}
	}
	for name, pemText := range map[string]string{
		"PKIX":   string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})),
		"PKCS#1": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)})),
	} {
		if k, err := ParsePublicKey(pemText); err != nil || !k.Equal(&key.PublicKey) {
			t.Errorf("public %s: %v", name, err)
		}
	}
	if _, err := ParsePublicKey("not a key"); err == nil {
		t.Error("garbage parsed")
	}
}
