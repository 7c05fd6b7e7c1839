// Package githistory reads a project's git history for the contributions
// import (issue 8, `coopfed contributions import --project SLUG --repo
// PATH [--since --until]`). It owns reading history and nothing after it:
// Read returns the non-merge commits reachable from a ref with their
// author, author time and subject, and CommitURL turns a project's
// repository URL and a commit hash into the evidence link of a
// contribution record. Matching authors to members, deduplication against
// earlier imports and the pending `code` records are package coop's.
//
// It reads repositories with github.com/go-git/go-git/v5 and never shells
// out: no git binary is needed, and no repository hook, config alias or
// credential helper runs (TestImports forbids os/exec). It must not
// import coop, store, federation, handlers or any other coopfed package
// (TestImports): the history is plain Go values handed to the caller.
//
// # Which commits
//
// Read walks every commit reachable from HEAD, or from Options.Ref (a
// branch or tag name, resolved with git's own rules: NAME, refs/NAME,
// refs/tags/NAME, refs/heads/NAME, refs/remotes/NAME; an annotated tag
// is peeled to its commit). Each commit is returned once however many
// paths reach it. Merge commits (more than one parent) are skipped: the
// work they bring in is in the commits they merge. The range
// [Options.Since, Options.Until) is on the AUTHOR time, the time the work
// was written, which a rebase, cherry-pick or `git am` keeps; git's
// committer time is not used, and the walk is never cut short by time,
// since author times along history are not ordered.
//
// The result is sorted by author time, then by hash, so that two reads
// of the same history give the same list.
//
// # Decisions
//
//   - An empty repository (HEAD names a branch with no commit, and there
//     is no other branch or tag) has no history to import: Read returns
//     no commits and a nil error. If HEAD names a missing branch while
//     other refs exist (a bare repository created with one default branch
//     and pushed another), Read returns ErrNoHead, naming the refs,
//     rather than an empty list that would import nothing in silence.
//   - A path that is not inside a repository is ErrNotRepository; the
//     repository is found as git finds it, from path or a parent
//     directory (a work tree, a linked work tree, or a bare repository).
//   - A ref that does not exist, or names no commit, is ErrUnknownRef.
//   - A shallow clone is read down to its shallow boundary; a commit
//     missing elsewhere is an error, not a silently shorter history.
//   - Emails are compared lower-cased with surrounding space trimmed
//     (Commit.AuthorEmail); the address as written is kept
//     (Commit.RawAuthorEmail).
//   - Subject is the message's first line, at most MaxSubject bytes, cut
//     at a character boundary, invalid UTF-8 replaced by U+FFFD.
package githistory
