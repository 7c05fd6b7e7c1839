package governance

import (
	"strconv"
	"strings"
)

// ParseBallot reads a ballot as the command line writes it (coopfed vote
// ID OPTION...): "abstain" alone for an abstention; otherwise, by method,
// one option key (single choice), option keys (approval: a set; a repeat
// counts once), option keys most preferred first (instant-runoff,
// Schulze), KEY=N pairs with N a decimal integer (score), or one of
// "agree", "disagree", "block" (consent). The ballot is checked as
// CheckBallot checks it; At is left for Cast to set.
func ParseBallot(p Proposal, voter string, args []string) (Ballot, error) {
	b := Ballot{Voter: voter}
	if len(args) == 1 && args[0] == "abstain" {
		b.Abstain = true
		return p.CheckBallot(b)
	}
	switch p.Method {
	case Consent:
		if len(args) != 1 {
			return b, refuse(b, ErrInvalidBallot, "want one of agree, disagree, block, abstain")
		}
		switch args[0] {
		case "agree":
			b.Stance = Agree
		case "disagree":
			b.Stance = Disagree
		case "block":
			b.Stance = Block
		default:
			return b, refuse(b, ErrInvalidBallot, "%q: want agree, disagree, block or abstain", args[0])
		}
	case Score:
		for _, a := range args {
			key, n, ok := strings.Cut(a, "=")
			if !ok {
				return b, refuse(b, ErrInvalidBallot, "%q: want OPTION=N", a)
			}
			v, err := strconv.Atoi(n)
			if err != nil || v < -MaxScore || v > MaxScore {
				return b, refuse(b, ErrInvalidBallot, "%q: N is not an integer in range", a)
			}
			b.Ratings = append(b.Ratings, Rating{Option: key, Value: v})
		}
	default:
		b.Choices = append([]string(nil), args...)
	}
	return p.CheckBallot(b)
}

// FormatBallot writes a ballot as ParseBallot reads it.
func FormatBallot(b Ballot) []string {
	switch {
	case b.Abstain:
		return []string{"abstain"}
	case b.Stance != NoStance:
		return []string{b.Stance.String()}
	case len(b.Ratings) > 0:
		out := make([]string, len(b.Ratings))
		for i, r := range b.Ratings {
			out[i] = r.Option + "=" + strconv.Itoa(r.Value)
		}
		return out
	}
	return append([]string(nil), b.Choices...)
}
