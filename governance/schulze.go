package governance

import "slices"

// schulze finishes a Schulze count from the pairwise matrix: strongest
// paths by winning votes (Floyd–Warshall, as in Schulze's own
// description), the ranking by how many options each beats, and the
// winner if exactly one option is not beaten by any other.
func (c *counter) schulze(o *Outcome) {
	p := c.p
	k := len(p.Options)
	d := c.d
	s := square(k)
	for i := range k {
		for j := range k {
			if i != j && d[i][j] > d[j][i] {
				s[i][j] = d[i][j]
			}
		}
	}
	for i := range k {
		for j := range k {
			if i == j {
				continue
			}
			for l := range k {
				if l != i && l != j {
					s[j][l] = max(s[j][l], min(s[j][i], s[i][l]))
				}
			}
		}
	}
	wins := make([]int, k)
	var potential []string
	for i := range k {
		beaten := false
		for j := range k {
			if s[i][j] > s[j][i] {
				wins[i]++
			}
			if s[j][i] > s[i][j] {
				beaten = true
			}
		}
		if !beaten {
			potential = append(potential, p.Options[i].Key)
		}
	}
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return wins[b] - wins[a] })
	var ranking [][]string
	for n, i := range idx {
		if n > 0 && wins[i] == wins[idx[n-1]] {
			ranking[len(ranking)-1] = append(ranking[len(ranking)-1], p.Options[i].Key)
		} else {
			ranking = append(ranking, []string{p.Options[i].Key})
		}
	}
	keys := make([]string, k)
	for i := range keys {
		keys[i] = p.Options[i].Key
	}
	o.Schulze = &SchulzeResult{Options: keys, Pairwise: d, Strongest: s, Ranking: ranking}
	o.Leaders = potential
	// The Schulze winner beats every other option by a beatpath: the
	// majority threshold is met by the method itself.
	o.ThresholdMet = len(potential) == 1
}
