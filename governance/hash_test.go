package governance

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"
	"time"
)

// TestInputHashAsDocumented recomputes InputHash by hand from the package
// documentation's description, so that a peer that follows the text gets
// the same hash; and pins it, so that a change of encoding is seen.
func TestInputHashAsDocumented(t *testing.T) {
	p := Proposal{
		ID: "https://coop.example/proposals/7", Title: "t", Method: Score, Threshold: TwoThirds,
		Eligibility: ProjectMaintainers, Quorum: Ratio{1, 3}, ScoreMin: -2, ScoreMax: 2,
		ClosesAt: time.Unix(2000, 5), Options: []Option{{"x", "X"}, {"y", "Y"}},
	}
	p, err := p.Open([]string{"bo", "al"}, time.Unix(1000, 0))
	if err != nil {
		t.Fatal(err)
	}
	ballots := []Ballot{
		{Voter: "zed", At: time.Unix(1001, 7), Ratings: []Rating{{"x", 1}}},
		{Voter: "bo", At: time.Unix(1002, 0), Abstain: true, Final: true},
		{Voter: "al", At: time.Unix(1003, 0), Ratings: []Rating{{"x", -2}, {"y", 2}}},
	}
	refusals := []Refusal{{Voter: "cy", At: time.Unix(2000, 5), Reason: ErrClosed}}

	var b []byte
	u := func(v uint64) { b = binary.AppendUvarint(b, v) }
	i := func(v int64) { b = binary.AppendVarint(b, v) }
	s := func(v string) { u(uint64(len(v))); b = append(b, v...) }
	tm := func(v time.Time) { i(v.Unix()); u(uint64(v.Nanosecond())) }
	h := func(f func()) []byte {
		saved := b
		b = nil
		f()
		sum := sha256.Sum256(b)
		b = saved
		return sum[:]
	}
	s("coopfed governance tally v1")
	s(p.ID)
	s("score")
	s("two-thirds")
	s("maintainers")
	i(1)
	i(3)
	i(-2)
	i(2)
	tm(time.Unix(1000, 0))
	tm(time.Unix(2000, 5))
	s("open")
	u(2)
	s("x")
	s("y")
	u(1) // one refusal
	var r []byte
	r = binary.AppendUvarint(r, 2)
	r = append(r, "cy"...)
	r = binary.AppendVarint(r, 2000)
	r = binary.AppendUvarint(r, 5)
	r = binary.AppendUvarint(r, uint64(len("closed")))
	r = append(r, "closed"...)
	r = binary.AppendUvarint(r, 1)
	u(uint64(len(r)))
	b = append(b, r...)
	b = append(b, h(func() { u(2); s("al"); s("bo") })...)
	b = append(b, h(func() {
		u(3)
		// al (eligible index 0), bo (1), zed (not eligible)
		u(1)
		tm(time.Unix(1003, 0))
		u(0)
		u(0)
		u(2)
		s("x")
		i(-2)
		s("y")
		i(2)
		u(0)

		u(2)
		tm(time.Unix(1002, 0))
		u(3)
		u(0)
		u(0)
		u(0)

		u(0)
		s("zed")
		tm(time.Unix(1001, 7))
		u(0)
		u(0)
		u(1)
		s("x")
		i(1)
		u(0)
	})...)
	want := sha256.Sum256(b)

	o := Tally(p, ballots, refusals)
	if o.InputHash != want {
		t.Errorf("InputHash %x; the documented encoding gives %x", o.InputHash, want)
	}
	const golden = "cf5feb05722e52983b5b6ec73692906a51103ead492577a8d3f30b47076080c0"
	if got := hex.EncodeToString(o.InputHash[:]); got != golden {
		t.Errorf("InputHash %s; pinned %s (a new encoding needs a new hashDomain)", got, golden)
	}
}
