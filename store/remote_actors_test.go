package store

import (
	"context"
	"testing"
	"time"
)

func TestRemoteActorCache(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/coopfed.db"
	node, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	cli, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	now := t0
	node.actors.now = func() time.Time { return now }
	const uri = "https://r.test/u/bob"
	put := func(db *DB, name string) {
		t.Helper()
		if err := db.PutRemoteActor(ctx, RemoteActor{ID: uri, Name: name, KeyID: uri + "#k", Host: "r.test", FetchedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name, want string
		do         func()
	}{
		{"read and cached", "one", func() { put(node, "one") }},
		{"a write through this DB holds at once", "two", func() { put(node, "two") }},
		{"another process's write is not seen within the TTL", "two", func() { put(cli, "three"); now = now.Add(RemoteActorCacheTTL / 2) }},
		{"another process's write holds once the TTL is over", "three", func() { now = now.Add(RemoteActorCacheTTL / 2) }},
	}
	for _, s := range steps {
		s.do()
		a, err := node.RemoteActor(ctx, uri)
		if err != nil || a.Name != s.want {
			t.Errorf("%s: RemoteActor = %q, %v; want %q", s.name, a.Name, err, s.want)
		}
		k, err := node.RemoteActorByKeyID(ctx, uri+"#k")
		if err != nil || k.Name != s.want {
			t.Errorf("%s: RemoteActorByKeyID = %q, %v; want %q", s.name, k.Name, err, s.want)
		}
	}
}
