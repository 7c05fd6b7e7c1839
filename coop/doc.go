// Package coop holds coopfed's use cases: add a member, add a project, open
// a proposal, cast a vote, close it (proposals.go). A use case happens here
// once, whoever triggers it — the CLI, a web page or an incoming activity.
//
// coop owns the domain types every other layer passes around (Actor, Member,
// Project), the rules for handles, and the node's URL scheme (Site). It
// declares the storage it needs as the Store interface, which package store
// implements, and the remote look-ups it needs as Resolver, which package
// federation implements.
//
// Every use case that changes who belongs to the co-op or what it decided
// runs on behalf of a Principal (WithPrincipal; the CLI acts as
// AdminPrincipal) and appends its decision-log record (package ledger) in
// the same transaction as the change: no event without its record, no
// record without its event. The log's reads (tiles, receipts, proofs),
// its verification, key rotation and the witnessing among federation
// members (witness.go: C2SP tlog-witness, and why push) live here too;
// package federation/witness does their network I/O.
//
// Proposals (proposals.go) decide with package governance: the voters are
// fixed at the opening (the co-op's live members, or a project's
// maintainers who are live members here); a ballot is judged by the time
// it was accepted; a refused vote is stored, logged and counted, never
// dropped; CloseDue closes what is due, as the node itself, for serve's
// scheduler. Ballot records name the voter as the record's principal and
// carry them as a commitment ("voter"); with hidden counts the ballot too
// is a commitment until the close.
//
// coop must not import store, federation or handlers, nor
// github.com/go-fed/activity: it passes plain Go values.
package coop
