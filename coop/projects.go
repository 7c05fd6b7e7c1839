package coop

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode"

	"github.com/coopfed/coopfed/ledger"
)

// NewProject is what a member or admin gives to add a project.
type NewProject struct {
	Slug        string
	Name        string
	Summary     string
	Repository  string
	Licence     string
	Tags        []string
	Needs       []string
	Maintainers []string // local handles, @name@host accounts or actor URLs
}

// checkHTTPURL accepts an absolute http or https URL.
func checkHTTPURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%w: %s %q is not an http(s) URL", ErrInvalidInput, what, raw)
	}
	return nil
}

// checkLicence accepts an SPDX licence expression by its syntax: licence
// ids and LicenseRef-s joined by AND, OR and WITH, with parentheses.
func checkLicence(l string) error {
	if l == "" {
		return nil
	}
	depth := 0
	for _, tok := range strings.Fields(strings.NewReplacer("(", " ( ", ")", " ) ").Replace(l)) {
		switch tok {
		case "(":
			depth++
			continue
		case ")":
			depth--
			if depth < 0 {
				return fmt.Errorf("%w: licence %q has an unmatched ')'", ErrInvalidInput, l)
			}
			continue
		case "AND", "OR", "WITH":
			continue
		}
		for _, r := range tok {
			if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) || r == '.' || r == '-' || r == '+' || r == ':') {
				return fmt.Errorf("%w: licence %q is not an SPDX expression (e.g. AGPL-3.0-or-later)", ErrInvalidInput, l)
			}
		}
	}
	if depth != 0 {
		return fmt.Errorf("%w: licence %q has an unmatched '('", ErrInvalidInput, l)
	}
	return nil
}

// normalizeTags lower-cases tags, drops a leading '#', removes duplicates
// and sorts them; a tag holds letters, digits and '_' only, as hashtags do.
func normalizeTags(tags []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		t = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t), "#"))
		if t == "" {
			continue
		}
		for _, r := range t {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
				return nil, fmt.Errorf("%w: tag %q may hold only letters, digits and '_'", ErrInvalidInput, t)
			}
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out, nil
}

