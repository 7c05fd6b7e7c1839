package coop_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
)

// adminCoop is a co-op with one admin member (ada) and two plain ones
// (bob, cy), and the contexts to act as them.
func adminCoop(t *testing.T) (*coop.Service, func(handle string) context.Context) {
	t.Helper()
	s := newService(t)
	op := coop.AsAdmin(context.Background())
	if _, err := s.EnsureCoop(op, "coop", "Example Co-op", ""); err != nil {
		t.Fatal(err)
	}
	for _, n := range []coop.NewMember{{Handle: "ada", Role: coop.RoleAdmin, Email: "ada@a.example"}, {Handle: "bob"}, {Handle: "cy"}} {
		if _, _, err := s.AddMember(op, n); err != nil {
			t.Fatal(err)
		}
	}
	return s, func(h string) context.Context {
		return coop.WithPrincipal(context.Background(), coop.Principal{ID: s.Site.ActorID(h), Channel: "web"})
	}
}

func roleOf(t *testing.T, s *coop.Service, handle string) coop.Role {
	t.Helper()
	m, err := s.Member(context.Background(), handle)
	if err != nil {
		t.Fatal(err)
	}
	return m.Role
}

// TestSetRole: an admin makes a member admin and back, logged; a plain
// member and a visitor cannot; an unchanged role and an unknown one are
// refused.
func TestSetRole(t *testing.T) {
	s, as := adminCoop(t)
	if err := s.SetRole(as("bob"), "cy", coop.RoleAdmin); !errors.Is(err, coop.ErrNotAllowed) || roleOf(t, s, "cy") != coop.RoleMember {
		t.Fatalf("a plain member promoted another: %v", err)
	}
	if err := s.SetRole(context.Background(), "cy", coop.RoleAdmin); !errors.Is(err, coop.ErrNoPrincipal) {
		t.Fatalf("nobody promoted a member: %v", err)
	}
	if err := s.SetRole(as("ada"), "cy", coop.RoleAdmin); err != nil || roleOf(t, s, "cy") != coop.RoleAdmin {
		t.Fatalf("promote: %v", err)
	}
	_, recs := records(t, s)
	last := recs[len(recs)-1]
	if last.Type != "member.role_changed" || last.Subject != s.Site.ActorID("cy") || last.Data["role"] != "admin" ||
		last.Data["previous_role"] != "member" || last.Principal != s.Site.ActorID("ada") || last.StateHash == "" {
		t.Fatalf("logged %+v", last)
	}
	if err := s.SetRole(as("ada"), "cy", coop.RoleAdmin); !errors.Is(err, coop.ErrInvalidInput) || !strings.Contains(err.Error(), "already") {
		t.Fatalf("unchanged role: %v", err)
	}
	if err := s.SetRole(as("ada"), "cy", "owner"); !errors.Is(err, coop.ErrInvalidRole) {
		t.Fatalf("unknown role: %v", err)
	}
	if err := s.SetRole(as("ada"), "nobody", coop.RoleAdmin); !errors.Is(err, coop.ErrNotMember) {
		t.Fatalf("unknown member: %v", err)
	}
	if err := s.SetRole(as("cy"), "ada", coop.RoleMember); err != nil || roleOf(t, s, "ada") != coop.RoleMember {
		t.Fatalf("demote: %v", err)
	}
	// ada is a plain member now: her admin rights went with the role.
	if err := s.SetRole(as("ada"), "bob", coop.RoleAdmin); !errors.Is(err, coop.ErrNotAllowed) {
		t.Fatalf("a demoted admin still acts: %v", err)
	}
}

// TestLastAdminStays: nobody, the operator included, removes or demotes
// the co-op's last admin member; with a second admin, both work.
func TestLastAdminStays(t *testing.T) {
	s, as := adminCoop(t)
	op := coop.AsAdmin(context.Background())
	for name, ctx := range map[string]context.Context{"the admin herself": as("ada"), "the operator": op} {
		err := s.SetRole(ctx, "ada", coop.RoleMember)
		if !errors.Is(err, coop.ErrNotAllowed) || !strings.Contains(err.Error(), "last admin") || roleOf(t, s, "ada") != coop.RoleAdmin {
			t.Fatalf("%s demoted the last admin: %v", name, err)
		}
		err = s.RemoveMember(ctx, "ada")
		if !errors.Is(err, coop.ErrNotAllowed) || !strings.Contains(err.Error(), "last admin") {
			t.Fatalf("%s removed the last admin: %v", name, err)
		}
		if _, err := s.Actor(context.Background(), "ada"); err != nil {
			t.Fatalf("the last admin went: %v", err)
		}
	}
	if err := s.SetRole(op, "bob", coop.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(as("bob"), "ada"); err != nil {
		t.Fatal(err)
	}
	// A removed admin does not count: bob is the last one now.
	if err := s.SetRole(op, "bob", coop.RoleMember); !errors.Is(err, coop.ErrNotAllowed) {
		t.Fatalf("the last admin, after a removal: %v", err)
	}
	// A plain member is removed as before.
	if err := s.RemoveMember(op, "cy"); err != nil {
		t.Fatal(err)
	}
}

// TestMembersForAdmin: the list with email, role, one-time password and
// date, for an admin only (email is personal data).
func TestMembersForAdmin(t *testing.T) {
	s, as := adminCoop(t)
	for name, ctx := range map[string]context.Context{"a plain member": as("bob"), "nobody": context.Background()} {
		if ms, err := s.MembersForAdmin(ctx); err == nil || ms != nil {
			t.Fatalf("%s listed the members: %v", name, err)
		}
	}
	ms, err := s.MembersForAdmin(as("ada"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 || ms[0].Handle != "ada" || ms[0].Email != "ada@a.example" || ms[0].Role != coop.RoleAdmin ||
		!ms[0].MustChangePassword || ms[0].CreatedAt.IsZero() || ms[1].Role != coop.RoleMember {
		t.Fatalf("members %+v", ms)
	}
}
