package governance

import (
	"encoding/binary"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// inCanonicalOrder reports whether ballots are already in canonical
// order: by voter, then by At, then by EncodeBallot.
func inCanonicalOrder(ballots []Ballot) bool {
	for i := 1; i < len(ballots); i++ {
		a, b := &ballots[i-1], &ballots[i]
		switch c := strings.Compare(a.Voter, b.Voter); {
		case c > 0:
			return false
		case c == 0 && compareBallots(a, b) > 0:
			return false
		}
	}
	return true
}

// canonicalOrder returns the indexes of ballots in canonical order. It
// sorts by an 8-byte key taken just after the voters' common prefix, by
// radix, so that no comparison touches the ballots; only ballots with
// equal keys (one voter's several ballots, or long names alike in those
// eight bytes) are then compared in full. replaced[k] says whether the
// k-th ballot in that order has the same voter as the next one (which
// replaces it): it is known from the keys, without reading the voters
// again.
func canonicalOrder(ballots []Ballot, hint string) (order []int32, replaced []bool) {
	n := len(ballots)
	type keyed struct {
		key uint64
		i   int32
	}
	keys := make([]keyed, n)
	// The common prefix: guessed from hint (the eligible voters' common
	// prefix), checked on every voter while the keys are taken, and
	// computed in full only if the guess is wrong.
	lcp := ballots[0].Voter[:commonPrefix(ballots[0].Voter, hint)]
	for {
		// Taking the keys reads every voter, far apart in memory: on
		// every core.
		var wrong atomic.Bool
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := range workers {
			wg.Go(func() {
				for i := w * n / workers; i < (w+1)*n/workers; i++ {
					v := ballots[i].Voter
					if len(v) < len(lcp) || v[:len(lcp)] != lcp {
						wrong.Store(true)
						return
					}
					var k [8]byte
					copy(k[:], v[len(lcp):])
					keys[i] = keyed{binary.BigEndian.Uint64(k[:]), int32(i)}
				}
			})
		}
		wg.Wait()
		if !wrong.Load() {
			break
		}
		for i := range ballots {
			lcp = lcp[:commonPrefix(lcp, ballots[i].Voter)]
		}
	}

	// Least significant byte first, skipping the bytes all keys share.
	var counts [8][256]int
	for i := range keys {
		k := keys[i].key
		for d := range 8 {
			counts[d][byte(k>>(8*d))]++
		}
	}
	tmp := make([]keyed, n)
	for d := range 8 {
		c := &counts[d]
		if c[byte(keys[0].key>>(8*d))] == n {
			continue
		}
		sum := 0
		for b := range c {
			c[b], sum = sum, sum+c[b]
		}
		shift := 8 * d
		for _, x := range keys {
			b := byte(x.key >> shift)
			tmp[c[b]] = x
			c[b]++
		}
		keys, tmp = tmp, keys
	}

	order = make([]int32, n)
	replaced = make([]bool, n)
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && keys[hi].key == keys[lo].key {
			hi++
		}
		if hi-lo > 1 {
			slices.SortFunc(keys[lo:hi], func(a, b keyed) int {
				return compareBallots(&ballots[a.i], &ballots[b.i])
			})
		}
		for k := lo; k < hi; k++ {
			order[k] = keys[k].i
			if k+1 < hi {
				replaced[k] = ballots[keys[k].i].Voter == ballots[keys[k+1].i].Voter
			}
		}
		lo = hi
	}
	return order, replaced
}
