package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/federation"
	"github.com/coopfed/coopfed/federation/sig"
	"github.com/coopfed/coopfed/governance"
	"github.com/coopfed/coopfed/ledger"
	"github.com/coopfed/coopfed/store"
)

// benchVotes posts pre-signed Mastodon-style poll votes (one
// Create{Note{name, inReplyTo}} per chosen option, as Mastodon and
// GoToSocial send them) from remote accounts linked to members, to a real
// node's shared inbox: verified, stored, and counted, each a ballot and a
// decision-log record in the transaction that stores it. Each round opens
// new multiple-choice proposals; every account votes for every option.
// The baseline is bare RSA-2048 verifications per second, measured in the
// same round.
func benchVotes(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("votes", flag.ContinueOnError)
	rf := addRoundFlags(fs)
	voters := fs.Int("voters", 50, "members, each voting from a linked remote account")
	options := fs.Int("options", 10, "options of each multiple-choice proposal (one vote each)")
	proposals := fs.Int("proposals", 4, "proposals per round")
	conc := fs.Int("concurrency", 16, "concurrent keep-alive client connections")
	clientKind := clientFlag(fs)
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of round 1's coopfed part to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	node, err := newInboundNode(ctx)
	if err != nil {
		return err
	}
	defer node.Close()
	ln, site, db, svc, counter := node.ln, node.site, node.db, node.svc, node.counter
	fetcher := federation.NewFetcher(federation.FetcherConfig{Site: site, DB: db})
	svc.Publisher = federation.NewPublisher(site, nil, fetcher)

	// The voters: members, each with a remote account (key made here,
	// document in the cache) linked the way a member links one.
	type voter struct {
		id, keyID string
		key       *rsa.PrivateKey
	}
	coopActor, err := db.Coop(ctx)
	if err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048) // one key for every account: only its owner differs
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	var vs []voter
	for i := range *voters {
		handle := fmt.Sprintf("m%03d", i)
		if i > 0 { // alice is benchNode's
			if _, _, err := svc.AddMember(ctx, coop.NewMember{Handle: handle}); err != nil {
				return err
			}
		} else {
			handle = "alice"
		}
		host := fmt.Sprintf("remote%d.example", i%8+1)
		id := fmt.Sprintf("https://%s/users/v%03d", host, i)
		v := voter{id: id, keyID: id + "#main-key", key: key}
		if err := db.PutRemoteActor(ctx, store.RemoteActor{
			ID: id, Type: "Person", PreferredUsername: fmt.Sprintf("v%03d", i), Inbox: id + "/inbox",
			SharedInbox: "https://" + host + "/inbox", Followers: id + "/followers", KeyID: v.keyID,
			PublicKeyPEM: pubPEM, Host: host, FetchedAt: time.Now(),
		}); err != nil {
			return err
		}
		mctx := coop.WithPrincipal(ctx, coop.Principal{ID: site.ActorID(handle), Channel: ledger.ChannelCLI})
		code, _, err := svc.LinkCode(mctx, handle)
		if err != nil {
			return err
		}
		if err := db.Update(ctx, func(tx coop.Tx) error {
			return svc.ReceiveDirect(ctx, tx, coop.DirectMessage{To: coopActor, Account: id, Text: code, NoteID: id + "#dm", AcceptedAt: time.Now()})
		}); err != nil {
			return err
		}
		if _, err := svc.LinkConfirm(mctx, handle, id); err != nil {
			return err
		}
		vs = append(vs, v)
	}

	stop, err := serveInbound(ctx, ln, site, db, svc, fetcher, svc)
	if err != nil {
		return err
	}
	defer stop()

	inboxURL := site.Base() + "/inbox"
	load, err := newPoster(*clientKind, inboxURL, ln.Addr().String(), *conc)
	if err != nil {
		return err
	}
	admin := coop.AsAdmin(ctx)
	np := coop.NewProposal{Group: coop.CoopGroup, Title: "Which", Method: governance.Approval, ClosesIn: time.Hour,
		Quorum: governance.Ratio{Num: 1, Den: 2}, Threshold: governance.Majority}
	for o := range *options {
		np.Options = append(np.Options, governance.Option{Key: fmt.Sprintf("o%d", o), Label: fmt.Sprintf("Option %d", o)})
	}

	// presign opens the round's proposals and signs every vote: voter by
	// voter, option by option, as Mastodon sends them, interleaved over
	// the proposals.
	presign := func(r int) ([]signed, []int64, error) {
		var nums []int64
		for range *proposals {
			p, err := svc.OpenProposal(admin, np)
			if err != nil {
				return nil, nil, err
			}
			nums = append(nums, p.Num)
		}
		var out []signed
		now := time.Now()
		for o := range *options {
			for vi, v := range vs {
				for _, num := range nums {
					q := site.ProposalURL(num)
					noteID := fmt.Sprintf("%s#votes/%d/%d/%d", v.id, r, num, o)
					body, err := json.Marshal(map[string]any{
						"@context": "https://www.w3.org/ns/activitystreams",
						"id":       noteID + "/activity", "type": "Create", "actor": v.id, "to": site.ActorID("coop"),
						"object": map[string]any{"id": noteID, "type": "Note", "name": fmt.Sprintf("Option %d", o),
							"attributedTo": v.id, "inReplyTo": q, "to": site.ActorID("coop")},
					})
					if err != nil {
						return nil, nil, err
					}
					req, err := http.NewRequest(http.MethodPost, inboxURL, nil)
					if err != nil {
						return nil, nil, err
					}
					req.Header.Set("Content-Type", "application/activity+json")
					if err := sig.Sign(req, vs[vi].keyID, v.key, body, now); err != nil {
						return nil, nil, err
					}
					out = append(out, signed{body, req.Header})
				}
			}
		}
		return out, nums, nil
	}
	countBallots := func(nums []int64) func() (int, error) {
		return func() (int, error) {
			var c int
			err := counter.QueryRowContext(ctx, `SELECT count(*) FROM ballots WHERE proposal_id BETWEEN ? AND ?`, nums[0], nums[len(nums)-1]).Scan(&c)
			return c, err
		}
	}

	n := *voters * *options * *proposals
	fmt.Printf("# Mastodon-style poll votes (one signed Create{Note} per option) to the shared inbox over loopback: %d per round (%d linked voters × %d options × %d multiple-choice proposals), %d connections (%s client), %d rounds; baseline %s of RSA-2048 verifies on %d goroutines\n",
		n, *voters, *options, *proposals, *conc, *clientKind, rf.rounds, rf.duration, runtime.GOMAXPROCS(0))
	fmt.Printf("# machine: %s\n", machine())
	fmt.Println("| round | RSA-2048 verify/s | votes answered 202/s | ratio | votes counted/s | ratio |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	var verifies, answered, counted, rA, rC []float64
	for r := 1; r <= rf.rounds; r++ {
		v, err := verifyRate(key, rf.duration)
		if err != nil {
			return err
		}
		signedReqs, nums, err := presign(r)
		if err != nil {
			return err
		}
		reqs, err := load.prepare(signedReqs)
		if err != nil {
			return err
		}
		stopProf := func() {}
		if r == 1 && *cpuprofile != "" {
			if stopProf, err = startProfile(*cpuprofile); err != nil {
				return err
			}
		}
		start := time.Now()
		firstErr := load.post(reqs)
		tAnswered := time.Since(start)
		if firstErr != nil {
			stopProf()
			return firstErr
		}
		// Each vote is a ballot: a voter's first, then the union with
		// each further option (the one it replaces stays as history).
		err = waitCount(countBallots(nums), n, 5*time.Minute)
		tCounted := time.Since(start)
		stopProf()
		if err != nil {
			return err
		}
		for _, num := range nums {
			view, err := svc.ShowProposal(ctx, num)
			if err != nil {
				return err
			}
			if view.Standing != *voters || len(view.Refusals) != 0 {
				return fmt.Errorf("proposal %d: %d standing ballots, %d refusals; want %d and 0", num, view.Standing, len(view.Refusals), *voters)
			}
			for _, c := range view.Counts.Options {
				if c.Count != int64(*voters) {
					return fmt.Errorf("proposal %d: option %s counted %d, want %d", num, c.Option, c.Count, *voters)
				}
			}
		}
		a, c := float64(n)/tAnswered.Seconds(), float64(n)/tCounted.Seconds()
		verifies, answered, counted = append(verifies, v), append(answered, a), append(counted, c)
		rA, rC = append(rA, a/v), append(rC, c/v)
		fmt.Printf("| %d | %.0f | %.0f | %.3f | %.0f | %.3f |\n", r, v, a, a/v, c, c/v)
	}
	fmt.Printf("| median | %.0f | %.0f | %.3f | %.0f | %.3f |\n", median(verifies), median(answered), median(rA), median(counted), median(rC))
	return nil
}
