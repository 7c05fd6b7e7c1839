package governance

// runoff counts the ranked ballots by instant-runoff. Each round counts
// every continuing ballot for the highest-ranked continuing option on it.
// An option that holds the threshold share of all non-abstaining ballots
// (exhausted ones included) wins. Otherwise the options with the fewest
// votes are eliminated together (never by who voted first), and their
// ballots move to their next continuing option or are exhausted. If every
// continuing option is tied, or one is left that does not meet the
// threshold, there is no decision.
func (c *counter) runoff(o *Outcome, voting int64) {
	p := c.p
	k := len(p.Options)
	n := len(c.starts) - 1
	if n == 0 {
		return
	}
	alive := make([]bool, k)
	for i := range alive {
		alive[i] = true
	}
	isAlive := func(i int) bool { return alive[i] }
	counts := make([]int64, k)
	copy(counts, c.counts)
	cur := make([]int32, n) // cur[b]: position in ballot b of its current option
	for b := range cur {
		cur[b] = c.starts[b]
	}
	var exhausted int
	transfers := make([]int64, k*(k+1)) // from*(k+1) + to; to == k: exhausted
	for {
		r := Round{Exhausted: exhausted}
		live := 0
		for i := range k {
			if alive[i] {
				r.Votes = append(r.Votes, OptionCount{Option: p.Options[i].Key, Count: counts[i]})
				live++
			}
		}
		lead, top := leaders(p, counts, isAlive)
		o.Leaders = lead
		if len(lead) == 1 && meets(p.Threshold, top, voting) {
			o.ThresholdMet = true
			o.Rounds = append(o.Rounds, r)
			return
		}
		low := top
		for i := range k {
			if alive[i] && counts[i] < low {
				low = counts[i]
			}
		}
		var out []int
		for i := range k {
			if alive[i] && counts[i] == low {
				out = append(out, i)
			}
		}
		if live == 1 || len(out) == live {
			o.Rounds = append(o.Rounds, r)
			return
		}
		for _, i := range out {
			alive[i] = false
			counts[i] = 0
			r.Eliminated = append(r.Eliminated, p.Options[i].Key)
		}
		clear(transfers)
		for b := range n {
			at := cur[b]
			if at == c.starts[b+1] {
				continue // exhausted
			}
			from := int(c.prefs[at])
			if alive[from] {
				continue
			}
			end := c.starts[b+1]
			for at++; at < end && !alive[c.prefs[at]]; at++ {
			}
			cur[b] = at
			to := k
			if at < end {
				to = int(c.prefs[at])
				counts[to]++
			} else {
				exhausted++
			}
			transfers[from*(k+1)+to]++
		}
		for _, from := range out {
			for to := 0; to <= k; to++ {
				if v := transfers[from*(k+1)+to]; v > 0 {
					t := Transfer{From: p.Options[from].Key, Ballots: int(v)}
					if to < k {
						t.To = p.Options[to].Key
					}
					r.Transfers = append(r.Transfers, t)
				}
			}
		}
		o.Rounds = append(o.Rounds, r)
	}
}
