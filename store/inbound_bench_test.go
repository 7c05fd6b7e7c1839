package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/coopfed/coopfed/coop"
)

// noteEffect stores a received Note with one recipient, as the inbox's
// inline Create{Note} does.
type noteEffect struct {
	n ReceivedNote
}

func (e *noteEffect) Current() bool { return true }

func (e *noteEffect) Apply(ctx context.Context, t *Tx, id int64) error {
	n := e.n
	n.InboundID = id
	_, err := t.InsertReceivedNote(ctx, n)
	return err
}

// BenchmarkInboundGroupCommit is the inbox's committer alone: groups of
// Create{Note} activities from 16 remote actors, each stored done with
// its Note in one transaction a group, the sizes of the coopbench inbox
// benchmark's activities. It reports the WAL frames written per activity
// (the commit's main cost: one write of a frame header and one of a
// page for each) besides the time per activity (ns/op: an op is an
// activity).
//
//	go test ./store -run '^$' -bench InboundGroupCommit -count 5
func BenchmarkInboundGroupCommit(b *testing.B) {
	for _, group := range []int{4, 12, 32} {
		b.Run(fmt.Sprintf("group=%d", group), func(b *testing.B) {
			ctx := context.Background()
			db, err := Open(ctx, filepath.Join(b.TempDir(), "coopfed.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var alice coop.Actor
			err = db.Write(ctx, func(t *Tx) error {
				alice, err = t.InsertActor(ctx, coop.Actor{Kind: coop.KindPerson, Handle: "alice", Name: "Alice", PublicKeyPEM: "PEM",
					CreatedAt: t0, UpdatedAt: t0, Revision: 1}, "KEY")
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			const senders = 16
			mk := func(i int) *inboundReq {
				s := i % senders
				actorURI := fmt.Sprintf("https://remote%d.example/users/bob", s+1)
				note := fmt.Sprintf("%s/statuses/%d", actorURI, i)
				object := fmt.Sprintf(`{"id":%q,"type":"Note","attributedTo":%q,"to":["https://coop.example/users/alice"],`+
					`"content":"<p>Hello @alice, note %d of this round.</p>","published":"2026-11-25T20:00:00Z"}`, note, actorURI, i)
				body := fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Create","actor":%q,`+
					`"to":["https://coop.example/users/alice"],"published":"2026-11-25T20:00:00Z","object":%s}`, note+"/activity", actorURI, object)
				return &inboundReq{ctx: ctx, ready: make(chan struct{}),
					in: Inbound{ActivityID: note + "/activity", ActivityType: "Create", ActorURI: actorURI, KeyID: actorURI + "#main-key",
						Body: []byte(body), ReceivedAt: t0},
					eff: &noteEffect{ReceivedNote{ActivityID: note + "/activity", ObjectID: note, ActorURI: actorURI,
						RecipientIDs: []int64{alice.ID}, Direct: true, Content: fmt.Sprintf("<p>Hello @alice, note %d of this round.</p>", i),
						Published: t0, Raw: []byte(object), ReceivedAt: t0}},
				}
			}
			// A warm table: the indexes a few levels deep, as after a while.
			next := 0
			warm := func(n int) {
				for n > 0 {
					g := make([]*inboundReq, 0, group)
					for range min(group, n) {
						g = append(g, mk(next))
						next++
					}
					n -= len(g)
					db.commitInbound(g)
					for _, r := range g {
						if r.err != nil || !r.applied {
							b.Fatalf("not applied: %v", r.err)
						}
					}
				}
			}
			warm(20000)
			// Frames are counted in a WAL checkpointed just before, and
			// not checkpointed during the timed part: neither by the
			// checkpointer (stopped here; Close stops it again, which
			// does nothing) nor by the writer.
			if err := db.ckpt.close(); err != nil {
				b.Fatal(err)
			}
			if _, err := db.write.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`); err != nil {
				b.Fatal(err)
			}
			if _, err := db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				b.Fatal(err)
			}
			groups := make([][]*inboundReq, 0, b.N/group+1)
			for i := 0; i < b.N; i += group {
				g := make([]*inboundReq, 0, group)
				for j := i; j < min(i+group, b.N); j++ {
					g = append(g, mk(next))
					next++
				}
				groups = append(groups, g)
			}
			b.ResetTimer()
			for _, g := range groups {
				db.commitInbound(g)
			}
			b.StopTimer()
			for _, g := range groups {
				for _, r := range g {
					if r.err != nil || !r.applied {
						b.Fatalf("not applied: %v", r.err)
					}
				}
			}
			var busy, frames, done int
			if err := db.write.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(frames)/float64(b.N), "frames/activity")
		})
	}
}
