package governance

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseBallot reads command-line ballots for every method: no input
// panics; one that parses formats back to itself, Cast accepts it, and
// Tally counts it; one that does not is a named refusal.
func FuzzParseBallot(f *testing.F) {
	for _, s := range []string{
		"a", "a b", "b a c", "abstain", "a=3 b=10", "a=-1", "a=1 a=2", "agree", "block",
		"nope", "a a", "", "=", "a= b=+3", "abstain a", "a=99999999999999999999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		for _, m := range methods {
			var p Proposal
			if m == Consent {
				p = proposal(m, Consensus, 2)
			} else {
				p = proposal(m, Majority, 2, "a", "b", "c")
			}
			b, err := ParseBallot(p, voter(0), args)
			if err != nil {
				if code := ReasonCode(err); code != ReasonInvalidBallot && code != ReasonUnknownOption {
					t.Fatalf("%s %q: %v is not a named refusal", m, line, err)
				}
				continue
			}
			again, err := ParseBallot(p, voter(0), FormatBallot(b))
			if err != nil || !cmp.Equal(b, again) {
				t.Fatalf("%s %q: %+v formats to %q, parses to %+v, %v", m, line, b, FormatBallot(b), again, err)
			}
			cast, err := p.Cast(b, t0)
			if err != nil {
				t.Fatalf("%s %q: parsed %+v, Cast refuses it: %v", m, line, b, err)
			}
			o := Tally(p, []Ballot{cast}, nil)
			if o.Cast != 1 || len(o.Refused) != 0 {
				t.Fatalf("%s %q: Tally of %+v: cast %d refused %v", m, line, cast, o.Cast, o.Refused)
			}
		}
	})
}

func TestParseBallot(t *testing.T) {
	p := proposal(Score, Majority, 2, "a", "b", "c")
	b, err := ParseBallot(p, voter(0), []string{"c=7", "a=10"})
	want := Ballot{Voter: voter(0), Ratings: []Rating{{"a", 10}, {"c", 7}}}
	if err != nil || !cmp.Equal(b, want) {
		t.Errorf("score: %+v, %v; want %+v", b, err, want)
	}
	if _, err := ParseBallot(p, voter(0), []string{"a=11"}); !errors.Is(err, ErrInvalidBallot) {
		t.Errorf("out of range: %v", err)
	}
	q := proposal(Approval, Majority, 2, "a", "b", "c")
	b, err = ParseBallot(q, voter(0), []string{"c", "a", "c"})
	if err != nil || !slices.Equal(b.Choices, []string{"a", "c"}) {
		t.Errorf("approval: %+v, %v; want a, c", b, err)
	}
	r := proposal(InstantRunoff, Majority, 2, "a", "b", "c")
	if _, err := ParseBallot(r, voter(0), []string{"c", "d"}); !errors.Is(err, ErrUnknownOption) {
		t.Errorf("unknown option: %v", err)
	}
}

// FuzzTally builds proposals and ballots from bytes, valid or not: Tally
// never panics, counts every ballot once (standing, replaced or refused),
// and gives the same outcome for the ballots in reverse order.
func FuzzTally(f *testing.F) {
	f.Add([]byte{0, 3, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{2, 4, 0, 1, 2, 3, 0, 1, 1, 2, 2, 3, 3, 0})
	f.Add([]byte{4, 2, 9, 200, 1, 0, 3, 3, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func() int {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return int(b)
		}
		m := methods[next()%len(methods)]
		keys := []string{"a", "b", "c", "d", "e", "f"}[:2+next()%5]
		var p Proposal
		if m == Consent {
			p = proposal(m, []Threshold{Majority, TwoThirds, Consensus}[next()%3], 1+next()%9)
		} else {
			p = proposal(m, Majority, 1+next()%9, keys...)
		}
		p.Quorum = Ratio{int64(next() % 4), 3}
		all := append(keys, "zz", "")
		var bs []Ballot
		for len(data) > 0 {
			b := Ballot{Voter: voter(next() % 12), At: t0.Add(time.Duration(next()%3) * time.Second)}
			switch next() % 8 {
			case 0:
				b.Abstain = true
			case 1:
				b.Stance = Stance(next() % 5)
			case 2:
				for range next() % 4 {
					b.Ratings = append(b.Ratings, Rating{all[next()%len(all)], next()%14 - 2})
				}
			default:
				for range next() % 8 {
					b.Choices = append(b.Choices, all[next()%len(all)])
				}
			}
			bs = append(bs, b)
		}
		o := Tally(p, bs, nil)
		refused := 0
		for _, n := range o.Refused {
			refused += n
		}
		if o.Cast+o.Replaced+refused != len(bs) {
			t.Fatalf("cast %d + replaced %d + refused %d != %d ballots", o.Cast, o.Replaced, refused, len(bs))
		}
		slices.Reverse(bs)
		if r := Tally(p, bs, nil); !cmp.Equal(o, r) {
			t.Fatalf("order changed the outcome:\n%s", cmp.Diff(o, r))
		}
	})
}
