package coop

import (
	"context"
	"fmt"

	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// LogInfo is what the node publishes about its decision log: on the
// co-op's actor (coop:decisionLog) and at the log's URL.
type LogInfo struct {
	Origin     string // the checkpoints' origin line
	URL        string // the tlog-tiles prefix ("https://host/log/")
	Key        string // the log's note verifier key
	WitnessKey string // the node's cosignature/v1 verifier key, for the logs it witnesses
	Size       int64
}

// LogInfo returns the open log's public facts; ErrNotFound before the
// log exists.
func (s *Service) LogInfo(ctx context.Context) (LogInfo, error) {
	l, err := s.Store.OpenLog(ctx)
	if err != nil {
		return LogInfo{}, err
	}
	w, err := s.Store.WitnessKey(ctx)
	if err != nil {
		return LogInfo{}, err
	}
	return LogInfo{Origin: l.Origin, URL: s.Site.LogURL(), Key: l.VKey, WitnessKey: w.VKey, Size: l.Size}, nil
}

// SignedCheckpoint returns the open log's latest signed checkpoint with
// the cosignatures its witnesses sent: what the log serves at
// "checkpoint". ErrNotFound before the first signing.
func (s *Service) SignedCheckpoint(ctx context.Context) ([]byte, error) {
	_, c, err := s.signedTree(ctx)
	if err != nil {
		return nil, err
	}
	return withCosignatures(c)
}

// signedTree returns the open log and its latest signed checkpoint: the
// tree the log serves. ErrNotFound before the first signing.
func (s *Service) signedTree(ctx context.Context) (DecisionLog, LogCheckpoint, error) {
	l, err := s.Store.OpenLog(ctx)
	if err != nil {
		return DecisionLog{}, LogCheckpoint{}, err
	}
	c, err := s.Store.LatestCheckpoint(ctx, l.ID)
	if err != nil {
		return DecisionLog{}, LogCheckpoint{}, err
	}
	return l, c, nil
}

func withCosignatures(c LogCheckpoint) ([]byte, error) {
	lines := make([][]byte, 0, len(c.Cosignatures))
	for _, cs := range c.Cosignatures {
		lines = append(lines, []byte(cs.Line+"\n"))
	}
	msg, err := ledger.AddCosignatures(c.Note, lines...)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %d: %w", c.Size, err)
	}
	return msg, nil
}

// LogTile returns the bytes at a tlog-tiles path under the log's prefix
// ("tile/L/N[.p/W]" or "tile/entries/N[.p/W]"), within the latest signed
// checkpoint's tree: the log serves nothing it has not signed. A path
// beyond it is ErrNotFound.
func (s *Service) LogTile(ctx context.Context, path string) ([]byte, error) {
	t, err := ledger.ParseTilePath(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	l, c, err := s.signedTree(ctx)
	if err != nil {
		return nil, err
	}
	if !ledger.InTree(t, c.Size) {
		return nil, fmt.Errorf("%w: %s is not in the tree of size %d", ErrNotFound, path, c.Size)
	}
	if t.L == -1 {
		from := t.N << ledger.TileHeight
		recs, err := s.Store.LogRecords(ctx, l.ID, from, from+int64(t.W))
		if err != nil {
			return nil, err
		}
		return ledger.EntryBundle(recs)
	}
	return ledger.TileData(t, s.Store.LogHashReader(ctx, l.ID))
}

// LogReceipt returns a receipt for record index: the record, its inclusion
// proof in the latest signed checkpoint, and that checkpoint with its
// cosignatures (C2SP tlog-proof). ErrNotFound when the record is not in a
// signed checkpoint yet.
func (s *Service) LogReceipt(ctx context.Context, index int64) (ledger.Receipt, error) {
	l, c, err := s.signedTree(ctx)
	if err != nil {
		return ledger.Receipt{}, err
	}
	if index < 0 || index >= c.Size {
		return ledger.Receipt{}, fmt.Errorf("%w: record %d is not in the signed tree of size %d", ErrNotFound, index, c.Size)
	}
	recs, err := s.Store.LogRecords(ctx, l.ID, index, index+1)
	if err != nil {
		return ledger.Receipt{}, err
	}
	p, err := ledger.ProveInclusion(c.Size, index, s.Store.LogHashReader(ctx, l.ID))
	if err != nil {
		return ledger.Receipt{}, err
	}
	msg, err := withCosignatures(c)
	if err != nil {
		return ledger.Receipt{}, err
	}
	return ledger.Receipt{Index: index, Record: recs[0], Proof: p, Checkpoint: msg}, nil
}

// LogConsistency proves that the open log's tree of size oldN is a prefix
// of its tree of size newN (both at most the latest signed size).
func (s *Service) LogConsistency(ctx context.Context, oldN, newN int64) (tlog.TreeProof, error) {
	l, c, err := s.signedTree(ctx)
	if err != nil {
		return nil, err
	}
	if oldN < 0 || oldN > newN || newN > c.Size {
		return nil, fmt.Errorf("%w: sizes %d and %d (signed size %d)", ErrInvalidInput, oldN, newN, c.Size)
	}
	return ledger.ProveConsistency(oldN, newN, s.Store.LogHashReader(ctx, l.ID))
}

// LogVerifier is the open log's note verifier.
func (s *Service) LogVerifier(ctx context.Context) (note.Verifier, error) {
	l, err := s.Store.OpenLog(ctx)
	if err != nil {
		return nil, err
	}
	return note.NewVerifier(l.VKey)
}
