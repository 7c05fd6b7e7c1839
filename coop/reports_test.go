package coop_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/ledger"
	"github.com/google/go-cmp/cmp"
)

// reportsService is a co-op with an admin (ada) and a plain member
// (bob), and one open report about bob's post, as federation stores it.
func reportsService(t *testing.T) (*coop.Service, coop.Report) {
	t.Helper()
	s := newService(t)
	op := coop.AsAdmin(context.Background())
	if _, err := s.EnsureCoop(op, "coop", "Example Co-op", ""); err != nil {
		t.Fatal(err)
	}
	for _, n := range []coop.NewMember{{Handle: "ada", Role: coop.RoleAdmin}, {Handle: "bob"}} {
		if _, _, err := s.AddMember(op, n); err != nil {
			t.Fatal(err)
		}
	}
	r := coop.Report{FlagID: "https://m.example/0b7ff0cc", Reporter: "https://m.example/actor",
		Accounts: []string{s.Site.ActorID("bob")}, Objects: []string{s.Site.ActorID("bob") + "/notes/ab12"},
		Comment: "Spam, twice.\nPlease look.", ReceivedAt: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	for range 2 { // the same Flag twice: one report
		err := s.Store.Update(context.Background(), func(tx coop.Tx) error {
			id, inserted, err := tx.InsertReport(context.Background(), r)
			if inserted {
				r.ID = id
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	r.State = coop.ReportOpen
	return s, r
}

// TestReportsForAdminsOnly: an admin and the operator list the reports; a
// plain member, a stranger and nobody are refused.
func TestReportsForAdminsOnly(t *testing.T) {
	s, want := reportsService(t)
	as := func(h string) context.Context {
		return coop.WithPrincipal(context.Background(), coop.Principal{ID: s.Site.ActorID(h), Channel: ledger.ChannelWeb})
	}
	for _, c := range []struct {
		name string
		ctx  context.Context
		err  error
	}{
		{"the operator", coop.AsAdmin(context.Background()), nil},
		{"an admin member", as("ada"), nil},
		{"a plain member", as("bob"), coop.ErrNotAllowed},
		{"a stranger", coop.WithPrincipal(context.Background(), coop.Principal{ID: "https://m.example/actor", Channel: ledger.ChannelRemote}), coop.ErrNotAllowed},
		{"nobody", context.Background(), coop.ErrNoPrincipal},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := s.Reports(c.ctx, coop.ReportQuery{State: coop.ReportOpen})
			if c.err != nil {
				if !errors.Is(err, c.err) || got != nil {
					t.Fatalf("Reports = %v, %v; want %v", got, err, c.err)
				}
				if err := s.ResolveReport(c.ctx, want.ID, "no"); !errors.Is(err, c.err) {
					t.Fatalf("ResolveReport: %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]coop.Report{want}, got); diff != "" {
				t.Fatalf("reports (-want +got):\n%s", diff)
			}
		})
	}
	if rs, err := s.Reports(coop.AsAdmin(context.Background()), coop.ReportQuery{State: "closed"}); !errors.Is(err, coop.ErrInvalidInput) {
		t.Fatalf("an unknown state: %v, %v", rs, err)
	}
}

// TestResolveReport: an admin resolves an open report with a note; it
// moves to the resolved list with who and when; resolving again, a
// report that does not exist, and a note too long are refused. The
// decision log records the resolution with the note as a commitment
// only, and nothing of the report (no reporter, account or comment).
func TestResolveReport(t *testing.T) {
	s, r := reportsService(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s.Clock = func() time.Time { return now }
	ada := coop.WithPrincipal(context.Background(), coop.Principal{ID: s.Site.ActorID("ada"), Channel: ledger.ChannelWeb})
	const note = "Talked to bob; the post is gone."
	if err := s.ResolveReport(ada, r.ID, strings.Repeat("x", coop.MaxReportNote+1)); !errors.Is(err, coop.ErrInvalidInput) {
		t.Fatalf("a long note: %v", err)
	}
	if err := s.ResolveReport(ada, r.ID, "  "+note+"\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := s.ResolveReport(ada, r.ID, "again"); !errors.Is(err, coop.ErrResolved) || !errors.Is(err, coop.ErrInvalidInput) {
		t.Fatalf("resolved twice: %v", err)
	}
	if err := s.ResolveReport(ada, 99, ""); !errors.Is(err, coop.ErrNotFound) {
		t.Fatalf("no such report: %v", err)
	}
	if open, err := s.Reports(ada, coop.ReportQuery{State: coop.ReportOpen}); err != nil || len(open) != 0 {
		t.Fatalf("open reports: %v, %v", open, err)
	}
	got, err := s.Reports(ada, coop.ReportQuery{State: coop.ReportResolved})
	if err != nil {
		t.Fatal(err)
	}
	r.State, r.ResolvedBy, r.ResolvedAt, r.Note = coop.ReportResolved, s.Site.ActorID("ada"), now, note
	if diff := cmp.Diff([]coop.Report{r}, got); diff != "" {
		t.Fatalf("resolved (-want +got):\n%s", diff)
	}

	l, err := s.Store.OpenLog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.Store.LogRecords(context.Background(), l.ID, l.Size-1, l.Size)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ledger.ParseRecord(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	if rec.Type != "report.resolved" || rec.Principal != s.Site.ActorID("ada") || rec.Subject != "https://a.example/admin/reports#report-1" {
		t.Fatalf("record %+v", rec)
	}
	for _, secret := range []string{"bob", "m.example", "Spam", "Talked"} {
		if strings.Contains(string(recs[0]), secret) {
			t.Errorf("the log record holds %q: %s", secret, recs[0])
		}
	}
	ps, err := s.Store.PersonalFields(context.Background(), l.ID, l.Size-1)
	if err != nil || len(ps) != 1 || ps[0].Field != "note" || ps[0].Value != note {
		t.Fatalf("personal fields %+v, %v", ps, err)
	}
}
