// Package coop holds coopfed's use cases: add a member, add a project, and
// (in later issues) open a proposal or cast a vote. A use case happens here
// once, whoever triggers it — the CLI, a web page or an incoming activity.
//
// coop owns the domain types every other layer passes around (Actor, Member,
// Project), the rules for handles, and the node's URL scheme (Site). It
// declares the storage it needs as the Store interface, which package store
// implements, and the remote look-ups it needs as Resolver, which package
// federation implements.
//
// coop must not import store, federation or handlers, nor
// github.com/go-fed/activity: it passes plain Go values.
package coop
