package sig

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func signedPost(t testing.TB, key *rsa.PrivateKey, body []byte) *http.Request {
	t.Helper()
	r, _ := http.NewRequest(http.MethodPost, "http://node.test/users/bob/inbox", bytes.NewReader(body))
	if err := Sign(r, "https://a.test/users/alice#main-key", key, body, now); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCheckAndVerify(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	body := []byte(`{"type":"Create"}`)
	opts := VerifyOptions{Host: "node.test", Now: now.Add(30 * time.Minute)}
	tests := []struct {
		name   string
		change func(r *http.Request) ([]byte, VerifyOptions)
		key    *rsa.PublicKey
		want   error
	}{
		{"a good signature verifies", nil, &key.PublicKey, nil},
		{"another key fails", nil, &other.PublicKey, ErrBadSignature},
		{"no signature", func(r *http.Request) ([]byte, VerifyOptions) {
			r.Header.Del("Signature")
			return body, opts
		}, &key.PublicKey, ErrNoSignature},
		{"RFC 9421 alone is an unsupported scheme", func(r *http.Request) ([]byte, VerifyOptions) {
			r.Header.Del("Signature")
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri");created=1`)
			return body, opts
		}, &key.PublicKey, ErrUnsupportedScheme},
		{"RFC 9421 Signature is an unsupported scheme", func(r *http.Request) ([]byte, VerifyOptions) {
			r.Header.Set("Signature", `sig1=:AAAA:`)
			r.Header.Set("Signature-Input", `sig1=("@method");created=1`)
			return body, opts
		}, &key.PublicKey, ErrUnsupportedScheme},
		{"garbage header", func(r *http.Request) ([]byte, VerifyOptions) {
			r.Header.Set("Signature", `keyId=,,,`)
			return body, opts
		}, &key.PublicKey, ErrBadSignatureHeader},
		{"changed body fails the digest", func(r *http.Request) ([]byte, VerifyOptions) {
			return []byte(`{"type":"Delete"}`), opts
		}, &key.PublicKey, ErrDigestMismatch},
		{"date an hour and a minute old is stale", func(r *http.Request) ([]byte, VerifyOptions) {
			o := opts
			o.Now = now.Add(61 * time.Minute)
			return body, o
		}, &key.PublicKey, ErrStaleDate},
		{"date from the future beyond skew is stale", func(r *http.Request) ([]byte, VerifyOptions) {
			o := opts
			o.Now = now.Add(-2 * time.Hour)
			return body, o
		}, &key.PublicKey, ErrStaleDate},
		{"a configured skew widens the window", func(r *http.Request) ([]byte, VerifyOptions) {
			o := opts
			o.Now, o.Skew = now.Add(48*time.Hour), 72*time.Hour
			return body, o
		}, &key.PublicKey, nil},
		{"another host is refused", func(r *http.Request) ([]byte, VerifyOptions) {
			r.Host = "other.test"
			return body, opts
		}, &key.PublicKey, ErrBadSignature},
		{"host with default port is the same", func(r *http.Request) ([]byte, VerifyOptions) {
			o := opts
			o.Host = "node.test:80"
			return body, o
		}, &key.PublicKey, nil},
		{"another path fails", func(r *http.Request) ([]byte, VerifyOptions) {
			r.URL.Path = "/inbox"
			return body, opts
		}, &key.PublicKey, ErrBadSignature},
		{"digest not signed", func(r *http.Request) ([]byte, VerifyOptions) {
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), " digest", "", 1))
			return body, opts
		}, &key.PublicKey, ErrMissingHeaders},
		{"host not signed", func(r *http.Request) ([]byte, VerifyOptions) {
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), " host", "", 1))
			return body, opts
		}, &key.PublicKey, ErrMissingHeaders},
		{"no date nor created signed", func(r *http.Request) ([]byte, VerifyOptions) {
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), " date", "", 1))
			return body, opts
		}, &key.PublicKey, ErrMissingHeaders},
		{"unknown algorithm", func(r *http.Request) ([]byte, VerifyOptions) {
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), "hs2019", "ed25519", 1))
			return body, opts
		}, &key.PublicKey, ErrUnsupportedScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := signedPost(t, key, body)
			r.Host = "node.test"
			b, o := body, opts
			if tt.change != nil {
				b, o = tt.change(r)
			}
			keyID, err := Verify(r, b, o, func(string) (*rsa.PublicKey, error) { return tt.key, nil })
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if err == nil && keyID != "https://a.test/users/alice#main-key" {
				t.Fatalf("keyID = %q", keyID)
			}
		})
	}
}

