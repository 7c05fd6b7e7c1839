package coop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// RotateLog retires the open log's key: a log.closed record, its last,
// names the next log's origin and key, so that the old key vouches for
// the new one; the old log's final checkpoint is signed; the next log
// opens with a log.opened record naming that final checkpoint. All of it
// in one durable transaction, on behalf of ctx's principal. The co-op's
// actor, which publishes the log's key, is sent again to its followers.
func (s *Service) RotateLog(ctx context.Context) (DecisionLog, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return DecisionLog{}, fmt.Errorf("coop: rotate the log key: %w", ErrNoPrincipal)
	}
	var next DecisionLog
	err := s.Store.UpdateDurable(ctx, func(tx Tx) error {
		old, err := s.openLog(ctx, tx)
		if err != nil {
			return err
		}
		logs, err := tx.Logs(ctx)
		if err != nil {
			return err
		}
		origin := s.Site.LogOrigin() + "/" + strconv.Itoa(len(logs)+1)
		skey, vkey, err := ledger.GenerateLogKey(s.rand(), origin)
		if err != nil {
			return err
		}
		now := s.now()
		closed, err := ledger.ClosedRecord(now, p.ID, origin, vkey).Encode()
		if err != nil {
			return err
		}
		if _, err := tx.AppendLog(ctx, old.ID, closed); err != nil {
			return err
		}
		h, err := tlog.TreeHash(old.Size+1, tx.LogHashReader(ctx, old.ID))
		if err != nil {
			return err
		}
		signer, err := note.NewSigner(old.SKey)
		if err != nil {
			return err
		}
		final := ledger.Checkpoint{Origin: old.Origin, N: old.Size + 1, Hash: h}
		msg, err := ledger.SignCheckpoint(final, signer)
		if err != nil {
			return err
		}
		if err := tx.SaveCheckpoint(ctx, old.ID, final.N, msg, now); err != nil {
			return err
		}
		if err := tx.CloseLog(ctx, old.ID, now); err != nil {
			return err
		}
		if next, err = tx.CreateLog(ctx, origin, skey, vkey, now); err != nil {
			return err
		}
		opened, err := ledger.OpenedRecord(now, p.ID, final).Encode()
		if err != nil {
			return err
		}
		if _, err := tx.AppendLog(ctx, next.ID, opened); err != nil {
			return err
		}
		next.Size = 1
		c, err := tx.Coop(ctx)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.BumpRevision(ctx, c.ID, now); err != nil {
			return err
		}
		if s.Publisher == nil {
			return nil
		}
		if c, err = tx.Coop(ctx); err != nil {
			return err
		}
		return s.Publisher.PublishActorUpdate(ctx, tx, c, now)
	})
	if err != nil {
		return DecisionLog{}, fmt.Errorf("coop: rotate the log key: %w", err)
	}
	return next, nil
}

// VerifyChain checks every log of the node, oldest first, and the links
// between them: each closed log ends with a log.closed record in its final
// signed checkpoint, naming the next log's origin and key, and the next
// log's record 0 names that final checkpoint. It returns one report per
// log.
func (s *Service) VerifyChain(ctx context.Context) ([]LogReport, error) {
	logs, err := s.Store.Logs(ctx)
	if err != nil {
		return nil, err
	}
	var reps []LogReport
	for i, l := range logs {
		rep, err := s.verifyLog(ctx, l)
		reps = append(reps, rep)
		if err != nil {
			return reps, fmt.Errorf("log %s: %w", l.Origin, err)
		}
		if i == len(logs)-1 {
			break
		}
		next := logs[i+1]
		if !l.IsClosed {
			return reps, fmt.Errorf("log %s is followed by %s but was never closed", l.Origin, next.Origin)
		}
		c, err := s.Store.LatestCheckpoint(ctx, l.ID)
		if err != nil {
			return reps, fmt.Errorf("log %s: final checkpoint: %w", l.Origin, err)
		}
		v, err := note.NewVerifier(l.VKey)
		if err != nil {
			return reps, err
		}
		final, err := ledger.OpenCheckpoint(c.Note, l.Origin, v, nil)
		if err != nil {
			return reps, fmt.Errorf("log %s: final checkpoint: %w", l.Origin, err)
		}
		if final.N != l.Size {
			return reps, fmt.Errorf("log %s: the final checkpoint has size %d, the log %d records", l.Origin, final.N, l.Size)
		}
		last, err := s.Store.LogRecords(ctx, l.ID, l.Size-1, l.Size)
		if err != nil {
			return reps, err
		}
		proof, err := ledger.ProveInclusion(final.N, final.N-1, s.Store.LogHashReader(ctx, l.ID))
		if err != nil {
			return reps, err
		}
		first, err := s.Store.LogRecords(ctx, next.ID, 0, 1)
		if err != nil {
			return reps, fmt.Errorf("log %s: record 0: %w", next.Origin, err)
		}
		origin, key, err := ledger.FollowChain(final.Checkpoint, last[0], proof, first[0])
		if err != nil {
			return reps, fmt.Errorf("from %s to %s: %w", l.Origin, next.Origin, err)
		}
		if origin != next.Origin || key != next.VKey {
			return reps, fmt.Errorf("from %s to %s: %w: the closing record names %s with key %s, the next log is %s with key %s",
				l.Origin, next.Origin, ledger.ErrChain, origin, key, next.Origin, next.VKey)
		}
	}
	return reps, nil
}

