package governance

import (
	"fmt"
	"time"
)

var (
	t0       = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	deadline = t0.Add(72 * time.Hour)
)

// group is a number of voters who vote alike, as worked examples give them.
type group struct {
	n int
	b Ballot // Voter and At are filled in
}

// proposal returns an open proposal over keys for voters v0000.. v(n-1).
func proposal(m Method, th Threshold, n int, keys ...string) Proposal {
	p := Proposal{
		ID: "p1", Title: "t", Method: m, Threshold: th, Eligibility: CoopMembers,
		ClosesAt: deadline, ScoreMin: 0, ScoreMax: 10,
	}
	for _, k := range keys {
		p.Options = append(p.Options, Option{Key: k, Label: k})
	}
	p, err := p.Open(voters(n), t0)
	if err != nil {
		panic(err)
	}
	return p
}

func voters(n int) []string {
	v := make([]string, n)
	for i := range v {
		v[i] = voter(i)
	}
	return v
}

func voter(i int) string { return fmt.Sprintf("https://coop.example/members/v%07d", i) }

// ballots expands groups into one ballot per voter, in order.
func ballots(groups ...group) []Ballot {
	var out []Ballot
	for _, g := range groups {
		for range g.n {
			b := g.b
			b.Voter = voter(len(out))
			b.At = t0.Add(time.Duration(len(out)) * time.Second)
			out = append(out, b)
		}
	}
	return out
}

func ranked(keys ...string) Ballot { return Ballot{Choices: keys} }
func one(key string) Ballot        { return Ballot{Choices: []string{key}} }
func abstain() Ballot              { return Ballot{Abstain: true} }
