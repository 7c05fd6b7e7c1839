package coop

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/ledger"
)

// Mastodon-compatible voting (DESIGN.md, "Governance"): a member links an
// account they hold on another server by sending the co-op's actor a
// one-time code in a direct message, then confirms the link; from then on
// the poll votes that account sends count as the member's ballot. A
// Mastodon voter cannot change a vote: their ballot is the union of the
// option votes they send before the deadline (multiple choice), and a
// second vote on a single-choice poll is refused as already voted. Votes
// from an account not linked yet are held, and count if the link is
// confirmed before the close; at the close the rest are refused in
// aggregate, as are strangers' late votes: counted, not stored one by
// one.

// LinkCodeTTL is how long a link code can be used.
const LinkCodeTTL = 15 * time.Minute

// linkCodeBytes is a code's entropy: 80 bits, 16 base32 characters.
const linkCodeBytes = 10

// linkAlphabet is Crockford's base32: no I, L, O, U to misread.
var linkAlphabet = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// linkCodePattern finds codes in a message: four groups of four, as
// LinkCode prints them; letters in either case.
var linkCodePattern = regexp.MustCompile(`(?i)\b[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}\b`)

// normalizeLinkCode reads a code as Crockford does: case folded, O as 0,
// I and L as 1, dashes dropped.
func normalizeLinkCode(s string) string {
	s = strings.ToUpper(strings.ReplaceAll(s, "-", ""))
	return strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(s)
}

// linkCodeHash is what the database keeps of a code.
func linkCodeHash(code string) string {
	h := sha256.Sum256([]byte("coopfed link code\x00" + normalizeLinkCode(code)))
	return hex.EncodeToString(h[:])
}

// LinkCode makes a one-time code with which the member handle links an
// account they hold on another server: they send it in a direct message
// from that account to the co-op's actor within LinkCodeTTL, then confirm
// with LinkConfirm. Only the member themself asks for one (an admin
// acting for them would link an account the member does not hold).
func (s *Service) LinkCode(ctx context.Context, handle string) (code string, expires time.Time, err error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return "", time.Time{}, ErrNoPrincipal
	}
	if pr.ID != s.Site.ActorID(handle) || pr.For != "" {
		return "", time.Time{}, fmt.Errorf("coop: link code: %w: only %s asks for their own link code (--as %s and their password)", ErrNotAllowed, handle, handle)
	}
	b := make([]byte, linkCodeBytes)
	if _, err := s.rand().Read(b); err != nil {
		return "", time.Time{}, fmt.Errorf("coop: link code: %w", err)
	}
	raw := linkAlphabet.EncodeToString(b)
	code = raw[0:4] + "-" + raw[4:8] + "-" + raw[8:12] + "-" + raw[12:16]
	now := s.now()
	expires = now.Add(LinkCodeTTL)
	err = s.Store.Update(ctx, func(tx Tx) error {
		m, err := liveMember(ctx, tx, handle)
		if err != nil {
			return err
		}
		return tx.InsertLinkCode(ctx, m.ID, linkCodeHash(code), now, expires)
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("coop: link code: %w", err)
	}
	return code, expires, nil
}

// ReceiveDirect reads a direct message a remote account sent to a local
// actor: to the co-op's actor, a link code makes the account's pending
// link to the code's member, which the member then confirms. The account
// is answered by direct message (code taken, or unknown, used or
// expired). Other messages need nothing here. It runs inside the
// transaction that applies the message.
func (s *Service) ReceiveDirect(ctx context.Context, tx Tx, m DirectMessage) error {
	if m.To.Kind != KindOrganization {
		return nil
	}
	codes := linkCodePattern.FindAllString(m.Text, 4)
	if len(codes) == 0 {
		return nil
	}
	for _, code := range codes {
		memberID, err := tx.UseLinkCode(ctx, linkCodeHash(code), m.AcceptedAt)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		member, ok, err := memberByID(ctx, tx, memberID)
		if err != nil || !ok {
			return err
		}
		reply := fmt.Sprintf("Link code received for %s. To finish, %s confirms the link in coopfed:\n"+
			"coopfed member link-confirm %s %s --as %s", s.Site.Acct(member.Handle), member.Handle, member.Handle, m.Account, member.Handle)
		prev, err := tx.AccountLink(ctx, m.Account)
		switch {
		case err == nil && !prev.Confirmed.IsZero() && prev.MemberID == member.ID:
			reply = fmt.Sprintf("This account is already linked to %s.", s.Site.Acct(member.Handle))
		case err == nil && !prev.Confirmed.IsZero():
			reply = "This account is already linked to another member of this co-op: an account links to one member at most."
		case err != nil && !isNotFound(err):
			return err
		default:
			if err := tx.PutAccountLink(ctx, AccountLink{Account: m.Account, MemberID: member.ID, Requested: m.AcceptedAt, NoteID: m.NoteID}); err != nil {
				return err
			}
		}
		return s.direct(ctx, tx, m.To, []string{m.Account}, reply)
	}
	return s.direct(ctx, tx, m.To, []string{m.Account},
		"That link code is unknown, used or expired. Make a new one with: coopfed member link-code NAME --as NAME")
}

