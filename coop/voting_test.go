package coop_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/store"
)

// votingNode is governanceNode with a recording Publisher and a clock.
func votingNode(t *testing.T) (*coop.Service, *clock, *recorder) {
	t.Helper()
	s := newService(t)
	c := newClock()
	s.Clock = c.now
	pub := &recorder{}
	s.Publisher = pub
	governanceNode(t, s)
	pub.take()
	return s, c, pub
}

const (
	xAccount = "https://x.example/users/ann" // alice's account elsewhere
	yAccount = "https://y.example/users/zed" // a stranger
)

// receive runs fn as the processor does: inside a transaction.
func receive(t *testing.T, s *coop.Service, fn func(context.Context, coop.Tx) error) {
	t.Helper()
	if err := s.Store.Update(context.Background(), func(tx coop.Tx) error { return fn(context.Background(), tx) }); err != nil {
		t.Fatal(err)
	}
}

func vote(t *testing.T, s *coop.Service, c *clock, num int64, account string, options ...string) {
	t.Helper()
	var vs []coop.RemoteVote
	for i, o := range options {
		vs = append(vs, coop.RemoteVote{Proposal: num, Account: account, Option: o,
			NoteID: account + "#votes/" + o + "/" + c.now().Format(time.RFC3339Nano) + "/" + string(rune('a'+i)), AcceptedAt: c.now()})
	}
	receive(t, s, func(ctx context.Context, tx coop.Tx) error { return s.ReceiveVotes(ctx, tx, vs) })
}

func direct(t *testing.T, s *coop.Service, c *clock, to, account, text string) {
	t.Helper()
	a, err := s.Store.ActorByHandle(context.Background(), to)
	if err != nil {
		t.Fatal(err)
	}
	receive(t, s, func(ctx context.Context, tx coop.Tx) error {
		return s.ReceiveDirect(ctx, tx, coop.DirectMessage{To: a, Account: account, Text: text, NoteID: account + "#dm", AcceptedAt: c.now()})
	})
}

