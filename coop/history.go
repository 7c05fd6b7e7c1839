package coop

import (
	"context"
	"fmt"

	"github.com/coopfed/coopfed/githistory"
)

// CommitsOf turns the commits package githistory read into the commits
// ImportCommits records, each with its evidence link built from the
// project's repository URL (none when githistory cannot make one).
func CommitsOf(read []githistory.Commit, repository string) []Commit {
	out := make([]Commit, 0, len(read))
	for _, c := range read {
		cm := Commit{Hash: c.Hash, AuthorName: c.AuthorName, AuthorEmail: c.AuthorEmail, When: c.AuthorTime, Subject: c.Subject}
		if repository != "" {
			if u, err := githistory.CommitURL(repository, c.Hash); err == nil {
				cm.URL = u
			}
		}
		out = append(out, cm)
	}
	return out
}

// HistoryImport is the result of ImportHistory: how many commits were
// read, and what ImportCommits did with them.
type HistoryImport struct {
	Read int
	ImportResult
}

// ImportHistory reads the git history of a clone on this node's disk at
// path (githistory.Read, with opts) and records it as ImportCommits does,
// on behalf of a member (or the operator for one). The principal is
// checked before the disk is read: a path is only looked at for a
// member.
func (s *Service) ImportHistory(ctx context.Context, project, path string, opts githistory.Options, pointsPerCommit int64) (HistoryImport, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return HistoryImport{}, ErrNoPrincipal
	}
	if _, isMember, err := s.actingMember(ctx, s.Store, pr); err != nil || !isMember {
		if err != nil {
			return HistoryImport{}, fmt.Errorf("coop: import into %q: %w", project, err)
		}
		return HistoryImport{}, fmt.Errorf("coop: import into %q: %w: only the co-op's members import contributions", project, ErrNotAllowed)
	}
	p, err := s.Store.ProjectByHandle(ctx, project)
	if isNotFound(err) {
		return HistoryImport{}, fmt.Errorf("coop: import into %q: %w: no project %q", project, ErrInvalidInput, project)
	}
	if err != nil {
		return HistoryImport{}, fmt.Errorf("coop: import into %q: %w", project, err)
	}
	read, err := githistory.Read(ctx, path, opts)
	if err != nil {
		return HistoryImport{}, fmt.Errorf("coop: import into %q: %w", project, err)
	}
	res, err := s.ImportCommits(ctx, project, CommitsOf(read, p.Repository), pointsPerCommit)
	if err != nil {
		return HistoryImport{}, err
	}
	return HistoryImport{Read: len(read), ImportResult: res}, nil
}
