package coop

import (
	"context"
	"errors"
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

// FieldError is a refused input and the field of a project's form it is
// about ("slug", "name", "repository", "licence", "tags", "needs",
// "maintainers"), so that a page shows the reason next to the field. Its
// text is the reason's; it unwraps to the rule error (ErrInvalidInput,
// ErrHandleTaken, ErrNotMember, ...).
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// onField names the field err is about; nil stays nil.
func onField(field string, err error) error {
	if err == nil {
		return nil
	}
	return &FieldError{Field: field, Err: err}
}

// Who may change projects: any live member who has chosen their own
// password creates one, and becomes its maintainer; a project's
// maintainers (its live local ones) and the co-op's admins (the operator
// at the command line included) change and remove it. The rule lives
// here, once, so that the pages and the command line cannot differ.

// projectCreator returns the actor URI of the member creating a project,
// "" for an admin acting as the operator; an ErrNotAllowed error for
// anyone else.
func (s *Service) projectCreator(ctx context.Context, r Reader) (string, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return "", ErrNoPrincipal
	}
	if pr.ID == AdminPrincipal {
		return "", nil
	}
	m, ok, err := s.principalMember(ctx, r, Principal{ID: pr.ID})
	if errors.Is(err, ErrNotMember) || errors.Is(err, ErrGone) || errors.Is(err, ErrNotFound) {
		ok, err = false, nil
	}
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%w: only the co-op's members create projects", ErrNotAllowed)
	}
	if m.MustChangePassword {
		return "", fmt.Errorf("%w: choose your own password before creating a project", ErrNotAllowed)
	}
	return s.Site.ActorID(m.Handle), nil
}

// requireProjectEditor returns an ErrNotAllowed error unless the
// principal is an admin or one of p's live local maintainers who has
// chosen their own password.
func (s *Service) requireProjectEditor(ctx context.Context, r Reader, p Project) error {
	err := s.requireAdmin(ctx, r)
	if !errors.Is(err, ErrNotAllowed) {
		return err // nil for an admin, or no principal, or a failure
	}
	pr, _ := PrincipalFrom(ctx)
	if contains(p.Maintainers, pr.ID) {
		m, ok, err := s.principalMember(ctx, r, Principal{ID: pr.ID})
		if err != nil && !errors.Is(err, ErrNotMember) && !errors.Is(err, ErrGone) {
			return err
		}
		if err == nil && ok && !m.MustChangePassword {
			return nil
		}
	}
	return fmt.Errorf("%w: only a maintainer of %q or an admin may change it", ErrNotAllowed, p.Handle)
}

// MayCreateProject reports whether the context's principal may create a
// project (for pages, to show the link; AddProject checks again).
func (s *Service) MayCreateProject(ctx context.Context) (bool, error) {
	_, err := s.projectCreator(ctx, s.Store)
	if errors.Is(err, ErrNotAllowed) || errors.Is(err, ErrNoPrincipal) {
		return false, nil
	}
	return err == nil, err
}

