package governance

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolve(t *testing.T) {
	// Voters v0..v5. v0 votes yes, v3 votes no.
	p := proposal(SingleChoice, Majority, 7, "yes", "no")
	v := voters(7)
	direct := []Ballot{
		{Voter: v[0], At: t0, Choices: []string{"yes"}, Final: true},
		{Voter: v[3], At: t0, Choices: []string{"no"}},
	}
	t.Run("chains are followed, direct votes override, cycles give nothing", func(t *testing.T) {
		dels := []Delegation{
			{v[1], v[2]}, {v[2], v[0]}, // v1 -> v2 -> v0 (voted yes)
			{v[3], v[0]},               // v3 voted: its own ballot stands
			{v[4], v[5]}, {v[5], v[4]}, // a cycle without a vote
			{v[6], "https://elsewhere.example/x"}, // a chain that ends with no ballot
		}
		got, proxies, err := Resolve(p, direct, dels)
		if err != nil {
			t.Fatal(err)
		}
		wantProxies := []Proxy{{v[1], []string{v[1], v[2], v[0]}}, {v[2], []string{v[2], v[0]}}}
		if diff := cmp.Diff(wantProxies, proxies); diff != "" {
			t.Errorf("proxies (-want +got):\n%s", diff)
		}
		o := Tally(p, got, nil)
		if o.Options[0].Count != 3 || o.Options[1].Count != 1 || o.Cast != 4 {
			t.Errorf("counts %v cast %d; want yes 3, no 1", o.Options, o.Cast)
		}
		for _, b := range got {
			if b.Voter != v[0] && b.Final {
				t.Errorf("a delegated ballot is Final: %+v", b)
			}
		}
	})
	t.Run("a cycle through a voter who voted reaches the vote", func(t *testing.T) {
		dels := []Delegation{{v[1], v[2]}, {v[2], v[3]}, {v[3], v[1]}}
		got, _, err := Resolve(p, direct, dels)
		if err != nil {
			t.Fatal(err)
		}
		if o := Tally(p, got, nil); o.Options[1].Count != 3 {
			t.Errorf("no: %d; want 3 (v3 and, through it, v1 and v2)", o.Options[1].Count)
		}
	})
	t.Run("two delegations from one voter are an error", func(t *testing.T) {
		_, _, err := Resolve(p, direct, []Delegation{{v[1], v[2]}, {v[1], v[3]}})
		if !errors.Is(err, ErrInvalidDelegation) {
			t.Errorf("Resolve: %v; want ErrInvalidDelegation", err)
		}
	})
	t.Run("order of delegations and ballots does not matter", func(t *testing.T) {
		dels := []Delegation{{v[1], v[2]}, {v[2], v[0]}, {v[4], v[3]}, {v[5], v[4]}}
		a, pa, _ := Resolve(p, direct, dels)
		rev := []Delegation{dels[3], dels[2], dels[1], dels[0]}
		b, pb, _ := Resolve(p, []Ballot{direct[1], direct[0]}, rev)
		if Tally(p, a, nil).InputHash != Tally(p, b, nil).InputHash || !cmp.Equal(pa, pb) {
			t.Errorf("order changed the resolution: %v / %v", pa, pb)
		}
	})
}
