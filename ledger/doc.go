// Package ledger is coopfed's decision log: the canonical records, the
// Merkle tree over them, proofs, signed checkpoints, cosignatures, tiles,
// receipts, and the maths of witnessing and verifying. It is exact and
// does no I/O: storage is reached through tlog.HashReader and record
// callbacks, time is an argument, and nothing is logged. It imports only
// the standard library, golang.org/x/mod/sumdb/{tlog,note},
// filippo.io/torchwood (the C2SP formats) and github.com/gowebpki/jcs;
// never store, coop, federation or handlers (TestImports). Values are
// safe for concurrent use except a Hasher, which is one caller's.
//
// # Records
//
// Record n of the log is the RFC 8785 (JSON Canonicalization Scheme)
// encoding of event n (Record.Encode): type, time, principal, channel,
// subject, data and state hash; integers only, at most 65535 bytes.
// Personal data goes in as salted commitments (Commit), so that erasing
// the plain value and its salt leaves the log verifiable.
//
// # Tree and proofs
//
// The tree is RFC 6962's, computed with golang.org/x/mod/sumdb/tlog:
// AppendHashes (tlog.StoredHashes) gives the hashes to store with each
// record; Hasher computes them without reads. Proofs (ProveInclusion,
// ProveConsistency) are written one base64 hash per line (FormatProof).
//
// # Checkpoints, signatures and cosignatures
//
// A checkpoint is c2sp.org/tlog-checkpoint text (origin, size, root; no
// extension lines), signed as a c2sp.org/signed-note with the log's
// Ed25519 key, whose name is the origin. Witnesses cosign per
// c2sp.org/tlog-cosignature (cosignature/v1, Ed25519, signature type
// 0x04, with a timestamp passed in by the caller), after checking the new
// checkpoint against the last one they kept (CheckAdvance). Their request
// and response bodies follow c2sp.org/tlog-witness (FormatAddCheckpoint,
// Cosign).
//
// # Serving
//
// The log is served as c2sp.org/tlog-tiles with height 8: "checkpoint",
// "tile/L/N[.p/W]" (TileData) and "tile/entries/N[.p/W]" (EntryBundle);
// PathLifetime says which may be cached forever.
//
// # Receipts
//
// A receipt is a c2sp.org/tlog-proof@v1 text with the record as its
// extra data: offline-verifiable with the log's and the witnesses' keys
// (VerifyReceipt).
//
// # Witnessing
//
// A witness keeps the last checkpoint it accepted for each log, checks the
// next one with CheckAdvance (same origin, no shrink, no fork at one
// size, a valid consistency proof) and only then cosigns it. A node that
// starts, or is about to sign, checks its own tree against the highest
// checkpoint its witnesses hold (VerifyWitnessed with its local tree as
// cur): ReasonShrink there means it was restored from an old backup, and
// it must not append.
//
// # Verifying
//
// VerifyLog recomputes the whole tree from the records and checks it
// against signed checkpoints; VerifyStored also compares every stored
// hash and names the first bad record; VerifyWitnessed checks that every
// checkpoint the witnesses hold is consistent with today's tree.
//
// # Key rotation
//
// A log whose key retires ends with a "log.closed" record naming the
// next origin and key (ClosedRecord); the next log starts with a
// "log.opened" record naming the old log's final checkpoint
// (OpenedRecord). FollowChain checks the link.
//
// Specifications:
//
//   - RFC 8785, JSON Canonicalization Scheme: https://www.rfc-editor.org/rfc/rfc8785
//   - RFC 6962, section 2.1, Merkle hash trees: https://www.rfc-editor.org/rfc/rfc6962#section-2.1
//   - https://c2sp.org/signed-note
//   - https://c2sp.org/tlog-checkpoint
//   - https://c2sp.org/tlog-cosignature
//   - https://c2sp.org/tlog-tiles
//   - https://c2sp.org/tlog-witness
//   - https://c2sp.org/tlog-proof
package ledger
