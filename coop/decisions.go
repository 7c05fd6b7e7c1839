package coop

import (
	"context"
	"errors"
	"fmt"

	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/note"
)

// The decision log as people read it (issue 9): its records, newest
// first, with the plain personal values behind the commitments shown only
// to whom they are about and to the admins; and a receipt checked against
// this node's keys.

// LogEntry is one record of the open log as a principal may see it.
type LogEntry struct {
	Index  int64
	Record ledger.Record
	// Openings are the plain values behind the record's commitments, by
	// field, when the principal may see them: the member the record is
	// about, or an admin. Erased values are absent.
	Openings map[string]string
	// Signed is whether a signed checkpoint holds the record yet.
	Signed bool
}

// LogPage is a page of the open log's records, newest first.
type LogPage struct {
	Origin  string
	Size    int64 // records in the log
	Signed  int64 // size of the latest signed checkpoint (0 before one)
	Entries []LogEntry
}

// DecisionRecords returns up to limit records of the open log, newest
// first, from index before-1 down (before <= 0 means from the newest).
func (s *Service) DecisionRecords(ctx context.Context, before int64, limit int) (LogPage, error) {
	l, err := s.Store.OpenLog(ctx)
	if err != nil {
		return LogPage{}, err
	}
	page := LogPage{Origin: l.Origin, Size: l.Size}
	if c, err := s.Store.LatestCheckpoint(ctx, l.ID); err == nil {
		page.Signed = c.Size
	} else if !isNotFound(err) {
		return LogPage{}, err
	}
	if before <= 0 || before > l.Size {
		before = l.Size
	}
	if limit <= 0 {
		limit = 50
	}
	from := max(0, before-int64(limit))
	if from >= before {
		return page, nil
	}
	recs, err := s.Store.LogRecords(ctx, l.ID, from, before)
	if err != nil {
		return LogPage{}, err
	}
	for i := len(recs) - 1; i >= 0; i-- {
		e, err := s.logEntry(ctx, l, from+int64(i), recs[i], page.Signed)
		if err != nil {
			return LogPage{}, err
		}
		page.Entries = append(page.Entries, e)
	}
	return page, nil
}

// DecisionRecord returns record index of the open log, as DecisionRecords.
func (s *Service) DecisionRecord(ctx context.Context, index int64) (LogEntry, error) {
	l, err := s.Store.OpenLog(ctx)
	if err != nil {
		return LogEntry{}, err
	}
	if index < 0 || index >= l.Size {
		return LogEntry{}, fmt.Errorf("%w: record %d (the log holds %d)", ErrNotFound, index, l.Size)
	}
	var signed int64
	if c, err := s.Store.LatestCheckpoint(ctx, l.ID); err == nil {
		signed = c.Size
	} else if !isNotFound(err) {
		return LogEntry{}, err
	}
	recs, err := s.Store.LogRecords(ctx, l.ID, index, index+1)
	if err != nil {
		return LogEntry{}, err
	}
	return s.logEntry(ctx, l, index, recs[0], signed)
}

func (s *Service) logEntry(ctx context.Context, l DecisionLog, index int64, b []byte, signed int64) (LogEntry, error) {
	r, err := ledger.ParseRecord(b)
	if err != nil {
		return LogEntry{}, fmt.Errorf("record %d of %s: %w", index, l.Origin, err)
	}
	e := LogEntry{Index: index, Record: r, Signed: index < signed}
	ok, err := s.mayOpen(ctx, r)
	if err != nil || !ok {
		return e, err
	}
	vals, err := s.Store.PersonalFields(ctx, l.ID, index)
	if err != nil {
		return LogEntry{}, err
	}
	for _, v := range vals {
		if v.Erased {
			continue
		}
		if e.Openings == nil {
			e.Openings = map[string]string{}
		}
		e.Openings[v.Field] = v.Value
	}
	return e, nil
}

// mayOpen reports whether the context's principal may see the plain
// personal values of r: the member r is about, or an admin. A visitor
// (no principal) may not.
func (s *Service) mayOpen(ctx context.Context, r ledger.Record) (bool, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return false, nil
	}
	if pr.ID == AdminPrincipal || pr.ID == r.Subject {
		return true, nil
	}
	m, ok, err := s.principalMember(ctx, s.Store, Principal{ID: pr.ID})
	if errors.Is(err, ErrNotMember) || errors.Is(err, ErrGone) || errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return ok && m.Role == RoleAdmin, err
}

// ReceiptCheck is what a verified receipt shows.
type ReceiptCheck struct {
	Index     int64
	Record    ledger.Record
	Origin    string
	Size      int64    // the size of the checkpoint the record is in
	Cosigners []string // the witnesses whose cosignatures verified, by key name
	Required  int      // how many were required
}

// ReceiptError says why a receipt does not verify.
type ReceiptError struct{ Err error }

func (e *ReceiptError) Error() string { return "the receipt does not verify: " + e.Err.Error() }
func (e *ReceiptError) Unwrap() error { return e.Err }

