package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/payout"
)

const roundColumns = `r.id, r.project_id, a.handle, r.period_from, r.period_to, r.budget, r.currency, r.formula, r.rate,
	r.cap, r.floor, r.requires_proposal, r.state, r.created_by, r.approved_by, r.records, r.statement, r.input_hash,
	r.created_at, r.finalized_at, r.log_index, r.final_log_index`

func (r reader) roundsWhere(ctx context.Context, cond string, args ...any) ([]coop.PayoutRound, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+roundColumns+`
		FROM payout_rounds r JOIN actors a ON a.id = r.project_id WHERE `+cond+` ORDER BY r.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: payout rounds: %w", err)
	}
	defer rows.Close()
	var out []coop.PayoutRound
	for rows.Next() {
		var (
			p                                    coop.PayoutRound
			from, to, currency, formula, records string
			statement, created                   string
			budget, rate, capAmount, floor       int64
			requires, finalLog                   sql.NullInt64
			finalized                            sql.NullString
		)
		if err := rows.Scan(&p.ID, &p.ProjectID, &p.Project, &from, &to, &budget, &currency, &formula, &rate, &capAmount, &floor,
			&requires, &p.State, &p.CreatedBy, &p.ApprovedBy, &records, &statement, &p.InputHash, &created, &finalized,
			&p.LogIndex, &finalLog); err != nil {
			return nil, fmt.Errorf("store: payout rounds: %w", err)
		}
		cur, err := payout.LookupCurrency(currency)
		if err != nil {
			return nil, fmt.Errorf("store: payout round %d: %w", p.ID, err)
		}
		p.Round = payout.Round{Budget: payout.Amount(budget), Currency: cur, Formula: payout.Formula(formula),
			Rate: payout.Amount(rate), Cap: payout.Amount(capAmount), Floor: payout.Amount(floor)}
		p.RequiresProposal, p.FinalLogIndex = requires.Int64, finalLog.Int64
		if p.From, err = time.Parse(time.DateOnly, from); err != nil {
			return nil, err
		}
		if p.To, err = time.Parse(time.DateOnly, to); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(records), &p.Records); err != nil {
			return nil, fmt.Errorf("store: payout round %d records: %w", p.ID, err)
		}
		if statement != "" {
			p.Statement = []byte(statement)
		}
		if p.Created, err = parseTime(created); err != nil {
			return nil, err
		}
		if p.Finalized, err = parseNullTime(finalized); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PayoutRound implements coop.Reader.
func (r reader) PayoutRound(ctx context.Context, id int64) (coop.PayoutRound, error) {
	rs, err := r.roundsWhere(ctx, `r.id = ?`, id)
	if err != nil {
		return coop.PayoutRound{}, err
	}
	if len(rs) == 0 {
		return coop.PayoutRound{}, fmt.Errorf("store: payout round %d: %w", id, ErrNotFound)
	}
	return rs[0], nil
}

// PayoutRounds implements coop.Reader.
func (r reader) PayoutRounds(ctx context.Context, projectID int64) ([]coop.PayoutRound, error) {
	return r.roundsWhere(ctx, `r.project_id = ?`, projectID)
}

// NextPayoutRoundID implements coop.Tx.
func (t *Tx) NextPayoutRoundID(ctx context.Context) (int64, error) {
	var n int64
	if err := t.tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM payout_rounds`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: next payout round: %w", err)
	}
	return n, nil
}

// InsertPayoutRound implements coop.Tx.
func (t *Tx) InsertPayoutRound(ctx context.Context, p coop.PayoutRound) (int64, error) {
	var id, requires any
	if p.ID != 0 {
		id = p.ID
	}
	if p.RequiresProposal != 0 {
		requires = p.RequiresProposal
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO payout_rounds (id, project_id, period_from, period_to, budget, currency,
		formula, rate, cap, floor, requires_proposal, state, created_by, created_at, log_index)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, p.ProjectID, p.From.Format(time.DateOnly), p.To.Format(time.DateOnly), int64(p.Round.Budget), p.Round.Currency.Code,
		string(p.Round.Formula), int64(p.Round.Rate), int64(p.Round.Cap), int64(p.Round.Floor), requires, p.State,
		p.CreatedBy, fmtTime(p.Created), p.LogIndex)
	if err != nil {
		return 0, fmt.Errorf("store: insert payout round: %w", err)
	}
	return res.LastInsertId()
}

// FinalizePayoutRound implements coop.Tx.
func (t *Tx) FinalizePayoutRound(ctx context.Context, p coop.PayoutRound) error {
	records, err := json.Marshal(p.Records)
	if err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE payout_rounds SET state = 'final', approved_by = ?, records = ?, statement = ?,
		input_hash = ?, finalized_at = ?, final_log_index = ? WHERE id = ? AND state = 'draft'`,
		p.ApprovedBy, string(records), string(p.Statement), p.InputHash, fmtTime(p.Finalized), p.FinalLogIndex, p.ID)
	if err != nil {
		return fmt.Errorf("store: finalize payout round %d: %w", p.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: payout round %d is not a draft", coop.ErrInvalidInput, p.ID)
	}
	return nil
}
