package governance

import (
	"slices"
	"strings"
)

// OptionCount is one option's standing in an Outcome. Count is, by method:
// SingleChoice votes; Approval approvals; InstantRunoff and Schulze first
// preferences; Score the total score. Support is used by Score only: the
// ballots rating the option above the middle of the range.
type OptionCount struct {
	Option  string
	Count   int64
	Support int64
}

// QuorumResult says whether enough of the eligible voters cast a ballot.
type QuorumResult struct {
	Met        bool
	Have, Need int
}

// ConsentCount is a consent proposal's count (abstentions are in
// Outcome.Abstentions).
type ConsentCount struct {
	Agree, Disagree, Block int
}

// Round is one round of an instant-runoff count.
type Round struct {
	Votes      []OptionCount // the continuing options, in the proposal's order
	Exhausted  int           // ballots with no continuing option left, so far
	Eliminated []string      // options eliminated at the end of this round
	Transfers  []Transfer    // where their ballots went
}

// Transfer is a number of ballots moved from an eliminated option to the
// next continuing option they rank, or to exhausted (To == "").
type Transfer struct {
	From, To string
	Ballots  int
}

// SchulzeResult is the working of a Schulze count. Options indexes the
// matrices: Pairwise[i][j] is the number of ballots ranking Options[i]
// above Options[j]; Strongest[i][j] the strength of the strongest path
// from Options[i] to Options[j] (winning votes).
type SchulzeResult struct {
	Options   []string
	Pairwise  [][]int64
	Strongest [][]int64
	// Ranking is best first; the options of one entry are tied.
	Ranking [][]string
}

// Why an Outcome has no decision.
const (
	NoDecisionWithdrawn = "withdrawn"
	NoDecisionNoBallots = "no-ballots" // no ballot other than abstentions
	NoDecisionQuorum    = "quorum"
	NoDecisionTie       = "tie"
	NoDecisionThreshold = "threshold"
	NoDecisionInvalid   = "invalid-proposal" // the proposal fails Validate: nothing is counted
)

// Outcome is the result of Tally: every count it was decided from, the
// decision or why there is none, and the hash of its exact inputs.
type Outcome struct {
	ProposalID string
	Method     Method
	Threshold  Threshold
	// Final is true when the proposal is closed: the outcome stands.
	// Otherwise it is a provisional count.
	Final       bool
	Eligible    int
	Cast        int // ballots counted, abstentions included
	Abstentions int
	// Replaced counts earlier ballots of a voter that a later one replaced.
	Replaced int
	// Refused counts refused votes by ReasonCode: the refusals passed in,
	// and ballots Tally itself refused (an ineligible voter, a ballot that
	// does not fit the method).
	Refused map[string]int
	Quorum  QuorumResult
	Options []OptionCount // in the proposal's order; none for Consent
	Consent ConsentCount
	Rounds  []Round        // InstantRunoff
	Schulze *SchulzeResult // Schulze
	// Leaders are the options with the best standing: several on a tie.
	// For Consent, "agree" when the threshold is met.
	Leaders      []string
	ThresholdMet bool
	// Decided is true when there is a winner: a quorum, a single leader,
	// the threshold met, and the proposal not withdrawn.
	Decided bool
	Winner  string
	// NoDecision says why there is no decision (NoDecision* constants);
	// then the status quo stands.
	NoDecision string
	InputHash  [32]byte
}

// meets reports whether c ballots out of total meet threshold t.
func meets(t Threshold, c, total int64) bool {
	if total <= 0 {
		return false
	}
	switch t {
	case Majority:
		return 2*c > total
	case TwoThirds:
		return 3*c >= 2*total
	}
	return false
}

// Tally counts ballots on p. It is deterministic: the order of ballots and
// refusals changes nothing, InputHash included. The ballots that stand are
// one per voter: of several ballots of one voter the latest (by At, then
// by encoding) stands and the others count as Replaced. A ballot from a
// voter outside p.Eligible, or one that does not fit the method, is
// counted as refused. See the package documentation for the definitions.
// Tally changes none of its arguments. It is fastest given ballots in
// canonical order (by voter, as a store reads them by its index): it then
// reads them once, in order, instead of sorting.
func Tally(p Proposal, ballots []Ballot, refusals []Refusal) Outcome {
	o := Outcome{
		ProposalID: p.ID,
		Method:     p.Method,
		Threshold:  p.Threshold,
		Final:      p.State == Closed,
		Refused:    make(map[string]int),
	}
	for _, r := range refusals {
		n := r.Count
		if n <= 0 {
			n = 1
		}
		o.Refused[ReasonCode(r.Reason)] += n
	}
	eligible := sortedSet(p.Eligible)
	o.Eligible = len(eligible)
	order := canonicalOrder(ballots)

	// The hash reads the same inputs as the count: on two cores it costs
	// no wall time.
	done := make(chan struct{})
	go func() {
		defer close(done)
		o.InputHash = inputHash(p, eligible, ballots, order, refusals)
	}()

	if p.Validate() != nil {
		<-done
		o.Refused[ReasonInvalidBallot] += len(ballots)
		o.NoDecision = NoDecisionInvalid
		return o
	}
	count := newCounter(p)
	e := 0
	for k, i := range order {
		b := &ballots[i]
		if k+1 < len(order) && ballots[order[k+1]].Voter == b.Voter {
			o.Replaced++
			continue
		}
		c := -1
		for e < len(eligible) {
			if c = strings.Compare(eligible[e], b.Voter); c >= 0 {
				break
			}
			e++
		}
		if c != 0 {
			o.Refused[ReasonNotEligible]++
			continue
		}
		if err := count.add(b); err != nil {
			o.Refused[ReasonCode(err)]++
		}
	}
	count.finish(&o)
	<-done
	return o
}

// decide fills the quorum and the decision once the method has set
// Leaders and ThresholdMet.
func decide(p Proposal, o *Outcome) {
	o.Quorum.Have = o.Cast
	if p.Quorum.Den > 0 {
		// Need = ceil(Num * Eligible / Den).
		need := (p.Quorum.Num*int64(o.Eligible) + p.Quorum.Den - 1) / p.Quorum.Den
		o.Quorum.Need = int(need)
	}
	o.Quorum.Met = o.Quorum.Have >= o.Quorum.Need
	switch {
	case p.State == Withdrawn:
		o.NoDecision = NoDecisionWithdrawn
	case o.Cast-o.Abstentions == 0:
		o.NoDecision = NoDecisionNoBallots
	case !o.Quorum.Met:
		o.NoDecision = NoDecisionQuorum
	case len(o.Leaders) != 1:
		o.NoDecision = NoDecisionTie
	case !o.ThresholdMet:
		o.NoDecision = NoDecisionThreshold
	default:
		o.Decided = true
		o.Winner = o.Leaders[0]
	}
}

// leaders returns the keys of the options with the highest count.
func leaders(p Proposal, counts []int64, alive func(int) bool) (keys []string, top int64) {
	first := true
	for i, c := range counts {
		if alive != nil && !alive(i) {
			continue
		}
		switch {
		case first || c > top:
			top, keys, first = c, []string{p.Options[i].Key}, false
		case c == top:
			keys = append(keys, p.Options[i].Key)
		}
	}
	return keys, top
}

// sortedSet returns s sorted without repeats, copying it only if needed.
func sortedSet(s []string) []string {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			s = slices.Clone(s)
			slices.Sort(s)
			return slices.Compact(s)
		}
	}
	return s
}
