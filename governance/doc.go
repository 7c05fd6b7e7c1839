// Package governance holds coopfed's rules for deciding: proposals, their
// life (draft, open, closed, withdrawn), ballots for each method, refusals
// and the tally. It is pure: it imports only the standard library, does no
// I/O, never reads the clock (every rule takes the time as an argument)
// and never logs (TestImports). The store keeps proposals and ballots, the
// coop package decides with these rules and writes every step to the
// decision log; DESIGN.md, "Governance", and issue 7 say what for.
//
// # Proposals
//
// A Proposal is a value; its rules (Open, SetOptions, Cast, Recast,
// Extend, Withdraw, Close) return a new value and a named error. A draft
// may change; Open fixes the options and the eligible voters (sorted,
// without repeats) and sets OpensAt. A closed or withdrawn proposal
// refuses every change with ErrClosed. Extend only moves the deadline
// later, and only before it passes. Close needs the deadline to have
// passed (ErrNotDue). Withdraw is refused once the deadline has passed:
// the proposal must then be closed with the ballots it has.
//
// # Ballots and refusals
//
// Cast accepts a ballot whose acceptance time t has OpensAt <= t <
// ClosesAt (a ballot accepted at the deadline itself is late:
// ErrClosed), from an eligible voter (ErrNotEligible), naming only the
// proposal's options (ErrUnknownOption) in the method's shape
// (ErrInvalidBallot):
//
//   - single choice: one option;
//   - approval (multiple choice): a non-empty set; a repeat counts once;
//   - instant-runoff and Schulze: a ranking, most preferred first, each
//     option at most once, possibly partial (unranked options are tied
//     below every ranked one);
//   - score: integers in [ScoreMin, ScoreMax], each option at most once; an
//     option left out is rated ScoreMin;
//   - consent: agree, disagree or block.
//
// Any ballot may instead be an abstention (Ballot.Abstain, "abstain" on the
// command line). A voter's later ballot replaces the earlier one (Recast),
// except a Final one (a Mastodon poll vote, which cannot be changed): on
// an approval proposal Final votes add up to their union; otherwise the
// later vote is refused with ErrAlreadyVoted. A refused vote is kept as a
// Refusal with its reason, and Tally counts it by ReasonCode; it is never
// dropped.
//
// # Definitions
//
// Let E be the number of eligible voters (fixed at Open), C the number of
// ballots that stand (one per voter, abstentions included, refusals not),
// A the abstentions, and V = C - A the voting ballots.
//
//   - Quorum: met when C >= ceil(Num*E/Den) for the quorum Num/Den (an
//     exact fraction; no floating point anywhere in the rules).
//     Abstentions count toward the quorum; refusals do not.
//   - Majority: more than half of V (2*x > V). Two-thirds: at least two
//     thirds of V (3*x >= 2*V). Abstentions count toward neither side.
//   - Consensus (consent only): no block, and at least one agree.
//   - A tie for the lead is "no decision": the status quo stands. Nothing
//     is ever decided by who voted first.
//
// What x is, and what "winner" means, per method:
//
//   - single choice: the option with the most votes, if it alone leads;
//     x is its votes.
//   - approval: the option with the most approvals, if it alone leads; x
//     is its approvals (the voters who approve it).
//   - score: the option with the highest total score (an integer sum,
//     not a mean: every ballot rates every option, so the order is the
//     same), if it alone leads; x is the number of ballots rating it above
//     the middle of the range (2*score > ScoreMin+ScoreMax).
//   - instant-runoff: rounds. Each continuing ballot counts for its
//     highest-ranked continuing option. An option whose count x meets the
//     threshold of V (all voting ballots, exhausted ones included) wins.
//     Otherwise every option with the fewest votes is eliminated at once
//     and its ballots transfer to their next continuing option or are
//     exhausted. When the continuing options are all tied, or one is left
//     without the threshold, there is no decision. Outcome.Rounds shows
//     every round, its eliminations and transfers.
//   - Schulze: the pairwise matrix d[X][Y] (ballots ranking X above Y),
//     strongest paths by winning votes, as in M. Schulze, "A new
//     monotonic, clone-independent, reversal symmetric, and
//     Condorcet-consistent single-winner election method" (Social Choice
//     and Welfare 36, 2011). The winner is the one option no other beats
//     (p[Y][X] > p[X][Y]); several such options are a tie. The ranking
//     orders the options by how many others they beat. Only the majority
//     threshold is allowed, and a winner meets it: it beats every other
//     option by a path of pairwise majorities (a Condorcet winner, when
//     there is one, is the Schulze winner).
//   - consent: the question is whether to adopt the proposal ("agree");
//     x is the agrees; under majority and two-thirds a block counts as a
//     disagree; under consensus one block stops it.
//
// There is a decision (Outcome.Decided, Outcome.Winner) when the
// proposal is not withdrawn, V > 0, the quorum is met, one option leads
// and the threshold is met; otherwise Outcome.NoDecision says which of
// these failed first, in that order. Tally of a proposal still open is a
// provisional count (Outcome.Final is false). Tally of a proposal that
// fails Validate counts nothing: every ballot is refused as invalid and
// NoDecision is "invalid-proposal".
//
// # Inputs and their hash
//
// Tally is a function of its inputs only, whatever their order. The
// canonical order of ballots is by voter (bytewise), then by At, then by
// EncodeBallot's bytes. Of a voter's several ballots the last in that
// order stands; the others are counted as Replaced.
//
// Outcome.InputHash is the SHA-256 of this encoding of exactly the
// inputs. Unsigned integers are uvarints (LEB128, as Go's
// encoding/binary writes them), signed ones zig-zag varints; a string is
// its length as a uvarint and its bytes; a time is its Unix seconds
// (signed) and nanoseconds; H is SHA-256; "||" joins bytes:
//
//	"coopfed governance tally v2" (as a string)
//	rules:    ID, method, threshold, eligibility (strings), quorum Num
//	          and Den, ScoreMin, ScoreMax (signed), OpensAt, ClosesAt,
//	          state (a string), the number of options, then each option
//	          key in the proposal's order
//	refusals: their number, then each refusal's encoding (voter, At,
//	          ReasonCode, count with 0 as 1), sorted bytewise, each
//	          written as a string
//	H(E || H(eligible chunk 0) || H(eligible chunk 1) || ...)
//	H(N || H(ballot chunk 0) || H(ballot chunk 1) || ...)
//
// E is the number of eligible voters (sorted bytewise, without repeats)
// and N the number of ballots (in canonical order), both uvarints. Both
// lists are cut in chunks of 4096 (the last one shorter, none for an
// empty list): chunk j holds items 4096*j to 4096*j+4095, its encoding is
// the concatenation of its items', and the lists are hashed chunk by
// chunk so that every core can take a share.
//
// An eligible voter is the length of the prefix it shares with the voter
// before it in the whole list (0 for the first), the length of the rest
// of it, and the rest of its bytes. A ballot is:
//
//	voter:    1 + its index among the eligible voters (from 0), or 0
//	          and the voter as a string when not eligible
//	At, then flags (1 abstain, 2 final, or both)
//	choices:  their number, then each as an option (below)
//	ratings:  their number, then each as an option and a signed value
//	Stance
//
// An option is 1 + its index among the proposal's options (from 0; the
// first of that key), or 0 and the key as a string when there is none.
// EncodeBallot is the same but with the voter and every option key as
// strings: voter, At, flags, choices, ratings, Stance.
//
// Titles, bodies and labels are not rules and are not hashed.
//
// # Delegation
//
// Resolve comes before Tally: from the direct ballots (as Cast accepted
// them) and the delegations in force, it gives the ballots that stand. A
// direct ballot always stands and overrides the voter's delegation; an
// eligible voter who cast none gets a copy of the ballot of the first
// voter along their chain of delegations who cast one; a chain that comes
// back on itself without a ballot, or ends without one, gives nothing.
// Each copy carries its voter, so Tally counts it, and InputHash covers it,
// as any other ballot; Resolve's Proxies say whose ballot each copy is.
package governance
