// Package handlers serves coopfed's HTML pages and its small JSON endpoints
// (the health check) with gorilla/mux, from templates and a stylesheet
// embedded in the binary.
//
// It calls the use cases in package coop and never decides a rule itself.
// It must not import federation or store: the ActivityPub routes come in
// through the Routes interface, registered before the pages so that a
// request asking for ActivityPub JSON reaches them first and a browser
// falls through to the page at the same URL.
package handlers
