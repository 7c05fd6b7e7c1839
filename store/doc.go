// Package store keeps coopfed's state in one SQLite file through
// modernc.org/sqlite (pure Go, no cgo): WAL journal, foreign keys on, a busy
// timeout, one writer connection and a pool of read-only readers.
//
// The schema lives in numbered migrations (migrations/NNNN_name.sql),
// embedded in the binary and applied at Open, each in its own transaction. A
// released migration is never edited; a change is a new file.
//
// store implements the interfaces the rest of coopfed declares (coop.Store
// first of all) with plain SQL behind its own types, so that a PostgreSQL
// implementation can follow without touching the callers. It never imports
// federation or handlers.
package store
