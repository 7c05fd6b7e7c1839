package coop_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
	"github.com/google/go-cmp/cmp"
)

// peerPublisher is a recorder that knows some remote actors and keeps the
// follows it is asked to send, as federation's Publisher does.
type peerPublisher struct {
	recorder
	actors map[string]coop.Recipient // by account and by URL
}

func (p *peerPublisher) Recipient(_ context.Context, accountOrURL string) (coop.Recipient, error) {
	r, ok := p.actors[accountOrURL]
	if !ok {
		return coop.Recipient{}, fmt.Errorf("%s: %w", accountOrURL, coop.ErrNotFound)
	}
	return r, nil
}

func (p *peerPublisher) PublishFollow(ctx context.Context, tx coop.Tx, follower coop.Actor, target coop.Recipient, at time.Time) (string, error) {
	p.sent = append(p.sent, fmt.Sprintf("Follow of %s by %s", target.Actor, follower.Handle))
	id := "https://a.example/users/" + follower.Handle + "/follows/1"
	return id, tx.AddFollowing(ctx, follower.ID, target.Actor, id, "pending", at)
}

func (p *peerPublisher) PublishUndoFollow(ctx context.Context, tx coop.Tx, follower coop.Actor, target coop.Recipient, _ time.Time) error {
	p.sent = append(p.sent, fmt.Sprintf("Undo Follow of %s by %s", target.Actor, follower.Handle))
	_, err := tx.RemoveFollowing(ctx, follower.ID, target.Actor)
	return err
}

