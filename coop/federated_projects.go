package coop

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

// RemoteProject is a project of another co-op of the federation, as that
// co-op's Organization announced it (an Add of the project's Group to its
// coop:projects collection). Only a federation member's announcements are
// kept.
type RemoteProject struct {
	URI    string // the project's Group actor
	Coop   string // the announcing co-op's Organization actor
	Handle string
	Name   string
	// Summary is the project's description as sanitized HTML (links and
	// paragraphs kept, nothing else); SummaryText the same as plain text.
	Summary     string
	SummaryText string
	Repository  string
	Licence     string
	Tags        []string
	Needs       []string
	Maintainers []string // actor URIs
	UpdatedAt   time.Time
}

// ProjectEntry is one line of the federation's project list: a local
// project or a member co-op's.
type ProjectEntry struct {
	URI        string // the project's Group actor
	Host       string // the node the project lives on
	Handle     string
	Name       string
	Summary    string // plain text
	Repository string
	Licence    string
	Tags       []string
	Needs      []string
	// Maintainers are actor URIs.
	Maintainers []string
	Local       bool
}

// ProjectFilter narrows FederatedProjects; an empty field matches all.
type ProjectFilter struct {
	Coop string // host of the project's node
	Tag  string // one of its tags, without '#', compared without case
	Need string // one of its needs, compared without case
}

func (f ProjectFilter) match(e ProjectEntry) bool {
	has := func(list []string, want string) bool {
		want = strings.ToLower(strings.TrimPrefix(want, "#"))
		for _, x := range list {
			if strings.ToLower(x) == want {
				return true
			}
		}
		return false
	}
	return (f.Coop == "" || strings.EqualFold(f.Coop, e.Host)) &&
		(f.Tag == "" || has(e.Tags, f.Tag)) &&
		(f.Need == "" || has(e.Needs, f.Need))
}

// FederatedProjects lists the live local projects and those the
// federation's member co-ops announced and have not removed, matching f,
// local ones first, then by host and handle.
func (s *Service) FederatedProjects(ctx context.Context, f ProjectFilter) ([]ProjectEntry, error) {
	local, err := s.Store.Projects(ctx)
	if err != nil {
		return nil, fmt.Errorf("coop: projects: %w", err)
	}
	remote, err := s.Store.RemoteProjects(ctx)
	if err != nil {
		return nil, fmt.Errorf("coop: projects: %w", err)
	}
	var out []ProjectEntry
	for _, p := range local {
		e := ProjectEntry{URI: s.Site.ActorID(p.Handle), Host: s.Site.Host, Handle: p.Handle, Name: p.Name, Summary: p.Summary,
			Repository: p.Repository, Licence: p.Licence, Tags: p.Tags, Needs: p.Needs, Maintainers: p.Maintainers, Local: true}
		if f.match(e) {
			out = append(out, e)
		}
	}
	for _, p := range remote {
		host := ""
		if u, err := url.Parse(p.URI); err == nil {
			host = u.Host
		}
		e := ProjectEntry{URI: p.URI, Host: host, Handle: p.Handle, Name: p.Name, Summary: p.SummaryText,
			Repository: p.Repository, Licence: p.Licence, Tags: p.Tags, Needs: p.Needs, Maintainers: p.Maintainers}
		if f.match(e) {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Local != out[j].Local {
			return out[i].Local
		}
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return strings.ToLower(out[i].Handle) < strings.ToLower(out[j].Handle)
	})
	return out, nil
}
