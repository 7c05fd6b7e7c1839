package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The WAL is checkpointed (its pages copied back into the database file)
// by a goroutine of its own, on a connection of its own, not by the
// writer at the end of a commit as SQLite does by default. A checkpoint
// syncs the WAL and the database file: two fsyncs, milliseconds each,
// and at the end of a commit they held up the one writer, and with it
// every inbox POST waiting for its group commit. The inbound benchmark
// stored 0.18-0.21 of the verify rate with the writer's checkpoints, and
// 0.25-0.27 with none in the round. A PASSIVE checkpoint runs beside the
// writer (SQLite's checkpoint lock is not the write lock) and waits for
// no reader; the writer starts the WAL over once a checkpoint has copied
// all of it. Commits are as durable as before: synchronous=NORMAL syncs
// at checkpoints, whoever runs them.
//
// The writer keeps an automatic checkpoint as a backstop, at
// backstopCheckpointPages (see dsn), should this one fall behind.

// checkpointEvery is the least time between two checkpoints: with the
// inbox at full speed, a few thousand WAL pages.
const checkpointEvery = 100 * time.Millisecond

// checkpointer runs PASSIVE checkpoints after commits, at most every
// checkpointEvery.
type checkpointer struct {
	conn *sql.DB
	kick chan struct{} // a commit happened (buffered: kicks coalesce)
	quit chan struct{}
	done chan struct{}
	stop sync.Once

	runs    atomic.Int64 // checkpoints run, for tests
	lastErr atomic.Value // error of the last checkpoint (nil: none), for tests
	frames  atomic.Int64 // the WAL's frames at the last checkpoint, for tests
	copied  atomic.Int64 // of which copied into the database file
}

// startCheckpointer opens the checkpointer's connection to path and
// starts it.
func startCheckpointer(path string) (*checkpointer, error) {
	conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, fmt.Errorf("store: open %s for checkpoints: %w", path, err)
	}
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	conn.SetConnMaxLifetime(0)
	c := &checkpointer{conn: conn, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

// committed tells the checkpointer that the writer committed; it never
// waits.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	wait := time.NewTimer(time.Hour)
	wait.Stop()
	for {
		select {
		case <-c.kick:
		case <-c.quit:
			return
		}
		c.checkpoint()
		wait.Reset(checkpointEvery)
		select {
		case <-wait.C:
		case <-c.quit:
			return
		}
	}
}

// checkpoint runs one PASSIVE checkpoint. A failure (SQLITE_BUSY while
// another process checkpoints, say) is kept for tests and left to the
// next one, or to the writer's backstop.
func (c *checkpointer) checkpoint() {
	var busy, frames, copied int
	err := c.conn.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
	c.frames.Store(int64(frames))
	c.copied.Store(int64(copied))
	c.lastErr.Store(errBox{err})
	c.runs.Add(1)
}

// errBox lets an atomic.Value hold a nil error.
type errBox struct{ err error }

// close stops the checkpointer (after the checkpoint it may be running)
// and closes its connection.
func (c *checkpointer) close() error {
	c.stop.Do(func() { close(c.quit) })
	<-c.done
	return c.conn.Close()
}
