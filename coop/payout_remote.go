package coop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/coopfed/coopfed/ledger"
	"golang.org/x/mod/sumdb/note"
)

// Checking a payout round on another node ("payout verify ROUND --node
// URL"): a member of a co-op of the federation recomputes it from that
// node's decision log without trusting the node. The node serves, to its
// own members and the federation's co-ops only (a signed GET), the
// openings of the round: the indexes of its records and the plain values
// and salts behind their commitments (PayoutOpenings). Every record is
// then fetched as a receipt from the node's public log and authenticated
// with the log key this node pinned when it began witnessing that log;
// the commitments are opened; the split is recomputed.

// PayoutOpening is what a node shows of a final round to those allowed:
// where its records are in the decision log, and the values behind their
// commitments.
type PayoutOpening struct {
	Round       string           `json:"round"` // its URL
	Origin      string           `json:"origin"`
	Created     int64            `json:"created"`
	Finalized   int64            `json:"finalized"`
	RecordIndex map[string]int64 `json:"recordIndex"` // contribution ID → its approval's index
	// Openings: record index → field → value and salt.
	Openings map[string]map[string]Opening `json:"openings"`
}

// Opening is one commitment's plain value and salt.
type Opening struct {
	Value string `json:"value"`
	Salt  []byte `json:"salt"`
}

// PayoutOpenings returns a final round's openings to a member here, the
// operator, or a co-op of the federation (a signed request of its
// Organization actor: principal over the peer channel).
func (s *Service) PayoutOpenings(ctx context.Context, id int64) (PayoutOpening, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return PayoutOpening{}, ErrNoPrincipal
	}
	allowed := pr.ID == AdminPrincipal
	if !allowed {
		if _, isMember, err := s.principalMember(ctx, s.Store, pr); err != nil {
			return PayoutOpening{}, err
		} else if isMember {
			allowed = true
		}
	}
	if !allowed {
		peer, err := s.IsFederationMember(ctx, pr.ID)
		if err != nil {
			return PayoutOpening{}, err
		}
		allowed = peer
	}
	if !allowed {
		return PayoutOpening{}, fmt.Errorf("coop: payout round %d: %w: pay is for members and the federation's co-ops", id, ErrNotAllowed)
	}
	r, err := s.Store.PayoutRound(ctx, id)
	if err != nil {
		return PayoutOpening{}, fmt.Errorf("coop: payout round %d: %w", id, err)
	}
	if r.State != RoundFinal {
		return PayoutOpening{}, fmt.Errorf("coop: payout round %d: %w: still a draft", id, ErrNotFound)
	}
	l, err := s.Store.OpenLog(ctx)
	if err != nil {
		return PayoutOpening{}, err
	}
	o := PayoutOpening{Round: r.URL(s.Site), Origin: l.Origin, Created: r.LogIndex, Finalized: r.FinalLogIndex,
		RecordIndex: map[string]int64{}, Openings: map[string]map[string]Opening{}}
	for _, cid := range r.Records {
		c, err := s.Store.Contribution(ctx, cid)
		if err != nil {
			return PayoutOpening{}, err
		}
		o.RecordIndex[strconv.FormatInt(cid, 10)] = c.LogIndex
		ps, err := s.Store.PersonalFields(ctx, l.ID, c.LogIndex)
		if err != nil {
			return PayoutOpening{}, err
		}
		fields := map[string]Opening{}
		for _, p := range ps {
			if (p.Field == "minutes" || p.Field == "points") && !p.Erased {
				fields[p.Field] = Opening{Value: p.Value, Salt: p.Salt}
			}
		}
		o.Openings[strconv.FormatInt(c.LogIndex, 10)] = fields
	}
	return o, nil
}

// RemoteGetter fetches a document from another node with a GET signed as
// this node's co-op (package federation's Fetcher).
type RemoteGetter interface {
	Get(ctx context.Context, url string) ([]byte, error)
}