// CheckReceipt verifies a receipt (c2sp tlog-proof text) offline against
// a log key and witness keys (cosignature/v1 verifier keys), with at
// least minCosignatures cosignatures (a negative number: one if any
// witness key is given). A receipt that does not hold is a *ReceiptError
// naming the reason; a bad key is an ErrInvalidInput.
func CheckReceipt(text []byte, logKey string, witnessKeys []string, minCosignatures int) (ReceiptCheck, error) {
	r, err := ledger.ParseReceipt(text)
	if err != nil {
		return ReceiptCheck{}, &ReceiptError{err}
	}
	v, err := note.NewVerifier(logKey)
	if err != nil {
		return ReceiptCheck{}, fmt.Errorf("%w: the log key: %v", ErrInvalidInput, err)
	}
	var wvs []note.Verifier
	for _, k := range witnessKeys {
		wv, err := ledger.NewWitnessVerifier(k)
		if err != nil {
			return ReceiptCheck{}, fmt.Errorf("%w: witness key %s: %v", ErrInvalidInput, k, err)
		}
		wvs = append(wvs, wv)
	}
	if minCosignatures < 0 {
		minCosignatures = min(1, len(wvs))
	}
	sc, err := ledger.VerifyReceipt(r, v.Name(), v, wvs, minCosignatures)
	if err != nil {
		return ReceiptCheck{}, &ReceiptError{err}
	}
	rec, err := ledger.ParseRecord(r.Record)
	if err != nil {
		return ReceiptCheck{}, &ReceiptError{fmt.Errorf("its record: %w", err)}
	}
	c := ReceiptCheck{Index: r.Index, Record: rec, Origin: sc.Origin, Size: sc.N, Required: minCosignatures}
	for _, cs := range sc.Cosignatures {
		c.Cosigners = append(c.Cosigners, cs.Name)
	}
	return c, nil
}

// LogKeys returns the open log's verifier key and the witness keys of the
// federation members who cosign it (the members whose logs this node
// witnesses, retired logs included: witnessing is mutual, and a member's
// witness key outlives its log key).
func (s *Service) LogKeys(ctx context.Context) (logKey string, witnessKeys []string, err error) {
	l, err := s.Store.OpenLog(ctx)
	if err != nil {
		return "", nil, err
	}
	ws, err := s.Store.WitnessedLogs(ctx)
	if err != nil {
		return "", nil, err
	}
	for _, w := range ws {
		if w.WitnessVKey != "" {
			witnessKeys = append(witnessKeys, w.WitnessVKey)
		}
	}
	return l.VKey, witnessKeys, nil
}

// VerifyReceipt verifies a receipt's text against this node's log key and
// its witnesses' keys, as `coopfed log verify --receipt` does offline.
func (s *Service) VerifyReceipt(ctx context.Context, text []byte) (ReceiptCheck, error) {
	key, ws, err := s.LogKeys(ctx)
	if err != nil {
		return ReceiptCheck{}, err
	}
	return CheckReceipt(text, key, ws, -1)
}

// Witnessing is who witnesses the node's log and whose logs it
// witnesses, as a page shows it.
type Witnessing struct {
	// Signed is the size of the latest signed checkpoint (0 before one),
	// and Cosigners the witnesses whose cosignatures on it verify.
	Signed    int64
	Cosigners []LogWitness
	// Witnesses are the federation members that cosign this log.
	Witnesses []LogWitness
	// Witnessed are the members' logs this node witnesses.
	Witnessed []WitnessedLog
	// Evidence is every inconsistency found, newest first.
	Evidence []LogEvidence
}

// LogWitness is a witness by its key's name and, when known, the
// federation member that holds it.
type LogWitness struct {
	Name string
	Peer string
}

// LogWitnessing reports who witnesses the open log, what the node
// witnesses, and the inconsistencies found.
func (s *Service) LogWitnessing(ctx context.Context) (Witnessing, error) {
	var out Witnessing
	ws, err := s.Store.WitnessedLogs(ctx)
	if err != nil {
		return out, err
	}
	out.Witnessed = ws
	var vs []note.Verifier
	peers := map[string]string{}
	for _, w := range ws {
		v, err := ledger.NewWitnessVerifier(w.WitnessVKey)
		if err != nil {
			continue
		}
		if _, seen := peers[v.Name()]; !seen {
			out.Witnesses = append(out.Witnesses, LogWitness{Name: v.Name(), Peer: w.Peer})
			vs = append(vs, v)
		}
		peers[v.Name()] = w.Peer
	}
	if out.Evidence, err = s.Store.EvidenceList(ctx); err != nil {
		return out, err
	}
	l, c, err := s.signedTree(ctx)
	if isNotFound(err) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	msg, err := withCosignatures(c)
	if err != nil {
		return out, err
	}
	v, err := note.NewVerifier(l.VKey)
	if err != nil {
		return out, fmt.Errorf("the log key: %w", err)
	}
	sc, err := ledger.OpenCheckpoint(msg, l.Origin, v, vs)
	if err != nil {
		return out, fmt.Errorf("checkpoint of size %d: %w", c.Size, err)
	}
	out.Signed = sc.N
	for _, cs := range sc.Cosignatures {
		out.Cosigners = append(out.Cosigners, LogWitness{Name: cs.Name, Peer: peers[cs.Name]})
	}
	return out, nil
}
