package governance_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/coopfed/coopfed/governance"
)

func Example() {
	opens := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	draft := governance.Proposal{
		ID:          "https://coop.example/proposals/7",
		Title:       "Where do we meet?",
		Proposer:    "ana",
		Options:     []governance.Option{{Key: "lyon", Label: "Lyon"}, {Key: "porto", Label: "Porto"}},
		Method:      governance.SingleChoice,
		Threshold:   governance.Majority,
		Quorum:      governance.Ratio{Num: 1, Den: 2},
		Eligibility: governance.CoopMembers,
		ClosesAt:    opens.Add(72 * time.Hour),
	}
	p, err := draft.Open([]string{"ana", "ben", "cleo", "dev"}, opens)
	if err != nil {
		panic(err)
	}
	var ballots []governance.Ballot
	var refusals []governance.Refusal
	vote := func(voter string, at time.Duration, args ...string) {
		b, err := governance.ParseBallot(p, voter, args)
		if err == nil {
			b, err = p.Cast(b, opens.Add(at))
		}
		if err != nil {
			fmt.Println("refused:", err)
			refusals = append(refusals, governance.Refusal{Voter: voter, At: opens.Add(at), Reason: err})
			return
		}
		ballots = append(ballots, b)
	}
	vote("ana", time.Hour, "porto")
	vote("ben", 2*time.Hour, "lyon")
	vote("cleo", 3*time.Hour, "porto")
	vote("dev", 4*time.Hour, "abstain")
	vote("eve", 5*time.Hour, "lyon")
	vote("ben", 80*time.Hour, "porto")

	p, _ = p.Close(opens.Add(72 * time.Hour))
	o := governance.Tally(p, ballots, refusals)
	fmt.Println("counts:", o.Options)
	fmt.Println("cast:", o.Cast, "abstentions:", o.Abstentions, "refused:", o.Refused)
	fmt.Printf("quorum: %d of %d needed\n", o.Quorum.Have, o.Quorum.Need)
	fmt.Println("decided:", o.Decided, o.Winner)
	// Output:
	// refused: ballot of "eve": voter not eligible
	// refused: ballot of "ben": proposal closed: accepted at 2026-11-28T20:00:00Z, deadline 2026-11-28T12:00:00Z
	// counts: [{lyon 1 0} {porto 2 0}]
	// cast: 4 abstentions: 1 refused: map[closed:1 not-eligible:1]
	// quorum: 4 of 2 needed
	// decided: true porto
}

func ExampleTally_instantRunoff() {
	p := governance.Proposal{
		ID: "p", Title: "Capital", Method: governance.InstantRunoff, Threshold: governance.Majority,
		Eligibility: governance.CoopMembers, ClosesAt: time.Unix(100, 0),
		Options: []governance.Option{{Key: "a"}, {Key: "b"}, {Key: "c"}},
	}
	p, _ = p.Open([]string{"v1", "v2", "v3", "v4", "v5"}, time.Unix(0, 0))
	rank := func(v string, keys ...string) governance.Ballot {
		return governance.Ballot{Voter: v, At: time.Unix(1, 0), Choices: keys}
	}
	o := governance.Tally(p, []governance.Ballot{
		rank("v1", "a"), rank("v2", "a"), rank("v3", "b", "c"), rank("v4", "c", "b"), rank("v5", "b"),
	}, nil)
	for i, r := range o.Rounds {
		fmt.Println("round", i+1, r.Votes, "eliminated", r.Eliminated, "transfers", r.Transfers)
	}
	fmt.Println(o.Winner)
	// Output:
	// round 1 [{a 2 0} {b 2 0} {c 1 0}] eliminated [c] transfers [{c b 1}]
	// round 2 [{a 2 0} {b 3 0}] eliminated [] transfers []
	// b
}

func ExampleProposal_Close() {
	p := governance.Proposal{
		ID: "p", Title: "t", Method: governance.Consent, Threshold: governance.Consensus,
		Eligibility: governance.CoopMembers, ClosesAt: time.Unix(100, 0),
	}
	p, _ = p.Open([]string{"ana"}, time.Unix(0, 0))
	_, err := p.Close(time.Unix(50, 0))
	fmt.Println(err)
	p, _ = p.Close(time.Unix(100, 0))
	_, err = p.Extend(time.Unix(200, 0), time.Unix(100, 0))
	fmt.Println(errors.Is(err, governance.ErrClosed), err)
	// Output:
	// proposal closes later
	// true proposal closed (closed)
}
