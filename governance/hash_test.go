package governance

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
	p, err := p.Open([]string{"bo", "al", "alf"}, time.Unix(1000, 0))
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
	s("coopfed governance tally v2")
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
	// The eligible voters, front-coded, in one chunk.
	b = append(b, h(func() {
		u(3)
		b = append(b, h(func() {
			u(0)
			s("al")
			u(2)
			s("f")
			u(0)
			s("bo")
		})...)
	})...)
	// The ballots in one chunk.
	b = append(b, h(func() {
		u(3)
		b = append(b, h(func() {
			// al (eligible index 0), bo (2), zed (not eligible)
			u(1)
			tm(time.Unix(1003, 0))
			u(0)
			u(0)
			u(2)
			u(1) // x
			i(-2)
			u(2) // y
			i(2)
			u(0)

			u(3)
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
			u(1) // x
			i(1)
			u(0)
		})...)
	})...)
	want := sha256.Sum256(b)

	o := Tally(p, ballots, refusals)
	if o.InputHash != want {
		t.Errorf("InputHash %x; the documented encoding gives %x", o.InputHash, want)
	}
	const golden = "5c696787143ed8a53b6686cdd3979869e03456904e842f16a7fa106c2afddfce"
	if got := hex.EncodeToString(o.InputHash[:]); got != golden {
		t.Errorf("InputHash %s; pinned %s (a new encoding needs a new hashDomain)", got, golden)
	}
}

// TestInputHashChunks recomputes the two list digests, as the package
// documentation describes them, for lists of several chunks (the last
// one short), with ballots given in canonical order and shuffled; and
// the count is the same both ways.
func TestInputHashChunks(t *testing.T) {
	const n = 2*4096 + 100
	p := proposal(SingleChoice, Majority, n, "a", "b")
	r := rand.New(rand.NewPCG(5, 6))
	var bs []Ballot
	for i := 0; i < 3*(n+50); i++ {
		v := voter(i / 3) // three ballots of each voter (the last 50 strangers), across chunk boundaries too
		bs = append(bs, Ballot{Voter: v, At: t0.Add(time.Duration(i%3) * time.Second), Choices: []string{[]string{"a", "b", "zz"}[r.IntN(3)]}})
	}
	var b []byte
	u := func(v uint64) { b = binary.AppendUvarint(b, v) }
	s := func(v string) { u(uint64(len(v))); b = append(b, v...) }
	list := func(count int, item func(i int)) []byte {
		var sums []byte
		for lo := 0; lo < count; lo += 4096 {
			b = nil
			for i := lo; i < min(lo+4096, count); i++ {
				item(i)
			}
			sum := sha256.Sum256(b)
			sums = append(sums, sum[:]...)
		}
		b = binary.AppendUvarint(nil, uint64(count))
		sum := sha256.Sum256(append(b, sums...))
		return sum[:]
	}
	el := p.Eligible
	voters := list(len(el), func(i int) {
		n := 0
		if i > 0 {
			for n < len(el[i]) && n < len(el[i-1]) && el[i][n] == el[i-1][n] {
				n++
			}
		}
		u(uint64(n))
		s(el[i][n:])
	})
	votes := list(len(bs), func(i int) {
		x := bs[i]
		if e, ok := slices.BinarySearch(el, x.Voter); ok {
			u(uint64(e) + 1)
		} else {
			u(0)
			s(x.Voter)
		}
		b = binary.AppendVarint(b, x.At.Unix())
		u(uint64(x.At.Nanosecond()))
		u(0)
		u(1)
		if k := p.optionIndex(x.Choices[0]); k >= 0 {
			u(uint64(k) + 1)
		} else {
			u(0)
			s(x.Choices[0])
		}
		u(0)
		u(0)
	})
	want := inputHash(p, nil, [32]byte(voters), [32]byte(votes))
	sorted := Tally(p, bs, nil)
	if sorted.InputHash != want {
		t.Errorf("in canonical order: InputHash %x; the documented encoding gives %x", sorted.InputHash, want)
	}
	if voters := (len(bs) + 2) / 3; sorted.Replaced != len(bs)-voters {
		t.Errorf("replaced %d; want %d", sorted.Replaced, len(bs)-voters)
	}
	r.Shuffle(len(bs), func(i, j int) { bs[i], bs[j] = bs[j], bs[i] })
	shuffled := Tally(p, bs, nil)
	if shuffled.InputHash != want {
		t.Errorf("shuffled: InputHash %x; the documented encoding gives %x", shuffled.InputHash, want)
	}
	if diff := cmp.Diff(sorted, shuffled); diff != "" {
		t.Errorf("the order of the ballots changed the outcome:\n%s", diff)
	}
}
