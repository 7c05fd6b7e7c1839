package payout

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Formula names how a round turns records into shares.
type Formula string

// The formulas; the package documentation defines each.
const (
	Minutes Formula = "minutes"
	Points  Formula = "points"
	Equal   Formula = "equal"
)

// Round is what a payout round splits and how.
type Round struct {
	Budget   Amount // minor units, > 0
	Currency Currency
	Formula  Formula
	// Rate is the pay for an hour, in minor units (minutes only, > 0).
	Rate Amount
	// Cap is the most one contributor is paid before the budget is
	// fitted, in minor units (minutes only; 0 is no cap).
	Cap Amount
	// Floor is the least each contributor is paid (equal only; 0 is no
	// floor).
	Floor Amount
}

// Record is one approved contribution record, as the split sees it.
type Record struct {
	ID          string // unique among a round's records
	Contributor string // a stable key: the member's actor URI
	Date        time.Time
	Minutes     int64 // >= 0
	Points      int64 // >= 0
}

// Line is one contributor's part of a Statement.
type Line struct {
	Contributor string
	Records     int
	Minutes     int64 // the sum over the contributor's records
	Points      int64 // the sum over the contributor's records
	// Raw is the formula's amount before the budget is fitted, and Exact
	// the amount after, both exact fractions of minor units written
	// "n/d" in lowest terms, or "n" when whole.
	Raw   string
	Exact string
	Share Amount // Exact rounded as the package documentation says
}

// Statement is the outcome of Split.
type Statement struct {
	Round       Round
	Lines       []Line // by Contributor, in byte order
	Raw         string // the sum of the lines' Raw, as a fraction
	Total       Amount // the sum of the shares
	Unallocated Amount // Budget - Total
	InputHash   [32]byte
}

// The errors Split returns, each wrapped with detail.
var (
	ErrInvalidRound     = errors.New("payout: invalid round")
	ErrUnknownFormula   = errors.New("payout: unknown formula")
	ErrInvalidRecord    = errors.New("payout: invalid record")
	ErrDuplicateRecord  = errors.New("payout: duplicate record id")
	ErrNoRecords        = errors.New("payout: no records")
	ErrZeroPoints       = errors.New("payout: zero points in total")
	ErrBudgetBelowFloor = errors.New("payout: budget below floor times contributors")
	ErrOverflow         = errors.New("payout: sum of minutes or points beyond 2^63-1")
)

func (r Round) validate() error {
	if err := r.Currency.check(); err != nil {
		return err
	}
	if r.Budget <= 0 {
		return fmt.Errorf("%w: budget %d must be positive", ErrInvalidRound, r.Budget)
	}
	if r.Rate < 0 || r.Cap < 0 || r.Floor < 0 {
		return fmt.Errorf("%w: rate, cap and floor must not be negative", ErrInvalidRound)
	}
	switch r.Formula {
	case Minutes:
		if r.Rate == 0 {
			return fmt.Errorf("%w: the minutes formula needs a rate", ErrInvalidRound)
		}
		if r.Floor != 0 {
			return fmt.Errorf("%w: a floor belongs to the equal formula", ErrInvalidRound)
		}
	case Points, Equal:
		if r.Rate != 0 || r.Cap != 0 {
			return fmt.Errorf("%w: a rate and a cap belong to the minutes formula", ErrInvalidRound)
		}
		if r.Formula == Points && r.Floor != 0 {
			return fmt.Errorf("%w: a floor belongs to the equal formula", ErrInvalidRound)
		}
	default:
		return fmt.Errorf("%w %q", ErrUnknownFormula, r.Formula)
	}
	return nil
}