// link links account to member handle the way a member does it: a code,
// the direct message, the confirmation.
func link(t *testing.T, s *coop.Service, c *clock, handle, account string) int {
	t.Helper()
	code, _, err := s.LinkCode(as(s, handle), handle)
	if err != nil {
		t.Fatal(err)
	}
	direct(t, s, c, "coop", account, "@coop@a.example "+strings.ToLower(code)+" thanks")
	n, err := s.LinkConfirm(as(s, handle), handle, account)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func show(t *testing.T, s *coop.Service, num int64) coop.ProposalView {
	t.Helper()
	v, err := s.ShowProposal(context.Background(), num)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func count(v coop.ProposalView, key string) int64 {
	for _, o := range v.Counts.Options {
		if o.Option == key {
			return o.Count
		}
	}
	return -1
}

func TestLinkCodes(t *testing.T) {
	s, c, pub := votingNode(t)
	ctx := context.Background()

	t.Run("only the member asks for their code", func(t *testing.T) {
		if _, _, err := s.LinkCode(as(s, "bob"), "alice"); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("bob asks for alice's code: %v", err)
		}
		if _, _, err := s.LinkCode(coop.AsAdmin(ctx), "alice"); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("the admin asks for alice's code: %v", err)
		}
	})
	code, expires, err := s.LinkCode(as(s, "alice"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$`).MatchString(code) || expires.Sub(c.now()) != coop.LinkCodeTTL {
		t.Fatalf("code %q expires %v", code, expires)
	}
	t.Run("a message to another actor than the co-op's links nothing", func(t *testing.T) {
		direct(t, s, c, "bob", xAccount, code)
		if _, err := s.Store.AccountLink(ctx, xAccount); !errors.Is(err, coop.ErrNotFound) {
			t.Fatalf("link after a message to bob: %v", err)
		}
	})
	t.Run("the code in a message makes a pending link, answered", func(t *testing.T) {
		direct(t, s, c, "coop", xAccount, "<p>hello "+code+"</p>")
		l, err := s.Store.AccountLink(ctx, xAccount)
		if err != nil || !l.Confirmed.IsZero() {
			t.Fatalf("link %+v, %v", l, err)
		}
		if got := pub.take(); len(got) != 1 || !strings.Contains(got[0], "link-confirm alice "+xAccount) {
			t.Fatalf("answer %q", got)
		}
	})
	t.Run("a code is used once", func(t *testing.T) {
		direct(t, s, c, "coop", yAccount, code)
		if _, err := s.Store.AccountLink(ctx, yAccount); !errors.Is(err, coop.ErrNotFound) {
			t.Fatalf("second use linked: %v", err)
		}
		if got := pub.take(); len(got) != 1 || !strings.Contains(got[0], "unknown, used or expired") {
			t.Fatalf("answer %q", got)
		}
	})
	t.Run("a code expires", func(t *testing.T) {
		code2, _, err := s.LinkCode(as(s, "bob"), "bob")
		if err != nil {
			t.Fatal(err)
		}
		c.advance(coop.LinkCodeTTL)
		direct(t, s, c, "coop", yAccount, code2)
		if _, err := s.Store.AccountLink(ctx, yAccount); !errors.Is(err, coop.ErrNotFound) {
			t.Fatalf("expired code linked: %v", err)
		}
	})
	t.Run("only the member confirms, and only a pending link", func(t *testing.T) {
		if _, err := s.LinkConfirm(as(s, "bob"), "alice", xAccount); !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("bob confirms alice's link: %v", err)
		}
		if _, err := s.LinkConfirm(as(s, "bob"), "bob", xAccount); !errors.Is(err, coop.ErrNotFound) {
			t.Fatalf("bob confirms a link to alice: %v", err)
		}
		if _, err := s.LinkConfirm(as(s, "alice"), "alice", xAccount); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LinkConfirm(as(s, "alice"), "alice", xAccount); !errors.Is(err, coop.ErrInvalidInput) {
			t.Fatalf("confirmed twice: %v", err)
		}
	})
	t.Run("one account links to one member at most", func(t *testing.T) {
		code3, _, err := s.LinkCode(as(s, "bob"), "bob")
		if err != nil {
			t.Fatal(err)
		}
		pub.take()
		direct(t, s, c, "coop", xAccount, code3)
		l, err := s.Store.AccountLink(ctx, xAccount)
		if err != nil || l.Confirmed.IsZero() {
			t.Fatalf("link %+v, %v", l, err)
		}
		if alice, _ := s.Store.MemberByHandle(ctx, "alice"); l.MemberID != alice.ID {
			t.Fatalf("the account moved to member %d", l.MemberID)
		}
		if got := pub.take(); len(got) != 1 || !strings.Contains(got[0], "already linked to another member") {
			t.Fatalf("answer %q", got)
		}
	})
	t.Run("the link is logged, the account as a commitment", func(t *testing.T) {
		rec, raw := lastRecord(t, s)
		if rec.Type != "member.account_linked" || strings.Contains(raw, "x.example") {
			t.Fatalf("last record %s", raw)
		}
	})
}

func TestRemoteVotes(t *testing.T) {
	s, c, pub := votingNode(t)
	alice := as(s, "alice")
	p, err := s.OpenProposal(alice, yesNo("coop"))
	if err != nil {
		t.Fatal(err)
	}
	if got := pub.take(); len(got) != 1 || got[0] != "proposal coop 1" {
		t.Fatalf("published %q", got)
	}

	t.Run("a vote from an account not linked is held, and its account told once", func(t *testing.T) {
		vote(t, s, c, p.Num, xAccount, "Yes")
		vote(t, s, c, p.Num, xAccount, "No")
		v := show(t, s, p.Num)
		if v.Standing != 0 {
			t.Fatalf("standing %d", v.Standing)
		}
		got := pub.take()
		if len(got) != 1 || !strings.Contains(got[0], "is held, not counted yet") {
			t.Fatalf("sent %q", got)
		}
	})
	t.Run("held votes count once the link is confirmed; a second single-choice vote is already voted", func(t *testing.T) {
		c.advance(time.Minute)
		link(t, s, c, "alice", xAccount)
		v := show(t, s, p.Num)
		if count(v, "yes") != 1 || count(v, "no") != 0 || v.Standing != 1 {
			t.Fatalf("counts %+v", v.Counts.Options)
		}
		if len(v.Refusals) != 1 || v.Refusals[0].Reason != governance.ReasonAlreadyVoted || v.Refusals[0].Voter != s.Site.ActorID("alice") {
			t.Fatalf("refusals %+v", v.Refusals)
		}
	})
	t.Run("a vote after the link is already voted too", func(t *testing.T) {
		vote(t, s, c, p.Num, xAccount, "No")
		v := show(t, s, p.Num)
		if count(v, "yes") != 1 || len(v.Refusals) != 2 {
			t.Fatalf("counts %+v refusals %+v", v.Counts.Options, v.Refusals)
		}
	})
	t.Run("an unknown option is refused and counted", func(t *testing.T) {
		if _, err := s.Vote(as(s, "bob"), p.Num, []string{"yes"}); err != nil {
			t.Fatal(err)
		}
		link(t, s, c, "bob", "https://x.example/users/bo")
		vote(t, s, c, p.Num, "https://x.example/users/bo", "Maybe")
		v := show(t, s, p.Num)
		last := v.Refusals[len(v.Refusals)-1]
		if last.Reason != governance.ReasonUnknownOption || last.Detail != `"Maybe"` {
			t.Fatalf("refusal %+v", last)
		}
	})
	t.Run("the member replaces a Mastodon vote from coopfed's own channels", func(t *testing.T) {
		res, err := s.Vote(alice, p.Num, []string{"no"})
		if err != nil || !res.Replaced {
			t.Fatalf("%+v %v", res, err)
		}
		v := show(t, s, p.Num)
		if count(v, "no") != 1 || count(v, "yes") != 1 {
			t.Fatalf("counts %+v", v.Counts.Options)
		}
	})
	t.Run("a stranger's held vote is refused in aggregate at the close, a late one too", func(t *testing.T) {
		vote(t, s, c, p.Num, yAccount, "Yes")
		vote(t, s, c, p.Num, "https://y.example/users/two", "No")
		c.advance(72 * time.Hour)
		vote(t, s, c, p.Num, "https://y.example/users/late", "No")
		pub.take()
		if _, err := s.CloseDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		v := show(t, s, p.Num)
		if v.Outcome == nil || v.Outcome.Outcome.Refused[governance.ReasonNotEligible] != 2 || v.Outcome.Outcome.Refused[governance.ReasonClosed] != 1 {
			t.Fatalf("outcome refused %+v", v.Outcome)
		}
		pending, err := s.Store.PendingVotes(context.Background(), p.Num)
		if err != nil || len(pending) != 0 {
			t.Fatalf("pending after close %+v %v", pending, err)
		}
		got := pub.take()
		if len(got) < 1 || !strings.HasPrefix(got[0], "outcome coop 1 [") || !strings.Contains(got[0], yAccount) {
			t.Fatalf("sent %q", got)
		}
	})
	t.Run("after the close, a stranger's vote counts apart from the outcome", func(t *testing.T) {
		vote(t, s, c, p.Num, yAccount, "Yes")
		rs, err := s.Store.StrangerRefusals(context.Background(), p.Num)
		if err != nil {
			t.Fatal(err)
		}
		var after int
		for _, r := range rs {
			if r.AfterClose {
				after += r.Count
			}
		}
		if after != 1 {
			t.Fatalf("after close %+v", rs)
		}
	})
}

func TestRemoteMultipleChoice(t *testing.T) {
	s, c, pub := votingNode(t)
	link(t, s, c, "alice", xAccount)
	pub.take()
	np := yesNo("coop")
	np.Method = governance.Approval
	np.Options = []governance.Option{{Key: "red", Label: "Red"}, {Key: "green", Label: "Green"}, {Key: "blue", Label: "Blue"}}
	p, err := s.OpenProposal(as(s, "bob"), np)
	if err != nil {
		t.Fatal(err)
	}
	if got := pub.take(); len(got) != 2 || !strings.Contains(got[1], "direct coop ["+xAccount+"]") || !strings.Contains(got[1], "open until") {
		t.Fatalf("sent %q", got)
	}
	// Mastodon and GoToSocial: one Create per chosen option; some servers:
	// several Notes in one Create; a repeat counts once.
	vote(t, s, c, p.Num, xAccount, "Red")
	c.advance(time.Millisecond)
	vote(t, s, c, p.Num, xAccount, "Blue", "Red")
	v := show(t, s, p.Num)
	if count(v, "red") != 1 || count(v, "blue") != 1 || count(v, "green") != 0 || v.Standing != 1 || len(v.Refusals) != 0 {
		t.Fatalf("counts %+v refusals %+v", v.Counts.Options, v.Refusals)
	}
	t.Run("live counts are debounced", func(t *testing.T) {
		pub.take()
		n, err := s.SendCounts(context.Background(), time.Minute)
		if err != nil || n != 0 {
			t.Fatalf("sent %d before the votes gathered: %v", n, err)
		}
		c.advance(2 * time.Second)
		if n, err = s.SendCounts(context.Background(), time.Minute); err != nil || n != 1 {
			t.Fatalf("sent %d: %v", n, err)
		}
		if got := pub.take(); len(got) != 1 || got[0] != "counts coop "+p.ID+" 1 ["+xAccount+"]" {
			t.Fatalf("sent %q", got)
		}
		vote(t, s, c, p.Num, xAccount, "Green")
		c.advance(2 * time.Second)
		if n, _ = s.SendCounts(context.Background(), time.Minute); n != 0 {
			t.Fatalf("sent again within the minute")
		}
		c.advance(time.Minute)
		if n, _ = s.SendCounts(context.Background(), time.Minute); n != 1 {
			t.Fatalf("not sent after the minute")
		}
		if n, _ = s.SendCounts(context.Background(), time.Minute); n != 0 {
			t.Fatalf("sent with nothing changed")
		}
	})
	t.Run("a reminder a day before the close, once, to those who have not voted", func(t *testing.T) {
		link(t, s, c, "carol", "https://x.example/users/cc")
		pub.take()
		c.advance(48 * time.Hour)
		for range 2 {
			if err := s.SendReminders(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		got := pub.take()
		if len(got) != 1 || !strings.Contains(got[0], "https://x.example/users/cc") || !strings.Contains(got[0], "not voted") {
			t.Fatalf("sent %q", got)
		}
	})
}

func TestCloseDrainsInbound(t *testing.T) {
	s, c, _ := votingNode(t)
	ctx := context.Background()
	p, err := s.OpenProposal(as(s, "alice"), yesNo("coop"))
	if err != nil {
		t.Fatal(err)
	}
	db := s.Store.(*store.DB)
	// An activity accepted a second before the deadline and not applied
	// yet: a vote, maybe.
	id, _, err := db.InsertInbound(ctx, store.Inbound{ActivityID: "https://x.example/1", ActivityType: "Create",
		ActorURI: xAccount, KeyID: xAccount + "#main-key", Body: []byte(`{}`), ReceivedAt: p.ClosesAt.Add(-time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	c.advance(72 * time.Hour)
	if closed, err := s.CloseDue(ctx); err != nil || len(closed) != 0 {
		t.Fatalf("closed %v before the inbound queue drained: %v", closed, err)
	}
	if err := db.Write(ctx, func(tx *store.Tx) error { return tx.FinishInbound(ctx, id, c.now()) }); err != nil {
		t.Fatal(err)
	}
	if closed, err := s.CloseDue(ctx); err != nil || len(closed) != 1 || closed[0] != p.Num {
		t.Fatalf("closed %v %v", closed, err)
	}
	t.Run("not longer than DrainLimit", func(t *testing.T) {
		p2, err := s.OpenProposal(as(s, "alice"), yesNo("coop"))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.InsertInbound(ctx, store.Inbound{ActivityID: "https://x.example/2", ActivityType: "Create",
			ActorURI: xAccount, KeyID: xAccount + "#main-key", Body: []byte(`{}`), ReceivedAt: p2.ClosesAt.Add(-time.Second)}); err != nil {
			t.Fatal(err)
		}
		c.advance(72*time.Hour + coop.DrainLimit)
		if closed, err := s.CloseDue(ctx); err != nil || len(closed) != 1 {
			t.Fatalf("closed %v %v", closed, err)
		}
	})
}

func TestOperatorActsForAMember(t *testing.T) {
	s, _, _ := votingNode(t)
	ctx := context.Background()
	forAlice := coop.WithPrincipal(ctx, coop.Principal{ID: coop.AdminPrincipal, Channel: ledger.ChannelCLI, For: s.Site.ActorID("alice")})
	p, err := s.OpenProposal(forAlice, yesNo("coop"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Proposer != s.Site.ActorID("alice") {
		t.Fatalf("proposer %s", p.Proposer)
	}
	rec, raw := lastRecord(t, s)
	if rec.Type != "proposal.opened" || rec.Principal != coop.AdminPrincipal || !strings.Contains(raw, `"on_behalf_of":"`+s.Site.ActorID("alice")+`"`) {
		t.Fatalf("record %s", raw)
	}
	if _, err := s.Vote(forAlice, p.Num, []string{"yes"}); !errors.Is(err, coop.ErrNotAllowed) {
		t.Fatalf("the operator voted for alice: %v", err)
	}
	forBob := coop.WithPrincipal(ctx, coop.Principal{ID: coop.AdminPrincipal, Channel: ledger.ChannelCLI, For: s.Site.ActorID("bob")})
	if _, err := s.WithdrawProposal(forBob, p.Num); !errors.Is(err, coop.ErrNotAllowed) {
		t.Fatalf("withdrawn for bob, who did not propose it: %v", err)
	}
	if _, err := s.WithdrawProposal(forAlice, p.Num); err != nil {
		t.Fatal(err)
	}
}

func TestWithdrawalClosesThePoll(t *testing.T) {
	s, _, pub := votingNode(t)
	p, err := s.OpenProposal(as(s, "alice"), yesNo("coop"))
	if err != nil {
		t.Fatal(err)
	}
	pub.take()
	if _, err := s.WithdrawProposal(as(s, "alice"), p.Num); err != nil {
		t.Fatal(err)
	}
	if got := pub.take(); len(got) != 1 || !strings.HasPrefix(got[0], "outcome coop "+p.ID) {
		t.Fatalf("sent %q", got)
	}
}