func TestPeers(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	s := newService(t)
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s.Clock = func() time.Time { return t0 }
	beta := coop.Recipient{Actor: "https://b.example/users/coop", Type: "Organization", Acct: "coop@b.example", Inbox: "https://b.example/users/coop/inbox"}
	gamma := coop.Recipient{Actor: "https://c.example/users/coop", Type: "Organization", Acct: "coop@c.example", Inbox: "https://c.example/users/coop/inbox"}
	bob := coop.Recipient{Actor: "https://b.example/users/bob", Type: "Person", Acct: "bob@b.example", Inbox: "https://b.example/users/bob/inbox"}
	pub := &peerPublisher{actors: map[string]coop.Recipient{
		"@coop@b.example": beta, beta.Actor: beta,
		"@coop@c.example": gamma, gamma.Actor: gamma,
		"@bob@b.example": bob,
	}}
	s.Publisher = pub
	c, err := s.EnsureCoop(ctx, "coop", "Example Co-op", "")
	if err != nil {
		t.Fatal(err)
	}
	db := s.Store.(*store.DB)
	member := func(t *testing.T, uri string, want bool) {
		t.Helper()
		got, err := s.IsFederationMember(ctx, uri)
		if err != nil || got != want {
			t.Errorf("IsFederationMember(%s) = %v, %v; want %v", uri, got, err, want)
		}
	}

	t.Run("a person is refused", func(t *testing.T) {
		_, err := s.AddPeer(ctx, "@bob@b.example", coop.PrincipalCLI)
		if !errors.Is(err, coop.ErrNotOrganization) {
			t.Fatalf("AddPeer(person) = %v, want ErrNotOrganization", err)
		}
		if got := pub.take(); len(got) != 0 {
			t.Errorf("sent %q for a refused peer", got)
		}
		member(t, bob.Actor, false)
	})

	t.Run("adding follows the peer and sends an Update", func(t *testing.T) {
		p, err := s.AddPeer(ctx, "@coop@b.example", coop.PrincipalCLI)
		if err != nil {
			t.Fatal(err)
		}
		want := coop.Peer{Actor: beta.Actor, AddedAt: t0, AddedBy: "cli", FollowState: "pending"}
		if diff := cmp.Diff(want, p); diff != "" {
			t.Errorf("AddPeer (-want +got):\n%s", diff)
		}
		sent := []string{"Follow of " + beta.Actor + " by coop", fmt.Sprintf("Update coop rev %d manual false", c.Revision+1)}
		if diff := cmp.Diff(sent, pub.take()); diff != "" {
			t.Errorf("sent (-want +got):\n%s", diff)
		}
		member(t, beta.Actor, true)
		member(t, gamma.Actor, false)
	})

	t.Run("adding twice is refused", func(t *testing.T) {
		_, err := s.AddPeer(ctx, beta.Actor, coop.PrincipalCLI)
		if !errors.Is(err, coop.ErrPeerExists) {
			t.Fatalf("AddPeer again = %v, want ErrPeerExists", err)
		}
		if got := pub.take(); len(got) != 0 {
			t.Errorf("sent %q for a peer listed already", got)
		}
	})

	t.Run("an accepted follow is not sent again", func(t *testing.T) {
		err := db.Write(ctx, func(tx *store.Tx) error {
			return tx.AddFollowing(ctx, c.ID, gamma.Actor, "https://a.example/f/9", "accepted", t0)
		})
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.AddPeer(ctx, gamma.Actor, "cli")
		if err != nil {
			t.Fatal(err)
		}
		if p.FollowState != "accepted" {
			t.Errorf("follow state %q, want accepted", p.FollowState)
		}
		if diff := cmp.Diff([]string{fmt.Sprintf("Update coop rev %d manual false", c.Revision+2)}, pub.take()); diff != "" {
			t.Errorf("sent (-want +got):\n%s", diff)
		}
	})

	t.Run("the list, oldest first, with follow states", func(t *testing.T) {
		ps, err := s.Peers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []coop.Peer{
			{Actor: beta.Actor, AddedAt: t0, AddedBy: "cli", FollowState: "pending"},
			{Actor: gamma.Actor, AddedAt: t0, AddedBy: "cli", FollowState: "accepted"},
		}
		if diff := cmp.Diff(want, ps); diff != "" {
			t.Errorf("Peers (-want +got):\n%s", diff)
		}
		page, err := db.CollectionPage(ctx, c.ID, coop.Federation, coop.PageRequest{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 2 || len(page.Items) != 1 || page.Items[0].IRI != gamma.Actor || page.Next == 0 {
			t.Errorf("first federation page = %+v, want gamma, then more", page)
		}
	})

	t.Run("removing undoes the follow and sends an Update", func(t *testing.T) {
		if err := s.RemovePeer(ctx, "@coop@b.example"); err != nil {
			t.Fatal(err)
		}
		sent := []string{"Undo Follow of " + beta.Actor + " by coop", fmt.Sprintf("Update coop rev %d manual false", c.Revision+3)}
		if diff := cmp.Diff(sent, pub.take()); diff != "" {
			t.Errorf("sent (-want +got):\n%s", diff)
		}
		member(t, beta.Actor, false)
		if err := s.RemovePeer(ctx, beta.Actor); !errors.Is(err, coop.ErrNotPeer) {
			t.Errorf("RemovePeer again = %v, want ErrNotPeer", err)
		}
	})

	t.Run("a peer that cannot be read is removed by URL", func(t *testing.T) {
		delete(pub.actors, gamma.Actor)
		if err := s.RemovePeer(ctx, gamma.Actor); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{fmt.Sprintf("Update coop rev %d manual false", c.Revision+4)}, pub.take()); diff != "" {
			t.Errorf("sent (-want +got):\n%s", diff)
		}
		ps, err := s.Peers(ctx)
		if err != nil || len(ps) != 0 {
			t.Errorf("Peers = %v, %v; want none", ps, err)
		}
		fs, err := db.Following(ctx, c.ID)
		if err != nil || len(fs) != 0 {
			t.Errorf("following = %v, %v; want none", fs, err)
		}
	})
}

func TestAddProjectAnnounces(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	s := newService(t)
	pub := &recorder{}
	s.Publisher = pub
	if _, err := s.AddProject(ctx, coop.NewProject{Slug: "before", Name: "Before"}); err != nil {
		t.Fatal(err)
	}
	if got := pub.take(); len(got) != 0 {
		t.Errorf("announced %q with no co-op actor", got)
	}
	if _, err := s.EnsureCoop(ctx, "coop", "Example Co-op", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddProject(ctx, coop.NewProject{Slug: "tool", Name: "The Tool", Tags: []string{"Go"}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Add tool to projects of coop"}, pub.take()); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	ps, err := s.FederatedProjects(ctx, coop.ProjectFilter{Tag: "#GO"})
	if err != nil {
		t.Fatal(err)
	}
	want := []coop.ProjectEntry{{URI: "https://a.example/users/tool", Host: "a.example", Handle: "tool", Name: "The Tool",
		Tags: []string{"go"}, Local: true}}
	if diff := cmp.Diff(want, ps); diff != "" {
		t.Errorf("FederatedProjects (-want +got):\n%s", diff)
	}
}

func TestUpdateProject(t *testing.T) {
	ctx := coop.AsAdmin(context.Background())
	s := newService(t)
	pub := &recorder{}
	s.Publisher = pub
	if _, err := s.EnsureCoop(ctx, "coop", "Example Co-op", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddProject(ctx, coop.NewProject{Slug: "tool", Name: "The Tool", Tags: []string{"go"}, Needs: []string{"review"}}); err != nil {
		t.Fatal(err)
	}
	pub.take()
	name, repo := "The Tool 2", "https://git.example/tool"
	tags := []string{"#Web", "go"}
	p, err := s.UpdateProject(ctx, "tool", coop.ProjectChange{Name: &name, Repository: &repo, Tags: &tags})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != name || p.Repository != repo || p.Revision != 2 || !cmp.Equal(p.Tags, []string{"go", "web"}) || !cmp.Equal(p.Needs, []string{"review"}) {
		t.Errorf("UpdateProject = %+v", p)
	}
	if diff := cmp.Diff([]string{"Update tool rev 2 manual false", "Update tool rev 2 by coop"}, pub.take()); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	t.Run("no change sends nothing", func(t *testing.T) {
		if _, err := s.UpdateProject(ctx, "tool", coop.ProjectChange{Name: &name}); err != nil {
			t.Fatal(err)
		}
		if got := pub.take(); len(got) != 0 {
			t.Errorf("sent %q", got)
		}
	})
	t.Run("a bad repository is refused", func(t *testing.T) {
		bad := "ftp://x"
		if _, err := s.UpdateProject(ctx, "tool", coop.ProjectChange{Repository: &bad}); !errors.Is(err, coop.ErrInvalidInput) {
			t.Errorf("UpdateProject(ftp) = %v", err)
		}
	})
	t.Run("an unknown project is not found", func(t *testing.T) {
		if _, err := s.UpdateProject(ctx, "nope", coop.ProjectChange{Name: &name}); !errors.Is(err, coop.ErrNotFound) {
			t.Errorf("UpdateProject(nope) = %v", err)
		}
	})
}
