package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

// peerFake stands in for package federation's publisher on the admin
// pages: it knows a few remote actors, and a Follow it sends is recorded
// and queued as the real one does. A call it does not fake panics on the
// nil Publisher it embeds.
type peerFake struct {
	coop.Publisher
	actors map[string]coop.Recipient // by account and by URL
}

func (p *peerFake) Recipient(_ context.Context, accountOrURL string) (coop.Recipient, error) {
	r, ok := p.actors[accountOrURL]
	if !ok {
		return coop.Recipient{}, fmt.Errorf("%s: %w", accountOrURL, coop.ErrNotFound)
	}
	return r, nil
}

func (p *peerFake) PublishFollow(ctx context.Context, tx coop.Tx, follower coop.Actor, target coop.Recipient, at time.Time) (string, error) {
	id := target.Actor + "#follow-by-" + follower.Handle
	if err := tx.AddFollowing(ctx, follower.ID, target.Actor, id, "pending", at); err != nil {
		return "", err
	}
	return id, tx.EnqueueDeliveries(ctx, follower.ID, id, []byte(`{"type":"Follow"}`), []string{target.Inbox}, at)
}

func (p *peerFake) PublishUndoFollow(ctx context.Context, tx coop.Tx, follower coop.Actor, target coop.Recipient, _ time.Time) error {
	_, err := tx.RemoveFollowing(ctx, follower.ID, target.Actor)
	return err
}

func (p *peerFake) PublishActorUpdate(context.Context, coop.Tx, coop.Actor, time.Time) error {
	return nil
}