// Handover is what a node shows its witnesses after a key rotation, so
// that they move from its old log to the next without trusting anything
// but the old key: the old log's final checkpoint (signed by the old key)
// with a consistency proof from the size a witness kept, the closing
// record naming the next origin and key with its inclusion proof, and the
// next log's first record with its inclusion proof in a checkpoint signed
// by the next key.
type Handover struct {
	Final            []byte
	Proof            tlog.TreeProof // from the witness's kept size to the final size
	Closed           []byte
	ClosedProof      tlog.RecordProof
	Opened           []byte
	OpenedCheckpoint []byte
	OpenedProof      tlog.RecordProof
}

// handoverJSON is Handover on the wire (GET /log/handover): notes as
// text, proofs as ledger.FormatProof text, records as base64.
type handoverJSON struct {
	Final            string `json:"final"`
	Proof            string `json:"proof"`
	Closed           []byte `json:"closed"`
	ClosedProof      string `json:"closed_proof"`
	Opened           []byte `json:"opened"`
	OpenedCheckpoint string `json:"opened_checkpoint"`
	OpenedProof      string `json:"opened_proof"`
}

// MarshalJSON writes h as GET /log/handover serves it.
func (h Handover) MarshalJSON() ([]byte, error) {
	return json.Marshal(handoverJSON{
		Final: string(h.Final), Proof: string(ledger.FormatProof(h.Proof)),
		Closed: h.Closed, ClosedProof: string(ledger.FormatProof(h.ClosedProof)),
		Opened: h.Opened, OpenedCheckpoint: string(h.OpenedCheckpoint), OpenedProof: string(ledger.FormatProof(h.OpenedProof)),
	})
}

// UnmarshalJSON reads what MarshalJSON writes; the proofs must parse.
func (h *Handover) UnmarshalJSON(b []byte) error {
	var j handoverJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	out := Handover{Final: []byte(j.Final), Closed: j.Closed, Opened: j.Opened, OpenedCheckpoint: []byte(j.OpenedCheckpoint)}
	var err error
	if out.Proof, err = ledger.ParseProof([]byte(j.Proof)); err != nil {
		return err
	}
	if out.ClosedProof, err = ledger.ParseProof([]byte(j.ClosedProof)); err != nil {
		return err
	}
	if out.OpenedProof, err = ledger.ParseProof([]byte(j.OpenedProof)); err != nil {
		return err
	}
	*h = out
	return nil
}

