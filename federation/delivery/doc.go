// Package delivery sends queued activities to remote inboxes: the outbound
// half of federation. The queue lives in the database (store's deliveries
// table, one row per activity and inbox, filled in the transaction that
// records the activity); Workers claim due rows under a lease, sign each
// POST with the sender's key (draft-cavage, through package sig), and
// record the outcome.
//
// # Outcomes
//
//   - 2xx: done.
//   - 410 Gone, and any other 4xx except 401, 408 and 429: dead at once.
//     The inbox refused this activity and will refuse it again. (As
//     Mastodon's ActivityPub::DeliveryWorker judges a response.)
//   - 429 and 503 with a Retry-After header (seconds or an HTTP date): the
//     next attempt at that time, capped at one day.
//   - everything else — 5xx, 401 (a peer that has not fetched our key yet),
//     408, 3xx (redirects are never followed for a POST), network errors,
//     timeouts — retried with the backoff below; dead after the last try.
//   - an inbox this node must not reach (not https in production, or an
//     address that is not public, see below) or a sender key that does not
//     parse: dead at once.
//
// # Backoff schedule
//
// After the n-th failed attempt the next one waits 30 s·2^(n-1), capped at
// 12 h, times a jitter factor drawn uniformly from [0.8, 1.2) so that
// deliveries failing together do not retry together. There are at most
// MaxAttempts = 16 attempts:
//
//	after attempt   1   2   3   4   5    6    7    8      9      10     11     12–15
//	wait           30s  1m  2m  4m  8m  16m  32m  1h04m  2h08m  4h16m  8h32m  12h each
//
// The 16th attempt comes about 65 h (2.7 days) after the first; if it
// fails the delivery is dead, and `coopfed deliveries retry` starts a fresh
// schedule. Mastodon's DeliveryWorker retries 16 times (17 attempts),
// waiting count^4 + 15 s plus up to 9·(count+1) s of jitter: 15 s, 16 s,
// 31 s, 96 s, 4.5 min, ..., 10.7 h, 14 h — about 2.1 days by the formula
// (often quoted as up to 2.6 days). The two are alike
// in shape and span: Mastodon's polynomial is denser at first (8 attempts
// in the first 40 minutes, against coopfed's 7 in 32), coopfed's doubling
// is steadier through the first day and its waits stop growing at 12 h
// (Mastodon's last is 14 h), so that a peer that is back is reached the
// same day; coopfed's last attempt comes later (2.7 days, not 2.1).
// GoToSocial retries in memory, 2 s·2^(n+1) (4 s, 8 s, 16 s, ...) for a
// handful of tries, minutes in all: an outage longer than that loses its
// deliveries, which a co-op's votes cannot afford.
//
// # Batches, leases, crashes and shutdown
//
// One goroutine claims due rows in batches (twice the workers with the
// default lease and timeout, so that a claim is one transaction for many
// rows), parses each sender's key once and digests each activity's body
// once; Config.Workers goroutines
// sign and send, one delivery each at a time, so that the RSA work runs on
// every core behind no lock; a recorder writes their outcomes in batches,
// one transaction for up to 256 (group commit).
//
// A claim sets the row in flight with a lease (default 2 min, at least
// twice the 30 s request timeout; a claimed row waits for a free worker
// only as long as its lease allows, see Workers.ahead); the outcome is recorded only
// while the claim still holds it, so a row reclaimed after its lease
// expired is settled once. A crash leaves rows in flight: they are claimed
// again when their leases expire or, with Config.Exclusive (one serve
// process per SQLite database, as coopfed runs), at once when Run starts.
// That includes rows whose request was sent but whose outcome had not been
// written yet (batching widens that window by a few milliseconds): they
// are sent again. Delivery is therefore at least once: a receiver
// deduplicates by activity id, as ActivityPub servers do. A row leaves the
// queue only when its outcome is written, so none is ever lost.
//
// When Run's context ends it stops claiming, lets requests in flight finish
// within Config.Grace, then cancels the rest and releases them, and the
// rows claimed but not started, back to the queue unattempted. No queued
// delivery is lost.
//
// # Where it connects
//
// Requests go over delivery's own HTTP client: no proxy from the
// environment, no redirects, a timeout and a response size limit. In
// production it speaks https only and refuses to dial an address that is
// not public (loopback, private, link-local, CGNAT), checked on the address
// actually dialed so that a name resolving to one is refused too. In
// development mode it also speaks plain http, and dials the loopback
// address the dev-hosts table maps a peer's host to. (The same rules as
// federation's resolver; delivery cannot import federation, which pulls in
// go-fed's streams.)
//
// delivery sends bytes: it must not import go-fed's streams or vocab.
package delivery
