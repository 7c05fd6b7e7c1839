package payout

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

var (
	eur = Currency{"EUR", 2}
	jpy = Currency{"JPY", 0}
	bhd = Currency{"BHD", 3}
)

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		c    Currency
		want Amount
	}{
		{"whole euros", "1000", eur, 100000},
		{"two decimals", "1000.00", eur, 100000},
		{"one decimal is tenths", "0.5", eur, 50},
		{"cents", "0.07", eur, 7},
		{"leading zeros", "007.10", eur, 710},
		{"zero", "0", eur, 0},
		{"yen have no decimals", "1000", jpy, 1000},
		{"fils are thousandths", "1.000", bhd, 1000},
		{"two decimals in a three-decimal currency", "1.25", bhd, 1250},
		{"four decimals", "0.0001", Currency{"CLF", 4}, 1},
		{"largest amount", "92233720368547758.07", eur, 1<<63 - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAmount(tc.in, tc.c)
			if err != nil || got != tc.want {
				t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d", tc.in, tc.c.Code, got, err, tc.want)
			}
			if back, err := ParseAmount(FormatAmount(got, tc.c), tc.c); err != nil || back != got {
				t.Errorf("FormatAmount(%d) = %q parses to %d, %v", got, FormatAmount(got, tc.c), back, err)
			}
		})
	}
}

func TestParseAmountRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		c    Currency
	}{
		{"empty", "", eur},
		{"negative", "-1.00", eur},
		{"plus sign", "+1.00", eur},
		{"more decimals than the currency", "1.001", eur},
		{"any decimal in yen", "1000.0", jpy},
		{"four decimals in dinars", "1.0000", bhd},
		{"exponent", "1e3", eur},
		{"thousands separator", "1,000.00", eur},
		{"apostrophe separator", "1'000", eur},
		{"space separator", "1 000", eur},
		{"decimal comma", "1000,50", eur},
		{"point without decimals", "1.", eur},
		{"point without units", ".5", eur},
		{"two points", "1.2.3", eur},
		{"surrounding space", " 1", eur},
		{"hexadecimal", "0x10", eur},
		{"underscore", "1_000", eur},
		{"non-ASCII digit", "١", eur},
		{"beyond 2^63-1 minor units", "92233720368547758.08", eur},
		{"beyond int64 before scaling", "99999999999999999999", jpy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAmount(tc.in, tc.c)
			if !errors.Is(err, ErrInvalidAmount) {
				t.Errorf("ParseAmount(%q, %s) = %d, %v; want ErrInvalidAmount", tc.in, tc.c.Code, got, err)
			}
		})
	}
	if _, err := ParseAmount("1", Currency{"EUR", 3}); !errors.Is(err, ErrUnknownCurrency) {
		t.Errorf("EUR with exponent 3: %v; want ErrUnknownCurrency", err)
	}
}

func TestFormatAmount(t *testing.T) {
	for _, tc := range []struct {
		a    Amount
		c    Currency
		want string
	}{
		{100000, eur, "1000.00"},
		{5, eur, "0.05"},
		{0, eur, "0.00"},
		{1000, jpy, "1000"},
		{1000, bhd, "1.000"},
		{1, bhd, "0.001"},
		{-150, eur, "-1.50"},
		{-1 << 63, eur, "-92233720368547758.08"},
	} {
		if got := FormatAmount(tc.a, tc.c); got != tc.want {
			t.Errorf("FormatAmount(%d, %s) = %q; want %q", tc.a, tc.c.Code, got, tc.want)
		}
	}
}

// TestCurrencyTable checks the table against the exponents the package
// documentation lists, and its shape.
func TestCurrencyTable(t *testing.T) {
	cs := Currencies()
	byExp := map[int][]string{}
	for i, c := range cs {
		if len(c.Code) != 3 || strings.ToUpper(c.Code) != c.Code {
			t.Errorf("code %q", c.Code)
		}
		if i > 0 && cs[i-1].Code >= c.Code {
			t.Errorf("%s after %s: not in byte order", c.Code, cs[i-1].Code)
		}
		if got, err := LookupCurrency(c.Code); err != nil || got != c {
			t.Errorf("LookupCurrency(%s) = %v, %v", c.Code, got, err)
		}
		byExp[c.Exponent] = append(byExp[c.Exponent], c.Code)
	}
	want := map[int][]string{
		0: strings.Fields("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"),
		3: strings.Fields("BHD IQD JOD KWD LYD OMR TND"),
		4: strings.Fields("CLF UYW"),
	}
	for e, codes := range want {
		if !slices.Equal(byExp[e], codes) {
			t.Errorf("exponent %d: %v; want %v", e, byExp[e], codes)
		}
	}
	for _, code := range strings.Fields("EUR USD GBP CHF CAD AUD NZD SEK NOK DKK PLN CZK HUF BRL MXN INR CNY ZAR XCG ZWG") {
		if c, err := LookupCurrency(code); err != nil || c.Exponent != 2 {
			t.Errorf("%s: %v, %v; want exponent 2", code, c, err)
		}
	}
	for _, code := range strings.Fields("XAU XXX XTS ANG HRK eur EURO") {
		if _, err := LookupCurrency(code); !errors.Is(err, ErrUnknownCurrency) {
			t.Errorf("%s: %v; want ErrUnknownCurrency", code, err)
		}
	}
	if len(byExp[2]) < 130 {
		t.Errorf("%d codes with exponent 2", len(byExp[2]))
	}
}

// FuzzParseAmount: no input panics; what parses formats back to the same
// amount, and to the same text when written with all its decimals;
// what does not is ErrInvalidAmount.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1000.00", "1000", "0.5", "1.", ".5", "-1", "1e3", "1,000", "92233720368547758.07", "92233720368547758.08", "", "00.000"} {
		f.Add(s, uint8(2))
	}
	f.Add("1.000", uint8(3))
	f.Add("1000", uint8(0))
	f.Fuzz(func(t *testing.T, s string, e uint8) {
		c := []Currency{jpy, eur, bhd, {"CLF", 4}}[e%4]
		a, err := ParseAmount(s, c)
		if err != nil {
			if !errors.Is(err, ErrInvalidAmount) {
				t.Fatalf("%q: %v is not ErrInvalidAmount", s, err)
			}
			return
		}
		if a < 0 {
			t.Fatalf("%q: negative %d", s, a)
		}
		text := FormatAmount(a, c)
		back, err := ParseAmount(text, c)
		if err != nil || back != a {
			t.Fatalf("%q = %d formats to %q, parses to %d, %v", s, a, text, back, err)
		}
		whole, frac, _ := strings.Cut(s, ".")
		full := strings.TrimLeft(whole, "0")
		if full == "" {
			full = "0"
		}
		if c.Exponent > 0 {
			full += "." + frac + strings.Repeat("0", c.Exponent-len(frac))
		}
		if full != text {
			t.Fatalf("%q formats to %q; want %q", s, text, full)
		}
	})
}
