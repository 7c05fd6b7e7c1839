package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
)

const proposalColumns = `p.id, p.group_actor_id, a.handle, a.kind, p.title, p.body, p.proposer,
	p.method, p.score_min, p.score_max, p.opens_at, p.closes_at, p.quorum_num, p.quorum_den,
	p.threshold, p.eligibility, p.state, p.hide_counts, p.created_at, p.updated_at`

func parseState(s string) (governance.State, error) {
	for _, st := range []governance.State{governance.Open, governance.Closed, governance.Withdrawn, governance.Draft} {
		if st.String() == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("stored proposal state %q", s)
}

// proposalsWhere loads the proposals matching a condition on p, with
// their options and eligible voters.
func (r reader) proposalsWhere(ctx context.Context, cond string, args ...any) ([]coop.Proposal, error) {
	return r.proposalsFor(ctx, nil, cond, args...)
}

// proposalsFor is proposalsWhere; with a voter, each proposal's Eligible
// holds that voter alone, when eligible, rather than every voter.
func (r reader) proposalsFor(ctx context.Context, voter *string, cond string, args ...any) ([]coop.Proposal, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+proposalColumns+`
		FROM proposals p JOIN actors a ON a.id = p.group_actor_id
		WHERE `+cond+` ORDER BY p.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	var out []coop.Proposal
	for rows.Next() {
		var (
			p                                    coop.Proposal
			kind, method, threshold, elig, state string
			opens, closes, created, updated      string
			hide                                 int
		)
		if err := rows.Scan(&p.Num, &p.GroupID, &p.Group, &kind, &p.Title, &p.Body, &p.Proposer,
			&method, &p.ScoreMin, &p.ScoreMax, &opens, &closes, &p.Quorum.Num, &p.Quorum.Den,
			&threshold, &elig, &state, &hide, &created, &updated); err != nil {
			rows.Close()
			return nil, err
		}
		p.ID = strconv.FormatInt(p.Num, 10)
		p.GroupKind = coop.Kind(kind)
		p.Method, p.Threshold, p.Eligibility = governance.Method(method), governance.Threshold(threshold), governance.Eligibility(elig)
		p.HideCounts = hide != 0
		if p.State, err = parseState(state); err == nil {
			if p.OpensAt, err = parseTime(opens); err == nil {
				if p.ClosesAt, err = parseTime(closes); err == nil {
					if p.Created, err = parseTime(created); err == nil {
						p.Updated, err = parseTime(updated)
					}
				}
			}
		}
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := r.proposalOptions(ctx, &out[i]); err != nil {
			return nil, err
		}
		if voter != nil {
			out[i].Eligible, err = r.strings(ctx, `SELECT voter FROM proposal_voters WHERE proposal_id = ? AND voter = ?`, out[i].Num, *voter)
		} else {
			out[i].Eligible, err = r.strings(ctx, `SELECT voter FROM proposal_voters WHERE proposal_id = ? ORDER BY voter`, out[i].Num)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r reader) proposalOptions(ctx context.Context, p *coop.Proposal) error {
	rows, err := r.q.QueryContext(ctx, `SELECT key, label FROM proposal_options WHERE proposal_id = ? ORDER BY position`, p.Num)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var o governance.Option
		if err := rows.Scan(&o.Key, &o.Label); err != nil {
			return err
		}
		p.Options = append(p.Options, o)
	}
	return rows.Err()
}

// ProposalForVoter implements coop.Reader.
func (r reader) ProposalForVoter(ctx context.Context, num int64, voter string) (coop.Proposal, error) {
	ps, err := r.proposalsFor(ctx, &voter, `p.id = ?`, num)
	if err != nil {
		return coop.Proposal{}, fmt.Errorf("store: proposal %d: %w", num, err)
	}
	if len(ps) == 0 {
		return coop.Proposal{}, fmt.Errorf("proposal %d: %w", num, ErrNotFound)
	}
	return ps[0], nil
}

// ProposalExists implements coop.Reader.
func (r reader) ProposalExists(ctx context.Context, num int64) (bool, error) {
	var one int
	err := r.q.QueryRowContext(ctx, `SELECT 1 FROM proposals WHERE id = ?`, num).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: proposal %d: %w", num, err)
	}
	return true, nil
}

// Proposal implements coop.Reader.
func (r reader) Proposal(ctx context.Context, num int64) (coop.Proposal, error) {
	ps, err := r.proposalsWhere(ctx, `p.id = ?`, num)
	if err != nil {
		return coop.Proposal{}, fmt.Errorf("store: proposal %d: %w", num, err)
	}
	if len(ps) == 0 {
		return coop.Proposal{}, fmt.Errorf("proposal %d: %w", num, ErrNotFound)
	}
	return ps[0], nil
}

// Proposals implements coop.Reader.
func (r reader) Proposals(ctx context.Context) ([]coop.Proposal, error) {
	ps, err := r.proposalsWhere(ctx, `1`)
	if err != nil {
		return nil, fmt.Errorf("store: proposals: %w", err)
	}
	return ps, nil
}

// DueProposals implements coop.Reader.
func (r reader) DueProposals(ctx context.Context, now time.Time) ([]int64, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id FROM proposals WHERE state = 'open' AND closes_at <= ? ORDER BY closes_at, id`, fmtTime(now))
	if err != nil {
		return nil, fmt.Errorf("store: due proposals: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: due proposals: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// NextDeadline implements coop.Reader.
func (r reader) NextDeadline(ctx context.Context) (time.Time, error) {
	var s sql.NullString
	if err := r.q.QueryRowContext(ctx, `SELECT min(closes_at) FROM proposals WHERE state = 'open'`).Scan(&s); err != nil {
		return time.Time{}, fmt.Errorf("store: next deadline: %w", err)
	}
	if !s.Valid {
		return time.Time{}, fmt.Errorf("next deadline: no open proposal: %w", ErrNotFound)
	}
	return parseTime(s.String)
}

// Ballots implements coop.Reader.
func (r reader) Ballots(ctx context.Context, num int64) ([]coop.StoredBallot, error) {
	return r.ballotsWhere(ctx, num, `proposal_id = ?`, num)
}

// StandingBallot implements coop.Reader.
func (r reader) StandingBallot(ctx context.Context, num int64, voter string) (coop.StoredBallot, error) {
	bs, err := r.ballotsWhere(ctx, num, `proposal_id = ? AND voter = ? AND replaced_at IS NULL`, num, voter)
	if err != nil {
		return coop.StoredBallot{}, err
	}
	if len(bs) == 0 {
		return coop.StoredBallot{}, fmt.Errorf("store: ballot of %s on %d: %w", voter, num, ErrNotFound)
	}
	return bs[0], nil
}

func (r reader) ballotsWhere(ctx context.Context, num int64, cond string, args ...any) ([]coop.StoredBallot, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT voter, accepted_at, abstain, choices, ratings, stance, final,
		channel, log_index, replaced_at FROM ballots WHERE `+cond+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: ballots of %d: %w", num, err)
	}
	defer rows.Close()
	var out []coop.StoredBallot
	for rows.Next() {
		var (
			b                        coop.StoredBallot
			at, choices, ratings, st string
			abstain, final           int
			replaced                 sql.NullString
		)
		if err := rows.Scan(&b.Voter, &at, &abstain, &choices, &ratings, &st, &final, &b.Channel, &b.LogIndex, &replaced); err != nil {
			return nil, fmt.Errorf("store: ballots of %d: %w", num, err)
		}
		b.Abstain, b.Final = abstain != 0, final != 0
		if b.At, err = parseTime(at); err != nil {
			return nil, err
		}
		if b.Replaced, err = parseNullTime(replaced); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(choices), &b.Choices); err != nil {
			return nil, fmt.Errorf("store: ballot choices %q: %w", choices, err)
		}
		var rs []storedRating
		if err := json.Unmarshal([]byte(ratings), &rs); err != nil {
			return nil, fmt.Errorf("store: ballot ratings %q: %w", ratings, err)
		}
		for _, x := range rs {
			b.Ratings = append(b.Ratings, governance.Rating{Option: x.Option, Value: x.Value})
		}
		for _, s := range []governance.Stance{governance.Agree, governance.Disagree, governance.Block} {
			if s.String() == st {
				b.Stance = s
			}
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// storedRating is a score ballot's rating as the ballots table keeps it.
type storedRating struct {
	Option string `json:"option"`
	Value  int    `json:"value"`
}

// Refusals implements coop.Reader.
func (r reader) Refusals(ctx context.Context, num int64) ([]coop.StoredRefusal, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT voter, refused_at, reason, detail, count, channel, log_index
		FROM ballot_refusals WHERE proposal_id = ? ORDER BY id`, num)
	if err != nil {
		return nil, fmt.Errorf("store: refusals of %d: %w", num, err)
	}
	defer rows.Close()
	var out []coop.StoredRefusal
	for rows.Next() {
		var x coop.StoredRefusal
		var at string
		if err := rows.Scan(&x.Voter, &at, &x.Reason, &x.Detail, &x.Count, &x.Channel, &x.LogIndex); err != nil {
			return nil, fmt.Errorf("store: refusals of %d: %w", num, err)
		}
		if x.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// ProposalOutcome implements coop.Reader.
func (r reader) ProposalOutcome(ctx context.Context, num int64) (coop.StoredOutcome, error) {
	var (
		o            coop.StoredOutcome
		js, hash, at string
	)
	err := r.q.QueryRowContext(ctx, `SELECT outcome, input_hash, log_id, log_index, closed_at
		FROM proposal_outcomes WHERE proposal_id = ?`, num).Scan(&js, &hash, &o.LogID, &o.LogIndex, &at)
	if err != nil {
		return coop.StoredOutcome{}, notFound(err, fmt.Sprintf("outcome of proposal %d", num))
	}
	if err := json.Unmarshal([]byte(js), &o.Outcome); err != nil {
		return coop.StoredOutcome{}, fmt.Errorf("store: outcome of proposal %d: %w", num, err)
	}
	if o.Closed, err = parseTime(at); err != nil {
		return coop.StoredOutcome{}, err
	}
	return o, nil
}

// InsertProposal implements coop.Tx.
func (t *Tx) InsertProposal(ctx context.Context, p coop.Proposal) (int64, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO proposals (group_actor_id, title, body, proposer,
		method, score_min, score_max, opens_at, closes_at, quorum_num, quorum_den, threshold,
		eligibility, state, hide_counts, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.GroupID, p.Title, p.Body, p.Proposer, string(p.Method), p.ScoreMin, p.ScoreMax,
		fmtTime(p.OpensAt), fmtTime(p.ClosesAt), p.Quorum.Num, p.Quorum.Den, string(p.Threshold),
		string(p.Eligibility), p.State.String(), boolInt(p.HideCounts), fmtTime(p.Created), fmtTime(p.Updated))
	if err != nil {
		return 0, fmt.Errorf("store: insert proposal: %w", err)
	}
	num, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: insert proposal: %w", err)
	}
	for i, o := range p.Options {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO proposal_options (proposal_id, position, key, label) VALUES (?, ?, ?, ?)`,
			num, i, o.Key, o.Label); err != nil {
			return 0, fmt.Errorf("store: insert option %q: %w", o.Key, err)
		}
	}
	for _, v := range p.Eligible {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO proposal_voters (proposal_id, voter) VALUES (?, ?)`, num, v); err != nil {
			return 0, fmt.Errorf("store: insert voter: %w", err)
		}
	}
	return num, nil
}

// SetProposalState implements coop.Tx.
func (t *Tx) SetProposalState(ctx context.Context, num int64, state governance.State, closesAt, at time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE proposals SET state = ?, closes_at = ?, updated_at = ? WHERE id = ?`,
		state.String(), fmtTime(closesAt), fmtTime(at), num)
	if err != nil {
		return fmt.Errorf("store: set state of proposal %d: %w", num, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("proposal %d: %w", num, ErrNotFound)
	}
	return nil
}

// InsertBallot implements coop.Tx.
func (t *Tx) InsertBallot(ctx context.Context, num int64, b coop.StoredBallot) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE ballots SET replaced_at = ? WHERE proposal_id = ? AND voter = ? AND replaced_at IS NULL`,
		fmtTime(b.At), num, b.Voter); err != nil {
		return fmt.Errorf("store: replace ballot: %w", err)
	}
	choices, err := json.Marshal(nonNilStrings(b.Choices))
	if err != nil {
		return err
	}
	rs := make([]storedRating, 0, len(b.Ratings))
	for _, x := range b.Ratings {
		rs = append(rs, storedRating{x.Option, x.Value})
	}
	ratings, err := json.Marshal(rs)
	if err != nil {
		return err
	}
	stance := ""
	if b.Stance != governance.NoStance {
		stance = b.Stance.String()
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO ballots (proposal_id, voter, accepted_at, abstain, choices,
		ratings, stance, final, channel, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		num, b.Voter, fmtTime(b.At), boolInt(b.Abstain), string(choices), string(ratings), stance,
		boolInt(b.Final), b.Channel, b.LogIndex); err != nil {
		return fmt.Errorf("store: insert ballot: %w", err)
	}
	return nil
}

// InsertRefusal implements coop.Tx.
func (t *Tx) InsertRefusal(ctx context.Context, num int64, r coop.StoredRefusal) error {
	if r.Count < 1 {
		r.Count = 1
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO ballot_refusals (proposal_id, voter, refused_at, reason,
		detail, count, channel, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		num, r.Voter, fmtTime(r.At), r.Reason, r.Detail, r.Count, r.Channel, r.LogIndex); err != nil {
		return fmt.Errorf("store: insert refusal: %w", err)
	}
	return nil
}

// SaveOutcome implements coop.Tx.
func (t *Tx) SaveOutcome(ctx context.Context, num int64, o coop.StoredOutcome) error {
	js, err := json.Marshal(o.Outcome)
	if err != nil {
		return fmt.Errorf("store: outcome of proposal %d: %w", num, err)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO proposal_outcomes (proposal_id, outcome, input_hash,
		log_id, log_index, closed_at) VALUES (?, ?, ?, ?, ?, ?)`,
		num, string(js), fmt.Sprintf("%x", o.Outcome.InputHash), o.LogID, o.LogIndex, fmtTime(o.Closed)); err != nil {
		return fmt.Errorf("store: save outcome of proposal %d: %w", num, err)
	}
	return nil
}
