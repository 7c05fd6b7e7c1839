package governance

import (
	"crypto/sha256"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
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
	valid := p.Validate() == nil
	// The first pass takes the eligible voters and the ballots to be in
	// canonical order (as Open and a store give them) and checks it on
	// the way; if they are not, it stops, and they are sorted.
	t := pass{p: &p, opts: newOptionTable(p), eligible: p.Eligible, ballots: ballots, count: valid}
	var voters, votes [32]byte
	var parts []*part
	for {
		voters, votes, parts = t.run()
		if t.eligibleUnsorted.Load() {
			t.eligible = sortedSet(p.Eligible)
			t.eligibleUnsorted.Store(false)
			continue
		}
		if t.unsorted.Load() {
			hint := ""
			if el := t.eligible; len(el) > 0 {
				hint = el[0][:commonPrefix(el[0], el[len(el)-1])]
			}
			t.order, t.replaced = canonicalOrder(ballots, hint)
			t.unsorted.Store(false)
			continue
		}
		break
	}
	o.Eligible = len(t.eligible)
	o.InputHash = inputHash(p, refusals, voters, votes)
	if !valid {
		o.Refused[ReasonInvalidBallot] += len(ballots)
		o.NoDecision = NoDecisionInvalid
		return o
	}
	count := parts[0].c
	for _, pt := range parts {
		if pt.c != count {
			count.merge(pt.c)
		}
		o.Replaced += pt.replaced
		for code, n := range pt.refused {
			if n > 0 {
				o.Refused[refusedCodes[code]] += n
			}
		}
	}
	count.finish(&o)
	return o
}

// pass is one reading of the ballots in canonical order, cut in chunks of
// chunkSize that are counted, encoded and hashed on every core; the
// eligible voters' chunks are encoded and hashed with them.
type pass struct {
	p        *Proposal
	opts     *optionTable
	eligible []string
	ballots  []Ballot
	order    []int32 // nil: the ballots are taken to be in canonical order
	replaced []bool  // with order: see canonicalOrder
	count    bool
	// Set when the eligible voters are not sorted without repeats, or
	// when order is nil and the ballots are not in canonical order: the
	// pass stops, and its results are not used.
	eligibleUnsorted, unsorted atomic.Bool
}

// part is what one worker counted.
type part struct {
	c        *counter
	replaced int
	refused  [len(refusedCodes)]int
	opt      []int    // see encoder.indexed
	_        [64]byte // see counter
}

// refusedCodes are the reasons Tally itself refuses a ballot for.
var refusedCodes = [...]string{ReasonNotEligible, ReasonInvalidBallot, ReasonUnknownOption}

func (t *pass) at(k int) *Ballot {
	if t.order == nil {
		return &t.ballots[k]
	}
	return &t.ballots[t.order[k]]
}

func (t *pass) run() (voters, votes [32]byte, parts []*part) {
	nb, ne := chunks(len(t.ballots)), chunks(len(t.eligible))
	sums := make([][32]byte, nb+ne)
	workers := max(1, min(runtime.GOMAXPROCS(0), nb+ne))
	parts = make([]*part, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		pt := &part{c: newCounter(*t.p)}
		parts[w] = pt
		wg.Go(func() {
			var buf []byte
			for !t.unsorted.Load() && !t.eligibleUnsorted.Load() {
				j := int(next.Add(1)) - 1
				switch {
				case j < nb:
					buf = t.ballotChunk(j, pt, buf)
				case j < nb+ne:
					buf = t.eligibleChunk(j-nb, buf)
				default:
					return
				}
				sums[j] = sha256.Sum256(buf)
			}
		})
	}
	wg.Wait()
	return listDigest(len(t.eligible), sums[nb:]), listDigest(len(t.ballots), sums[:nb]), parts
}

// eligibleChunk encodes chunk j of the eligible voters: each voter as
// the length of the prefix it shares with the voter before it (0 for the
// first of all), the length of the rest, and the rest. It checks on the
// way that each voter sorts after the one before.
func (t *pass) eligibleChunk(j int, buf []byte) []byte {
	w := encoder{buf: buf[:0]}
	el := t.eligible
	lo, hi := j*chunkSize, min((j+1)*chunkSize, len(el))
	for i := lo; i < hi; i++ {
		v := el[i]
		n := 0
		if i > 0 {
			prev := el[i-1]
			n = commonPrefix(prev, v)
			if n == len(v) || n < len(prev) && prev[n] > v[n] {
				t.eligibleUnsorted.Store(true)
				return w.buf
			}
		}
		w.uint(uint64(n))
		w.str(v[n:])
	}
	return w.buf
}

// ballotChunk encodes chunk j of the ballots in canonical order and,
// when the proposal is valid, counts the ballots that stand.
func (t *pass) ballotChunk(j int, pt *part, buf []byte) []byte {
	w := encoder{buf: buf[:0]}
	n := len(t.ballots)
	lo, hi := j*chunkSize, min((j+1)*chunkSize, n)
	el := t.eligible
	e, _ := slices.BinarySearch(el, t.at(lo).Voter)
	known := -1 // the eligible index of ballot k, when found at k-1
	for k := lo; k < hi; k++ {
		b := t.at(k)
		idx := -1
		if known >= 0 {
			idx, known = known, -1
		} else {
			for e < len(el) {
				if el[e] == b.Voter {
					idx = e
					break
				}
				if el[e] > b.Voter {
					break
				}
				e++
			}
		}
		// Is the next ballot the same voter's (a later one, which
		// replaces this one)? When the order is not known, this also
		// checks that the next ballot does not sort before this one:
		// the next eligible voter's needs no comparison of their names
		// (the eligible voters' order is checked in this same pass).
		replaced := false
		if k+1 < n {
			nb := t.at(k + 1)
			switch {
			case t.order != nil && t.replaced[k]:
				replaced = true
			case idx >= 0 && idx+1 < len(el) && el[idx+1] == nb.Voter:
				known = idx + 1
			case t.order != nil:
			default:
				a, c := b.Voter, nb.Voter
				m := commonPrefix(a, c)
				switch {
				case m == len(a) && m == len(c):
					replaced = true
					if compareBallots(b, nb) > 0 {
						t.unsorted.Store(true)
						return w.buf
					}
				case m == len(c) || m < len(a) && a[m] > c[m]:
					t.unsorted.Store(true)
					return w.buf
				}
			}
		}
		if idx >= 0 {
			e = idx
			if !replaced {
				e++ // the next ballot's voter sorts after
			}
		}
		opt := w.indexed(t.opts, b, idx, pt.opt[:0])
		pt.opt = opt
		if !t.count {
			continue
		}
		switch {
		case replaced:
			pt.replaced++
		case idx < 0:
			pt.refused[0]++
		default:
			switch pt.c.add(b, opt) {
			case nil:
			case ErrUnknownOption:
				pt.refused[2]++
			default:
				pt.refused[1]++
			}
		}
	}
	return w.buf
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
