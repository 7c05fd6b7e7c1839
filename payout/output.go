package payout

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"strconv"
)

// csvHeader names the columns of CSV, in their order.
var csvHeader = []string{"contributor", "records", "minutes", "points", "raw_minor", "exact_minor", "share"}

// CSV returns the statement's lines as RFC 4180 CSV (LF line ends): the
// header row csvHeader, then one row per line in the order of Lines.
// raw_minor and exact_minor are Line.Raw and Line.Exact (fractions of
// minor units); share is a decimal in the currency's exponent. The
// round, the totals and the input hash are in JSON.
func (s Statement) CSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(csvHeader)
	for _, l := range s.Lines {
		w.Write([]string{
			l.Contributor,
			strconv.Itoa(l.Records),
			strconv.FormatInt(l.Minutes, 10),
			strconv.FormatInt(l.Points, 10),
			l.Raw,
			l.Exact,
			FormatAmount(l.Share, s.Round.Currency),
		})
	}
	w.Flush()
	return b.Bytes()
}

// jsonStatement is the JSON form of a Statement: its field order is the
// output's.
type jsonStatement struct {
	Format      string     `json:"format"`
	InputHash   string     `json:"input_hash"`
	Currency    string     `json:"currency"`
	Exponent    int        `json:"exponent"`
	Formula     string     `json:"formula"`
	Budget      string     `json:"budget"`
	Rate        string     `json:"rate,omitempty"`
	Cap         string     `json:"cap,omitempty"`
	Floor       string     `json:"floor,omitempty"`
	RawMinor    string     `json:"raw_minor"`
	Total       string     `json:"total"`
	Unallocated string     `json:"unallocated"`
	Lines       []jsonLine `json:"lines"`
}

type jsonLine struct {
	Contributor string `json:"contributor"`
	Records     int    `json:"records"`
	Minutes     int64  `json:"minutes"`
	Points      int64  `json:"points"`
	RawMinor    string `json:"raw_minor"`
	ExactMinor  string `json:"exact_minor"`
	Share       string `json:"share"`
}

// JSON returns the statement as an indented JSON object (two spaces, a
// final newline, no HTML escaping) with its fields in this order:
// format ("coopfed payout statement v1"), input_hash (lowercase hex),
// currency, exponent, formula, budget, rate, cap, floor (each of the last
// three only when the round sets it), raw_minor, total, unallocated, and
// lines: contributor, records, minutes, points, raw_minor, exact_minor,
// share. Amounts are decimal strings in the currency's exponent
// ("1000.00", JPY "1000", BHD "1.000"); raw_minor and exact_minor are
// fractions of minor units ("1000/3"); counts are JSON numbers.
func (s Statement) JSON() []byte {
	c := s.Round.Currency
	amount := func(a Amount) string {
		if a == 0 {
			return ""
		}
		return FormatAmount(a, c)
	}
	out := jsonStatement{
		Format:      "coopfed payout statement v1",
		InputHash:   hex.EncodeToString(s.InputHash[:]),
		Currency:    c.Code,
		Exponent:    c.Exponent,
		Formula:     string(s.Round.Formula),
		Budget:      FormatAmount(s.Round.Budget, c),
		Rate:        amount(s.Round.Rate),
		Cap:         amount(s.Round.Cap),
		Floor:       amount(s.Round.Floor),
		RawMinor:    s.Raw,
		Total:       FormatAmount(s.Total, c),
		Unallocated: FormatAmount(s.Unallocated, c),
		Lines:       make([]jsonLine, len(s.Lines)),
	}
	for i, l := range s.Lines {
		out.Lines[i] = jsonLine{l.Contributor, l.Records, l.Minutes, l.Points, l.Raw, l.Exact, FormatAmount(l.Share, c)}
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.SetIndent("", "  ")
	if err := e.Encode(out); err != nil {
		panic("payout: encoding a statement: " + err.Error()) // strings and integers only
	}
	return b.Bytes()
}
