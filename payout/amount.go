package payout

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Amount is a sum of money in minor units of its currency (cents of EUR,
// yen of JPY, fils of BHD).
type Amount int64

// ErrInvalidAmount is text that is not an amount as ParseAmount reads it.
var ErrInvalidAmount = errors.New("payout: invalid amount")

var pow10 = [...]int64{1, 10, 100, 1000, 10000}

// ParseAmount reads a decimal amount of currency c exactly into minor
// units: one or more ASCII digits, then optionally a point and one to
// c.Exponent digits ("1000", "1000.5", "1000.50" in EUR; "1000" only in
// JPY; "1.250" in BHD). It refuses a sign, spaces, an exponent, a
// thousands separator, a comma for the point, a point without digits on
// both sides, more decimals than the currency has, and an amount beyond
// 2^63-1 minor units, with an error that wraps ErrInvalidAmount (or
// ErrUnknownCurrency for a currency not in the table).
func ParseAmount(s string, c Currency) (Amount, error) {
	if err := c.check(); err != nil {
		return 0, err
	}
	bad := func(why string) (Amount, error) {
		return 0, fmt.Errorf("%w %q in %s: %s", ErrInvalidAmount, s, c.Code, why)
	}
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" {
		return bad("no digits before the point")
	}
	if dot && frac == "" {
		return bad("no digits after the point")
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return bad(fmt.Sprintf("%q is not a digit (write digits and at most one point, no sign or separators)", part[i]))
			}
		}
	}
	if len(frac) > c.Exponent {
		return bad(fmt.Sprintf("%d decimals, %s has %d", len(frac), c.Code, c.Exponent))
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return bad("too large")
	}
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac, 10, 64) // at most 4 digits, checked above
	}
	f *= pow10[c.Exponent-len(frac)]
	scale := pow10[c.Exponent]
	if w > (math.MaxInt64-f)/scale {
		return bad("too large")
	}
	return Amount(w*scale + f), nil
}

// FormatAmount writes a in currency c with exactly c.Exponent decimals and
// no separators ("1000.00" EUR, "1000" JPY, "1.000" BHD), as ParseAmount
// reads it; a negative amount (never a share) starts with "-".
func FormatAmount(a Amount, c Currency) string {
	u := uint64(a)
	sign := ""
	if a < 0 {
		sign, u = "-", -u
	}
	if c.Exponent <= 0 {
		return sign + strconv.FormatUint(u, 10)
	}
	scale := uint64(1)
	for range c.Exponent {
		scale *= 10
	}
	frac := strconv.FormatUint(u%scale, 10)
	return sign + strconv.FormatUint(u/scale, 10) + "." + strings.Repeat("0", c.Exponent-len(frac)) + frac
}