// VerifyRemotePayout recomputes round id of the node at nodeURL from
// that node's decision log, as VerifyPayoutRound does locally: the
// openings from the node (signed GET), every record from a receipt of
// its public log checked with the log key this node pinned as its
// witness. It needs that pin: a co-op of this node's federation whose log
// this node witnesses.
func (s *Service) VerifyRemotePayout(ctx context.Context, get RemoteGetter, nodeURL string, id int64) (PayoutVerification, error) {
	base := strings.TrimSuffix(nodeURL, "/")
	body, err := get.Get(ctx, base+"/payouts/"+strconv.FormatInt(id, 10)+"/openings")
	if err != nil {
		return PayoutVerification{}, fmt.Errorf("coop: verify %s round %d: openings: %w", base, id, err)
	}
	var o PayoutOpening
	if err := json.Unmarshal(body, &o); err != nil {
		return PayoutVerification{}, fmt.Errorf("coop: verify %s round %d: openings: %w", base, id, err)
	}
	wl, err := s.Store.WitnessedLog(ctx, o.Origin)
	if isNotFound(err) {
		return PayoutVerification{}, fmt.Errorf("coop: verify %s round %d: %w: this node does not witness the log %s, so it holds no key to check it with (the node must be a co-op of this node's federation)", base, id, ErrNotAllowed, o.Origin)
	}
	if err != nil {
		return PayoutVerification{}, err
	}
	if !sameHost(wl.URL, base) {
		return PayoutVerification{}, fmt.Errorf("coop: verify %s round %d: the log %s is served at %s, not by this node", base, id, o.Origin, wl.URL)
	}
	verifier, err := note.NewVerifier(wl.VKey)
	if err != nil {
		return PayoutVerification{}, err
	}
	record := func(idx int64) (ledger.Record, error) {
		b, err := get.Get(ctx, strings.TrimSuffix(wl.URL, "/")+"/receipt/"+strconv.FormatInt(idx, 10))
		if err != nil {
			return ledger.Record{}, fmt.Errorf("the receipt of record %d: %w (a node serves one once a checkpoint it signed covers the record: at its next witnessing round)", idx, err)
		}
		rc, err := ledger.ParseReceipt(b)
		if err != nil {
			return ledger.Record{}, err
		}
		if rc.Index != idx {
			return ledger.Record{}, fmt.Errorf("receipt of record %d, not %d", rc.Index, idx)
		}
		if _, err := ledger.VerifyReceipt(rc, o.Origin, verifier, nil, 0); err != nil {
			return ledger.Record{}, fmt.Errorf("record %d: %w", idx, err)
		}
		return ledger.ParseRecord(rc.Record)
	}
	src := recordSource{
		record: record,
		indexOf: func(cid int64) (int64, error) {
			idx, ok := o.RecordIndex[strconv.FormatInt(cid, 10)]
			if !ok {
				return 0, errors.New("the node gives no index for it")
			}
			return idx, nil
		},
		open: func(idx int64, rec ledger.Record, fields ...string) (map[string]int64, error) {
			return openWith(o.Openings[strconv.FormatInt(idx, 10)], rec, fields...)
		},
	}
	v := PayoutVerification{Round: PayoutRound{ID: id, LogIndex: o.Created, FinalLogIndex: o.Finalized}}
	return s.recompute(v, o.Round, src)
}

// openWith opens a record's integer commitments with given openings.
func openWith(os map[string]Opening, rec ledger.Record, fields ...string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, f := range fields {
		op, ok := os[f]
		if !ok {
			return nil, fmt.Errorf("no plain value behind %s", f)
		}
		var salt [ledger.SaltSize]byte
		copy(salt[:], op.Salt)
		commitment, _ := rec.Data[f].(string)
		if len(op.Salt) != ledger.SaltSize || !ledger.CheckCommitment(commitment, f, op.Value, salt) {
			return nil, fmt.Errorf("%s %q does not open its commitment", f, op.Value)
		}
		n, err := strconv.ParseInt(op.Value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %v", f, op.Value, err)
		}
		out[f] = n
	}
	return out, nil
}
