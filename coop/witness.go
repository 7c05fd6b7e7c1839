package coop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Witnessing among the federation's members (DESIGN.md, "Secure history").
//
// coopfed uses C2SP tlog-witness's add-checkpoint (push): after signing,
// a node sends its checkpoint and a consistency proof from the size each
// witness last cosigned to that witness, which checks and cosigns it in the
// same request. Push rather than pull because the log learns at once which
// size each witness holds (a 409 answers with it), which is what lets a
// node restored from an old backup refuse to append below it; because the
// cosignature comes back in the answer, with no second round; and because
// it is the protocol existing witnesses speak. Witnesses also pull: each
// reads its members' served checkpoints and checks them against the one
// it keeps, which catches a node that shows different trees to different
// peers.
//
// A node witnesses only the logs of its federation's members. Their keys
// are read from the member's own host (its log URL) and pinned when first
// seen: a checkpoint from any other origin or key is refused.

// WitnessedLog is a federation member's log that this node witnesses,
// with the latest checkpoint it keeps of it (Size 0 before the first).
type WitnessedLog struct {
	Origin      string
	Peer        string // the member co-op's actor URI
	URL         string // its log's tlog-tiles prefix
	VKey        string // its log key, pinned
	WitnessVKey string // its witness key, which cosigns our checkpoints
	Size        int64
	Hash        tlog.Hash
	Note        []byte
	Updated     time.Time
	Retired     bool // the member rotated its key: its next log is witnessed instead
}

// open opens a checkpoint of the witnessed log with its pinned key; a
// signature that does not hold is ErrCheckpointSignature.
func (w WitnessedLog) open(signed []byte) (*ledger.SignedCheckpoint, error) {
	v, err := note.NewVerifier(w.VKey)
	if err != nil {
		return nil, fmt.Errorf("the pinned key of %s: %w", w.Origin, err)
	}
	sc, err := ledger.OpenCheckpoint(signed, w.Origin, v, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCheckpointSignature, err)
	}
	return sc, nil
}

// LogEvidence is a pair of inconsistent signed checkpoints of one log.
type LogEvidence struct {
	ID      int64
	Origin  string
	OldNote []byte
	NewNote []byte
	Reason  string
	Found   time.Time
}

// Witness errors; handlers map them to the statuses of C2SP tlog-witness.
var (
	// ErrUnknownLog: the checkpoint's origin is not a log this node
	// witnesses (404).
	ErrUnknownLog = errors.New("this node does not witness that log")
	// ErrCheckpointSignature: the log's signature does not verify (403).
	ErrCheckpointSignature = errors.New("the checkpoint is not signed by the log's key")
	// ErrBadProof: the consistency proof does not hold (422).
	ErrBadProof = errors.New("the consistency proof does not hold")
)

// SizeConflictError says the request's old size is not the size the
// witness holds (409, with that size in the body).
type SizeConflictError struct{ Size int64 }

func (e *SizeConflictError) Error() string {
	return fmt.Sprintf("this witness holds size %d of the log", e.Size)
}

// RemoteLogInfo is what a member's node publishes about its log.
type RemoteLogInfo struct {
	Origin, URL, Key, WitnessKey string
}

// PinWitnessedLog starts witnessing a federation member's log, with the
// keys its node published. The origin must be the member's host's (a node
// witnesses a member's own log, nothing else) and the keys well formed.
// A log pinned before keeps its keys.
func (s *Service) PinWitnessedLog(ctx context.Context, peer string, info RemoteLogInfo) error {
	ok, err := s.IsFederationMember(ctx, peer)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotPeer, peer)
	}
	u, err := url.Parse(peer)
	if err != nil {
		return fmt.Errorf("%w: peer %q", ErrInvalidInput, peer)
	}
	if info.Origin != u.Host+"/decision-log" && !strings.HasPrefix(info.Origin, u.Host+"/decision-log/") {
		return fmt.Errorf("%w: the log %q is not on %s", ErrInvalidInput, info.Origin, u.Host)
	}
	lu, err := url.Parse(info.URL)
	if err != nil || lu.Host != u.Host || lu.Scheme != u.Scheme {
		return fmt.Errorf("%w: log URL %q is not on %s", ErrInvalidInput, info.URL, u.Host)
	}
	if v, err := note.NewVerifier(info.Key); err != nil || v.Name() != info.Origin {
		return fmt.Errorf("%w: log key of %s", ErrInvalidInput, info.Origin)
	}
	if _, err := ledger.NewWitnessVerifier(info.WitnessKey); err != nil {
		return fmt.Errorf("%w: witness key of %s: %v", ErrInvalidInput, peer, err)
	}
	return s.Store.Update(ctx, func(tx Tx) error {
		return tx.PinWitnessed(ctx, WitnessedLog{Origin: info.Origin, Peer: peer, URL: info.URL, VKey: info.Key,
			WitnessVKey: info.WitnessKey, Updated: s.now()})
	})
}