// MayEditProject reports whether the context's principal may change the
// project (for pages, to show the Edit link; UpdateProject checks again).
func (s *Service) MayEditProject(ctx context.Context, slug string) (bool, error) {
	p, err := s.Store.ProjectByHandle(ctx, slug)
	if err != nil {
		return false, err
	}
	if p.Removed() {
		return false, nil
	}
	err = s.requireProjectEditor(ctx, s.Store, p)
	if errors.Is(err, ErrNotAllowed) || errors.Is(err, ErrNoPrincipal) {
		return false, nil
	}
	return err == nil, err
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

// maintainerURIs resolves maintainers as given (maintainerURI), without
// duplicates. Remote ones are looked up: call it before a transaction, as
// a network look-up must not hold the database's write lock.
func (s *Service) maintainerURIs(ctx context.Context, given []string) ([]string, error) {
	out := make([]string, 0, len(given))
	seen := map[string]bool{}
	for _, m := range given {
		if strings.TrimSpace(m) == "" {
			continue
		}
		uri, err := s.maintainerURI(ctx, s.Store, m)
		if err != nil {
			return nil, onField("maintainers", err)
		}
		if !seen[uri] {
			seen[uri] = true
			out = append(out, uri)
		}
	}
	return out, nil
}

// checkLocalMaintainers checks again, inside the transaction, that the
// local maintainers are live members, so that one removed meanwhile is
// not stored.
func (s *Service) checkLocalMaintainers(ctx context.Context, tx Tx, uris []string) error {
	for _, uri := range uris {
		if h, ok := s.Site.HandleFromActorID(uri); ok {
			if _, err := liveMember(ctx, tx, h); err != nil {
				return onField("maintainers", fmt.Errorf("maintainer %q: %w", h, err))
			}
		}
	}
	return nil
}

// AddProject creates a project's Group actor, for an admin or a member
// who has chosen their own password (projectCreator); a member who
// creates it is its first maintainer. Maintainers are stored as actor
// URIs, so that maintainers on other co-ops' nodes fit. With a
// Publisher, the co-op announces the project to its followers and the
// federation's peers in the same transaction.
func (s *Service) AddProject(ctx context.Context, n NewProject) (Project, error) {
	// Who asks is checked first (no look-up for one refused), and again
	// inside the transaction.
	creator, err := s.projectCreator(ctx, s.Store)
	if err != nil {
		return Project{}, fmt.Errorf("coop: add project %q: %w", n.Slug, err)
	}
	if err := CheckNewHandle(n.Slug); err != nil {
		return Project{}, onField("slug", err)
	}
	n.Repository, n.Licence = strings.TrimSpace(n.Repository), strings.TrimSpace(n.Licence)
	if n.Repository != "" {
		if err := checkHTTPURL("repository", n.Repository); err != nil {
			return Project{}, onField("repository", err)
		}
	}
	if err := checkLicence(n.Licence); err != nil {
		return Project{}, onField("licence", err)
	}
	tags, err := normalizeTags(n.Tags)
	if err != nil {
		return Project{}, onField("tags", err)
	}
	needs, err := normalizeNeeds(n.Needs)
	if err != nil {
		return Project{}, onField("needs", err)
	}
	maintainers, err := s.maintainerURIs(ctx, n.Maintainers)
	if err != nil {
		return Project{}, err
	}
	// The member who creates it maintains it (first, unless named).
	if creator != "" && !contains(maintainers, creator) {
		maintainers = append([]string{creator}, maintainers...)
	}
	a, priv, err := s.newActor(KindGroup, n.Slug, strings.TrimSpace(n.Name), strings.TrimSpace(n.Summary))
	if err != nil {
		return Project{}, onField("slug", err)
	}
	p := Project{Actor: a, Repository: n.Repository, Licence: n.Licence, Tags: tags, Needs: needs, Maintainers: maintainers}
	err = s.Store.Update(ctx, func(tx Tx) error {
		if _, err := s.projectCreator(ctx, tx); err != nil {
			return err
		}
		if err := s.checkLocalMaintainers(ctx, tx, maintainers); err != nil {
			return err
		}
		a, err := tx.InsertActor(ctx, p.Actor, priv)
		if errors.Is(err, ErrHandleTaken) || errors.Is(err, ErrHandleReserved) {
			return onField("slug", err)
		}
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
	// Maintainers replace all (local handles, @name@host accounts or
	// actor URIs, as NewProject's); at least one stays.
	Maintainers *[]string
}

// ProjectMaintainerWriter replaces a project's maintainers, inside a
// transaction; package store's Tx implements it.
type ProjectMaintainerWriter interface {
	SetProjectMaintainers(ctx context.Context, projectID int64, uris []string) error
}

// UpdateProject changes a live project, for its maintainers and the
// admins (requireProjectEditor). Its revision moves; with a Publisher,
// the Group's own followers get an Update of it (PublishActorUpdate), and
// the co-op's followers and the federation's peers an Update{Group} from
// the co-op (PublishProjectUpdate), so that their project lists follow.
// A change that changes nothing sends nothing.
func (s *Service) UpdateProject(ctx context.Context, slug string, ch ProjectChange) (Project, error) {
	// Who asks is checked first (no look-up for one refused), and again
	// inside the transaction.
	if p, err := s.Store.ProjectByHandle(ctx, slug); err == nil {
		if err := s.requireProjectEditor(ctx, s.Store, p); err != nil {
			return Project{}, fmt.Errorf("coop: update project %q: %w", slug, err)
		}
	}
	if ch.Repository != nil {
		repo := strings.TrimSpace(*ch.Repository)
		if repo != "" {
			if err := checkHTTPURL("repository", repo); err != nil {
				return Project{}, onField("repository", err)
			}
		}
		ch.Repository = &repo
	}
	if ch.Licence != nil {
		l := strings.TrimSpace(*ch.Licence)
		if err := checkLicence(l); err != nil {
			return Project{}, onField("licence", err)
		}
		ch.Licence = &l
	}
	if ch.Name != nil && strings.TrimSpace(*ch.Name) == "" {
		return Project{}, onField("name", fmt.Errorf("%w: a project's name cannot be empty", ErrInvalidInput))
	}
	var maintainers []string
	if ch.Maintainers != nil {
		var err error
		if maintainers, err = s.maintainerURIs(ctx, *ch.Maintainers); err != nil {
			return Project{}, err
		}
		if len(maintainers) == 0 {
			return Project{}, onField("maintainers", fmt.Errorf("%w: a project keeps at least one maintainer", ErrInvalidInput))
		}
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
		if err := s.requireProjectEditor(ctx, tx, p); err != nil {
			return err
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
				return onField("tags", err)
			}
		}
		if ch.Needs != nil {
			if next.Needs, err = normalizeNeeds(*ch.Needs); err != nil {
				return onField("needs", err)
			}
		}
		if ch.Maintainers != nil {
			if err := s.checkLocalMaintainers(ctx, tx, maintainers); err != nil {
				return err
			}
			next.Maintainers = maintainers
		}
		if next.Name == p.Name && next.Summary == p.Summary && next.Repository == p.Repository &&
			next.Licence == p.Licence && equalStrings(next.Tags, p.Tags) && equalStrings(next.Needs, p.Needs) &&
			equalStrings(next.Maintainers, p.Maintainers) {
			out = p
			return nil
		}
		now := s.now()
		if err := tx.UpdateProject(ctx, next, now); err != nil {
			return err
		}
		if !equalStrings(next.Maintainers, p.Maintainers) {
			if err := tx.SetProjectMaintainers(ctx, p.ID, next.Maintainers); err != nil {
				return err
			}
		}
		if out, err = tx.ProjectByHandle(ctx, p.Handle); err != nil {
			return err
		}
		if _, err := s.logEvent(ctx, tx, event{Type: "project.changed", Subject: s.Site.ActorID(p.Handle), Data: projectFacts(out), State: projectFacts(out)}); err != nil {
			return err
		}
		if s.Publisher == nil {
			return nil
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

// RemoveProject removes a live project, for its maintainers and the
// admins (requireProjectEditor). Its Group then answers 410 Gone
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
		if err := s.requireProjectEditor(ctx, tx, p); err != nil {
			return err
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
