package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
)

// signedIn is a browser signed in as the member handle, with a password
// of their own (not a one-time one).
func signedIn(t *testing.T, f fixture, handle string) *browser {
	t.Helper()
	ctx := coop.AsAdmin(context.Background())
	oneTime, err := f.svc.ResetPassword(ctx, handle)
	if err != nil {
		t.Fatal(err)
	}
	const password = "correct-horse-battery"
	if err := f.svc.ChangePassword(context.Background(), handle, oneTime, password); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, f.handler)
	_, page := b.do("GET", "/signin", nil)
	resp, _ := b.do("POST", "/signin", url.Values{"csrf": {csrfOf(t, page)}, "handle": {handle}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther || b.cookies[sessionCookie] == nil {
		t.Fatalf("sign in as %s: %d", handle, resp.StatusCode)
	}
	return b
}

// sendDirect delivers a direct message from account to the co-op's
// actor, as the inbox does: inside a store transaction.
func sendDirect(t *testing.T, f fixture, account, text string) {
	t.Helper()
	ctx := context.Background()
	to, err := f.svc.Store.ActorByHandle(ctx, "coop")
	if err != nil {
		t.Fatal(err)
	}
	err = f.svc.Store.Update(ctx, func(tx coop.Tx) error {
		return f.svc.ReceiveDirect(ctx, tx, coop.DirectMessage{To: to, Account: account, Text: text,
			NoteID: account + "#dm-" + strings.ReplaceAll(text, " ", "-"), AcceptedAt: f.svc.Clock()})
	})
	if err != nil {
		t.Fatal(err)
	}
}

var linkCodeShown = regexp.MustCompile(`id="link-code">([0-9A-Z-]{19})<`)

const annAccount = "https://x.example/users/ann"

// TestAccountLinkAndData: a member makes a link code in the page, sends
// it by direct message from their other account, confirms the link in
// the page and sees it linked; downloads their data; visitors and forged
// forms are refused.
func TestAccountLinkAndData(t *testing.T) {
	f := newFixture(t)
	t.Run("a visitor is sent to sign in", func(t *testing.T) {
		b := newBrowser(t, f.handler)
		resp, _ := b.do("GET", "/account", nil)
		// The page to come back to, decoded (the shared redirect escapes it).
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || resp.StatusCode != http.StatusSeeOther || loc.Path != "/signin" || loc.Query().Get("next") != "/account" {
			t.Fatalf("GET /account: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := b.do("POST", "/account/link-code", url.Values{}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("POST link-code as a visitor: %d", resp.StatusCode)
		}
		if resp, _ := b.do("GET", "/account/data.json", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("GET data.json as a visitor: %d", resp.StatusCode)
		}
	})
	b := signedIn(t, f, "alice")
	resp, page := b.do("GET", "/account", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `href="/account/password"`) || !strings.Contains(page, "Nothing waiting") {
		t.Fatalf("account page %d:\n%s", resp.StatusCode, page)
	}
	csrf := csrfOf(t, page)
	t.Run("a form without its token is refused", func(t *testing.T) {
		if resp, _ := b.do("POST", "/account/link-code", url.Values{"csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("link code without the token: %d", resp.StatusCode)
		}
		if resp, _ := b.do("POST", "/account/links/confirm", url.Values{"account": {annAccount}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("confirm without the token: %d", resp.StatusCode)
		}
	})
	// The form's POST makes the code and redirects (post/redirect/get):
	// the account page shows it, the same on every reload, never in the
	// URL, and no cache keeps the page.
	resp, _ = b.do("POST", "/account/link-code", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account#link-code" {
		t.Fatalf("link code POST: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page = b.do("GET", "/account", nil)
	m := linkCodeShown.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil || !strings.Contains(page, "@coop@coop.example") || !strings.Contains(page, "direct message") ||
		!strings.Contains(page, "12:15 UTC") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("link code page %d %v:\n%s", resp.StatusCode, resp.Header, page)
	}
	if _, again := b.do("GET", "/account", nil); linkCodeShown.FindStringSubmatch(again)[1] != m[1] {
		t.Fatal("a reload showed another code")
	}
	t.Run("confirming before the message is refused", func(t *testing.T) {
		resp, page := b.do("POST", "/account/links/confirm", url.Values{"csrf": {csrf}, "account": {annAccount}})
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "send the code from that account first") {
			t.Fatalf("early confirm %d:\n%s", resp.StatusCode, page)
		}
	})
	sendDirect(t, f, annAccount, "@coop@coop.example "+strings.ToLower(m[1]))
	_, page = b.do("GET", "/account", nil)
	if !strings.Contains(page, annAccount) || !strings.Contains(page, `action="/account/links/confirm"`) {
		t.Fatalf("the pending link is not shown:\n%s", page)
	}
	resp, page = b.do("POST", "/account/links/confirm", url.Values{"csrf": {csrf}, "account": {annAccount}})
	if resp.StatusCode != 200 || !strings.Contains(page, annAccount+" is now linked to you") || !strings.Contains(page, `id="linked"`) ||
		!strings.Contains(page, "Nothing waiting") {
		t.Fatalf("confirm %d:\n%s", resp.StatusCode, page)
	}
	t.Run("my data", func(t *testing.T) {
		resp, body := b.do("GET", "/account/data.json", nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("data.json %d %v", resp.StatusCode, resp.Header)
		}
		var d struct {
			Profile struct{ Handle string }
			Links   []struct {
				Account   string
				Confirmed *time.Time
			} `json:"linked_accounts"`
		}
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			t.Fatal(err)
		}
		if d.Profile.Handle != "alice" || len(d.Links) != 1 || d.Links[0].Account != annAccount || d.Links[0].Confirmed == nil {
			t.Fatalf("data %s", body)
		}
	})
	t.Run("a session that must change its password acts for nobody", func(t *testing.T) {
		oneTime, err := f.svc.ResetPassword(coop.AsAdmin(context.Background()), "alice")
		if err != nil {
			t.Fatal(err)
		}
		c := newBrowser(t, f.handler)
		_, page := c.do("GET", "/signin", nil)
		c.do("POST", "/signin", url.Values{"csrf": {csrfOf(t, page)}, "handle": {"alice"}, "password": {oneTime}})
		resp, _ := c.do("GET", "/account", nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/password" {
			t.Fatalf("GET /account with a one-time password: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}