// withAdmin adds the admin member ada to the fixture and a publisher
// that knows the co-ops of b.example and c.example and the person
// bob@b.example.
func withAdmin(t *testing.T, f fixture) {
	t.Helper()
	if _, _, err := f.svc.AddMember(coop.AsAdmin(context.Background()), coop.NewMember{Handle: "ada", DisplayName: "Ada", Role: coop.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	pub := &peerFake{actors: map[string]coop.Recipient{}}
	for _, r := range []coop.Recipient{
		{Actor: "https://b.example/users/coop", Type: "Organization", Acct: "coop@b.example", Inbox: "https://b.example/users/coop/inbox"},
		{Actor: "https://c.example/users/coop", Type: "Organization", Acct: "coop@c.example", Inbox: "https://c.example/users/coop/inbox"},
		{Actor: "https://b.example/users/bob", Type: "Person", Acct: "bob@b.example", Inbox: "https://b.example/users/bob/inbox"},
	} {
		pub.actors["@"+r.Acct], pub.actors[r.Actor] = r, r
	}
	f.svc.Publisher = pub
}

// refusedAll checks that a visitor and a plain member get neither the
// page nor its forms: a visitor's GET goes to sign in, a visitor's POST
// is 401, a member's 403, a forged form 403 for the admin too.
func refusedAll(t *testing.T, f fixture, page string, posts map[string]url.Values) {
	t.Helper()
	visitor := newBrowser(t, f.handler)
	resp, _ := visitor.do("GET", page, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next="+url.QueryEscape(page) {
		t.Errorf("a visitor's GET %s: %d → %s", page, resp.StatusCode, resp.Header.Get("Location"))
	}
	alice := signedIn(t, f, "alice")
	_, home := alice.do("GET", "/", nil)
	resp, body := alice.do("GET", page, nil)
	mustContain(t, "a member's GET "+page, resp.StatusCode, http.StatusForbidden, body, "Only an admin of the co-op may open the admin pages.")
	for path, form := range posts {
		resp, _ := visitor.do("POST", path, form)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a visitor's POST %s: %d", path, resp.StatusCode)
		}
		withCSRF := url.Values{"csrf": {csrfOf(t, home)}}
		for k, v := range form {
			withCSRF[k] = v
		}
		resp, body := alice.do("POST", path, withCSRF)
		mustContain(t, "a member's POST "+path, resp.StatusCode, http.StatusForbidden, body, "Only an admin of the co-op may open the admin pages.")
	}
}

// forged checks that a POST without the session's CSRF token is refused.
func forged(t *testing.T, b *browser, path string, form url.Values) {
	t.Helper()
	for _, token := range []string{"", "not-the-token"} {
		f := url.Values{"csrf": {token}}
		for k, v := range form {
			f[k] = v
		}
		resp, body := b.do("POST", path, f)
		mustContain(t, "a forged POST "+path, resp.StatusCode, http.StatusForbidden, body, "did not come from this site")
	}
}

func peers(t *testing.T, f fixture) []coop.Peer {
	t.Helper()
	ps, err := f.svc.Peers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// TestAdminFederationPage: an admin lists the federation's members,
// admits a co-op (refused with the reason for a person, a co-op listed
// already, an unknown one) and removes one; visitors, plain members and
// forged forms change nothing.
func TestAdminFederationPage(t *testing.T) {
	f := newFixture(t)
	withAdmin(t, f)
	refusedAll(t, f, "/admin/federation", map[string]url.Values{
		"/admin/federation":        {"target": {"@coop@b.example"}},
		"/admin/federation/remove": {"actor": {"https://b.example/users/coop"}},
	})
	if ps := peers(t, f); len(ps) != 0 {
		t.Fatalf("peers after refusals: %+v", ps)
	}

	ada := signedIn(t, f, "ada")
	resp, page := ada.do("GET", "/admin/federation", nil)
	mustContain(t, "the empty list", resp.StatusCode, http.StatusOK, page, "<h1>The federation's members</h1>", "Members (0)",
		"No co-op yet", `<label for="target">`)
	forged(t, ada, "/admin/federation", url.Values{"target": {"@coop@b.example"}})
	if ps := peers(t, f); len(ps) != 0 {
		t.Fatalf("peers after forged forms: %+v", ps)
	}
	csrf := csrfOf(t, page)

	resp, _ = ada.do("POST", "/admin/federation", url.Values{"csrf": {csrf}, "target": {" @coop@b.example "}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/federation?admitted=https%3A%2F%2Fb.example%2Fusers%2Fcoop" {
		t.Fatalf("admit: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page = ada.do("GET", resp.Header.Get("Location"), nil)
	mustContain(t, "after admitting", resp.StatusCode, http.StatusOK, page, "Admitted https://b.example/users/coop",
		"Members (1)", "<strong>b.example</strong>", `href="https://b.example/users/coop"`, "pending", "25 November 2026", "by ada",
		`<input type="hidden" name="actor" value="https://b.example/users/coop">`, "Remove b.example")
	if ps := peers(t, f); len(ps) != 1 || ps[0].AddedBy != "ada" || ps[0].FollowState != "pending" {
		t.Fatalf("peers: %+v", ps)
	}

	for _, tc := range []struct{ name, target, says string }{
		{"a person", "@bob@b.example", "Not a co-op (Organization) actor: https://b.example/users/bob is a Person"},
		{"a co-op listed already", "https://b.example/users/coop", "Already a member of the federation"},
		{"an unknown account", "@coop@nowhere.example", "@coop@nowhere.example: not found"},
		{"nothing", "  ", "Give the co-op&#39;s @coop@host"},
	} {
		t.Run("admitting "+tc.name+" is refused", func(t *testing.T) {
			resp, page := ada.do("POST", "/admin/federation", url.Values{"csrf": {csrf}, "target": {tc.target}})
			mustContain(t, tc.name, resp.StatusCode, http.StatusBadRequest, page, tc.says, `aria-invalid="true"`, "Members (1)")
			if strings.TrimSpace(tc.target) != "" && !strings.Contains(page, `value="`+tc.target+`"`) {
				t.Errorf("the input is not kept:\n%s", page)
			}
		})
	}

	resp, page = ada.do("POST", "/admin/federation/remove", url.Values{"csrf": {csrf}, "actor": {"https://c.example/users/coop"}})
	mustContain(t, "removing a co-op not listed", resp.StatusCode, http.StatusBadRequest, page, "Not a member of the federation: https://c.example/users/coop")
	resp, _ = ada.do("POST", "/admin/federation/remove", url.Values{"csrf": {csrf}, "actor": {"https://b.example/users/coop"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	resp, page = ada.do("GET", resp.Header.Get("Location"), nil)
	mustContain(t, "after removing", resp.StatusCode, http.StatusOK, page, "Removed https://b.example/users/coop from the federation", "Members (0)")
	if ps := peers(t, f); len(ps) != 0 {
		t.Fatalf("peers after removing: %+v", ps)
	}
}

func blockList(t *testing.T, f fixture) []coop.Block {
	t.Helper()
	bs, err := f.db.Blocks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

// TestAdminBlocksPage: an admin blocks a domain with a reason and sees
// what the block did (the follows removed, the deliveries dropped), the
// list, a block refused with its reason, a prefilled form, and lifts the
// block; visitors, plain members and forged forms change nothing.
func TestAdminBlocksPage(t *testing.T) {
	f := newFixture(t)
	withAdmin(t, f)
	ctx := context.Background()
	c, err := f.svc.Coop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := f.svc.Clock()
	// A follower on the domain to block, and a delivery queued to it.
	if err := f.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.AddFollower(ctx, c.ID, "https://bad.example/users/eve", "https://bad.example/f/1", "accepted", at); err != nil {
			return err
		}
		return tx.EnqueueDeliveries(ctx, c.ID, "https://coop.example/notes/1", []byte(`{}`), []string{"https://sub.bad.example/inbox"}, at)
	}); err != nil {
		t.Fatal(err)
	}
	refusedAll(t, f, "/admin/blocks", map[string]url.Values{
		"/admin/blocks":        {"target": {"bad.example"}, "reason": {"spam"}},
		"/admin/blocks/remove": {"target": {"bad.example"}},
	})
	if bs := blockList(t, f); len(bs) != 0 {
		t.Fatalf("blocks after refusals: %+v", bs)
	}

	ada := signedIn(t, f, "ada")
	resp, page := ada.do("GET", "/admin/blocks?target=bad.example", nil)
	mustContain(t, "the prefilled form", resp.StatusCode, http.StatusOK, page, "<h1>Blocked domains and accounts</h1>",
		`name="target" value="bad.example"`, "Nothing is blocked.", `<label for="reason">`)
	forged(t, ada, "/admin/blocks", url.Values{"target": {"bad.example"}})
	if bs := blockList(t, f); len(bs) != 0 {
		t.Fatalf("blocks after forged forms: %+v", bs)
	}
	csrf := csrfOf(t, page)

	resp, _ = ada.do("POST", "/admin/blocks", url.Values{"csrf": {csrf}, "target": {"Bad.Example."}, "reason": {"spam & abuse"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("block: %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Path != "/admin/blocks" || loc.Query().Get("blocked") != "bad.example" || loc.Query().Get("follows") != "1" || loc.Query().Get("dropped") != "1" {
		t.Fatalf("block redirects to %s", loc)
	}
	resp, page = ada.do("GET", loc.String(), nil)
	mustContain(t, "after blocking", resp.StatusCode, http.StatusOK, page,
		"Blocked the domain <strong class=\"mono\">bad.example</strong>: 1 follow removed, 1 queued delivery dropped.",
		"Blocks (1)", "spam &amp; abuse", "by ada", "25 November 2026", `aria-label="Unblock bad.example"`)
	if bs := blockList(t, f); len(bs) != 1 || bs[0].Target != "bad.example" || bs[0].Reason != "spam & abuse" || bs[0].By != "ada" {
		t.Fatalf("blocks: %+v", bs)
	}

	for _, tc := range []struct{ name, target, says string }{
		{"a domain blocked already", "bad.example", "already blocked"},
		{"a name that is no domain", "bad name.example", "Invalid domain name"},
		{"nothing", " ", "Give a domain"},
	} {
		t.Run("blocking "+tc.name+" is refused", func(t *testing.T) {
			resp, page := ada.do("POST", "/admin/blocks", url.Values{"csrf": {csrf}, "target": {tc.target}, "reason": {"kept"}})
			mustContain(t, tc.name, resp.StatusCode, http.StatusBadRequest, page, tc.says, `aria-invalid="true"`, `name="reason" value="kept"`)
		})
	}

	resp, page = ada.do("POST", "/admin/blocks/remove", url.Values{"csrf": {csrf}, "target": {"other.example"}})
	mustContain(t, "lifting no block", resp.StatusCode, http.StatusNotFound, page, "There is no such block")
	resp, _ = ada.do("POST", "/admin/blocks/remove", url.Values{"csrf": {csrf}, "target": {"bad.example"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("unblock: %d", resp.StatusCode)
	}
	resp, page = ada.do("GET", resp.Header.Get("Location"), nil)
	mustContain(t, "after unblocking", resp.StatusCode, http.StatusOK, page, "Unblocked bad.example.", "Nothing is blocked.")
	if bs := blockList(t, f); len(bs) != 0 {
		t.Fatalf("blocks after unblocking: %+v", bs)
	}
}

// queueFixture queues four deliveries from the co-op and settles three:
// one dead (410), one failing (503, due again later), one done; the
// fourth waits. It returns their ids in that order.
func queueFixture(t *testing.T, f fixture) [4]int64 {
	t.Helper()
	ctx := context.Background()
	c, err := f.svc.Coop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	at := f.svc.Clock()
	if err := f.db.Write(ctx, func(tx *store.Tx) error {
		for i, host := range []string{"dead.example", "slow.example", "fine.example", "later.example"} {
			if err := tx.EnqueueDeliveries(ctx, c.ID, fmt.Sprintf("https://coop.example/notes/%d", i+1), []byte(`{}`),
				[]string{"https://" + host + "/inbox"}, at.Add(time.Duration(i)*time.Second)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	claimed, err := f.db.ClaimDeliveries(ctx, at.Add(2*time.Second), time.Minute, 3)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	dead, slow, fine := claimed[0], claimed[1], claimed[2]
	if err := f.db.KillDelivery(ctx, dead.ID, dead.LeaseUntil, 410, "gone for good", at); err != nil {
		t.Fatal(err)
	}
	if err := f.db.RescheduleDelivery(ctx, slow.ID, slow.LeaseUntil, 503, "busy", at.Add(time.Hour), at); err != nil {
		t.Fatal(err)
	}
	if err := f.db.CompleteDelivery(ctx, fine.ID, fine.LeaseUntil, 202, at); err != nil {
		t.Fatal(err)
	}
	return [4]int64{dead.ID, slow.ID, fine.ID, fine.ID + 1}
}

func deliveryState(t *testing.T, f fixture, id int64) store.DeliveryState {
	t.Helper()
	d, err := f.db.Delivery(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.State
}

// TestAdminDeliveriesPage: an admin reads the counts per state and the
// rows of each state, retries one delivery and every dead one; a retry
// of a delivery done or unknown is refused; visitors, plain members and
// forged forms change nothing.
func TestAdminDeliveriesPage(t *testing.T) {
	f := newFixture(t)
	withAdmin(t, f)
	ids := queueFixture(t, f)
	dead := fmt.Sprint(ids[0])
	refusedAll(t, f, "/admin/deliveries", map[string]url.Values{
		"/admin/deliveries/" + dead + "/retry": nil,
		"/admin/deliveries/retry-dead":         nil,
	})
	if s := deliveryState(t, f, ids[0]); s != store.DeliveryDead {
		t.Fatalf("after refusals the dead delivery is %s", s)
	}

	ada := signedIn(t, f, "ada")
	resp, page := ada.do("GET", "/admin/deliveries", nil)
	mustContain(t, "every state", resp.StatusCode, http.StatusOK, page, "<h1>Outbound deliveries</h1>",
		`<a href="/admin/deliveries" aria-current="page">all <span class="count">4</span></a>`,
		`queued <span class="count">2</span>`, `in flight <span class="count">0</span>`, `done <span class="count">1</span>`, `dead <span class="count">1</span>`,
		"<strong>dead.example</strong>", "<code>https://coop.example/notes/1</code>", "HTTP 410: gone for good",
		"<strong>slow.example</strong>", "failing", "HTTP 503: busy", "2026-11-25 13:00 UTC",
		"<strong>fine.example</strong>", "<strong>later.example</strong>",
		"Retry all 1 dead", `aria-label="Retry: delivery `+dead+` to dead.example"`, `aria-label="Retry now: delivery `, "Retry now")
	if strings.Contains(page, fmt.Sprintf(`action="/admin/deliveries/%d/retry"`, ids[2])) {
		t.Errorf("a done delivery has a retry button:\n%s", page)
	}
	resp, page = ada.do("GET", "/admin/deliveries?state=dead", nil)
	mustContain(t, "the dead", resp.StatusCode, http.StatusOK, page, `aria-current="page">dead`, "dead.example")
	for _, other := range []string{"slow.example", "fine.example", "later.example"} {
		if strings.Contains(page, other) {
			t.Errorf("the dead list shows %s:\n%s", other, page)
		}
	}
	resp, page = ada.do("GET", "/admin/deliveries?state=in_flight", nil)
	mustContain(t, "none in flight", resp.StatusCode, http.StatusOK, page, "No deliveries in flight.")
	resp, page = ada.do("GET", "/admin/deliveries?state=lost", nil)
	mustContain(t, "an unknown state", resp.StatusCode, http.StatusBadRequest, page, "no such delivery state")

	forged(t, ada, "/admin/deliveries/"+dead+"/retry", nil)
	forged(t, ada, "/admin/deliveries/retry-dead", nil)
	if s := deliveryState(t, f, ids[0]); s != store.DeliveryDead {
		t.Fatalf("after forged forms the dead delivery is %s", s)
	}
	_, page = ada.do("GET", "/admin/deliveries?state=dead", nil)
	csrf := csrfOf(t, page)

	resp, _ = ada.do("POST", "/admin/deliveries/"+dead+"/retry", url.Values{"csrf": {csrf}, "state": {"dead"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/deliveries?retried="+dead+"&state=dead" {
		t.Fatalf("retry: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page = ada.do("GET", resp.Header.Get("Location"), nil)
	mustContain(t, "after a retry", resp.StatusCode, http.StatusOK, page, "Delivery "+dead+" is queued again, due now.",
		`dead <span class="count">0</span>`, "No deliveries dead.")
	if s := deliveryState(t, f, ids[0]); s != store.DeliveryQueued {
		t.Fatalf("the retried delivery is %s", s)
	}

	resp, page = ada.do("POST", fmt.Sprintf("/admin/deliveries/%d/retry", ids[2]), url.Values{"csrf": {csrf}})
	mustContain(t, "retrying a done delivery", resp.StatusCode, http.StatusConflict, page, "only a dead or queued one")
	resp, page = ada.do("POST", "/admin/deliveries/999/retry", url.Values{"csrf": {csrf}})
	mustContain(t, "retrying an unknown delivery", resp.StatusCode, http.StatusNotFound, page, "There is no delivery 999.")

	// Dead again, with the failing one: retry every dead one.
	ctx := context.Background()
	claimed, err := f.db.ClaimDeliveries(ctx, f.svc.Clock().Add(2*time.Hour), time.Minute, 10)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	for _, c := range claimed[:2] {
		if err := f.db.KillDelivery(ctx, c.ID, c.LeaseUntil, 0, "connection refused", f.svc.Clock()); err != nil {
			t.Fatal(err)
		}
	}
	resp, _ = ada.do("POST", "/admin/deliveries/retry-dead", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/deliveries?retried-dead=2" {
		t.Fatalf("retry the dead: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page = ada.do("GET", resp.Header.Get("Location"), nil)
	mustContain(t, "after retrying the dead", resp.StatusCode, http.StatusOK, page, "2 dead deliveries are queued again, due now.",
		`dead <span class="count">0</span>`, "connection refused")
}
