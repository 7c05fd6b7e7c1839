// Package federation is coopfed's ActivityPub side: everything a peer
// server sees of the node.
//
// It owns:
//
//   - WebFinger (RFC 7033) at /.well-known/webfinger, with host-meta
//     (RFC 6415) in XRD and JSON, and NodeInfo 2.1 — webfinger.go,
//     nodeinfo.go;
//   - the actors, as ActivityStreams documents: the co-op as an
//     Organization, each member as a Person, each project as a Group,
//     answering 410 Gone with a Tombstone once removed — actor.go;
//   - their outbox, followers and following, and the co-op's members, as
//     paged OrderedCollections — collections.go;
//   - the Resolver, which finds a remote account's actor with WebFinger for
//     coop's use cases — resolver.go;
//   - the conversion of coopfed's domain types (package coop) into
//     ActivityStreams, in one file, convert.go;
//   - the inboxes, POST /users/{handle}/inbox and the shared POST /inbox,
//     which check a request's size, Content-Type and HTTP signature (package
//     sig), the key's owner against the activity's actor and the origin of
//     what it carries, then store it and queue its processing in one
//     statement (or, when it needs nothing fetched and nothing of its
//     actor waits, store and apply it in one transaction) before
//     answering 202 — inbox.go;
//   - signed GETs of remote documents under the dial rules shared with the
//     Resolver (no private or loopback address outside development mode,
//     every redirect hop checked again), and the remote actor cache with
//     key look-up checked both ways and one refetch on a failed signature —
//     fetch.go, remote.go;
//   - the Processor, a pool of workers that applies accepted activities
//     (Follow, Undo{Follow}, Accept/Reject of our follows, Update and Delete
//     of remote actors, Create{Note} to local actors) from the database,
//     crash-safe by lease — process.go;
//   - the proposals' inbound side: Mastodon-style poll votes
//     (Create{Note{name, inReplyTo}} replying to a local proposal, no
//     content; one per option, or several Notes in one Create), direct
//     messages (link codes) and boosts of proposals, handed to a
//     ProposalInbox (coop.Service) in the transaction that applies their
//     activity — votes.go;
//   - contribution records by visibility: from the project's Group to the
//     remote actors who take part only (Create{Note}, Update{Note} per
//     decision, one digest per import, with coop:contribution), stored
//     when a peer's project Group sends them to a local member, and
//     remote maintainers' Accept/Reject of a record's URL handed to a
//     ContributionInbox (coop.Service) — contributions.go;
//   - blocked domains and accounts: 403 on their inbox POSTs before any
//     signature work or fetch, nothing fetched from them, nothing delivered
//     to them — blocks.go;
//   - rate limits, by client address before anything else (package
//     ratelimit, which also reads X-Forwarded-For from trusted proxies) and
//     by the verified key's host after the signature, 429 with
//     Retry-After — limits.go;
//   - remote HTML (note content) cleaned with bluemonday by a policy like
//     Mastodon's, and remote names kept as plain text, before they are
//     stored — sanitize.go;
//   - the Publisher (coop.Publisher): posts as Create{Note}, Follow, Undo,
//     Accept/Reject, Update of an actor, recorded and queued for delivery
//     in the use case's transaction — publish.go, note.go;
//   - proposals as Mastodon polls: a Create{Question} (single choice,
//     multiple choice, consent) or a Create{Note} (ranked, score) from the
//     group that decides, Update{Question}s with the live counts, the
//     final Update and a Note announcing the decision with coop:decision,
//     and direct messages from a local actor; the Question (or Note) with
//     its counts now served at the proposal's page to ActivityPub
//     clients — question.go;
//   - projects that travel between federation members (Add to
//     coop:projects, Update{Group}) — projects.go; and the backfill from
//     members' outboxes and coop:projects — backfill.go.
//
// Subpackages that do not import streams: sig (HTTP signatures), delivery
// (the outbound queue's workers), netpolicy (the dial rules of every
// outgoing request), ratelimit, negotiate.
//
// # What it alone imports
//
// federation is the only package that imports github.com/go-fed/activity
// (streams and vocab): about 700 generated files that are slow to compile.
// Everything else passes plain Go values (coop.Actor, coop.Project, ...),
// and federation copies their fields into ActivityStreams types explicitly.
// It must not import handlers. It reads documents' data through the narrow
// Store interface, which *store.DB implements; the inboxes, the remote
// actor cache and the Processor use *store.DB itself, for its write
// transactions (store never imports federation, so the arrow points one
// way).
//
// # Documents
//
// Documents are built with streams for every type and property go-fed
// v1.0.0 knows, serialized with streams.Serialize, and completed in the
// serialized map with what the fediverse uses and go-fed lacks (endpoints,
// manuallyApprovesFollowers, PropertyValue attachments) and with coopfed's
// own terms (coop:repository, coop:licence, coop:tags, coop:needs,
// coop:maintainers on a project's Group; coop:members on the co-op's
// Organization), under the namespace https://coopfed.org/ns#. The @context
// is then rewritten to the two context URLs every peer ships with
// (ActivityStreams and https://w3id.org/security/v1) plus an inline object
// defining every other term, as Mastodon does: a strict JSON-LD peer
// (Fedify offline) refuses a context URL it would have to fetch, such as
// the "http://joinmastodon.org/ns" that streams.Serialize would write.
// What Mastodon shows is kept readable: a project's facts are also in its
// HTML summary and in profile fields (PropertyValue attachments).
//
// An actor's document is rendered once per revision of the actor and
// cached in memory: each request reads the actor's row, so that a change
// made by the CLI is served at once, and renders again only when the row's
// Revision has moved. With *store.DB that read is one prepared query for
// the ID and Revision (store's PrepareActorRevision, an optional method the
// Store interface does not require); another Store has its whole row read.
//
// # go-fed's pub
//
// go-fed's pub package is a set of contracts (Database, Clock,
// CommonBehavior, FederatingProtocol) around its own inbox, outbox and
// delivery machinery. This issue serves documents with its own handlers
// instead of pub.NewActivityStreamsHandler, for reasons pub cannot
// accommodate: that handler recognizes ActivityPub requests by substring
// (no q-values, no */*, no default per URL), serializes on every request
// with streams' @context, and needs a Database keyed by IRI that would have
// to rebuild coopfed's actors from the store on each Get. The inbox does
// not use pub's FederatingProtocol either: pub processes an activity in the
// request that delivered it, while coopfed answers 202 only once the
// activity is stored and processes it later from the database, so that a
// crash loses nothing; and pub's authentication hook would still leave
// Date, Digest, host and the actor/key owner checks to the app. Incoming
// activities are read as JSON by hand (decodeActivity, with depth, size and
// duplicate-member limits) rather than with streams: the fields used are
// few, and peers' shapes vary beyond go-fed v1.0.0's vocabulary. It
// follows pub where pub is right: a removed object answers 410 with a
// Tombstone, the same documents for application/activity+json and
// application/ld+json with the ActivityStreams profile, and a browser at
// the same URL is left to the web pages.
package federation
