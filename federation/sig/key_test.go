package sig

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-fed/httpsig"
)

// testKeys are made once per test binary: RSA key generation is slow.
var testKeys = sync.OnceValue(func() map[int]*rsa.PrivateKey {
	out := map[int]*rsa.PrivateKey{}
	for _, bits := range []int{1024, 2048, 3072, 4096} {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		out[bits] = k
	}
	return out
})

// keyE3 is a 2048-bit key whose public exponent is 3 (crypto/rsa makes
// only 65537), from two primes p, q with gcd(3, p-1) = gcd(3, q-1) = 1.
var keyE3 = sync.OnceValue(func() *rsa.PrivateKey {
	three := big.NewInt(3)
	prime := func() *big.Int {
		for {
			p, err := rand.Prime(rand.Reader, 1024)
			if err != nil {
				panic(err)
			}
			if new(big.Int).Mod(new(big.Int).Sub(p, big.NewInt(1)), three).Sign() != 0 {
				return p
			}
		}
	}
	p, q := prime(), prime()
	n := new(big.Int).Mul(p, q)
	phi := new(big.Int).Mul(new(big.Int).Sub(p, big.NewInt(1)), new(big.Int).Sub(q, big.NewInt(1)))
	d := new(big.Int).ModInverse(three, phi)
	k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 3}, D: d, Primes: []*big.Int{p, q}}
	k.Precompute()
	if err := k.Validate(); err != nil {
		panic(err)
	}
	return k
})

// rawSign is textbook RSA, em^d mod n: a "signature" of any encoding,
// to test what a verifier makes of a badly padded one.
func rawSign(k *rsa.PrivateKey, em []byte) []byte {
	s := new(big.Int).Exp(new(big.Int).SetBytes(em), k.D, k.N)
	return s.FillBytes(make([]byte, k.Size()))
}

// encodeEM is the PKCS #1 v1.5 encoding of a SHA-256 digest, with a
// change applied to it when change is not nil.
func encodeEM(size int, hashed []byte, change func(em []byte) []byte) []byte {
	tLen := len(sha256DigestInfo) + len(hashed)
	em := make([]byte, size)
	em[1] = 1
	for i := 2; i < size-tLen-1; i++ {
		em[i] = 0xff
	}
	copy(em[size-tLen:], sha256DigestInfo)
	copy(em[size-len(hashed):], hashed)
	if change != nil {
		em = change(em)
	}
	return em
}

// agree checks that VerifySHA256 and crypto/rsa say the same of a
// signature, and returns whether it verified.
func agree(t *testing.T, k *rsa.PublicKey, pk *PublicKey, hashed, s []byte) bool {
	t.Helper()
	want := rsa.VerifyPKCS1v15(k, crypto.SHA256, hashed, s)
	got := pk.VerifySHA256(hashed, s)
	if (want == nil) != (got == nil) {
		t.Fatalf("VerifySHA256 = %v, crypto/rsa = %v (signature %x)", got, want, s)
	}
	return got == nil
}

