package governance

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tennessee is the "Tennessee capital" example used across Wikipedia's and
// electowiki's voting-method articles (electowiki, "Effects of different
// voting systems under similar circumstances"; Wikipedia, "Instant-runoff
// voting"): 100 voters, 42% near Memphis, 26% Nashville, 15% Chattanooga,
// 17% Knoxville, each ranking the cities by distance.
func tennessee() []group {
	return []group{
		{42, ranked("memphis", "nashville", "chattanooga", "knoxville")},
		{26, ranked("nashville", "chattanooga", "knoxville", "memphis")},
		{15, ranked("chattanooga", "knoxville", "nashville", "memphis")},
		{17, ranked("knoxville", "chattanooga", "nashville", "memphis")},
	}
}

var cities = []string{"memphis", "nashville", "chattanooga", "knoxville"}

func TestTennesseeInstantRunoff(t *testing.T) {
	// Wikipedia, "Instant-runoff voting", Tennessee example: no majority
	// in the first round; Chattanooga (15) is eliminated and its votes go
	// to Knoxville (32); then Nashville (26) is eliminated and its votes
	// pass Chattanooga to Knoxville, which wins with 58.
	p := proposal(InstantRunoff, Majority, 100, cities...)
	o := Tally(p, ballots(tennessee()...), nil)
	if !o.Decided || o.Winner != "knoxville" {
		t.Fatalf("winner %q decided %v (%s); want knoxville", o.Winner, o.Decided, o.NoDecision)
	}
	want := []Round{
		{
			Votes:      []OptionCount{{"memphis", 42, 0}, {"nashville", 26, 0}, {"chattanooga", 15, 0}, {"knoxville", 17, 0}},
			Eliminated: []string{"chattanooga"},
			Transfers:  []Transfer{{"chattanooga", "knoxville", 15}},
		},
		{
			Votes:      []OptionCount{{"memphis", 42, 0}, {"nashville", 26, 0}, {"knoxville", 32, 0}},
			Eliminated: []string{"nashville"},
			Transfers:  []Transfer{{"nashville", "knoxville", 26}},
		},
		{
			Votes: []OptionCount{{"memphis", 42, 0}, {"knoxville", 58, 0}},
		},
	}
	if diff := cmp.Diff(want, o.Rounds); diff != "" {
		t.Errorf("rounds (-want +got):\n%s", diff)
	}
}

func TestTennesseeSchulze(t *testing.T) {
	// Wikipedia, "Condorcet method", Tennessee example: Nashville beats
	// every other city pairwise (58-42 over Memphis, 68-32 over
	// Chattanooga and over Knoxville), so it is the Condorcet winner, and
	// so the Schulze winner. The full ranking, Nashville > Chattanooga >
	// Knoxville > Memphis, is the one electowiki's "Kemeny-Young method"
	// article finds for the same example.
	p := proposal(Schulze, Majority, 100, cities...)
	o := Tally(p, ballots(tennessee()...), nil)
	if !o.Decided || o.Winner != "nashville" {
		t.Fatalf("winner %q (%s); want nashville", o.Winner, o.NoDecision)
	}
	want := [][]string{{"nashville"}, {"chattanooga"}, {"knoxville"}, {"memphis"}}
	if diff := cmp.Diff(want, o.Schulze.Ranking); diff != "" {
		t.Errorf("ranking (-want +got):\n%s", diff)
	}
	if got := o.Schulze.Pairwise[1][0]; got != 58 {
		t.Errorf("nashville over memphis: %d; want 58", got)
	}
}