func TestParseSignature(t *testing.T) {
	good := `keyId="https://a.test/k",algorithm="hs2019",created=1700000000,expires=1700000600,headers="(request-target) (created) host digest",signature="AAAA"`
	s, err := ParseSignature(good)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeyID != "https://a.test/k" || s.Algorithm != "hs2019" || s.Created != 1700000000 || s.Expires != 1700000600 ||
		strings.Join(s.Headers, " ") != "(request-target) (created) host digest" || len(s.Signature) != 3 {
		t.Fatalf("%+v", s)
	}
	for _, tt := range []struct{ name, header string }{
		{"empty", ""},
		{"duplicate keyId", `keyId="a",keyId="b",signature="AAAA"`},
		{"no keyId", `signature="AAAA"`},
		{"no signature", `keyId="a"`},
		{"signature not base64", `keyId="a",signature="%%%"`},
		{"unterminated quote", `keyId="a,signature="AAAA"`},
		{"unquoted keyId", `keyId=a,signature="AAAA"`},
		{"trailing comma", `keyId="a",signature="AAAA",`},
		{"created not a number", `keyId="a",signature="AAAA",created=x`},
		{"empty headers", `keyId="a",signature="AAAA",headers=""`},
		{"header twice", `keyId="a",signature="AAAA",headers="date date"`},
		{"garbage between", `keyId="a" x signature="AAAA"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseSignature(tt.header); !errors.Is(err, ErrBadSignatureHeader) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestCheckDigest(t *testing.T) {
	body := []byte("hello")
	d := Digest(body)
	for _, tt := range []struct {
		name, header string
		want         error
	}{
		{"SHA-256 matches", d, nil},
		{"algorithm without case", "sha-256=" + strings.TrimPrefix(d, "SHA-256="), nil},
		{"several digests", "MD5=XUFAKrxLKna5cZ2REBfFkg==, " + d, nil},
		{"no header", "", ErrMissingHeaders},
		{"only SHA-512", "SHA-512=AAAA", ErrDigestMismatch},
		{"mismatch", Digest([]byte("other")), ErrDigestMismatch},
		{"two SHA-256", d + "," + d, ErrDigestMismatch},
		{"not base64", "SHA-256=%%%", ErrDigestMismatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckDigest(tt.header, body)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("CheckDigest(%q) = %v, want %v", tt.header, err, tt.want)
			}
		})
	}
}

// fixtureHeaders returns every value of the named header in the captured
// requests of ../testdata/fixtures.
func fixtureHeaders(t testing.TB, name string) []string {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "fixtures", "*", "*.http"))
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := strings.TrimRight(sc.Text(), "\r")
			if line == "" {
				break
			}
			if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
				out = append(out, strings.TrimSpace(v))
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s headers in the fixtures", name)
	}
	return out
}

func TestFixtureSignaturesParse(t *testing.T) {
	for _, h := range fixtureHeaders(t, "Signature") {
		if _, err := ParseSignature(h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
}

func FuzzParseSignature(f *testing.F) {
	for _, h := range fixtureHeaders(f, "Signature") {
		f.Add(h)
	}
	f.Add(`keyId="a",created=1,expires=2,headers="(created)",signature="AA=="`)
	f.Fuzz(func(t *testing.T, header string) {
		s, err := ParseSignature(header)
		if err != nil {
			return
		}
		if s.KeyID == "" || len(s.Signature) == 0 || len(s.Headers) == 0 {
			t.Fatalf("accepted an incomplete signature: %+v", s)
		}
	})
}

func FuzzCheckDigest(f *testing.F) {
	for _, h := range fixtureHeaders(f, "Digest") {
		f.Add(h, []byte("{}"))
	}
	f.Add(Digest([]byte("x")), []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := CheckDigest(header, body)
		if err == nil && !strings.Contains(strings.ToLower(header), "sha-256=") {
			t.Fatalf("accepted %q without a SHA-256 digest", header)
		}
	})
}

// TestCreatedStandsInForDate: an hs2019 signature over (created) instead
// of date, as RFC-9421-era signers make, verifies; a stale one does not.
func TestCreatedStandsInForDate(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	body := []byte(`{"type":"Follow"}`)
	sign := func(created time.Time) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://node.test/inbox", bytes.NewReader(body))
		r.Header.Set("Digest", Digest(body))
		c := strconv.FormatInt(created.Unix(), 10)
		s := "(request-target): post /inbox\n(created): " + c + "\nhost: node.test\ndigest: " + Digest(body)
		h := sha256.Sum256([]byte(s))
		raw, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Signature", `keyId="https://a.test/k",algorithm="hs2019",created=`+c+
			`,headers="(request-target) (created) host digest",signature="`+base64.StdEncoding.EncodeToString(raw)+`"`)
		return r
	}
	now := time.Now()
	key1 := func(string) (*rsa.PublicKey, error) { return &key.PublicKey, nil }
	if _, err := Verify(sign(now), body, VerifyOptions{Host: "node.test", Now: now}, key1); err != nil {
		t.Fatalf("fresh (created): %v", err)
	}
	if _, err := Verify(sign(now.Add(-2*time.Hour)), body, VerifyOptions{Host: "node.test", Now: now}, key1); !errors.Is(err, ErrStaleDate) {
		t.Fatalf("stale (created): %v", err)
	}
}