// TestPublicKeyMatchesCryptoRSA: a prepared key verifies exactly what
// crypto/rsa verifies: good signatures of each key size and of the
// exponents 3 and 65537, and none of the bad ones: another digest, a
// bit flipped, the wrong length, a value not under the modulus, and
// encodings that parse as valid to a careless verifier (Bleichenbacher
// 2006: garbage after the hash, a short padding, another block type, a
// SHA-1 DigestInfo).
func TestPublicKeyMatchesCryptoRSA(t *testing.T) {
	keys := map[string]*rsa.PrivateKey{"e=3 2048": keyE3()}
	for bits, k := range testKeys() {
		keys[strconv.Itoa(bits)] = k
	}
	hashed := sha256.Sum256([]byte("a signed request"))
	other := sha256.Sum256([]byte("another request"))
	for name, k := range keys {
		t.Run(name, func(t *testing.T) {
			pk, err := NewPublicKey(&k.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			good, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, hashed[:])
			if err != nil {
				t.Fatal(err)
			}
			if !agree(t, &k.PublicKey, pk, hashed[:], good) {
				t.Fatal("a good signature does not verify")
			}
			if !agree(t, &k.PublicKey, pk, hashed[:], rawSign(k, encodeEM(k.Size(), hashed[:], nil))) {
				t.Fatal("the textbook signature of the right encoding does not verify")
			}
			flipped := bytes.Clone(good)
			flipped[len(flipped)/2] ^= 0x10
			nBytes := k.N.FillBytes(make([]byte, k.Size()))
			bad := map[string][]byte{
				"a bit flipped":      flipped,
				"one byte short":     good[1:],
				"one byte more":      append([]byte{0}, good...),
				"the modulus itself": nBytes,
				"all ones":           bytes.Repeat([]byte{0xff}, k.Size()),
				"zero":               make([]byte, k.Size()),
				"garbage after the hash": rawSign(k, encodeEM(k.Size(), hashed[:], func(em []byte) []byte {
					// The padding shortened by 8 bytes, the hash moved up,
					// garbage after it.
					tLen := len(sha256DigestInfo) + 32
					out := make([]byte, len(em))
					copy(out, em[:len(em)-tLen-1-8])
					out[len(em)-tLen-1-8] = 0
					copy(out[len(em)-tLen-8:], em[len(em)-tLen:])
					copy(out[len(em)-8:], "garbage!")
					return out
				})),
				"block type 2": rawSign(k, encodeEM(k.Size(), hashed[:], func(em []byte) []byte { em[1] = 2; return em })),
				"a padding byte not 0xff": rawSign(k, encodeEM(k.Size(), hashed[:], func(em []byte) []byte {
					em[5] = 0xfe
					return em
				})),
				"no zero before the DigestInfo": rawSign(k, encodeEM(k.Size(), hashed[:], func(em []byte) []byte {
					em[len(em)-len(sha256DigestInfo)-33] = 0xff
					return em
				})),
				"a SHA-1 DigestInfo": rawSign(k, encodeEM(k.Size(), hashed[:], func(em []byte) []byte {
					copy(em[len(em)-len(sha256DigestInfo)-32:], []byte{0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14})
					return em
				})),
			}
			for what, s := range bad {
				if agree(t, &k.PublicKey, pk, hashed[:], s) {
					t.Errorf("%s: verified", what)
				}
			}
			if agree(t, &k.PublicKey, pk, other[:], good) {
				t.Error("another digest verified")
			}
		})
	}
}

func TestNewPublicKeyRefuses(t *testing.T) {
	k := testKeys()[2048]
	bad := map[string]*rsa.PublicKey{
		"nil":                nil,
		"no modulus":         {E: 65537},
		"an even modulus":    {N: new(big.Int).Lsh(big.NewInt(1), 2048), E: 65537},
		"512 bits":           {N: new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 511), big.NewInt(1)), E: 65537},
		"an even exponent":   {N: k.N, E: 65536},
		"exponent 1":         {N: k.N, E: 1},
		"exponent over 2^31": {N: k.N, E: 1 << 32},
	}
	for name, pub := range bad {
		if _, err := NewPublicKey(pub); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzPublicKeyVerify holds VerifySHA256 to crypto/rsa on what a fuzzer
// makes of an encoding (signed as it is, textbook RSA, with a 1024-bit
// key for speed) or of a signature's bytes directly.
func FuzzPublicKeyVerify(f *testing.F) {
	k := testKeys()[1024]
	pk, err := NewPublicKey(&k.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	hashed := sha256.Sum256([]byte("a signed request"))
	good := encodeEM(k.Size(), hashed[:], nil)
	f.Add(good, false)
	f.Add(good[1:], false)
	f.Add(rawSign(k, good), true)
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, b []byte, direct bool) {
		s := b
		if !direct {
			em := make([]byte, k.Size())
			copy(em[max(0, len(em)-len(b)):], b)
			if new(big.Int).SetBytes(em).Cmp(k.N) >= 0 {
				return
			}
			s = rawSign(k, em)
		}
		agree(t, &k.PublicKey, pk, hashed[:], s)
	})
}

// fixtureRequest reads a captured request (../testdata/fixtures).
func fixtureRequest(t testing.TB, path string) (*http.Request, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	body := new(bytes.Buffer)
	body.ReadFrom(r.Body)
	if r.Method == http.MethodGet && body.Len() == 0 {
		return r, nil
	}
	return r, body.Bytes()
}

// fixtureKeys are the public keys of the captured requests' signers.
func fixtureKeys(t testing.TB) []*rsa.PublicKey {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "fixtures", "*", "*public.pem"))
	var out []*rsa.PublicKey
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParsePublicKey(string(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, k)
	}
	if len(out) < 2 {
		t.Fatalf("%d signer keys in the fixtures", len(out))
	}
	return out
}

// checkAsReceived checks a captured request as the node it was sent to
// did: for its host, at its Date.
func checkAsReceived(r *http.Request, body []byte) (*Checked, error) {
	date, err := http.ParseTime(r.Header.Get("Date"))
	if err != nil {
		date = time.Now()
	}
	return Check(r, body, VerifyOptions{Host: r.Host, Now: date})
}

