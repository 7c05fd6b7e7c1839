// Package payout splits the budget of a payout round over approved
// contribution records: DESIGN.md, "Contributions and remuneration", and
// issue 8 say what for. The split is a pure function, Split, of a Round
// and its Records; this documentation defines it exactly, so that a
// member can recompute a Statement by hand or in another language and
// compare its InputHash. The money itself moves elsewhere; coopfed
// records and proves the split.
//
// The package imports only the standard library, does no I/O, never
// reads the clock and never logs (TestImports). All arithmetic is on
// integers and exact fractions (math/big where a product could pass
// 2^63); there is no floating point anywhere.
//
// # Currencies and amounts
//
// A Currency is an ISO 4217 alphabetic code and the exponent of its minor
// unit. The table follows ISO 4217 List One as published on 2026-01-01:
// every code with a numeric minor unit, funds codes included; exponent 0
// for BIF, CLP, DJF, GNF, ISK, JPY, KMF, KRW, PYG, RWF, UGX, UYI, VND,
// VUV, XAF, XOF and XPF; 3 for BHD, IQD, JOD, KWD, LYD, OMR and TND; 4
// for CLF and UYW; 2 for every other. Codes whose minor unit is "N.A."
// (gold, SDR, test codes, ...) are not in it. A Round whose Currency is
// not exactly a row of the table is refused with ErrUnknownCurrency.
//
// An Amount is an integer number of minor units. ParseAmount reads
// digits, optionally followed by a point and 1 to Exponent digits
// ("1000", "1000.5" and "1000.50" are all 100050 cents of EUR; "0.5" is
// 50); anything else (a sign, a space, "1e3", "1,000", "1.", ".5", more
// decimals than the currency has, more than 2^63-1 minor units) is
// ErrInvalidAmount. FormatAmount writes exactly Exponent decimals:
// "1000.00" EUR, "1000" JPY, "1.000" BHD.
//
// # Records and contributors
//
// A Record has a unique ID (ErrDuplicateRecord), a Contributor key (the
// member's actor URI; records with the same key are the same
// contributor), a Date, and Minutes and Points, both >= 0
// (ErrInvalidRecord also for an empty or non-UTF-8 ID or key). The
// contributors of a round are the distinct keys among its records, each
// with the sums of its records' minutes m and points p (ErrOverflow past
// 2^63-1). No records is ErrNoRecords. Records are approved before they
// reach Split: Split counts every record it is given.
//
// # Formulas
//
// B is the budget (minor units, > 0). For each contributor the formula
// gives an exact fraction of minor units, the share before rounding
// (Line.Exact), and an amount A to allocate (Statement.Total); what is not
// allocated, B - A, is Statement.Unallocated.
//
//   - minutes, with Rate r (minor units per hour, > 0) and an optional
//     Cap c (minor units; 0 is none): each contributor's raw amount is
//     raw = m × r / 60, or c when that is more than c (Line.Raw). Let R
//     be the sum of the raw amounts. Above the budget (R > B) everyone
//     is scaled down in proportion: exact = raw × B / R, and A = B.
//     At or below it (R <= B) everyone is paid the raw amount: exact =
//     raw, A = floor(R), and B - A is left unallocated (a round does not
//     pay more than the hours are worth). The cap applies before the
//     scaling, so a capped contributor is scaled like any other.
//     Contributors with no minutes get 0; if nobody has minutes, A = 0.
//   - points: exact = B × p / P, where P is the sum of everyone's
//     points; A = B. P = 0 is ErrZeroPoints (a contributor with 0 points
//     among others gets 0).
//   - equal, with an optional Floor f (minor units; 0 is none): each of
//     the n contributors gets exact = B / n; A = B. The floor is a
//     promise that nobody is paid less than f: if f × n > B the round is
//     refused with ErrBudgetBelowFloor; otherwise every share, rounded,
//     is at least floor(B/n) >= f. (Paying f to each and splitting the
//     rest equally is the same split.)
//
// For minutes Rate and Cap may be set and Floor must be 0; for points all
// three are 0; for equal only Floor may be set. A negative parameter, a
// missing rate, a parameter of another formula or B <= 0 is
// ErrInvalidRound; another formula name is ErrUnknownFormula.
//
// # Rounding
//
// Shares are whole minor units, by the largest remainder method: each
// contributor gets the floor of its exact share; the minor units still
// to allocate, A minus the sum of the floors (always fewer than the
// contributors), go one each to the contributors with the largest
// remainders (exact minus its floor), ties broken by the contributor key
// in byte order, the smaller key first. So the shares sum to A exactly,
// none is negative, each differs from its exact share by less than one
// minor unit, and a contributor whose exact share is larger is never
// paid less. Under minutes and points, a contributor given one more
// record, the others' unchanged, is never paid less either. Because
// contributors are found by key and records ordered by ID, the order in
// which records are given never matters.
//
// # Statement
//
// A Statement has one Line per contributor, by key in byte order: the
// key, the number of records, the sums of minutes and points, Raw and
// Exact (fractions of minor units written "n/d" in lowest terms, or "n"
// when whole; for points and equal Raw equals Exact), and the Share. Raw
// is the sum of the raw amounts, Total the sum of the shares (A), and
// Unallocated B - A. CSV and JSON write it with a fixed field order;
// their documentation gives it.
//
// # Inputs and their hash
//
// Statement.InputHash is the SHA-256 of this encoding of exactly the
// inputs (integers as varints as in encoding/binary: unsigned as
// uvarints, signed as zig-zag varints; strings as a uvarint length and
// their bytes; times as the Unix seconds, signed, and the nanoseconds,
// unsigned):
//
//	"coopfed payout split v1"
//	round:   currency code, exponent, formula, budget, rate, cap, floor
//	records: count, then each in order of ID (byte order):
//	         ID, contributor, date, minutes, points
//
// The result depends on nothing else: the same round and the same set of
// records give the same Statement, byte for byte in CSV and JSON.
package payout