// AddCheckpoint is the witness side of C2SP tlog-witness: body is an
// add-checkpoint request. The checkpoint must be signed by a witnessed
// log's key, the old size must be the size kept (else
// *SizeConflictError), and the proof must show the new tree extends the
// kept one (else ErrBadProof, and the two checkpoints are kept as
// evidence). It returns the cosignature line.
func (s *Service) AddCheckpoint(ctx context.Context, body []byte) ([]byte, error) {
	oldN, proof, signed, err := ledger.ParseAddCheckpoint(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	peek, err := ledger.PeekCheckpoint(signed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidInput, err)
	}
	origin := peek.Origin
	var line []byte
	var evidence *LogEvidence
	err = s.Store.Update(ctx, func(tx Tx) error {
		w, err := tx.WitnessedLog(ctx, origin)
		if isNotFound(err) || (err == nil && w.Retired) {
			return fmt.Errorf("%w: %q", ErrUnknownLog, origin)
		}
		if err != nil {
			return err
		}
		sc, err := w.open(signed)
		if err != nil {
			return err
		}
		if oldN != w.Size {
			return &SizeConflictError{Size: w.Size}
		}
		if sc.N < oldN {
			return fmt.Errorf("%w: the checkpoint (size %d) is smaller than the old size %d", ErrInvalidInput, sc.N, oldN)
		}
		if w.Size > 0 {
			prev := ledger.Checkpoint{Origin: w.Origin, N: w.Size, Hash: w.Hash}
			if err := ledger.CheckAdvance(prev, sc.Checkpoint, proof); err != nil {
				evidence = &LogEvidence{Origin: w.Origin, OldNote: w.Note, NewNote: signed, Reason: err.Error(), Found: s.now()}
				return fmt.Errorf("%w: %v", ErrBadProof, err)
			}
		}
		wk, err := s.ensureWitnessKey(ctx, tx)
		if err != nil {
			return err
		}
		signer, err := ledger.NewWitnessSigner(wk.SKey)
		if err != nil {
			return err
		}
		if line, err = ledger.Cosign(sc.Checkpoint, signer, s.now()); err != nil {
			return err
		}
		if sc.N == w.Size && w.Size > 0 {
			return nil // the same checkpoint again: cosigned, nothing to keep
		}
		return tx.KeepWitnessed(ctx, w.Origin, sc.N, sc.Hash, logSigned(signed, w.Origin), s.now())
	})
	if evidence != nil {
		if kerr := s.keepEvidence(ctx, *evidence); kerr != nil {
			return nil, errors.Join(err, kerr)
		}
	}
	if err != nil {
		return nil, err
	}
	return line, nil
}

// logSigned is a signed checkpoint with the log's own signature only: the
// cosignatures a node serves beside it come and go, and evidence (or a
// kept checkpoint) is what the log itself signed.
func logSigned(msg []byte, origin string) []byte {
	text, sigs, ok := bytes.Cut(msg, []byte("\n\n"))
	if !ok {
		return msg
	}
	out := append(append([]byte(nil), text...), '\n', '\n')
	for _, line := range bytes.SplitAfter(sigs, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("— "+origin+" ")) {
			out = append(out, line...)
		}
	}
	return out
}

