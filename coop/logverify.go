package coop

import (
	"context"
	"fmt"

	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/note"
)

// LogReport is what a whole-log verification checked.
type LogReport struct {
	Origin      string
	Records     int64
	Checkpoints int   // signed checkpoints checked against the records
	Cosigned    int   // of which cosigned by at least one witness
	Latest      int64 // size of the latest signed checkpoint
}

// VerifyLog checks the open log from the database, trusting nothing in it
// but the log's public key: every checkpoint the node ever signed (and so
// every one a witness cosigned) must carry a valid signature, every record
// must hash to its stored hashes, and the tree recomputed from the
// records must have each checkpoint's hash at its size. The first failure
// names the record (a *ledger.BadRecordError) or the checkpoint.
func (s *Service) VerifyLog(ctx context.Context) (LogReport, error) {
	l, err := s.Store.OpenLog(ctx)
	if err != nil {
		return LogReport{}, err
	}
	return s.verifyLog(ctx, l)
}

func (s *Service) verifyLog(ctx context.Context, l DecisionLog) (LogReport, error) {
	rep := LogReport{Origin: l.Origin, Records: l.Size}
	v, err := note.NewVerifier(l.VKey)
	if err != nil {
		return rep, fmt.Errorf("the log key: %w", err)
	}
	cps, err := s.Store.Checkpoints(ctx, l.ID)
	if err != nil {
		return rep, err
	}
	var want []ledger.Checkpoint
	for _, c := range cps {
		sc, err := ledger.OpenCheckpoint(c.Note, l.Origin, v, nil)
		if err != nil {
			return rep, fmt.Errorf("checkpoint of size %d: %w", c.Size, err)
		}
		if sc.N != c.Size {
			return rep, fmt.Errorf("checkpoint stored as size %d says size %d", c.Size, sc.N)
		}
		want = append(want, sc.Checkpoint)
		if len(c.Cosignatures) > 0 {
			rep.Cosigned++
		}
		rep.Latest = max(rep.Latest, c.Size)
	}
	rep.Checkpoints = len(want)
	// Records are read in batches, as the verification walks them in
	// order.
	const batch = 4096
	var buf [][]byte
	var start int64
	record := func(i int64) ([]byte, error) {
		if i < start || i >= start+int64(len(buf)) {
			start = i
			var err error
			if buf, err = s.Store.LogRecords(ctx, l.ID, i, min(i+batch, l.Size)); err != nil {
				return nil, err
			}
		}
		return buf[i-start], nil
	}
	if err := ledger.VerifyStored(l.Size, record, s.Store.LogHashReader(ctx, l.ID), want...); err != nil {
		return rep, err
	}
	return rep, nil
}
