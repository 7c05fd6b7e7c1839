package governance

// counter accumulates the standing ballots of one proposal. add checks a
// ballot as CheckBallot does, without allocating, and returns a bare named
// error for one that does not fit; opt holds the index of each of its
// choices, then of each of its ratings' options (-1: not an option).
type counter struct {
	p       Proposal
	cast    int
	abstain int
	counts  []int64 // single, approval, irv and schulze first preferences, score totals
	support []int64 // score
	consent ConsentCount
	// ranked ballots, flattened: ballot b ranks prefs[starts[b]:starts[b+1]]
	prefs  []uint8
	starts []int32
	d      [][]int64 // schulze pairwise
	// Counters of several workers are written at the same time: keep
	// them off each other's cache lines.
	_ [64]byte
}

func newCounter(p Proposal) *counter {
	c := &counter{p: p, counts: padded(len(p.Options))}
	switch p.Method {
	case Score:
		c.support = padded(len(p.Options))
	case InstantRunoff:
		c.starts = []int32{0}
	case Schulze:
		c.d = square(len(p.Options))
	}
	return c
}

// padded returns k zeros with a cache line of room on either side.
func padded(k int) []int64 { return make([]int64, k+16)[8 : 8+k : 8+k] }

func square(k int) [][]int64 {
	m := make([][]int64, k)
	for i := range m {
		m[i] = padded(k)
	}
	return m
}

func (c *counter) add(b *Ballot, opt []int) error {
	p := &c.p
	if b.Abstain {
		if len(b.Choices) != 0 || len(b.Ratings) != 0 || b.Stance != NoStance {
			return ErrInvalidBallot
		}
		c.cast++
		c.abstain++
		return nil
	}
	if p.Method != Score && len(b.Ratings) != 0 || p.Method != Consent && b.Stance != NoStance {
		return ErrInvalidBallot
	}
	switch p.Method {
	case SingleChoice:
		if len(b.Choices) != 1 {
			return ErrInvalidBallot
		}
		i := opt[0]
		if i < 0 {
			return ErrUnknownOption
		}
		c.counts[i]++
	case Approval:
		if len(b.Choices) == 0 {
			return ErrInvalidBallot
		}
		var set uint64
		for _, i := range opt {
			if i < 0 {
				return ErrUnknownOption
			}
			set |= 1 << i
		}
		for i := range c.counts {
			c.counts[i] += int64(set >> i & 1)
		}
	case InstantRunoff, Schulze:
		if len(b.Choices) == 0 {
			return ErrInvalidBallot
		}
		var set uint64
		var rank [MaxOptions]uint8
		for n, i := range opt {
			if i < 0 {
				return ErrUnknownOption
			}
			if set&(1<<i) != 0 {
				return ErrInvalidBallot
			}
			set |= 1 << i
			rank[n] = uint8(i)
		}
		r := rank[:len(b.Choices)]
		c.counts[r[0]]++
		if p.Method == InstantRunoff {
			c.prefs = append(c.prefs, r...)
			c.starts = append(c.starts, int32(len(c.prefs)))
			break
		}
		// Each ranked option is preferred to every option ranked below
		// it and to every option left unranked.
		var above uint64
		for _, i := range r {
			above |= 1 << i
			row := c.d[i]
			for j := range row {
				row[j] += int64(^above >> j & 1)
			}
		}
	case Score:
		if len(b.Choices) != 0 || len(b.Ratings) == 0 {
			return ErrInvalidBallot
		}
		var set uint64
		for n, r := range b.Ratings {
			i := opt[n]
			if i < 0 {
				return ErrUnknownOption
			}
			if set&(1<<i) != 0 || r.Value < p.ScoreMin || r.Value > p.ScoreMax {
				return ErrInvalidBallot
			}
			set |= 1 << i
		}
		for n, r := range b.Ratings {
			i := opt[n]
			c.counts[i] += int64(r.Value)
			if 2*r.Value > p.ScoreMin+p.ScoreMax {
				c.support[i]++
			}
		}
		for i := range c.counts {
			if set&(1<<i) == 0 {
				c.counts[i] += int64(p.ScoreMin)
				if 2*p.ScoreMin > p.ScoreMin+p.ScoreMax {
					c.support[i]++
				}
			}
		}
	case Consent:
		if len(b.Choices) != 0 {
			return ErrInvalidBallot
		}
		switch b.Stance {
		case Agree:
			c.consent.Agree++
		case Disagree:
			c.consent.Disagree++
		case Block:
			c.consent.Block++
		default:
			return ErrInvalidBallot
		}
	default:
		return ErrInvalidBallot
	}
	c.cast++
	return nil
}

func (c *counter) finish(o *Outcome) {
	p := c.p
	o.Cast, o.Abstentions = c.cast, c.abstain
	voting := int64(c.cast - c.abstain)
	if p.Method != Consent {
		o.Options = make([]OptionCount, len(p.Options))
		for i, opt := range p.Options {
			o.Options[i] = OptionCount{Option: opt.Key, Count: c.counts[i]}
			if c.support != nil {
				o.Options[i].Support = c.support[i]
			}
		}
	}
	switch p.Method {
	case SingleChoice, Approval:
		var top int64
		o.Leaders, top = leaders(p, c.counts, nil)
		o.ThresholdMet = meets(p.Threshold, top, voting)
	case Score:
		o.Leaders, _ = leaders(p, c.counts, nil)
		if len(o.Leaders) == 1 {
			o.ThresholdMet = meets(p.Threshold, c.support[p.optionIndex(o.Leaders[0])], voting)
		}
	case Consent:
		o.Consent = c.consent
		if p.Threshold == Consensus {
			o.ThresholdMet = c.consent.Block == 0 && c.consent.Agree > 0
		} else {
			o.ThresholdMet = meets(p.Threshold, int64(c.consent.Agree), voting)
		}
		// The question is whether to adopt the proposal: "agree" is the
		// only candidate, and the threshold decides.
		o.Leaders = []string{Agree.String()}
	case InstantRunoff:
		c.runoff(o, voting)
	case Schulze:
		c.schulze(o)
	}
	if voting == 0 {
		o.Leaders = nil
	}
	decide(p, o)
}

// merge adds the ballots another counter of the same proposal counted.
// The order of ranked ballots does not matter to instant-runoff: they are
// only ever counted.
func (c *counter) merge(o *counter) {
	c.cast += o.cast
	c.abstain += o.abstain
	for i := range c.counts {
		c.counts[i] += o.counts[i]
	}
	for i := range c.support {
		c.support[i] += o.support[i]
	}
	c.consent.Agree += o.consent.Agree
	c.consent.Disagree += o.consent.Disagree
	c.consent.Block += o.consent.Block
	if len(o.starts) > 1 {
		base := int32(len(c.prefs))
		c.prefs = append(c.prefs, o.prefs...)
		for _, s := range o.starts[1:] {
			c.starts = append(c.starts, base+s)
		}
	}
	for i := range c.d {
		for j := range c.d[i] {
			c.d[i][j] += o.d[i][j]
		}
	}
}