// Split divides round.Budget over the contributors of records by the
// round's formula, as the package documentation says. The order of
// records does not matter.
func Split(round Round, records []Record) (Statement, error) {
	if err := round.validate(); err != nil {
		return Statement{}, err
	}
	if len(records) == 0 {
		return Statement{}, ErrNoRecords
	}
	order, err := canonicalOrder(records)
	if err != nil {
		return Statement{}, err
	}

	// One line per contributor, with its sums.
	index := make(map[string]int)
	var lines []Line
	for i := range records {
		r := &records[i]
		n, ok := index[r.Contributor]
		if !ok {
			// Each key is checked once, the first time it is seen.
			if !utf8.ValidString(r.Contributor) {
				return Statement{}, fmt.Errorf("%w: record %q: contributor %q is not UTF-8", ErrInvalidRecord, r.ID, r.Contributor)
			}
			n = len(lines)
			index[r.Contributor] = n
			lines = append(lines, Line{Contributor: r.Contributor})
		}
		l := &lines[n]
		l.Records++
		if l.Minutes > math.MaxInt64-r.Minutes || l.Points > math.MaxInt64-r.Points {
			return Statement{}, fmt.Errorf("%w: contributor %q", ErrOverflow, r.Contributor)
		}
		l.Minutes += r.Minutes
		l.Points += r.Points
	}
	slices.SortFunc(lines, func(a, b Line) int { return strings.Compare(a.Contributor, b.Contributor) })

	raw, num, den, amount, err := targets(round, lines)
	if err != nil {
		return Statement{}, err
	}
	shares := apportion(num, den, amount)
	rawSum := new(big.Int)
	for i := range lines {
		lines[i].Raw = fraction(raw[i], rawDen(round, den))
		lines[i].Exact = fraction(num[i], den)
		lines[i].Share = shares[i]
		rawSum.Add(rawSum, raw[i])
	}
	return Statement{
		Round:       round,
		Lines:       lines,
		Raw:         fraction(rawSum, rawDen(round, den)),
		Total:       Amount(amount),
		Unallocated: round.Budget - Amount(amount),
		InputHash:   inputHash(round, records, order),
	}, nil
}

// targets returns, for each line, the raw amount's numerator (over
// rawDen) and the exact share's numerator over den, and the amount to
// allocate.
func targets(round Round, lines []Line) (raw, num []*big.Int, den *big.Int, amount int64, err error) {
	budget := big.NewInt(int64(round.Budget))
	raw = make([]*big.Int, len(lines))
	num = make([]*big.Int, len(lines))
	switch round.Formula {
	case Minutes:
		// u = min(minutes × rate, 60 × cap); raw = u/60.
		capped := new(big.Int).Mul(big.NewInt(int64(round.Cap)), big.NewInt(60))
		sum := new(big.Int)
		for i, l := range lines {
			u := new(big.Int).Mul(big.NewInt(l.Minutes), big.NewInt(int64(round.Rate)))
			if round.Cap > 0 && u.Cmp(capped) > 0 {
				u.Set(capped)
			}
			raw[i] = u
			sum.Add(sum, u)
		}
		if sum.Cmp(new(big.Int).Mul(budget, big.NewInt(60))) > 0 {
			// Above the budget: share = u × budget / sum.
			for i := range lines {
				num[i] = new(big.Int).Mul(raw[i], budget)
			}
			return raw, num, sum, int64(round.Budget), nil
		}
		// At or below: share = u/60, and floor(sum/60) is allocated.
		copy(num, raw)
		return raw, num, big.NewInt(60), new(big.Int).Quo(sum, big.NewInt(60)).Int64(), nil
	case Points:
		var total int64
		for _, l := range lines {
			if total > math.MaxInt64-l.Points {
				return nil, nil, nil, 0, ErrOverflow
			}
			total += l.Points
		}
		if total == 0 {
			return nil, nil, nil, 0, ErrZeroPoints
		}
		for i, l := range lines {
			num[i] = new(big.Int).Mul(big.NewInt(l.Points), budget)
			raw[i] = num[i]
		}
		return raw, num, big.NewInt(total), int64(round.Budget), nil
	case Equal:
		n := int64(len(lines))
		if int64(round.Floor) > int64(round.Budget)/n {
			return nil, nil, nil, 0, fmt.Errorf("%w: %d contributors × floor %s > budget %s", ErrBudgetBelowFloor,
				n, FormatAmount(round.Floor, round.Currency), FormatAmount(round.Budget, round.Currency))
		}
		for i := range lines {
			num[i] = budget
			raw[i] = budget
		}
		return raw, num, big.NewInt(n), int64(round.Budget), nil
	}
	panic("unreachable: validated formula")
}

