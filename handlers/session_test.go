package handlers

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
)

// browser is a client with a cookie jar over the fixture's handler.
type browser struct {
	t       *testing.T
	h       http.Handler
	cookies map[string]*http.Cookie
}

func newBrowser(t *testing.T, h http.Handler) *browser {
	return &browser{t: t, h: h, cookies: map[string]*http.Cookie{}}
}

func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "https://coop.example"+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	resp := rec.Result()
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in:\n%s", page)
	}
	return m[1]
}

// withField is a copy of form with the field k set to v: a form sent
// again with one field changed.
func withField(form url.Values, k, v string) url.Values {
	out := url.Values{}
	for key, vs := range form {
		out[key] = vs
	}
	out.Set(k, v)
	return out
}

func TestSignInAndPassword(t *testing.T) {
	f := newFixture(t)
	oneTime, err := f.svc.ResetPassword(coop.AsAdmin(context.Background()), "alice")
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, f.handler)
	_, page := b.do("GET", "/signin", nil)
	token := csrfOf(t, page)
	if c := b.cookies[preCookie]; c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("pre-session cookie %+v", c)
	}

	t.Run("a form without its token is refused", func(t *testing.T) {
		resp, _ := b.do("POST", "/signin", url.Values{"handle": {"alice"}, "password": {oneTime}})
		if resp.StatusCode != http.StatusForbidden || b.cookies[sessionCookie] != nil {
			t.Fatalf("%d, cookie %v", resp.StatusCode, b.cookies[sessionCookie])
		}
		other := newBrowser(t, f.handler) // another site's form: no matching cookie
		resp, _ = other.do("POST", "/signin", url.Values{"csrf": {token}, "handle": {"alice"}, "password": {oneTime}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("login CSRF: %d", resp.StatusCode)
		}
	})
	t.Run("a wrong password says so, and sets no session", func(t *testing.T) {
		resp, page := b.do("POST", "/signin", url.Values{"csrf": {token}, "handle": {"alice"}, "password": {"nope nope nope"}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "The name or the password is wrong") || b.cookies[sessionCookie] != nil {
			t.Fatalf("%d\n%s", resp.StatusCode, page)
		}
	})
	resp, _ := b.do("POST", "/signin", url.Values{"csrf": {token}, "handle": {"@alice@coop.example"}, "password": {oneTime}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/password" {
		t.Fatalf("sign in with a one-time password: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	sess := b.cookies[sessionCookie]
	if sess == nil || !sess.HttpOnly || !sess.Secure || sess.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", sess)
	}
	_, page = b.do("GET", "/account/password", nil)
	if !strings.Contains(page, "one-time password: choose your own") || !strings.Contains(page, "Signed in as <strong>alice</strong>") {
		t.Fatalf("password page:\n%s", page)
	}
	token = csrfOf(t, page)
	t.Run("the new password must be long enough and typed twice", func(t *testing.T) {
		resp, page := b.do("POST", "/account/password", url.Values{"csrf": {token}, "current": {oneTime}, "new": {"short"}, "again": {"short"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "at least 12 characters") {
			t.Fatalf("%d\n%s", resp.StatusCode, page)
		}
		resp, _ = b.do("POST", "/account/password", url.Values{"csrf": {token}, "current": {oneTime}, "new": {"alice-correct-horse"}, "again": {"alice-correct-hose"}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("two different new passwords: %d", resp.StatusCode)
		}
		resp, _ = b.do("POST", "/account/password", url.Values{"current": {oneTime}, "new": {"alice-correct-horse"}, "again": {"alice-correct-horse"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("without the CSRF token: %d", resp.StatusCode)
		}
	})
	old := b.cookies[sessionCookie].Value
	resp, _ = b.do("POST", "/account/password", url.Values{"csrf": {token}, "current": {oneTime}, "new": {"alice-correct-horse"}, "again": {"alice-correct-horse"}})
	if resp.StatusCode != http.StatusSeeOther || b.cookies[sessionCookie] == nil || b.cookies[sessionCookie].Value == old {
		t.Fatalf("change: %d, cookie %v", resp.StatusCode, b.cookies[sessionCookie])
	}
	t.Run("the old session ended with the old password", func(t *testing.T) {
		stale := newBrowser(t, f.handler)
		stale.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: old}
		_, page := stale.do("GET", "/", nil)
		if strings.Contains(page, "Signed in as") {
			t.Fatalf("the old session still signs in:\n%s", page)
		}
	})
	_, page = b.do("GET", "/", nil)
	if !strings.Contains(page, "Signed in as <strong>alice</strong>") {
		t.Fatalf("home:\n%s", page)
	}
	resp, _ = b.do("POST", "/signout", url.Values{"csrf": {csrfOf(t, page)}})
	if resp.StatusCode != http.StatusSeeOther || b.cookies[sessionCookie] != nil {
		t.Fatalf("sign out: %d %v", resp.StatusCode, b.cookies[sessionCookie])
	}
	t.Run("sign-in attempts are limited", func(t *testing.T) {
		x := newBrowser(t, f.handler)
		_, page := x.do("GET", "/signin", nil)
		tok := csrfOf(t, page)
		var last int
		for range 12 {
			resp, _ := x.do("POST", "/signin", url.Values{"csrf": {tok}, "handle": {"nobody"}, "password": {"guess guess guess"}})
			last = resp.StatusCode
			if last == http.StatusTooManyRequests {
				if resp.Header.Get("Retry-After") == "" {
					t.Fatal("429 without Retry-After")
				}
				break
			}
		}
		if last != http.StatusTooManyRequests {
			t.Fatalf("12 attempts, last %d", last)
		}
	})
}