// TestVerifyKeyMatchesHTTPSig: on every signed request captured from
// Fedify and GoToSocial, the signing string VerifyKey builds is the one
// Fedify logged (the .signing-string.txt files), and VerifyKey and
// httpsig's Verify give the same verdict with each signer's key: the
// right one verifies the captured signatures, the others none. (The
// GETs the voter sent GoToSocial are signed by a key not captured.)
func TestVerifyKeyMatchesHTTPSig(t *testing.T) {
	keys := fixtureKeys(t)
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "fixtures", "*", "*.http"))
	verified := 0
	for _, file := range files {
		if data, err := os.ReadFile(file); err != nil || bytes.HasPrefix(data, []byte("HTTP/")) {
			continue // an answer
		}
		r, body := fixtureRequest(t, file)
		if r.Header.Get("Signature") == "" {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			c, err := checkAsReceived(r, body)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			text, err := c.signingString()
			if err != nil {
				t.Fatal(err)
			}
			if want, err := os.ReadFile(strings.TrimSuffix(file, ".http") + ".signing-string.txt"); err == nil && text != string(want) {
				t.Errorf("signing string\n%s\nwant (as Fedify signed it)\n%s", text, want)
			}
			ok := 0
			for _, k := range keys {
				pk, err := NewPublicKey(k)
				if err != nil {
					t.Fatal(err)
				}
				want, got := c.Verify(k), c.VerifyKey(pk)
				if (want == nil) != (got == nil) {
					t.Fatalf("VerifyKey = %v, Verify = %v", got, want)
				}
				if got == nil {
					ok++
				}
			}
			if ok > 1 {
				t.Fatalf("verified with %d of the signers' keys", ok)
			}
			verified += ok
		})
	}
	t.Logf("%d captured signatures verified", verified)
	if verified < 20 {
		t.Fatalf("%d captured signatures verified, want the fixtures' 20 or more", verified)
	}
}

// FuzzVerifyKeyMatchesHTTPSig signs a request the fuzzer shapes (its
// path and query, the signed headers and their values, repeated and
// padded with spaces) with httpsig's signer, changes it after signing as
// the fuzzer says, and holds VerifyKey's verdict to httpsig's Verify.
func FuzzVerifyKeyMatchesHTTPSig(f *testing.F) {
	k := testKeys()[1024]
	pk, err := NewPublicKey(&k.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("/users/bob/inbox", "", "application/activity+json", " x ", uint8(0), uint8(0), "")
	f.Add("/inbox", "a=b&c", "text/plain", "one", uint8(7), uint8(1), " ")
	f.Add("/u/%41", "", "", "", uint8(3), uint8(2), "POST")
	f.Add("/inbox", "", "a, b", "two", uint8(5), uint8(3), "extra")
	body := []byte(`{"type":"Create"}`)
	date := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, path, query, contentType, extra string, which, change uint8, after string) {
		u := "http://node.test" + path
		if query != "" {
			u += "?" + query
		}
		r, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Date", date.Format(http.TimeFormat))
		r.Header.Set("Digest", Digest(body))
		r.Header.Set("Host", "node.test")
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if extra != "" {
			r.Header.Add("X-Extra", extra)
			r.Header.Add("X-Extra", " "+extra+" ")
		}
		headers := []string{httpsig.RequestTarget, "host", "date", "digest"}
		if which&1 != 0 && contentType != "" {
			headers = append(headers, "content-type")
		}
		if which&2 != 0 && extra != "" {
			headers = append(headers, "x-extra")
		}
		if which&4 != 0 {
			headers = append([]string{"date"}, headers[:2]...)
			headers = append(headers, "digest")
		}
		signer, _, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.RSA_SHA256}, httpsig.DigestSha256, headers, httpsig.Signature, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := signer.SignRequest(k, "https://a.test/users/alice#main-key", r, nil); err != nil {
			return
		}
		r.Host = "node.test"
		r.Header.Del("Host")
		switch change % 6 {
		case 1:
			r.Header.Set("Content-Type", after)
		case 2:
			r.Method = after
		case 3:
			r.Header.Add("X-Extra", after)
		case 4:
			r.URL.RawQuery = after
		case 5:
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), `headers="`, `headers="`+after, 1))
		}
		c, err := Check(r, body, VerifyOptions{Host: "node.test", Now: date})
		if err != nil {
			return
		}
		want, got := c.Verify(&k.PublicKey), c.VerifyKey(pk)
		if (want == nil) != (got == nil) {
			t.Fatalf("VerifyKey = %v, Verify = %v", got, want)
		}
		if change%6 == 0 && got != nil {
			t.Fatalf("an unchanged request does not verify: %v", got)
		}
	})
}
