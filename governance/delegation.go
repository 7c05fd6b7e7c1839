package governance

import (
	"errors"
	"fmt"
	"slices"
)

// Delegation is a voter's standing instruction that another voter's
// ballot be theirs whenever they cast none (DESIGN.md, "Delegation"). The
// caller passes only the delegations in force for the proposal's scope (a
// project or the co-op) at its close: revoking one is not passing it.
type Delegation struct {
	From, To string
}

// Proxy says whose ballot a voter's resolved ballot is: Chain runs from
// the voter through the delegates to the one who voted.
type Proxy struct {
	Voter string
	Chain []string
}

// ErrInvalidDelegation is a delegation set that Resolve cannot use.
var ErrInvalidDelegation = errors.New("invalid delegation")

// Resolve turns direct ballots and delegations into the ballots that
// stand, ready for Tally. A direct ballot always stands, and overrides the
// voter's own delegation. An eligible voter with no direct ballot gets a
// copy of the ballot of the first voter along their chain of delegations
// who cast one directly (Voter set to theirs, Final cleared); a chain that
// comes back on itself, or ends with no ballot, gives none. Several
// direct ballots of one voter resolve as in Tally: the latest stands.
// Proxies lists the delegated ballots, sorted by voter. A voter with two
// delegations is an error.
func Resolve(p Proposal, direct []Ballot, delegations []Delegation) ([]Ballot, []Proxy, error) {
	to := make(map[string]string, len(delegations))
	for _, d := range delegations {
		if prev, ok := to[d.From]; ok && prev != d.To {
			return nil, nil, fmt.Errorf("%w: %q delegates to %q and %q", ErrInvalidDelegation, d.From, prev, d.To)
		}
		to[d.From] = d.To
	}
	own := make(map[string]int, len(direct))
	for i := range direct {
		v := direct[i].Voter
		if j, ok := own[v]; !ok || compareBallots(&direct[j], &direct[i]) < 0 {
			own[v] = i
		}
	}
	out := slices.Clone(direct)
	var proxies []Proxy
	// done memoizes a voter's chain to a direct ballot; nil: none.
	done := make(map[string][]string)
	for _, v := range sortedSet(p.Eligible) {
		if _, ok := own[v]; ok {
			continue
		}
		chain := resolveChain(v, to, own, done)
		if chain == nil {
			continue
		}
		b := direct[own[chain[len(chain)-1]]]
		b.Voter, b.Final = v, false
		out = append(out, b)
		proxies = append(proxies, Proxy{Voter: v, Chain: chain})
	}
	return out, proxies, nil
}

// resolveChain follows v's delegations to a voter with a direct ballot.
func resolveChain(v string, to map[string]string, own map[string]int, done map[string][]string) []string {
	path := []string{v}
	onPath := map[string]bool{v: true}
	var tail []string
	found := false
	for cur := v; ; {
		next, ok := to[cur]
		if !ok || onPath[next] {
			break // no delegation, or a cycle
		}
		if _, ok := own[next]; ok {
			path, found = append(path, next), true
			break
		}
		if known, ok := done[next]; ok {
			if known != nil {
				tail, found = known, true
			}
			break
		}
		path = append(path, next)
		onPath[next] = true
		cur = next
	}
	// Remember the answer for every voter on the path without a ballot.
	last := len(path)
	if found && tail == nil {
		last-- // the final voter voted
	}
	for i := range last {
		if found {
			done[path[i]] = append(slices.Clone(path[i:]), tail...)
		} else {
			done[path[i]] = nil
		}
	}
	return done[v]
}
