package coop_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/coopfed/coopfed/coop"
)

// TestAdminOnly: the member use cases an admin takes refuse a plain
// member and a visitor, and take the operator or an admin member.
func TestAdminOnly(t *testing.T) {
	s := newService(t)
	op := coop.AsAdmin(context.Background())
	if _, err := s.EnsureCoop(op, "coop", "Example Co-op", ""); err != nil {
		t.Fatal(err)
	}
	for _, n := range []coop.NewMember{{Handle: "ada", Role: coop.RoleAdmin}, {Handle: "bob"}, {Handle: "cy"}} {
		if _, _, err := s.AddMember(op, n); err != nil {
			t.Fatal(err)
		}
	}
	as := func(h string) context.Context {
		return coop.WithPrincipal(context.Background(), coop.Principal{ID: s.Site.ActorID(h), Channel: "web"})
	}
	cases := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"the operator", op, nil},
		{"an admin member", as("ada"), nil},
		{"a member", as("bob"), coop.ErrNotAllowed},
		{"a stranger", coop.WithPrincipal(context.Background(), coop.Principal{ID: "https://elsewhere.example/users/eve", Channel: "activitypub"}), coop.ErrNotAllowed},
		{"nobody", context.Background(), coop.ErrNoPrincipal},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, err := s.IsAdmin(c.ctx)
			if err != nil || ok != (c.want == nil) {
				t.Fatalf("IsAdmin = %v, %v", ok, err)
			}
			_, _, err = s.AddMember(c.ctx, coop.NewMember{Handle: fmt.Sprintf("new%d", i)})
			if !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
				t.Fatalf("AddMember: %v, want %v", err, c.want)
			}
			if _, err := s.ResetPassword(c.ctx, "cy"); !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
				t.Fatalf("ResetPassword: %v, want %v", err, c.want)
			}
		})
	}
	if err := s.RemoveMember(as("bob"), "cy"); !errors.Is(err, coop.ErrNotAllowed) {
		t.Fatalf("a member removed another: %v", err)
	}
	if err := s.RemoveMember(as("ada"), "cy"); err != nil {
		t.Fatal(err)
	}
}
