// Package sig signs and checks HTTP requests between servers with
// draft-cavage HTTP signatures (draft-cavage-http-signatures-12), as
// Mastodon, GoToSocial and Fedify use them: rsa-sha256 (and hs2019 with
// RSA keys), over (request-target), host, date and, for a POST, digest
// (RFC 3230, SHA-256).
//
// Signing is go-fed/httpsig's, and so is verifying with a plain
// *rsa.PublicKey ((*Checked).Verify). The inbox verifies with a key
// prepared once (PublicKey, (*Checked).VerifyKey): the signing string as
// httpsig builds it, and RSA as crypto/rsa does it but with the
// modulus' constants kept (filippo.io/bigmod), which crypto/rsa
// recomputes at every verification; tests and fuzz targets hold it to
// httpsig and crypto/rsa. sig adds what httpsig leaves to its caller: the Host header (Go keeps it out of r.Header), Date and Digest on
// the way out, and on the way in the cheap checks that come before any RSA
// work (a recent Date, a Digest that matches the body, the headers a
// signature must cover): Check parses the Signature header with its own
// parser (ParseSignature), refuses other schemes (an RFC 9421
// Signature-Input: ErrUnsupportedScheme, so that the peer falls back) and
// does those checks; (*Checked).Verify or VerifyKey then does the RSA
// work, and may be called again with a refetched key. Every failure wraps a named error
// (ErrNoSignature, ErrBadSignatureHeader, ErrMissingHeaders, ErrStaleDate,
// ErrDigestMismatch, ErrBadSignature).
//
// sig does no I/O and must not import go-fed's streams.
package sig
