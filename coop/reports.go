package coop

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Reports received (issue 9, "Admin: reports received"): a remote server
// flags this node's actors or objects with an ActivityPub Flag, as
// Mastodon does when its user reports an account of another server and
// asks to forward the report (app/services/report_service.rb,
// forward_to_origin!). package federation keeps the Flags that name
// something of ours as Reports; the co-op's admins read them and resolve
// them here. A report holds personal data (who reported whom, and why):
// only admins see it, and the decision log holds none of it.

// ReportState is where a report stands.
type ReportState string

// The states of a report.
const (
	ReportOpen     ReportState = "open"
	ReportResolved ReportState = "resolved"
)

// Report is a Flag a remote actor sent about this node's actors or
// objects: only what is ours is kept.
type Report struct {
	ID int64
	// FlagID is the Flag activity's id: a Flag is one report, however
	// often it comes.
	FlagID string
	// Reporter is the actor URI that sent the Flag (for Mastodon, its
	// instance actor, not the user who reported).
	Reporter string
	// Accounts are the local actors the Flag names (members, projects,
	// the co-op), by actor URI; Objects the local objects it names (posts,
	// proposals, contribution records), by URI. At least one of the two
	// is not empty.
	Accounts []string
	Objects  []string
	// Comment is the reporter's comment as plain text.
	Comment    string
	ReceivedAt time.Time
	State      ReportState
	// ResolvedBy is the principal who resolved it (a member's actor URI,
	// or AdminPrincipal), with when and their note.
	ResolvedBy string
	ResolvedAt time.Time
	Note       string
}

// ReportReader holds the reads of reports.
type ReportReader interface {
	// Reports lists the reports q selects, newest first.
	Reports(ctx context.Context, q ReportQuery) ([]Report, error)
	// Report finds a report by its ID.
	Report(ctx context.Context, id int64) (Report, error)
}

// ReportWriter holds the writes of reports.
type ReportWriter interface {
	// InsertReport stores a new, open report and returns its ID; a Flag
	// stored before (same FlagID) is left as it is, and inserted is
	// false.
	InsertReport(ctx context.Context, r Report) (id int64, inserted bool, err error)
	// ResolveReport marks an open report resolved by a principal, with a
	// note; ErrNotFound when there is no such report.
	ResolveReport(ctx context.Context, id int64, by, note string, at time.Time) error
}

// MaxReportNote bounds the note an admin resolves a report with.
const MaxReportNote = 2000

// ErrResolved is a report resolved already.
var ErrResolved = errors.New("report already resolved")

// ReportQuery selects reports: those in State ("" for every one), with
// an ID below Before (0 for no bound), at most Limit (0 for all).
type ReportQuery struct {
	State  ReportState
	Before int64
	Limit  int
}

// Reports lists the reports received that q selects, newest first.
// Only admins may read them.
func (s *Service) Reports(ctx context.Context, q ReportQuery) ([]Report, error) {
	switch q.State {
	case "", ReportOpen, ReportResolved:
	default:
		return nil, fmt.Errorf("coop: reports: %w: no state %q", ErrInvalidInput, q.State)
	}
	if q.Before < 0 || q.Limit < 0 {
		return nil, fmt.Errorf("coop: reports: %w: a negative bound", ErrInvalidInput)
	}
	if err := s.requireAdmin(ctx, s.Store); err != nil {
		return nil, fmt.Errorf("coop: reports: %w", err)
	}
	rs, err := s.Store.Reports(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("coop: reports: %w", err)
	}
	return rs, nil
}

// ResolveReport closes an open report with the admin's note (it may be
// empty; at most MaxReportNote characters). The decision log records
// that report id was resolved, by whom and when, and the note only as a
// commitment (personal data, erasable): never the report's contents.
func (s *Service) ResolveReport(ctx context.Context, id int64, note string) error {
	note = strings.TrimSpace(strings.ReplaceAll(note, "\r\n", "\n"))
	if !utf8.ValidString(note) || utf8.RuneCountInString(note) > MaxReportNote {
		return fmt.Errorf("coop: resolve report %d: %w: the note is longer than %d characters", id, ErrInvalidInput, MaxReportNote)
	}
	err := s.Store.Update(ctx, func(tx Tx) error {
		if err := s.requireAdmin(ctx, tx); err != nil {
			return err
		}
		r, err := tx.Report(ctx, id)
		if err != nil {
			return err
		}
		if r.State == ReportResolved {
			return fmt.Errorf("%w: %w", ErrInvalidInput, ErrResolved)
		}
		pr, _ := PrincipalFrom(ctx) // requireAdmin checked there is one
		if err := tx.ResolveReport(ctx, id, pr.ID, note, s.now()); err != nil {
			return err
		}
		_, err = s.logEvent(ctx, tx, event{Type: "report.resolved", Subject: s.Site.ReportURL(id),
			Data: map[string]any{"report": id}, Personal: map[string]string{"note": note}})
		return err
	})
	if err != nil {
		return fmt.Errorf("coop: resolve report %d: %w", id, err)
	}
	return nil
}

// ReportURL is where admins find a report: the decision log's subject of
// its resolution (a page for admins only; the URL names no one).
func (s Site) ReportURL(id int64) string { return s.URL(fmt.Sprintf("/admin/reports#report-%d", id)) }