// LogHandover returns the handover from the closed log of origin to the
// log that follows it, with a consistency proof from size oldN.
func (s *Service) LogHandover(ctx context.Context, origin string, oldN int64) (Handover, error) {
	logs, err := s.Store.Logs(ctx)
	if err != nil {
		return Handover{}, err
	}
	for i, l := range logs {
		if l.Origin != origin {
			continue
		}
		if !l.IsClosed || i+1 == len(logs) {
			return Handover{}, fmt.Errorf("%w: the log %s is not closed", ErrNotFound, origin)
		}
		next := logs[i+1]
		final, err := s.Store.LatestCheckpoint(ctx, l.ID)
		if err != nil {
			return Handover{}, err
		}
		if oldN < 0 || oldN > final.Size {
			return Handover{}, fmt.Errorf("%w: size %d is not in the log of %d records", ErrInvalidInput, oldN, final.Size)
		}
		h := Handover{Final: final.Note}
		hr := s.Store.LogHashReader(ctx, l.ID)
		if oldN > 0 && oldN < final.Size {
			if h.Proof, err = ledger.ProveConsistency(oldN, final.Size, hr); err != nil {
				return Handover{}, err
			}
		}
		closed, err := s.Store.LogRecords(ctx, l.ID, final.Size-1, final.Size)
		if err != nil {
			return Handover{}, err
		}
		h.Closed = closed[0]
		if h.ClosedProof, err = ledger.ProveInclusion(final.Size, final.Size-1, hr); err != nil {
			return Handover{}, err
		}
		nc, err := s.Store.LatestCheckpoint(ctx, next.ID)
		if err != nil {
			return Handover{}, fmt.Errorf("the next log %s has no signed checkpoint yet: %w", next.Origin, err)
		}
		opened, err := s.Store.LogRecords(ctx, next.ID, 0, 1)
		if err != nil {
			return Handover{}, err
		}
		h.Opened, h.OpenedCheckpoint = opened[0], nc.Note
		if h.OpenedProof, err = ledger.ProveInclusion(nc.Size, 0, s.Store.LogHashReader(ctx, next.ID)); err != nil {
			return Handover{}, err
		}
		return h, nil
	}
	return Handover{}, fmt.Errorf("%w: no log %s", ErrNotFound, origin)
}

// FollowRotation moves the witnessing of a member's log to the log that
// continues it, after checking the handover with the key pinned for the
// old log alone: the final checkpoint extends the kept one, its last
// record names the next origin and key, and the next log's first record,
// in a checkpoint signed by that key, names the final checkpoint. A
// handover that does not hold is kept as evidence.
func (s *Service) FollowRotation(ctx context.Context, origin string, h Handover, nextURL string) error {
	w, err := s.Store.WitnessedLog(ctx, origin)
	if err != nil {
		return err
	}
	final, err := w.open(h.Final)
	if err != nil {
		return fmt.Errorf("the final checkpoint of %s: %w", origin, err)
	}
	if w.Size > 0 {
		prev := ledger.Checkpoint{Origin: w.Origin, N: w.Size, Hash: w.Hash}
		if err := ledger.CheckAdvance(prev, final.Checkpoint, h.Proof); err != nil {
			e := LogEvidence{Origin: w.Origin, OldNote: w.Note, NewNote: h.Final, Reason: "key rotation: " + err.Error(), Found: s.now()}
			return errors.Join(fmt.Errorf("%w: %v", ErrBadProof, err), s.keepEvidence(ctx, e))
		}
	}
	nextOrigin, nextKey, err := ledger.FollowChain(final.Checkpoint, h.Closed, h.ClosedProof, h.Opened)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadProof, err)
	}
	nv, err := note.NewVerifier(nextKey)
	if err != nil || nv.Name() != nextOrigin {
		return fmt.Errorf("%w: the next key %q", ErrBadProof, nextKey)
	}
	nc, err := ledger.OpenCheckpoint(h.OpenedCheckpoint, nextOrigin, nv, nil)
	if err != nil {
		return fmt.Errorf("%w: the next log's checkpoint: %v", ErrCheckpointSignature, err)
	}
	if err := ledger.CheckInclusion(h.OpenedProof, nc.Tree(), 0, h.Opened); err != nil {
		return fmt.Errorf("%w: the next log's first record: %v", ErrBadProof, err)
	}
	return s.Store.Update(ctx, func(tx Tx) error {
		if err := tx.KeepWitnessed(ctx, w.Origin, final.N, final.Hash, h.Final, s.now()); err != nil && final.N != w.Size {
			return err
		}
		if err := tx.RetireWitnessed(ctx, w.Origin, s.now()); err != nil {
			return err
		}
		return tx.PinWitnessed(ctx, WitnessedLog{Origin: nextOrigin, Peer: w.Peer, URL: nextURL, VKey: nextKey,
			WitnessVKey: w.WitnessVKey, Updated: s.now()})
	})
}