// rawDen is the denominator of the raw amounts: 60 for minutes (a rate is
// per hour), the exact shares' otherwise.
func rawDen(round Round, den *big.Int) *big.Int {
	if round.Formula == Minutes {
		return big.NewInt(60)
	}
	return den
}

// apportion rounds num[i]/den to whole minor units summing to amount:
// each gets the floor of its exact share, and the amount left (fewer
// minor units than there are lines) goes one each to the largest
// remainders, ties to the earlier line (lines are in key order).
func apportion(num []*big.Int, den *big.Int, amount int64) []Amount {
	shares := make([]Amount, len(num))
	rems := make([]*big.Int, len(num))
	left := amount
	for i := range num {
		q, r := new(big.Int).QuoRem(num[i], den, new(big.Int))
		shares[i] = Amount(q.Int64())
		rems[i] = r
		left -= q.Int64()
	}
	if left == 0 {
		return shares
	}
	byRem := make([]int, len(num))
	for i := range byRem {
		byRem[i] = i
	}
	slices.SortStableFunc(byRem, func(a, b int) int { return rems[b].Cmp(rems[a]) })
	for _, i := range byRem[:left] {
		shares[i]++
	}
	return shares
}

func fraction(n, d *big.Int) string {
	return new(big.Rat).SetFrac(n, d).RatString()
}

// canonicalOrder checks each record and returns their indexes in order of
// ID (byte order), refusing a repeated ID.
func canonicalOrder(records []Record) ([]int32, error) {
	if len(records) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d records", ErrInvalidRecord, len(records))
	}
	order := make([]int32, len(records))
	sorted := true
	for i := range records {
		r := &records[i]
		switch {
		case r.ID == "":
			return nil, fmt.Errorf("%w: record %d has no id", ErrInvalidRecord, i)
		case r.Contributor == "":
			return nil, fmt.Errorf("%w: record %q has no contributor", ErrInvalidRecord, r.ID)
		case !utf8.ValidString(r.ID):
			return nil, fmt.Errorf("%w: record id %q is not UTF-8", ErrInvalidRecord, r.ID)
		case r.Minutes < 0 || r.Points < 0:
			return nil, fmt.Errorf("%w: record %q has negative minutes or points", ErrInvalidRecord, r.ID)
		}
		order[i] = int32(i)
		if i > 0 && sorted && records[i-1].ID >= r.ID {
			sorted = false
		}
	}
	if !sorted {
		sortByID(records, order)
	}
	for i := 1; i < len(order); i++ {
		if id := records[order[i]].ID; id == records[order[i-1]].ID {
			return nil, fmt.Errorf("%w %q", ErrDuplicateRecord, id)
		}
	}
	return order, nil
}

// sortByID sorts order by the records' IDs, by an 8-byte key taken just
// after the IDs' common prefix (IDs are URIs of one node, so it is long),
// so that most comparisons touch neither the records nor their strings.
func sortByID(records []Record, order []int32) {
	lcp := records[0].ID
	for i := range records {
		id := records[i].ID
		n := min(len(lcp), len(id))
		j := 0
		for j < n && id[j] == lcp[j] {
			j++
		}
		lcp = lcp[:j]
	}
	type keyed struct {
		key uint64
		i   int32
	}
	keys := make([]keyed, len(records))
	for i := range records {
		var k [8]byte
		copy(k[:], records[i].ID[len(lcp):])
		keys[i] = keyed{binary.BigEndian.Uint64(k[:]), int32(i)}
	}
	slices.SortFunc(keys, func(a, b keyed) int {
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		return strings.Compare(records[a.i].ID, records[b.i].ID)
	})
	for n, k := range keys {
		order[n] = k.i
	}
}
