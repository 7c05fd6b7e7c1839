package coop_test

import (
	"context"
	"errors"
	"testing"

	"github.com/coopfed/coopfed/coop"
)

// TestAliases: a member manages their own commit addresses, an admin
// anyone's; an address held by another member is refused.
func TestAliases(t *testing.T) {
	s, _, _ := votingNode(t)
	ctx := context.Background()
	bob, carol := as(s, "bob"), as(s, "carol")
	if _, _, err := s.AddMember(coop.AsAdmin(ctx), coop.NewMember{Handle: "dana", Email: "dana@home.example", Role: coop.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAlias(bob, "bob", "Bob@Old.Example"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAlias(bob, "bob", "bob@work.example"); err != nil {
		t.Fatal(err)
	}
	list, err := s.Aliases(bob, "bob")
	if err != nil || len(list) != 2 || list[0].Email != "bob@old.example" || list[1].Email != "bob@work.example" || list[0].Added.IsZero() {
		t.Fatalf("aliases %+v, %v", list, err)
	}
	for name, err := range map[string]error{
		"another member's list":          func() error { _, err := s.Aliases(carol, "bob"); return err }(),
		"another member's alias added":   s.AddAlias(carol, "bob", "x@y.example"),
		"another member's alias removed": s.RemoveAlias(carol, "bob", "bob@work.example"),
	} {
		if !errors.Is(err, coop.ErrNotAllowed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := s.AddAlias(carol, "carol", "bob@work.example"); !errors.Is(err, coop.ErrInvalidInput) {
		t.Errorf("bob's alias taken by carol: %v", err)
	}
	if err := s.AddAlias(carol, "carol", "DANA@home.example"); !errors.Is(err, coop.ErrInvalidInput) {
		t.Errorf("dana's address taken by carol: %v", err)
	}
	if err := s.RemoveAlias(bob, "bob", "nobody@x.example"); !errors.Is(err, coop.ErrNotFound) {
		t.Errorf("removing an address bob lacks: %v", err)
	}
	if err := s.RemoveAlias(bob, "bob", "BOB@work.example"); err != nil {
		t.Fatal(err)
	}
	// An admin member manages anyone's.
	dana := as(s, "dana")
	if err := s.AddAlias(dana, "bob", "bob@new.example"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveAlias(dana, "bob", "bob@old.example"); err != nil {
		t.Fatal(err)
	}
	if list, err := s.Aliases(dana, "bob"); err != nil || len(list) != 1 || list[0].Email != "bob@new.example" {
		t.Fatalf("after the admin's changes %+v, %v", list, err)
	}
	// The freed address may be carol's now.
	if err := s.AddAlias(carol, "carol", "bob@work.example"); err != nil {
		t.Fatal(err)
	}
}
