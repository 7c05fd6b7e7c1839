package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/google/go-cmp/cmp"
)

func TestBlocks(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	var a coop.Actor
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		if a, err = tx.InsertActor(ctx, actor(coop.KindOrganization, "coop"), "KEY"); err != nil {
			return err
		}
		for _, b := range []coop.Block{
			{Kind: coop.BlockDomain, Target: "bad.test", Reason: "spam", By: "admin", CreatedAt: t0},
			{Kind: coop.BlockDomain, Target: "sub.bad.test", Reason: "worse", By: "admin", CreatedAt: t0},
			{Kind: coop.BlockAccount, Target: "https://p.test/u/troll", By: "ann", CreatedAt: t0},
		} {
			if err := tx.InsertBlock(ctx, b); err != nil {
				return err
			}
		}
		if err := tx.PutRemoteActor(ctx, RemoteActor{ID: "https://p.test/u/troll", Inbox: "https://p.test/u/troll/inbox",
			SharedInbox: "https://p.test/inbox", Host: "p.test", FetchedAt: t0}); err != nil {
			return err
		}
		return tx.EnqueueDeliveries(ctx, a.ID, "https://coop.test/a/1", []byte("{}"),
			[]string{"https://p.test/u/troll/inbox", "https://p.test/inbox", "https://x.sub.bad.test/inbox", "https://notbad.test/inbox"}, t0)
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the longest covering domain block is found", func(t *testing.T) {
		for host, want := range map[string]string{"bad.test": "spam", "a.bad.test": "spam", "x.sub.bad.test": "worse", "SUB.bad.test.:443": "worse"} {
			b, err := db.DomainBlock(ctx, host)
			if err != nil || b.Reason != want {
				t.Errorf("DomainBlock(%s) = %+v, %v; want reason %q", host, b, err, want)
			}
		}
		for _, host := range []string{"notbad.test", "test", "p.test"} {
			if _, err := db.DomainBlock(ctx, host); !errors.Is(err, ErrNotFound) {
				t.Errorf("DomainBlock(%s): %v, want ErrNotFound", host, err)
			}
		}
		if _, err := db.DomainBlock(ctx, "bad host"); !errors.Is(err, coop.ErrInvalidDomain) {
			t.Errorf("DomainBlock of a bad host: %v", err)
		}
	})
	t.Run("an account block is exact", func(t *testing.T) {
		if b, err := db.AccountBlock(ctx, "https://p.test/u/troll"); err != nil || b.By != "ann" {
			t.Errorf("AccountBlock = %+v, %v", b, err)
		}
		if _, err := db.AccountBlock(ctx, "https://p.test/u/other"); !errors.Is(err, ErrNotFound) {
			t.Errorf("AccountBlock of another: %v", err)
		}
	})
	t.Run("the same block twice is ErrAlreadyBlocked", func(t *testing.T) {
		err := db.UpdateBlocks(ctx, func(tx coop.BlockTx) error {
			return tx.InsertBlock(ctx, coop.Block{Kind: coop.BlockDomain, Target: "bad.test", By: "admin", CreatedAt: t0})
		})
		if !errors.Is(err, coop.ErrAlreadyBlocked) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an account's deliveries go, not its server's shared inbox", func(t *testing.T) {
		var n int64
		err := db.UpdateBlocks(ctx, func(tx coop.BlockTx) error {
			var err error
			n, err = tx.KillDeliveriesToActor(ctx, "https://p.test/u/troll", "blocked", t0)
			return err
		})
		if err != nil || n != 1 {
			t.Fatalf("killed %d, %v", n, err)
		}
		dead, _ := db.Deliveries(ctx, DeliveryDead, 10)
		if len(dead) != 1 || dead[0].Inbox != "https://p.test/u/troll/inbox" || dead[0].LastError != "blocked" {
			t.Fatalf("dead = %+v", dead)
		}
	})
	t.Run("blocks listed, domains first", func(t *testing.T) {
		bs, err := db.Blocks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, b := range bs {
			got = append(got, string(b.Kind)+" "+b.Target)
		}
		want := []string{"domain bad.test", "domain sub.bad.test", "account https://p.test/u/troll"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("removing a block", func(t *testing.T) {
		del := func() error {
			return db.UpdateBlocks(ctx, func(tx coop.BlockTx) error { return tx.DeleteBlock(ctx, coop.BlockDomain, "sub.bad.test") })
		}
		if err := del(); err != nil {
			t.Fatal(err)
		}
		if err := del(); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
}

func TestBlockCache(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/coopfed.db"
	node, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	// The CLI: another process on the same file, with a cache of its own.
	cli, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	now := t0
	node.blocks.now = func() time.Time { return now }

	add := func(db *DB, kind coop.BlockKind, target string) {
		t.Helper()
		err := db.Write(ctx, func(tx *Tx) error {
			return tx.InsertBlock(ctx, coop.Block{Kind: kind, Target: target, By: "admin", CreatedAt: t0})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	remove := func(db *DB, kind coop.BlockKind, target string) {
		t.Helper()
		if err := db.Write(ctx, func(tx *Tx) error { return tx.DeleteBlock(ctx, kind, target) }); err != nil {
			t.Fatal(err)
		}
	}
	domainBlocked := func(host string) bool {
		t.Helper()
		_, err := node.DomainBlock(ctx, host)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	accountBlocked := func(uri string) bool {
		t.Helper()
		_, err := node.AccountBlock(ctx, uri)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}

	steps := []struct {
		name string
		do   func()
		want func() bool
	}{
		{"nothing blocked, and the empty list is cached", func() {}, func() bool { return !domainBlocked("a.test") }},
		{"a block written in this process holds at once", func() { add(node, coop.BlockDomain, "a.test") },
			func() bool { return domainBlocked("x.a.test") }},
		{"an unblock in this process holds at once", func() { remove(node, coop.BlockDomain, "a.test") },
			func() bool { return !domainBlocked("x.a.test") }},
		{"another process's block is not seen within the TTL", func() {
			add(cli, coop.BlockAccount, "https://b.test/u/troll")
			now = now.Add(BlockCacheTTL / 2)
		}, func() bool { return !accountBlocked("https://b.test/u/troll") }},
		{"another process's block holds once the TTL is over", func() { now = now.Add(BlockCacheTTL / 2) },
			func() bool { return accountBlocked("https://b.test/u/troll") }},
		{"another process's unblock holds once the TTL is over", func() {
			remove(cli, coop.BlockAccount, "https://b.test/u/troll")
			now = now.Add(BlockCacheTTL)
		}, func() bool { return !accountBlocked("https://b.test/u/troll") }},
	}
	for _, s := range steps {
		s.do()
		if !s.want() {
			t.Errorf("%s: not so", s.name)
		}
	}
}
