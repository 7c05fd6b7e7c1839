package coop_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/store"
	"github.com/google/go-cmp/cmp"
)

// projectActors is a service with a co-op and members for the project
// rules: alice, dave and the admin carol have chosen their passwords, bob
// still holds his one-time password. It returns each one's web context.
func projectActors(t *testing.T) (*coop.Service, *recorder, map[string]context.Context) {
	t.Helper()
	ctx := coop.AsAdmin(context.Background())
	s := newService(t)
	pub := &recorder{}
	s.Publisher = pub
	if _, err := s.EnsureCoop(ctx, "coop", "Example Co-op", ""); err != nil {
		t.Fatal(err)
	}
	as := map[string]context.Context{"operator": ctx}
	for _, n := range []coop.NewMember{{Handle: "alice"}, {Handle: "bob"}, {Handle: "carol", Role: coop.RoleAdmin}, {Handle: "dave"}} {
		m, oneTime, err := s.AddMember(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if n.Handle != "bob" {
			if err := s.ChangePassword(ctx, n.Handle, oneTime, n.Handle+"-correct-horse"); err != nil {
				t.Fatal(err)
			}
		}
		as[n.Handle] = coop.WithPrincipal(context.Background(), s.WebPrincipal(m))
	}
	as["remote"] = coop.WithPrincipal(context.Background(), coop.Principal{ID: "https://b.example/users/eve", Channel: "activitypub"})
	pub.take()
	return s, pub, as
}

// TestProjectRules: a member who chose their password creates a project
// and maintains it; its maintainers and the admins change it; anyone else
// (a plain member, one with a one-time password, a remote account) is
// refused with ErrNotAllowed, and nothing changes or is sent.
func TestProjectRules(t *testing.T) {
	s, pub, as := projectActors(t)
	alice := s.Site.ActorID("alice")
	p, err := s.AddProject(as["alice"], coop.NewProject{Slug: "kit", Name: "The Kit", Tags: []string{"go"}})
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(p.Maintainers, []string{alice}) {
		t.Errorf("maintainers = %v, want the creator", p.Maintainers)
	}
	if diff := cmp.Diff([]string{"Add kit to projects of coop"}, pub.take()); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	t.Run("the operator creates one without becoming its maintainer", func(t *testing.T) {
		p, err := s.AddProject(as["operator"], coop.NewProject{Slug: "ops", Name: "Ops"})
		if err != nil || len(p.Maintainers) != 0 {
			t.Errorf("AddProject as the operator = %v, %v", p.Maintainers, err)
		}
		pub.take()
	})
	tags := []string{"web"}
	for _, tt := range []struct {
		name string
		do   func() error
		want error
	}{
		{"a member with a one-time password does not create", func() error {
			_, err := s.AddProject(as["bob"], coop.NewProject{Slug: "bobs", Name: "Bob's"})
			return err
		}, coop.ErrNotAllowed},
		{"a remote account does not create", func() error {
			_, err := s.AddProject(as["remote"], coop.NewProject{Slug: "eves", Name: "Eve's"})
			return err
		}, coop.ErrNotAllowed},
		{"no principal does not create", func() error {
			_, err := s.AddProject(context.Background(), coop.NewProject{Slug: "nobodys"})
			return err
		}, coop.ErrNoPrincipal},
		{"a plain member does not edit", func() error {
			_, err := s.UpdateProject(as["dave"], "kit", coop.ProjectChange{Tags: &tags})
			return err
		}, coop.ErrNotAllowed},
		{"a plain member does not remove", func() error {
			_, err := s.RemoveProject(as["dave"], "kit")
			return err
		}, coop.ErrNotAllowed},
		{"a remote account does not edit", func() error {
			_, err := s.UpdateProject(as["remote"], "kit", coop.ProjectChange{Tags: &tags})
			return err
		}, coop.ErrNotAllowed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if sent := pub.take(); len(sent) != 0 {
				t.Errorf("sent %q", sent)
			}
			if got, _ := s.Project(context.Background(), "kit"); !cmp.Equal(got.Tags, []string{"go"}) || got.Removed() || got.Revision != 1 {
				t.Errorf("kit changed: %+v", got)
			}
		})
	}
	for who, want := range map[string]bool{"alice": true, "carol": true, "operator": true, "dave": false, "bob": false, "remote": false} {
		if ok, err := s.MayEditProject(as[who], "kit"); ok != want || err != nil {
			t.Errorf("MayEditProject as %s = %v, %v; want %v", who, ok, err, want)
		}
	}
	for who, want := range map[string]bool{"alice": true, "carol": true, "operator": true, "dave": true, "bob": false, "remote": false} {
		if ok, err := s.MayCreateProject(as[who]); ok != want || err != nil {
			t.Errorf("MayCreateProject as %s = %v, %v; want %v", who, ok, err, want)
		}
	}

	t.Run("a maintainer edits, maintainers included", func(t *testing.T) {
		ms := []string{"alice", "@dave@a.example"}
		p, err := s.UpdateProject(as["alice"], "kit", coop.ProjectChange{Tags: &tags, Maintainers: &ms})
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(p.Tags, tags) || !cmp.Equal(p.Maintainers, []string{alice, s.Site.ActorID("dave")}) || p.Revision != 2 {
			t.Errorf("UpdateProject = %+v", p)
		}
		if diff := cmp.Diff([]string{"Update kit rev 2 manual false", "Update kit rev 2 by coop"}, pub.take()); diff != "" {
			t.Errorf("sent (-want +got):\n%s", diff)
		}
		if ok, _ := s.MayEditProject(as["dave"], "kit"); !ok {
			t.Error("dave, now a maintainer, may not edit")
		}
	})
	t.Run("an admin edits", func(t *testing.T) {
		name := "Kit"
		if _, err := s.UpdateProject(as["carol"], "kit", coop.ProjectChange{Name: &name}); err != nil {
			t.Fatal(err)
		}
		pub.take()
	})
	t.Run("refusals name their field", func(t *testing.T) {
		none, bad, ftp, licence, nobody := []string{" "}, []string{"no spaces"}, "ftp://x", "MIT OR (", []string{"nobody"}
		for _, tt := range []struct {
			field string
			ch    coop.ProjectChange
		}{
			{"maintainers", coop.ProjectChange{Maintainers: &none}},
			{"maintainers", coop.ProjectChange{Maintainers: &nobody}},
			{"tags", coop.ProjectChange{Tags: &bad}},
			{"repository", coop.ProjectChange{Repository: &ftp}},
			{"licence", coop.ProjectChange{Licence: &licence}},
		} {
			_, err := s.UpdateProject(as["alice"], "kit", tt.ch)
			var fe *coop.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("UpdateProject(%s) = %v, want an error on %s", tt.field, err, tt.field)
			}
		}
		_, err := s.AddProject(as["alice"], coop.NewProject{Slug: "kit", Name: "Again"})
		var fe *coop.FieldError
		if !errors.As(err, &fe) || fe.Field != "slug" || !errors.Is(err, coop.ErrHandleTaken) {
			t.Errorf("AddProject(kit again) = %v, want ErrHandleTaken on slug", err)
		}
		if sent := pub.take(); len(sent) != 0 {
			t.Errorf("sent %q", sent)
		}
	})
	t.Run("a maintainer removes", func(t *testing.T) {
		if _, err := s.RemoveProject(as["dave"], "kit"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestProjectPageLists: a project's posts (its Notes and announces, not
// its Questions, newest first, by pages), the public posts remote
// accounts addressed to it (not direct ones, not followers-only ones, not
// poll votes, not those to another actor), and its proposals.
func TestProjectPageLists(t *testing.T) {
	s, _, as := projectActors(t)
	ctx := as["operator"]
	for _, slug := range []string{"kit", "other"} {
		if _, err := s.AddProject(as["alice"], coop.NewProject{Slug: slug, Name: slug}); err != nil {
			t.Fatal(err)
		}
	}
	kit, _ := s.Project(ctx, "kit")
	other, _ := s.Project(ctx, "other")
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	err := s.Store.Update(ctx, func(tx coop.Tx) error {
		for i := range coop.ProjectPostsPerPage + 2 {
			body := fmt.Sprintf(`{"type":"Create","object":{"type":"Note","id":"https://a.example/notes/%d","content":"<p>post %d</p>"}}`, i, i)
			if _, err := tx.AppendOutbox(ctx, kit.ID, fmt.Sprintf("https://a.example/c/%d", i), "Create", []byte(body), at.Add(time.Duration(i)*time.Minute)); err != nil {
				return err
			}
		}
		for _, a := range []struct{ id, typ, body string }{
			{"https://a.example/q/1", "Create", `{"type":"Create","object":{"type":"Question","id":"https://a.example/q/1"}}`},
			{"https://a.example/u/1", "Update", `{"type":"Update","object":{"type":"Group"}}`},
			{"https://a.example/a/1", "Announce", `{"type":"Announce","object":"https://b.example/notes/9"}`},
		} {
			if _, err := tx.AppendOutbox(ctx, kit.ID, a.id, a.typ, []byte(a.body), at.Add(time.Hour)); err != nil {
				return err
			}
		}
		if _, err := tx.AppendOutbox(ctx, other.ID, "https://a.example/c/x", "Create",
			[]byte(`{"type":"Create","object":{"type":"Note","id":"https://a.example/notes/x","content":"elsewhere"}}`), at); err != nil {
			return err
		}
		st := tx.(*store.Tx)
		for i, n := range []struct {
			to, raw string
			direct  bool
			name    string
		}{
			{"kit", `{"to":["https://www.w3.org/ns/activitystreams#Public"]}`, false, ""},
			{"kit", `{"to":"https://b.example/users/eve/followers","cc":"as:Public"}`, false, ""},
			{"kit", `{"to":["https://b.example/users/eve/followers"]}`, false, ""},
			{"kit", `{"to":["https://a.example/users/kit"]}`, true, ""},
			{"kit", `{"to":["https://www.w3.org/ns/activitystreams#Public"]}`, false, "yes"},
			{"other", `{"to":["https://www.w3.org/ns/activitystreams#Public"]}`, false, ""},
		} {
			rid := kit.ID
			if n.to == "other" {
				rid = other.ID
			}
			if _, err := st.InsertReceivedNote(ctx, store.ReceivedNote{ActivityID: fmt.Sprintf("https://b.example/c/%d", i),
				ObjectID: fmt.Sprintf("https://b.example/notes/%d", i), ActorURI: "https://b.example/users/eve",
				RecipientIDs: []int64{rid}, Direct: n.direct, Name: n.name, Content: fmt.Sprintf("<p>note %d</p>", i),
				Raw: []byte(n.raw), ReceivedAt: at}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.ProjectPosts(ctx, "kit", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Posts) != coop.ProjectPostsPerPage || page.Next == 0 {
		t.Fatalf("first page: %d posts, next %d", len(page.Posts), page.Next)
	}
	if p := page.Posts[0]; !p.Announce || p.URL != "https://b.example/notes/9" {
		t.Errorf("newest = %+v, want the announce", p)
	}
	if p := page.Posts[1]; p.Announce || p.URL != "https://a.example/notes/21" || p.Content != "<p>post 21</p>" {
		t.Errorf("second = %+v, want post 21", p)
	}
	older, err := s.ProjectPosts(ctx, "kit", page.Next)
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, p := range older.Posts {
		urls = append(urls, p.URL)
	}
	if diff := cmp.Diff([]string{"https://a.example/notes/2", "https://a.example/notes/1", "https://a.example/notes/0"}, urls); diff != "" || older.Next != 0 {
		t.Errorf("older page (-want +got):\n%s next %d", diff, older.Next)
	}

	ms, err := s.ProjectMentions(ctx, "kit")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Content)
	}
	if diff := cmp.Diff([]string{"<p>note 1</p>", "<p>note 0</p>"}, got); diff != "" {
		t.Errorf("ProjectMentions (-want +got):\n%s", diff)
	}

	for _, title := range []string{"First", "Second"} {
		if _, err := s.OpenProposal(as["alice"], coop.NewProposal{Group: "kit", Title: title, Method: governance.Consent,
			ClosesIn: time.Hour, Threshold: governance.Consensus}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.OpenProposal(as["alice"], coop.NewProposal{Group: coop.CoopGroup, Title: "Co-op's", Method: governance.Consent,
		ClosesIn: time.Hour, Threshold: governance.Consensus}); err != nil {
		t.Fatal(err)
	}
	open, closed, err := s.ProjectProposals(ctx, "kit")
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 2 || open[0].Title != "Second" || len(closed) != 0 {
		t.Errorf("ProjectProposals = %+v, %+v", open, closed)
	}
	if _, err := s.ProjectPosts(ctx, "nope", 0); !errors.Is(err, coop.ErrNotFound) {
		t.Errorf("ProjectPosts(nope) = %v", err)
	}
}