// keepEvidence stores a pair of inconsistent checkpoints for good, and
// tells the federation's members about it when a Publisher is set.
func (s *Service) keepEvidence(ctx context.Context, e LogEvidence) error {
	e.OldNote, e.NewNote = logSigned(e.OldNote, e.Origin), logSigned(e.NewNote, e.Origin)
	return s.Store.Update(ctx, func(tx Tx) error {
		id, err := tx.SaveEvidence(ctx, e)
		if err != nil || id == 0 {
			return err // id 0: this pair was kept and told before
		}
		e.ID = id
		if s.OnEvidence != nil {
			s.OnEvidence(e)
		}
		if s.Publisher == nil {
			return nil
		}
		c, err := tx.Coop(ctx)
		if err != nil {
			return err
		}
		return s.Publisher.PublishEvidence(ctx, tx, c, e, s.now())
	})
}

// CheckServedCheckpoint is the witness's pull check: signed is the
// checkpoint a member's node serves now, and proof (from the node) a
// consistency proof from the size kept to its size. A checkpoint that
// does not extend the kept one (a fork shown to someone else, a rewrite,
// a shrink) is kept as evidence and returned as an error.
//
// fromN is the kept size the proof starts from; when the kept checkpoint
// has moved on meanwhile (the member's own push), nothing is judged: the
// next check starts from the new one.
func (s *Service) CheckServedCheckpoint(ctx context.Context, origin string, fromN int64, signed []byte, proof tlog.TreeProof) error {
	w, err := s.Store.WitnessedLog(ctx, origin)
	if err != nil {
		return err
	}
	if w.Size != fromN {
		return nil
	}
	sc, err := w.open(signed)
	if err != nil {
		return err
	}
	if w.Size == 0 {
		return nil
	}
	prev := ledger.Checkpoint{Origin: w.Origin, N: w.Size, Hash: w.Hash}
	if err := ledger.CheckAdvance(prev, sc.Checkpoint, proof); err != nil {
		e := LogEvidence{Origin: w.Origin, OldNote: w.Note, NewNote: signed, Reason: err.Error(), Found: s.now()}
		return errors.Join(fmt.Errorf("%w: %v", ErrBadProof, err), s.keepEvidence(ctx, e))
	}
	return nil
}

// WitnessedLog returns a log this node witnesses, by origin.
func (s *Service) WitnessedLog(ctx context.Context, origin string) (WitnessedLog, error) {
	return s.Store.WitnessedLog(ctx, origin)
}

// WitnessedLogs lists the logs this node witnesses.
func (s *Service) WitnessedLogs(ctx context.Context) ([]WitnessedLog, error) {
	return s.Store.WitnessedLogs(ctx)
}

// Evidence lists the inconsistencies found, newest first.
func (s *Service) Evidence(ctx context.Context) ([]LogEvidence, error) {
	return s.Store.EvidenceList(ctx)
}

// CosignedSize returns the largest size of the open log that the witness
// with the given key name has cosigned (0 when none).
func (s *Service) CosignedSize(ctx context.Context, witness string) (int64, error) {
	l, err := s.Store.OpenLog(ctx)
	if err != nil {
		return 0, err
	}
	return s.Store.CosignedSize(ctx, l.ID, witness)
}

// RecordCosignature stores a witness's cosignature of the open log's
// checkpoint of size n, after checking it with the witness's key.
func (s *Service) RecordCosignature(ctx context.Context, w WitnessedLog, n int64, line []byte) error {
	v, err := ledger.NewWitnessVerifier(w.WitnessVKey)
	if err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx Tx) error {
		l, err := tx.OpenLog(ctx)
		if err != nil {
			return err
		}
		c, err := tx.CheckpointAt(ctx, l.ID, n)
		if err != nil {
			return err
		}
		msg, err := ledger.AddCosignatures(c.Note, line)
		if err != nil {
			return err
		}
		if ledger.CountCosignatures(msg, []note.Verifier{v}) != 1 {
			return fmt.Errorf("%w: the cosignature from %s does not verify", ErrCheckpointSignature, v.Name())
		}
		return tx.SaveCosignature(ctx, l.ID, n, v.Name(), strings.TrimSuffix(string(line), "\n"), s.now())
	})
}

// WitnessAhead records that a witness holds a larger size of the open log
// than it has: the node then refuses to append (BehindWitnessError).
func (s *Service) WitnessAhead(ctx context.Context, witness string, size int64) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		l, err := tx.OpenLog(ctx)
		if err != nil {
			return err
		}
		if size <= l.Size {
			return nil
		}
		return tx.SetLogFloor(ctx, l.ID, size, witness)
	})
}
