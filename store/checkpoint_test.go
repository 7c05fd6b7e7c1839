package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestCheckpointer: commits are checkpointed by the checkpointer, beside
// the writer: after a few hundred commits (far fewer pages than the
// writer's backstop) the WAL is copied back whole.
func TestCheckpointer(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	body := []byte(`{"content":"` + strings.Repeat("x", 3000) + `"}`)
	for i := range 200 {
		err := db.Write(ctx, func(tx *Tx) error {
			_, _, err := tx.InsertInbound(ctx, Inbound{ActivityID: fmt.Sprintf("https://a.test/%d", i), ActivityType: "Create",
				ActorURI: "https://a.test/u", KeyID: "https://a.test/u#k", Body: body, ReceivedAt: t0})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	before := db.ckpt.runs.Load()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if db.ckpt.runs.Load() > before || time.Now().After(deadline) {
			break
		}
		// A commit after the last one's checkpoint may be waiting out
		// checkpointEvery: one more wakes it.
		db.ckpt.committed()
		time.Sleep(10 * time.Millisecond)
	}
	if db.ckpt.runs.Load() <= before {
		t.Fatal("no checkpoint after 200 commits")
	}
	if e := db.ckpt.lastErr.Load().(errBox).err; e != nil {
		t.Fatalf("checkpoint: %v", e)
	}
	frames, copied := db.ckpt.frames.Load(), db.ckpt.copied.Load()
	if frames == 0 || copied != frames {
		t.Fatalf("checkpoint: %d frames in the WAL, %d copied; want all copied", frames, copied)
	}
}
