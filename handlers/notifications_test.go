package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
)

// TestNotificationsPage: a member's notifications, newest first, the
// unread ones marked and counted on /account; "mark all as read"; refused
// to visitors and to forged forms.
func TestNotificationsPage(t *testing.T) {
	f := newFixture(t)
	if _, _, err := f.svc.AddMember(coop.AsAdmin(context.Background()), coop.NewMember{Handle: "bea"}); err != nil {
		t.Fatal(err)
	}
	openTestProposal(t, f, "alice", "Move to Forgejo")
	storeNote(t, f, replyNote(f, "https://peer.test/users/zed/statuses/1", "<p>Why now?</p>"), "Zed")

	visitor := newBrowser(t, f.handler)
	resp, _ := visitor.do("GET", "/account/notifications", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Faccount%2Fnotifications" {
		t.Fatalf("a visitor: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := visitor.do("POST", "/account/notifications/read", url.Values{}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a visitor's POST: %d", resp.StatusCode)
	}

	bea := signedIn(t, f, "bea")
	resp, page := bea.do("GET", "/account/notifications", nil)
	mustContain(t, "bea's", resp.StatusCode, 200, page, "<h1>My notifications</h1>", `id="unread-count">1 unread`,
		`A proposal waits for your vote: <a href="/proposals/1">Move to Forgejo</a>`, `class="notification unread"`)
	if strings.Contains(page, "replied") {
		t.Errorf("bea sees a reply to alice's proposal:\n%s", page)
	}
	_, acct := bea.do("GET", "/account", nil)
	mustContain(t, "the count on /account", 200, 200, acct, `href="/account/notifications" id="notifications-link">My notifications <span class="count">1<span class="visually-hidden"> unread</span>`)

	alice := signedIn(t, f, "alice")
	_, page = alice.do("GET", "/account/notifications", nil)
	mustContain(t, "alice's", 200, 200, page, `2 unread`, `Zed (@zed@peer.test) replied to your proposal <a href="/proposals/1#discussion">Move to Forgejo</a>`)
	if strings.Index(page, "replied to your proposal") > strings.Index(page, "waits for your vote") {
		t.Errorf("not newest first:\n%s", page)
	}

	csrf := csrfOf(t, page)
	if resp, _ := bea.do("POST", "/account/notifications/read", url.Values{"csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("without the token: %d", resp.StatusCode)
	}
	resp, _ = alice.do("POST", "/account/notifications/read", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/notifications?done=read" {
		t.Fatalf("mark read: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page = alice.do("GET", "/account/notifications?done=read", nil)
	mustContain(t, "after marking", resp.StatusCode, 200, page, "All marked as read.", `id="unread-count">All read`, "replied to your proposal")
	if strings.Contains(page, `class="notification unread"`) || strings.Contains(page, `id="mark-read"`) {
		t.Errorf("still unread:\n%s", page)
	}
	if _, acct := alice.do("GET", "/account", nil); strings.Contains(acct, `class="count"`) {
		t.Errorf("/account still counts unread ones")
	}
	if _, page := bea.do("GET", "/account/notifications", nil); !strings.Contains(page, "1 unread") {
		t.Errorf("alice's mark changed bea's:\n%s", page)
	}
}

// TestAccountAliases: a member lists, adds and removes their own commit
// addresses on /account; another member's address and a malformed one
// are refused with the reason by the field.
func TestAccountAliases(t *testing.T) {
	f := newFixture(t)
	if _, _, err := f.svc.AddMember(coop.AsAdmin(context.Background()), coop.NewMember{Handle: "bea", Email: "bea@home.example"}); err != nil {
		t.Fatal(err)
	}
	visitor := newBrowser(t, f.handler)
	if resp, _ := visitor.do("POST", "/account/aliases", url.Values{"email": {"x@y.example"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a visitor: %d", resp.StatusCode)
	}
	alice := signedIn(t, f, "alice")
	_, page := alice.do("GET", "/account", nil)
	mustContain(t, "no aliases", 200, 200, page, "My commit addresses", `<label for="alias-email">`)
	csrf := csrfOf(t, page)
	if resp, _ := alice.do("POST", "/account/aliases", url.Values{"email": {"alice@old.example"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("without the token: %d", resp.StatusCode)
	}
	resp, _ := alice.do("POST", "/account/aliases", url.Values{"csrf": {csrf}, "email": {"Alice@Old.Example"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account?done=alias-added#aliases" {
		t.Fatalf("add: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page = alice.do("GET", "/account?done=alias-added", nil)
	mustContain(t, "added", resp.StatusCode, 200, page, "The address was added", `<span class="mono">alice@old.example</span>`,
		`aria-label="Remove alice@old.example"`)

	resp, page = alice.do("POST", "/account/aliases", url.Values{"csrf": {csrf}, "email": {"bea@home.example"}})
	mustContain(t, "another member's", resp.StatusCode, http.StatusBadRequest, page, `id="alias-error">Bea@home.example is another member&#39;s address.`,
		`value="bea@home.example"`)
	resp, page = alice.do("POST", "/account/aliases", url.Values{"csrf": {csrf}, "email": {"not an address"}})
	mustContain(t, "malformed", resp.StatusCode, http.StatusBadRequest, page, "is not an email address")

	resp, _ = alice.do("POST", "/account/aliases/remove", url.Values{"csrf": {csrf}, "email": {"alice@old.example"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account?done=alias-removed#aliases" {
		t.Fatalf("remove: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = alice.do("GET", "/account", nil)
	if strings.Contains(page, "alice@old.example") {
		t.Errorf("still listed:\n%s", page)
	}
	resp, page = alice.do("POST", "/account/aliases/remove", url.Values{"csrf": {csrf}, "email": {"alice@old.example"}})
	mustContain(t, "removing again", resp.StatusCode, http.StatusNotFound, page, "is not one of alice")
}