// normalizeNeeds trims needs, removes duplicates (without case) and sorts.
func normalizeNeeds(needs []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, n := range needs {
		n = strings.Join(strings.Fields(n), " ")
		if n == "" {
			continue
		}
		if len(n) > 100 {
			return nil, fmt.Errorf("%w: need %q is longer than 100 characters", ErrInvalidInput, n)
		}
		if !seen[strings.ToLower(n)] {
			seen[strings.ToLower(n)] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// maintainerURI turns a maintainer given as a local handle, an account
// (@name@host) or an actor URL into an actor URI. Local ones must be live
// members; remote accounts are resolved by WebFinger.
func (s *Service) maintainerURI(ctx context.Context, r Reader, m string) (string, error) {
	m = strings.TrimSpace(m)
	local := func(handle string) (string, error) {
		mem, err := liveMember(ctx, r, handle)
		if err != nil {
			return "", fmt.Errorf("maintainer %q: %w", m, err)
		}
		return s.Site.ActorID(mem.Handle), nil
	}
	switch {
	case strings.HasPrefix(m, "https://") || strings.HasPrefix(m, "http://"):
		if err := checkHTTPURL("maintainer", m); err != nil {
			return "", err
		}
		if h, ok := s.Site.HandleFromActorID(m); ok {
			return local(h)
		}
		return m, nil
	case strings.Contains(m, "@"):
		acct := strings.TrimPrefix(m, "@")
		name, host, ok := strings.Cut(acct, "@")
		if !ok || name == "" || host == "" || strings.Contains(host, "@") {
			return "", fmt.Errorf("%w: maintainer %q is not @name@host", ErrInvalidInput, m)
		}
		if strings.EqualFold(host, s.Site.Host) {
			return local(name)
		}
		if s.Resolver == nil {
			return "", fmt.Errorf("%w: maintainer %q is remote and this command cannot look it up", ErrInvalidInput, m)
		}
		uri, err := s.Resolver.ResolveAccount(ctx, acct)
		if err != nil {
			return "", fmt.Errorf("maintainer %q: %w", m, err)
		}
		return uri, nil
	default:
		return local(m)
	}
}

// AddProject creates a project's Group actor. Maintainers are stored as
// actor URIs, so that maintainers on other co-ops' nodes fit. With a
// Publisher, the co-op announces the project to its followers and the
// federation's peers in the same transaction.
func (s *Service) AddProject(ctx context.Context, n NewProject) (Project, error) {
	if n.Repository != "" {
		if err := checkHTTPURL("repository", n.Repository); err != nil {
			return Project{}, err
		}
	}
	if err := checkLicence(n.Licence); err != nil {
		return Project{}, err
	}
	tags, err := normalizeTags(n.Tags)
	if err != nil {
		return Project{}, err
	}
	needs, err := normalizeNeeds(n.Needs)
	if err != nil {
		return Project{}, err
	}
	// Resolve remote maintainers before the transaction: a network look-up
	// must not hold the database's write lock.
	maintainers := make([]string, 0, len(n.Maintainers))
	seen := map[string]bool{}
	for _, m := range n.Maintainers {
		uri, err := s.maintainerURI(ctx, s.Store, m)
		if err != nil {
			return Project{}, err
		}
		if !seen[uri] {
			seen[uri] = true
			maintainers = append(maintainers, uri)
		}
	}
	a, priv, err := s.newActor(KindGroup, n.Slug, strings.TrimSpace(n.Name), strings.TrimSpace(n.Summary))
	if err != nil {
		return Project{}, err
	}
	p := Project{Actor: a, Repository: n.Repository, Licence: n.Licence, Tags: tags, Needs: needs, Maintainers: maintainers}
	err = s.Store.Update(ctx, func(tx Tx) error {
		// Local maintainers are checked again inside the transaction, so
		// that one removed meanwhile is not stored.
		for _, uri := range maintainers {
			if h, ok := s.Site.HandleFromActorID(uri); ok {
				if _, err := liveMember(ctx, tx, h); err != nil {
					return fmt.Errorf("maintainer %q: %w", h, err)
				}
			}
		}
		a, err := tx.InsertActor(ctx, p.Actor, priv)
		if err != nil {
			return err
		}
		p.Actor = a
		if err := tx.InsertProject(ctx, p); err != nil {
			return err
		}
		if _, err := s.logEvent(ctx, tx, event{Type: "project.created", Subject: s.Site.ActorID(p.Handle), Data: projectFacts(p), State: projectFacts(p)}); err != nil {
			return err
		}
		if s.Publisher == nil {
			return nil
		}
		c, err := tx.Coop(ctx)
		if isNotFound(err) {
			return nil // no co-op actor to announce it yet
		}
		if err != nil {
			return err
		}
		return s.Publisher.PublishProject(ctx, tx, c, p, a.CreatedAt)
	})
	if err != nil {
		return Project{}, fmt.Errorf("coop: add project %q: %w", n.Slug, err)
	}
	return p, nil
}

// Projects lists the live projects.
func (s *Service) Projects(ctx context.Context) ([]Project, error) {
	return s.Store.Projects(ctx)
}

// ProjectChange is what a member or admin changes in a project; a nil
// field is left as it is.
type ProjectChange struct {
	Name       *string
	Summary    *string
	Repository *string
	Licence    *string
	Tags       *[]string
	Needs      *[]string
}

// UpdateProject changes a live project. Its revision moves; the Group's
// own followers get an Update of it (PublishActorUpdate), and the co-op's
// followers and the federation's peers an Update{Group} from the co-op
// (PublishProjectUpdate), so that their project lists follow. A change
// that changes nothing sends nothing.
func (s *Service) UpdateProject(ctx context.Context, slug string, ch ProjectChange) (Project, error) {
	if s.Publisher == nil {
		return Project{}, fmt.Errorf("%w: this node cannot publish", ErrInvalidInput)
	}
	if ch.Repository != nil && *ch.Repository != "" {
		if err := checkHTTPURL("repository", *ch.Repository); err != nil {
			return Project{}, err
		}
	}
	if ch.Licence != nil {
		if err := checkLicence(*ch.Licence); err != nil {
			return Project{}, err
		}
	}
	if ch.Name != nil && strings.TrimSpace(*ch.Name) == "" {
		return Project{}, fmt.Errorf("%w: a project's name cannot be empty", ErrInvalidInput)
	}
	var out Project
	err := s.Store.Update(ctx, func(tx Tx) error {
		p, err := tx.ProjectByHandle(ctx, slug)
		if err != nil {
			return err
		}
		if p.Removed() {
			return fmt.Errorf("%w: project %q was removed", ErrGone, slug)
		}
		next := p
		if ch.Name != nil {
			next.Name = strings.TrimSpace(*ch.Name)
		}
		if ch.Summary != nil {
			next.Summary = strings.TrimSpace(*ch.Summary)
		}
		if ch.Repository != nil {
			next.Repository = *ch.Repository
		}
		if ch.Licence != nil {
			next.Licence = *ch.Licence
		}
		if ch.Tags != nil {
			if next.Tags, err = normalizeTags(*ch.Tags); err != nil {
				return err
			}
		}
		if ch.Needs != nil {
			if next.Needs, err = normalizeNeeds(*ch.Needs); err != nil {
				return err
			}
		}
		if next.Name == p.Name && next.Summary == p.Summary && next.Repository == p.Repository &&
			next.Licence == p.Licence && equalStrings(next.Tags, p.Tags) && equalStrings(next.Needs, p.Needs) {
			out = p
			return nil
		}
		now := s.now()
		if err := tx.UpdateProject(ctx, next, now); err != nil {
			return err
		}
		if out, err = tx.ProjectByHandle(ctx, p.Handle); err != nil {
			return err
		}
		if _, err := s.logEvent(ctx, tx, event{Type: "project.changed", Subject: s.Site.ActorID(p.Handle), Data: projectFacts(out), State: projectFacts(out)}); err != nil {
			return err
		}
		if err := s.Publisher.PublishActorUpdate(ctx, tx, out.Actor, now); err != nil {
			return err
		}
		c, err := tx.Coop(ctx)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return s.Publisher.PublishProjectUpdate(ctx, tx, c, out, now)
	})
	if err != nil {
		return Project{}, fmt.Errorf("coop: update project %q: %w", slug, err)
	}
	return out, nil
}

// projectFacts is what the decision log records of a project: its public
// facts, the summary as its hash.
func projectFacts(p Project) map[string]any {
	return map[string]any{
		"slug":        p.Handle,
		"name":        p.Name,
		"summary":     ledger.HashText(p.Summary),
		"repository":  p.Repository,
		"licence":     p.Licence,
		"tags":        nonNil(p.Tags),
		"needs":       nonNil(p.Needs),
		"maintainers": nonNil(p.Maintainers),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// RemoveProject removes a live project. Its Group then answers 410 Gone
// with a Tombstone, it leaves the co-op's coop:projects collection and the
// lists, and its slug is never given out again (the actor's row stays).
// With a Publisher, the co-op's followers and the federation's peers get a
// Remove of the Group from coop:projects, and the Group's followers a
// Delete of the Group, in the same transaction.
func (s *Service) RemoveProject(ctx context.Context, slug string) (Project, error) {
	var out Project
	err := s.Store.Update(ctx, func(tx Tx) error {
		p, err := tx.ProjectByHandle(ctx, slug)
		if err != nil {
			return err
		}
		if p.Removed() {
			return fmt.Errorf("%w: project %q was removed", ErrGone, slug)
		}
		now := s.now()
		if err := tx.RemoveActor(ctx, p.ID, now); err != nil {
			return err
		}
		if out, err = tx.ProjectByHandle(ctx, p.Handle); err != nil {
			return err
		}
		state, err := s.projectsState(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := s.logEvent(ctx, tx, event{Type: "project.removed", Subject: s.Site.ActorID(p.Handle), Data: map[string]any{"slug": p.Handle}, State: state}); err != nil {
			return err
		}
		if s.Publisher == nil {
			return nil
		}
		c, err := tx.Coop(ctx)
		if isNotFound(err) {
			return nil // no co-op actor announced it
		}
		if err != nil {
			return err
		}
		return s.Publisher.PublishProjectRemoval(ctx, tx, c, out, now)
	})
	if err != nil {
		return Project{}, fmt.Errorf("coop: remove project %q: %w", slug, err)
	}
	return out, nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