// direct sends a direct message from a local actor when the node can
// publish (a Service without a Publisher decides locally only).
func (s *Service) direct(ctx context.Context, tx Tx, from Actor, to []string, text string) error {
	if s.Publisher == nil || len(to) == 0 {
		return nil
	}
	return s.Publisher.PublishDirect(ctx, tx, from, to, text, s.now())
}

// memberByID finds a live member by actor ID; ok is false for a removed
// member or another kind of actor.
func memberByID(ctx context.Context, r Reader, id int64) (Member, bool, error) {
	ms, err := r.Members(ctx)
	if err != nil {
		return Member{}, false, err
	}
	for _, m := range ms {
		if m.ID == id {
			return m, true, nil
		}
	}
	return Member{}, false, nil
}

// LinkConfirm confirms the pending link of account to the member handle,
// on behalf of that member; the votes the account sent on proposals still
// open then count, as accepted when they came. The link is a
// member.account_linked record (the account as a commitment).
func (s *Service) LinkConfirm(ctx context.Context, handle, account string) (counted int, err error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return 0, ErrNoPrincipal
	}
	if pr.ID != s.Site.ActorID(handle) || pr.For != "" {
		return 0, fmt.Errorf("coop: confirm link: %w: only %s confirms their own links", ErrNotAllowed, handle)
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		m, err := liveMember(ctx, tx, handle)
		if err != nil {
			return err
		}
		l, err := tx.AccountLink(ctx, account)
		if isNotFound(err) || err == nil && l.MemberID != m.ID {
			return fmt.Errorf("%w: no link of %s to %s is waiting: send the link code from that account first", ErrNotFound, account, handle)
		}
		if err != nil {
			return err
		}
		if !l.Confirmed.IsZero() {
			return fmt.Errorf("%w: %s is already linked to %s", ErrInvalidInput, account, handle)
		}
		now := s.now()
		if err := tx.ConfirmAccountLink(ctx, account, m.ID, now); err != nil {
			return err
		}
		if _, err := s.logEvent(ctx, tx, event{Type: "member.account_linked", Subject: s.Site.ActorID(handle),
			Personal: map[string]string{"account": account}}); err != nil {
			return err
		}
		pending, err := tx.PendingVotesOf(ctx, account)
		if err != nil {
			return err
		}
		voterCtx := WithPrincipal(ctx, Principal{ID: s.Site.ActorID(handle), Channel: ledger.ChannelRemote})
		for _, v := range pending {
			p, err := tx.ProposalForVoter(ctx, v.Proposal, s.Site.ActorID(handle))
			if err != nil {
				return err
			}
			if p.State == governance.Open {
				if err := s.castRemote(voterCtx, tx, p, s.Site.ActorID(handle), RemoteVote{Proposal: v.Proposal,
					Account: account, Option: v.Option, NoteID: v.NoteID, AcceptedAt: v.Accepted}); err != nil {
					return err
				}
				counted++
			}
			if err := tx.DeletePendingVote(ctx, v.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("coop: confirm link: %w", err)
	}
	return counted, nil
}

// AccountLinks lists the member's linked accounts, pending ones included;
// only the member themself or the admin reads them (members-only data).
func (s *Service) AccountLinks(ctx context.Context, handle string) ([]AccountLink, error) {
	pr, ok := PrincipalFrom(ctx)
	if !ok {
		return nil, ErrNoPrincipal
	}
	if pr.ID != s.Site.ActorID(handle) && pr.ID != AdminPrincipal {
		return nil, fmt.Errorf("coop: links: %w: a member's links are theirs to see", ErrNotAllowed)
	}
	m, err := liveMember(ctx, s.Store, handle)
	if err != nil {
		return nil, fmt.Errorf("coop: links: %w", err)
	}
	return s.Store.AccountLinks(ctx, m.ID)
}

// linkedMember is the live member an account is confirmed as; ok is
// false for anyone else.
func linkedMember(ctx context.Context, r Reader, account string) (Member, bool, error) {
	l, err := r.AccountLink(ctx, account)
	if isNotFound(err) || err == nil && l.Confirmed.IsZero() {
		return Member{}, false, nil
	}
	if err != nil {
		return Member{}, false, err
	}
	m, err := liveMember(ctx, r, l.Handle)
	if errors.Is(err, ErrNotMember) || errors.Is(err, ErrGone) {
		return Member{}, false, nil
	}
	return m, err == nil, err
}

// ReceiveVotes applies the poll votes an inbox accepted, inside the
// transaction that applies their activity, in order: a linked member's
// vote is cast (or refused, stored and logged with its reason); a vote
// from an account not linked is held until the link is confirmed (and
// the account told once how to link), or, when late, counted in
// aggregate as refused. Every voter joins the proposal's audience. A vote
// for a proposal that does not exist is not a vote of ours: skipped.
func (s *Service) ReceiveVotes(ctx context.Context, tx Tx, votes []RemoteVote) error {
	for _, v := range votes {
		m, ok, err := linkedMember(ctx, tx, v.Account)
		if err != nil {
			return err
		}
		voter := v.Account
		if ok {
			voter = s.Site.ActorID(m.Handle)
		}
		p, err := tx.ProposalForVoter(ctx, v.Proposal, voter)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if err := tx.AddProposalAudience(ctx, v.Proposal, v.Account); err != nil {
			return err
		}
		if ok {
			vctx := WithPrincipal(ctx, Principal{ID: voter, Channel: ledger.ChannelRemote})
			if err := s.castRemote(vctx, tx, p, voter, v); err != nil {
				return err
			}
			continue
		}
		if err := s.holdVote(ctx, tx, p, v); err != nil {
			return err
		}
	}
	return nil
}

// holdVote keeps a vote of an account not linked: held while the
// proposal is open, refused in aggregate otherwise.
func (s *Service) holdVote(ctx context.Context, tx Tx, p Proposal, v RemoteVote) error {
	// A stranger's ballot, checked as one: the state and the deadline.
	_, err := p.Cast(governance.Ballot{Voter: v.Account, Abstain: true}, v.AcceptedAt)
	if err != nil && !errors.Is(err, governance.ErrNotEligible) {
		return tx.AddStrangerRefusals(ctx, p.Num, governance.ReasonCode(err), p.State != governance.Open, 1)
	}
	if _, err := tx.InsertPendingVote(ctx, PendingVote{Proposal: p.Num, Account: v.Account, Option: v.Option,
		NoteID: v.NoteID, Accepted: v.AcceptedAt}); err != nil {
		return err
	}
	first, err := tx.MarkLinkHint(ctx, v.Account, s.now())
	if err != nil || !first {
		return err
	}
	c, err := tx.Coop(ctx)
	if err != nil {
		return err
	}
	return s.direct(ctx, tx, c, []string{v.Account}, fmt.Sprintf(
		"Your vote on %q is held, not counted yet: this account is not linked to a member of %s.\n"+
			"If you are a member: run coopfed member link-code NAME --as NAME, send the code to %s in a direct message from this account, "+
			"then confirm with coopfed member link-confirm. Votes held before the proposal closes then count.",
		p.Title, c.Name, "@"+s.Site.Acct(c.Handle)))
}

// castRemote casts a linked member's poll vote: voter's ballot is the
// union of their option votes (see governance.Proposal.Recast).
func (s *Service) castRemote(ctx context.Context, tx Tx, p Proposal, voter string, v RemoteVote) error {
	b, err := pollBallot(p.Proposal, voter, v.Option)
	_, _, err = s.cast(ctx, tx, castInput{p: p, voter: voter, ballot: b, parseErr: err, at: v.AcceptedAt,
		channel: ledger.ChannelRemote, remote: true, account: v.Account})
	return err
}

// castInput is a ballot to cast on p.
type castInput struct {
	p        Proposal
	voter    string
	ballot   governance.Ballot
	parseErr error     // the ballot could not be read: refused with it
	at       time.Time // when it was accepted
	channel  string
	// remote is a Mastodon-style vote: Final, and added to a standing
	// Final ballot rather than replacing it. A ballot from coopfed's own
	// channels replaces any standing ballot until the deadline.
	remote  bool
	account string // the remote account that sent it, kept as a commitment
}

// cast checks and stores a ballot, or its refusal, and logs either in tx.
// A refusal is returned as a *RefusedError beside a nil error; a repeat
// of an option a Mastodon voter already chose changes nothing (nil, nil).
func (s *Service) cast(ctx context.Context, tx Tx, in castInput) (*VoteResult, *RefusedError, error) {
	p, voter, at, b := in.p, in.voter, in.at, in.ballot
	err := in.parseErr
	// The proposal's state, the deadline and the voter come before the
	// ballot's shape: a late ballot naming an unknown option is late.
	if _, err2 := p.Cast(governance.Ballot{Voter: voter, Abstain: true}, at); err2 != nil {
		err = err2
	}
	var prev *StoredBallot
	if err == nil {
		b, err := tx.StandingBallot(ctx, p.Num, voter)
		if err != nil && !isNotFound(err) {
			return nil, nil, err
		}
		if err == nil {
			prev = &b
		}
	}
	if err == nil {
		if prev != nil {
			// The count takes a voter's latest ballot by acceptance time:
			// a replacement accepted within the same microsecond (or,
			// for a held vote counted at its link, earlier) is accepted a
			// microsecond after the ballot it replaces, so that the tally
			// and the standing ballot agree.
			if !at.After(prev.At) {
				at = prev.At.Add(time.Microsecond)
			}
			standing := prev.Ballot
			if !in.remote {
				standing.Final = false
			}
			b, err = p.Recast(standing, b, at)
			if err == nil && in.remote && sameBallot(prev.Ballot, b) {
				return nil, nil, nil // an option counted once
			}
		} else {
			b, err = p.Cast(b, at)
		}
	}
	subject := s.Site.ProposalURL(p.Num)
	personal := map[string]string{"voter": voter}
	if in.account != "" {
		personal["account"] = in.account
	}
	if err != nil {
		var be *governance.BallotError
		if !errors.As(err, &be) {
			return nil, nil, err
		}
		ref := StoredRefusal{Voter: voter, At: at, Reason: governance.ReasonCode(err), Detail: be.Detail, Count: 1, Channel: in.channel}
		idx, err := s.logEvent(ctx, tx, event{Type: "proposal.ballot_refused", Subject: subject,
			Data:     map[string]any{"proposal": p.ID, "reason": ref.Reason, "detail": ref.Detail, "at": at.Format(time.RFC3339Nano)},
			Personal: personal})
		if err != nil {
			return nil, nil, err
		}
		ref.LogIndex = idx
		if err := tx.InsertRefusal(ctx, p.Num, ref); err != nil {
			return nil, nil, err
		}
		return nil, &RefusedError{Reason: ref.Reason, Detail: ref.Detail, LogIndex: idx}, nil
	}
	typ := "proposal.ballot_cast"
	if prev != nil {
		typ = "proposal.ballot_replaced"
	}
	data := map[string]any{"proposal": p.ID, "at": at.Format(time.RFC3339Nano)}
	ballot := strings.Join(governance.FormatBallot(b), " ")
	if p.HideCounts {
		// Counts hidden until the close: the ballot goes in as a
		// commitment too, so the log does not show a running count.
		personal["ballot"] = ballot
	} else {
		data["ballot"] = ballot
	}
	idx, err := s.logEvent(ctx, tx, event{Type: typ, Subject: subject, Data: data, Personal: personal})
	if err != nil {
		return nil, nil, err
	}
	if err := tx.InsertBallot(ctx, p.Num, StoredBallot{Ballot: b, Channel: in.channel, LogIndex: idx}); err != nil {
		return nil, nil, err
	}
	if err := tx.SetCountsChanged(ctx, p.Num, s.now()); err != nil {
		return nil, nil, err
	}
	return &VoteResult{Ballot: b, Replaced: prev != nil, LogIndex: idx}, nil, nil
}

// sameBallot reports whether two ballots choose the same.
func sameBallot(a, b governance.Ballot) bool {
	return a.Abstain == b.Abstain && a.Stance == b.Stance &&
		strings.Join(a.Choices, "\x00") == strings.Join(b.Choices, "\x00") && len(a.Ratings) == 0 && len(b.Ratings) == 0
}

// ReceiveBoost adds a booster of a proposal's Question to its audience:
// they receive its live counts and outcome.
func (s *Service) ReceiveBoost(ctx context.Context, tx Tx, b Boost) error {
	if _, err := tx.Proposal(ctx, b.Proposal); isNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	return tx.AddProposalAudience(ctx, b.Proposal, b.Account)
}