func TestWikipediaSchulzeExample(t *testing.T) {
	// Wikipedia, "Schulze method", section "Example": 45 voters, five
	// candidates; the pairwise matrix d and the strongest paths p are the
	// article's tables; the winner is E and the ranking E > A > C > B > D.
	groups := []group{
		{5, ranked("a", "c", "b", "e", "d")},
		{5, ranked("a", "d", "e", "c", "b")},
		{8, ranked("b", "e", "d", "a", "c")},
		{3, ranked("c", "a", "b", "e", "d")},
		{7, ranked("c", "a", "e", "b", "d")},
		{2, ranked("c", "b", "a", "d", "e")},
		{7, ranked("d", "c", "e", "b", "a")},
		{8, ranked("e", "b", "a", "d", "c")},
	}
	p := proposal(Schulze, Majority, 45, "a", "b", "c", "d", "e")
	o := Tally(p, ballots(groups...), nil)
	wantD := [][]int64{
		{0, 20, 26, 30, 22},
		{25, 0, 16, 33, 18},
		{19, 29, 0, 17, 24},
		{15, 12, 28, 0, 14},
		{23, 27, 21, 31, 0},
	}
	wantP := [][]int64{
		{0, 28, 28, 30, 24},
		{25, 0, 28, 33, 24},
		{25, 29, 0, 29, 24},
		{25, 28, 28, 0, 24},
		{25, 28, 28, 31, 0},
	}
	if diff := cmp.Diff(wantD, o.Schulze.Pairwise); diff != "" {
		t.Errorf("pairwise (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantP, o.Schulze.Strongest); diff != "" {
		t.Errorf("strongest paths (-want +got):\n%s", diff)
	}
	want := [][]string{{"e"}, {"a"}, {"c"}, {"b"}, {"d"}}
	if diff := cmp.Diff(want, o.Schulze.Ranking); diff != "" {
		t.Errorf("ranking (-want +got):\n%s", diff)
	}
	if !o.Decided || o.Winner != "e" {
		t.Errorf("winner %q (%s); want e", o.Winner, o.NoDecision)
	}
}

// tennesseeRatings are the ratings of the Tennessee example as published
// in Rob Lanphier's ABIF file "tennessee-example-scores.abif"
// (gist.github.com/robla/b967903a166f4d11e8ee02c0f911f1ca, linked from
// electowiki's "Tennessee example"): 400 minus the crow-flying mileage to
// each city, for the same four groups of voters.
func tennesseeRatings() []group {
	rate := func(m, n, c, k int) Ballot {
		return Ballot{Ratings: []Rating{{"memphis", m}, {"nashville", n}, {"chattanooga", c}, {"knoxville", k}}}
	}
	return []group{
		{42, rate(400, 200, 133, 45)},
		{26, rate(200, 400, 290, 240)},
		{15, rate(133, 290, 400, 296)},
		{17, rate(45, 240, 296, 400)},
	}
}

func TestTennesseeScore(t *testing.T) {
	// Score voting on the ratings above: Nashville wins, as in the score
	// voting section of electowiki's Tennessee example. Totals (by hand):
	// Memphis 42*400+26*200+15*133+17*45 = 24760; Nashville 27230;
	// Chattanooga 24158; Knoxville 19370.
	p := proposal(Score, Majority, 100, cities...)
	p.ScoreMin, p.ScoreMax = 0, 400
	o := Tally(p, ballots(tennesseeRatings()...), nil)
	want := []OptionCount{
		// Support: ballots rating the city above 200, the middle of 0..400.
		{"memphis", 24760, 42},
		{"nashville", 27230, 26 + 15 + 17},
		{"chattanooga", 24158, 26 + 15 + 17},
		{"knoxville", 19370, 26 + 15 + 17},
	}
	if diff := cmp.Diff(want, o.Options); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if !o.Decided || o.Winner != "nashville" {
		t.Errorf("winner %q (%s); want nashville", o.Winner, o.NoDecision)
	}
}

func TestTennesseeApproval(t *testing.T) {
	// Approval derived from the published ratings above (no approval
	// ballots are published with the example): each voter approves the
	// cities within 200 miles, i.e. rated 200 or more. Memphis voters
	// approve Memphis and Nashville; Nashville voters all four; Chattanooga
	// and Knoxville voters Nashville, Chattanooga and Knoxville. Nashville
	// is approved by all 100.
	approve := func(keys ...string) Ballot { return Ballot{Choices: keys} }
	groups := []group{
		{42, approve("memphis", "nashville")},
		{26, approve("memphis", "nashville", "chattanooga", "knoxville")},
		{15, approve("nashville", "chattanooga", "knoxville")},
		{17, approve("nashville", "chattanooga", "knoxville")},
	}
	p := proposal(Approval, Majority, 100, cities...)
	o := Tally(p, ballots(groups...), nil)
	want := []OptionCount{{"memphis", 68, 0}, {"nashville", 100, 0}, {"chattanooga", 58, 0}, {"knoxville", 58, 0}}
	if diff := cmp.Diff(want, o.Options); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if !o.Decided || o.Winner != "nashville" {
		t.Errorf("winner %q (%s); want nashville", o.Winner, o.NoDecision)
	}
}

func TestTennesseeSingleChoice(t *testing.T) {
	// Wikipedia, "Plurality voting" on the Tennessee example: Memphis
	// leads with 42, which is not a majority of the 100 ballots; with
	// coopfed's majority threshold there is no decision.
	var groups []group
	for _, g := range tennessee() {
		groups = append(groups, group{g.n, one(g.b.Choices[0])})
	}
	p := proposal(SingleChoice, Majority, 100, cities...)
	o := Tally(p, ballots(groups...), nil)
	if o.Decided || o.NoDecision != NoDecisionThreshold || len(o.Leaders) != 1 || o.Leaders[0] != "memphis" {
		t.Errorf("decided %v %q, leaders %v, no decision %q; want memphis leading, threshold not met",
			o.Decided, o.Winner, o.Leaders, o.NoDecision)
	}
}

func TestConsentExamples(t *testing.T) {
	// Consent as sociocracy uses it (Sociocracy For All, "Consent
	// decision making"): a proposal passes unless someone objects; here an
	// objection is a "block". Disagreeing without blocking is standing
	// aside.
	for _, tc := range []struct {
		name           string
		th             Threshold
		a, d, bl, abst int
		decided        bool
		why            string
	}{
		{"no block is consensus", Consensus, 3, 2, 0, 1, true, ""},
		{"one block stops consensus", Consensus, 9, 0, 1, 0, false, NoDecisionThreshold},
		{"only abstentions decide nothing", Consensus, 0, 0, 0, 4, false, NoDecisionNoBallots},
		{"no agree is no consensus", Consensus, 0, 3, 0, 0, false, NoDecisionThreshold},
		{"majority counts a block against", Majority, 3, 1, 2, 0, false, NoDecisionThreshold},
		{"majority of agree", Majority, 4, 1, 2, 5, true, ""},
		{"two-thirds exactly", TwoThirds, 4, 1, 1, 0, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.a + tc.d + tc.bl + tc.abst
			p := proposal(Consent, tc.th, n)
			o := Tally(p, ballots(
				group{tc.a, Ballot{Stance: Agree}},
				group{tc.d, Ballot{Stance: Disagree}},
				group{tc.bl, Ballot{Stance: Block}},
				group{tc.abst, abstain()},
			), nil)
			if o.Decided != tc.decided || o.NoDecision != tc.why {
				t.Errorf("decided %v (%q); want %v (%q)", o.Decided, o.NoDecision, tc.decided, tc.why)
			}
			if want := (ConsentCount{tc.a, tc.d, tc.bl}); o.Consent != want || o.Abstentions != tc.abst {
				t.Errorf("count %+v abstentions %d; want %+v %d", o.Consent, o.Abstentions, want, tc.abst)
			}
			if tc.decided && o.Winner != "agree" {
				t.Errorf("winner %q; want agree", o.Winner)
			}
		})
	}
}
