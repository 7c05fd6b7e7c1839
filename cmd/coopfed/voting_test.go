package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/testpeer"
)

// pollDoc is what the peer received of a Question: its counts.
type pollDoc struct {
	Type        string `json:"type"`
	VotersCount int    `json:"votersCount"`
	Closed      string `json:"closed"`
	Updated     string `json:"updated"`
	OneOf       []struct {
		Name    string `json:"name"`
		Replies struct {
			TotalItems int `json:"totalItems"`
		} `json:"replies"`
	} `json:"oneOf"`
	AnyOf []struct {
		Name    string `json:"name"`
		Replies struct {
			TotalItems int `json:"totalItems"`
		} `json:"replies"`
	} `json:"anyOf"`
}

func (p pollDoc) counts() map[string]int {
	m := map[string]int{}
	for _, o := range append(p.OneOf, p.AnyOf...) {
		m[o.Name] = o.Replies.TotalItems
	}
	return m
}

// activityObject decodes an activity's embedded object.
func activityObject(t *testing.T, raw []byte, v any) {
	t.Helper()
	var a struct {
		Object json.RawMessage `json:"object"`
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(a.Object, v); err != nil {
		t.Fatalf("object of %s: %v", raw, err)
	}
}

// lastUpdateOf waits for an Update{Question} of poll q at the peer that
// matches ok, and returns it.
func lastUpdateOf(t *testing.T, peer *testpeer.Peer, actor, q string, ok func(pollDoc) bool) pollDoc {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last pollDoc
	for time.Now().Before(deadline) {
		recs, err := peer.Received(url.Values{"type": {"Update"}, "actor": {actor}, "handled": {"true"}}, 1, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if !r.Verified {
				t.Fatalf("the peer did not verify our Update: %s", r.Reason)
			}
			var obj struct {
				ID string `json:"id"`
				pollDoc
			}
			activityObject(t, r.Activity, &obj)
			if obj.ID == q {
				last = obj.pollDoc
				if ok(last) {
					return last
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no Update{Question} of %s as wanted; the last: %+v", q, last)
	return last
}

// TestFedifyVotesLikeMastodon: the Fedify test peer, a member's account
// elsewhere, votes on the co-op's polls exactly as Mastodon does (one
// Create{Note{name, inReplyTo}} per chosen option, to the poll author's
// inbox; see ../../../shared/notes/fedify-peer.md and
// ../../federation/testdata/votes for the captured shapes), after and
// before linking, and sees the counts in the Update{Question} that
// follows.
func TestFedifyVotesLikeMastodon(t *testing.T) {
	peer := testpeer.Start(t)
	n, s := startNodeTuned(t, func(n *node) { n.cfg.Proposals.CountsEvery.Duration = time.Second })
	cfg := n.cfg.Dir + "/" + configFile
	coopActor := s.ActorID("coop")
	peerActor := peer.Actors[0]
	ctx := context.Background()

	// The peer follows the co-op: Mastodon's users see polls that way.
	if err := peer.Call("follow", map[string]any{"user": "peer", "target": coopActor}, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the peer follows the co-op", func() bool { return followersOf(t, n.db, "coop") == 1 })

	out := mustCLI(t, "member", "add", "alice", "--config", cfg)
	t.Setenv("COOPFED_PASSWORD", regexp.MustCompile(`one-time password: (\S+)`).FindStringSubmatch(out)[1])
	t.Setenv("COOPFED_NEW_PASSWORD", "alice-correct-horse")
	mustCLI(t, "member", "password", "alice", "--config", cfg)
	t.Setenv("COOPFED_PASSWORD", "alice-correct-horse")
	body := filepath.Join(t.TempDir(), "body.md")
	if err := os.WriteFile(body, []byte("We *should* adopt the **AGPL**.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	open := func(title, closesIn, method string, options ...string) string {
		t.Helper()
		args := []string{"proposal", "open", "--group", "coop", "--title", title, "--body-file", body, "--method", method,
			"--closes-in", closesIn, "--as", "alice", "--config", cfg}
		for _, o := range options {
			args = append(args, "--option", o)
		}
		out := mustCLI(t, args...)
		m := regexp.MustCompile(`opened proposal (\d+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("open: %s", out)
		}
		return m[1]
	}
	type voted struct {
		Votes []struct {
			Status int    `json:"status"`
			Error  string `json:"error"`
		} `json:"votes"`
		QuestionParseError any `json:"questionParseError"`
	}
	vote := func(q string, separate bool, options ...string) {
		t.Helper()
		var v voted
		if err := peer.Call("vote", map[string]any{"user": "peer", "question": q, "options": options, "separate": separate}, &v); err != nil {
			t.Fatal(err)
		}
		if v.QuestionParseError != nil {
			t.Fatalf("Fedify could not parse our Question: %v", v.QuestionParseError)
		}
		for _, r := range v.Votes {
			if r.Status != 202 {
				t.Fatalf("our inbox answered a vote with %d %s", r.Status, r.Error)
			}
		}
	}
	show := func(num string) coop.ProposalView {
		t.Helper()
		v, err := n.svc.ShowProposal(ctx, mustNum(t, num))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	refusals := func(num, reason string) int {
		k := 0
		for _, r := range show(num).Refusals {
			if r.Reason == reason {
				k += r.Count
			}
		}
		return k
	}

	// A single-choice poll, voted on before the account is linked.
	p1 := open("Adopt the AGPL", "1h", "single", "yes=Yes", "no=No")
	q1 := s.URL("/proposals/" + p1)
	if _, err := peer.Received(url.Values{"type": {"Create"}, "object_type": {"Question"}, "actor": {coopActor}, "handled": {"true"}}, 1, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	vote(q1, true, "Yes")
	hints, err := peer.Received(url.Values{"type": {"Create"}, "actor": {coopActor}, "handled": {"true"}, "object_type": {"Note"}}, 1, 20*time.Second)
	if err != nil || len(hints) != 1 || !strings.Contains(string(hints[0].Activity), "is held, not counted yet") {
		t.Fatalf("the hint to link: %v %+v", err, hints)
	}
	if v := show(p1); v.Standing != 0 {
		t.Fatalf("a vote before the link counted: %d", v.Standing)
	}

	// Linking: the code from coopfed, sent by direct message from the
	// account, confirmed by the member.
	out = mustCLI(t, "member", "link-code", "alice", "--as", "alice", "--config", cfg)
	code := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	if err := peer.Call("send", map[string]any{"user": "peer", "to": []string{coopActor},
		"note": map[string]any{"content": "here is my code: " + code, "direct": true, "mention": coopActor}}, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the link waits for confirmation", func() bool {
		l, err := n.db.AccountLink(ctx, peerActor)
		return err == nil && l.Confirmed.IsZero()
	})
	out = mustCLI(t, "member", "link-confirm", "alice", peerActor, "--as", "alice", "--config", cfg)
	if !strings.Contains(out, "1 vote(s)") {
		t.Fatalf("link-confirm: %s", out)
	}
	t.Run("the vote sent before the link counts once it is confirmed, and the counts go out", func(t *testing.T) {
		if v := show(p1); v.Standing != 1 || v.Counts.Options[0].Count != 1 {
			t.Fatalf("standing %d, counts %+v", v.Standing, v.Counts)
		}
		u := lastUpdateOf(t, peer, coopActor, q1, func(p pollDoc) bool { return p.VotersCount == 1 })
		if u.counts()["Yes"] != 1 || u.counts()["No"] != 0 || u.Updated != "" || u.Closed != "" {
			t.Fatalf("Update{Question}: %+v", u)
		}
	})
	t.Run("a second vote on a single-choice poll is refused as already voted", func(t *testing.T) {
		vote(q1, true, "No")
		eventually(t, 20*time.Second, "the refusal", func() bool { return refusals(p1, governance.ReasonAlreadyVoted) == 1 })
		if v := show(p1); v.Counts.Options[0].Count != 1 || v.Counts.Options[1].Count != 0 {
			t.Fatalf("counts %+v", v.Counts.Options)
		}
	})
	t.Run("multiple choice: one Create per option, and the counts rise", func(t *testing.T) {
		p2 := open("Which protocols", "1h", "approval", "http=HTTP", "gemini=Gemini", "gopher=Gopher")
		q2 := s.URL("/proposals/" + p2)
		vote(q2, true, "HTTP", "Gopher")
		eventually(t, 20*time.Second, "both options counted", func() bool {
			v := show(p2)
			return v.Standing == 1 && v.Counts.Options[0].Count == 1 && v.Counts.Options[2].Count == 1
		})
		u := lastUpdateOf(t, peer, coopActor, q2, func(p pollDoc) bool { return p.counts()["Gopher"] == 1 })
		if u.VotersCount != 1 || u.counts()["HTTP"] != 1 || u.counts()["Gemini"] != 0 || len(u.AnyOf) != 3 {
			t.Fatalf("Update{Question}: %+v", u)
		}
		// Some servers put several vote Notes in one Create; GoToSocial
		// counts the first twice and drops the second. A repeated option
		// counts once.
		vote(q2, false, "Gemini", "Gopher")
		u = lastUpdateOf(t, peer, coopActor, q2, func(p pollDoc) bool { return p.counts()["Gemini"] == 1 })
		if u.VotersCount != 1 || u.counts()["HTTP"] != 1 || u.counts()["Gopher"] != 1 {
			t.Fatalf("Update{Question} after one Create of two Notes: %+v", u)
		}
	})
	t.Run("a vote after the deadline is refused and counted, and the outcome goes out", func(t *testing.T) {
		p3 := open("Meet on Friday", "4s", "single", "yes=Yes", "no=No")
		q3 := s.URL("/proposals/" + p3)
		eventually(t, 30*time.Second, "the close", func() bool { return show(p3).State == governance.Closed })
		vote(q3, true, "Yes")
		eventually(t, 20*time.Second, "the late vote refused", func() bool { return refusals(p3, governance.ReasonClosed) == 1 })
		u := lastUpdateOf(t, peer, coopActor, q3, func(p pollDoc) bool { return p.Closed != "" })
		if _, err := time.Parse(time.RFC3339, u.Closed); err != nil || u.VotersCount != 0 {
			t.Fatalf("final Update{Question}: %+v", u)
		}
		notes, err := peer.Received(url.Values{"type": {"Create"}, "actor": {coopActor}, "handled": {"true"}, "object_type": {"Note"}}, 2, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range notes {
			found = found || strings.Contains(string(r.Activity), "decision") && strings.Contains(string(r.Activity), q3)
		}
		if !found {
			t.Fatalf("no decision Note for %s among %d Notes", q3, len(notes))
		}
	})
}

func mustNum(t *testing.T, s string) int64 {
	t.Helper()
	n, err := proposalNum(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
