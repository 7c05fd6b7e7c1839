package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
)

// adminFixture is the pages' fixture with an admin member, ada, and a
// plain member who has not chosen a password yet, cy (alice is a plain
// member too); ada and alice signed in.
func adminFixture(t *testing.T) (f fixture, ada, alice *browser) {
	t.Helper()
	f = newFixture(t)
	op := coop.AsAdmin(context.Background())
	if _, _, err := f.svc.AddMember(op, coop.NewMember{Handle: "ada", DisplayName: "Ada L.", Email: "ada@coop.example", Role: coop.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.AddMember(op, coop.NewMember{Handle: "cy", DisplayName: "Cy", Email: "cy@mail.example"}); err != nil {
		t.Fatal(err)
	}
	return f, signedIn(t, f, "ada"), signedIn(t, f, "alice")
}

// membersState is what the admin's forms change: every member, removed
// ones included, with role and password hash.
func membersState(t *testing.T, f fixture) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, h := range []string{"ada", "alice", "cy", "dan", "gone"} {
		m, err := f.db.MemberByHandle(ctx, h)
		if err != nil {
			fmt.Fprintf(&b, "%s: none\n", h)
			continue
		}
		hash, _ := f.db.MemberPasswordHash(ctx, m.ID)
		fmt.Fprintf(&b, "%s: %s removed=%v must-change=%v %s %s\n", h, m.Role, m.Removed(), m.MustChangePassword, m.Email, hash)
	}
	return b.String()
}

var oneTimeOnPage = regexp.MustCompile(`id="one-time-password">([^<]+)<`)

// TestAdminIndex: the admin index is an admin's, linked from the header
// for them only; a plain member is refused with the reason, a visitor
// sent to sign in.
func TestAdminIndex(t *testing.T) {
	f, ada, alice := adminFixture(t)
	resp, page := ada.do("GET", "/admin", nil)
	mustContain(t, "admin index", resp.StatusCode, 200, page, `<h1>Admin</h1>`, `<a href="/admin">Admin</a>`,
		`href="/admin/members">Members<`, `href="/admin/federation">Federation members<`, `href="/admin/blocks">Blocked domains and accounts<`,
		`href="/admin/reports">Reports<`, `href="/admin/deliveries">Delivery queue<`, `href="/admin/profile">Co-op profile<`)
	_, page = ada.do("GET", "/", nil)
	mustContain(t, "an admin's home", 200, 200, page, `<a href="/admin">Admin</a>`)

	resp, page = alice.do("GET", "/admin", nil)
	mustContain(t, "a plain member", resp.StatusCode, http.StatusForbidden, page, "Only an admin of the co-op may open the admin pages.")
	if _, page = alice.do("GET", "/", nil); strings.Contains(page, `href="/admin"`) {
		t.Fatalf("a plain member is shown the Admin link:\n%s", page)
	}
	resp, _ = newBrowser(t, f.handler).do("GET", "/admin", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Fadmin" {
		t.Fatalf("a visitor: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// One-time-password sessions act for nobody, an admin's too.
	oneTime, err := f.svc.ResetPassword(coop.AsAdmin(context.Background()), "ada")
	if err != nil {
		t.Fatal(err)
	}
	fresh := newBrowser(t, f.handler)
	_, page = fresh.do("GET", "/signin", nil)
	fresh.do("POST", "/signin", url.Values{"csrf": {csrfOf(t, page)}, "handle": {"ada"}, "password": {oneTime}})
	resp, page = fresh.do("GET", "/admin", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/password" {
		t.Fatalf("a one-time session: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page = fresh.do("GET", "/account/password", nil); strings.Contains(page, `href="/admin"`) {
		t.Fatal("a one-time session is shown the Admin link")
	}
}

// TestAdminMembersList: the list shows an admin every live member with
// email, role, the one-time password not yet changed, and since when; a
// plain member is refused and sees no email.
func TestAdminMembersList(t *testing.T) {
	f, ada, alice := adminFixture(t)
	resp, page := ada.do("GET", "/admin/members", nil)
	mustContain(t, "members", resp.StatusCode, 200, page, "Ada L.", "@ada@coop.example", "ada@coop.example", "Alice", "@alice@coop.example",
		"cy@mail.example", "has not chosen a password yet", "2026-11-25", `action="/admin/members/cy/role"`, `name="role" value="admin"`,
		`action="/admin/members/ada/role"`, `name="role" value="member"`, `action="/admin/members/cy/password"`, `href="/admin/members/cy/remove"`,
		`<label for="handle">Handle</label>`, `<label for="email">`, `<label for="role">Role</label>`, "3 members")
	if strings.Contains(page, "@gone@") {
		t.Fatal("a removed member is listed")
	}
	// cy holds a one-time password; ada and alice chose theirs.
	row := regexp.MustCompile(`(?s)<tr id="member-(\w+)">.*?</tr>`)
	for _, m := range row.FindAllStringSubmatch(page, -1) {
		if strings.Contains(m[0], "has not chosen a password yet") != (m[1] == "cy") {
			t.Fatalf("row of %s:\n%s", m[1], m[0])
		}
	}
	resp, page = alice.do("GET", "/admin/members", nil)
	mustContain(t, "a plain member", resp.StatusCode, http.StatusForbidden, page, "Only an admin")
	if strings.Contains(page, "cy@mail.example") {
		t.Fatal("a plain member sees an email address")
	}
	resp, _ = newBrowser(t, f.handler).do("GET", "/admin/members", nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin?next=") {
		t.Fatalf("a visitor: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestAdminFormsRefused: every admin form refuses a visitor, a plain
// member and a form without its CSRF token, and changes nothing.
func TestAdminFormsRefused(t *testing.T) {
	f, ada, alice := adminFixture(t)
	_, page := alice.do("GET", "/", nil)
	aliceToken := csrfOf(t, page)
	forms := []struct {
		path string
		form url.Values
	}{
		{"/admin/members", url.Values{"handle": {"dan"}, "name": {"Dan"}, "role": {"admin"}}},
		{"/admin/members/cy/role", url.Values{"role": {"admin"}}},
		{"/admin/members/ada/role", url.Values{"role": {"member"}}},
		{"/admin/members/cy/password", url.Values{}},
		{"/admin/members/cy/remove", url.Values{"confirm": {"yes"}}},
	}
	before := membersState(t, f)
	for _, fm := range forms {
		t.Run(fm.path, func(t *testing.T) {
			resp, page := newBrowser(t, f.handler).do("POST", fm.path, fm.form)
			mustContain(t, "a visitor", resp.StatusCode, http.StatusUnauthorized, page, "Sign in first")
			resp, page = ada.do("POST", fm.path, fm.form)
			mustContain(t, "an admin without the CSRF token", resp.StatusCode, http.StatusForbidden, page, "did not come from this site")
			withToken := url.Values{"csrf": {aliceToken}}
			for k, v := range fm.form {
				withToken[k] = v
			}
			resp, page = alice.do("POST", fm.path, withToken)
			mustContain(t, "a plain member", resp.StatusCode, http.StatusForbidden, page, "Only an admin")
			if page := page; strings.Contains(page, "one-time-password") {
				t.Fatal("a refused form shows a password")
			}
			if after := membersState(t, f); after != before {
				t.Fatalf("a refused form changed the members:\n%s\nwant\n%s", after, before)
			}
		})
	}
	resp, page := alice.do("GET", "/admin/members/cy/remove", nil)
	mustContain(t, "a plain member's confirm page", resp.StatusCode, http.StatusForbidden, page, "Only an admin")
}

// TestAdminAddMember: errors by field keep what was typed; a member
// added shows the one-time password once (200, no-store, not in a URL),
// with the sign-in address, and it signs the new member in, to choose
// their own.
func TestAdminAddMember(t *testing.T) {
	f, ada, _ := adminFixture(t)
	_, page := ada.do("GET", "/admin/members", nil)
	token := csrfOf(t, page)
	bad := []struct {
		name        string
		form        url.Values
		field, says string
	}{
		{"a removed member's handle", url.Values{"handle": {"gone"}, "name": {"Someone"}}, "handle", "never given out again"},
		{"a taken handle", url.Values{"handle": {"ALICE"}}, "handle", "is taken"},
		{"a reserved handle", url.Values{"handle": {"admin"}}, "handle", "reserved"},
		{"a malformed handle", url.Values{"handle": {"dan smith"}}, "handle", "1 to 30 letters"},
		{"a bad email", url.Values{"handle": {"dan"}, "email": {"dan at home"}, "name": {"Dan D."}}, "email", "plain address"},
		{"a bad role", url.Values{"handle": {"dan"}, "role": {"owner"}}, "role", "admin or member"},
	}
	before := membersState(t, f)
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("csrf", token)
			resp, page := ada.do("POST", "/admin/members", tt.form)
			mustContain(t, tt.name, resp.StatusCode, http.StatusBadRequest, page, `id="`+tt.field+`-error"`, tt.says,
				`value="`+tt.form.Get("handle")+`"`, "The member was not added")
			if name := tt.form.Get("name"); name != "" && !strings.Contains(page, `value="`+name+`"`) {
				t.Fatalf("the display name typed is lost:\n%s", page)
			}
			if strings.Contains(page, "one-time-password") || membersState(t, f) != before {
				t.Fatal("a refused member was added")
			}
		})
	}
	resp, page := ada.do("POST", "/admin/members", url.Values{"csrf": {token}, "handle": {"@dan"}, "name": {"Dan D."}, "email": {"dan@mail.example"}, "role": {"member"}})
	mustContain(t, "added", resp.StatusCode, 200, page, "Member added: dan", "@dan@coop.example", `href="https://coop.example/signin"`, "shows the password once")
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
	m := oneTimeOnPage.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no one-time password:\n%s", page)
	}
	password := m[1]
	_, list := ada.do("GET", "/admin/members", nil)
	mustContain(t, "the list after", 200, 200, list, "Dan D.", "dan@mail.example")
	if strings.Contains(list, password) {
		t.Fatal("the list shows the password again")
	}
	dan := newBrowser(t, f.handler)
	_, page = dan.do("GET", "/signin", nil)
	resp, _ = dan.do("POST", "/signin", url.Values{"csrf": {csrfOf(t, page)}, "handle": {"dan"}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/password" {
		t.Fatalf("dan signs in: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Posting again does not add dan twice.
	resp, page = ada.do("POST", "/admin/members", url.Values{"csrf": {token}, "handle": {"dan"}})
	mustContain(t, "added twice", resp.StatusCode, http.StatusBadRequest, page, "is taken")
}

// TestAdminRoles: an admin makes a member admin and back (post, redirect,
// get, saying what was done); the last admin is neither demoted nor
// removed.
func TestAdminRoles(t *testing.T) {
	f, ada, alice := adminFixture(t)
	_, page := ada.do("GET", "/admin/members", nil)
	token := csrfOf(t, page)

	before := membersState(t, f)
	resp, page := ada.do("POST", "/admin/members/ada/role", url.Values{"csrf": {token}, "role": {"member"}})
	mustContain(t, "demote the last admin", resp.StatusCode, http.StatusForbidden, page, "Ada is the co-op&#39;s last admin", "make another member admin first")
	resp, page = ada.do("POST", "/admin/members/ada/remove", url.Values{"csrf": {token}, "confirm": {"yes"}})
	mustContain(t, "remove the last admin", resp.StatusCode, http.StatusForbidden, page, "last admin")
	if membersState(t, f) != before {
		t.Fatal("the last admin changed")
	}
	resp, page = ada.do("POST", "/admin/members/alice/role", url.Values{"csrf": {token}, "role": {"member"}})
	mustContain(t, "unchanged", resp.StatusCode, http.StatusBadRequest, page, "Alice is a plain member already")
	resp, page = ada.do("POST", "/admin/members/alice/role", url.Values{"csrf": {token}, "role": {"owner"}})
	mustContain(t, "bad role", resp.StatusCode, http.StatusBadRequest, page, "admin or member")
	resp, page = ada.do("POST", "/admin/members/nobody/role", url.Values{"csrf": {token}, "role": {"admin"}})
	mustContain(t, "unknown member", resp.StatusCode, http.StatusNotFound, page)

	resp, _ = ada.do("POST", "/admin/members/alice/role", url.Values{"csrf": {token}, "role": {"admin"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/members?done=role&member=alice" {
		t.Fatalf("promote: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = ada.do("GET", resp.Header.Get("Location"), nil)
	mustContain(t, "after promotion", 200, 200, page, "alice is now an admin.", `action="/admin/members/alice/role"`)
	resp, page = alice.do("GET", "/admin", nil)
	mustContain(t, "alice an admin", resp.StatusCode, 200, page, `<a href="/admin">Admin</a>`)

	// Two admins: ada steps down herself, and lands on the home page.
	resp, _ = ada.do("POST", "/admin/members/ada/role", url.Values{"csrf": {token}, "role": {"member"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("step down: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := ada.do("GET", "/admin", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a former admin opens /admin: %d", resp.StatusCode)
	}
	if m, _ := f.svc.Member(context.Background(), "ada"); m.Role != coop.RoleMember {
		t.Fatalf("ada is %s", m.Role)
	}
}

// TestAdminResetPassword: the new one-time password is shown once and
// signs the member in; their old password and browser session end.
func TestAdminResetPassword(t *testing.T) {
	f, ada, alice := adminFixture(t)
	if resp, _ := alice.do("GET", "/account", nil); resp.StatusCode != 200 {
		t.Fatalf("alice's account: %d", resp.StatusCode)
	}
	_, page := ada.do("GET", "/admin/members", nil)
	resp, page := ada.do("POST", "/admin/members/ALICE/password", url.Values{"csrf": {csrfOf(t, page)}})
	mustContain(t, "reset", resp.StatusCode, 200, page, "New password for alice", "their old password and their sessions ended", `href="https://coop.example/signin"`)
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
	m := oneTimeOnPage.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no password:\n%s", page)
	}
	resp, _ = alice.do("GET", "/account", nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
		t.Fatalf("alice's old session still opens her account: %d", resp.StatusCode)
	}
	if _, _, err := f.svc.SignIn(context.Background(), "alice", "correct-horse-battery"); err == nil {
		t.Fatal("the old password still signs in")
	}
	again := newBrowser(t, f.handler)
	_, page = again.do("GET", "/signin", nil)
	resp, _ = again.do("POST", "/signin", url.Values{"csrf": {csrfOf(t, page)}, "handle": {"alice"}, "password": {m[1]}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/password" {
		t.Fatalf("sign in with the new one-time password: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestAdminRemoveMember: a confirmation step, then removal for good: the
// member's session ends and the handle is not given out again.
func TestAdminRemoveMember(t *testing.T) {
	f, ada, alice := adminFixture(t)
	resp, page := ada.do("GET", "/admin/members/alice/remove", nil)
	mustContain(t, "confirm page", resp.StatusCode, 200, page, "Remove Alice", "never given out again", `type="checkbox" id="confirm" name="confirm" value="yes" required`,
		`<label for="confirm">`, `action="/admin/members/alice/remove"`)
	token := csrfOf(t, page)
	before := membersState(t, f)
	resp, page = ada.do("POST", "/admin/members/alice/remove", url.Values{"csrf": {token}})
	mustContain(t, "unconfirmed", resp.StatusCode, http.StatusBadRequest, page, `id="confirm-error"`, "Tick the box")
	if membersState(t, f) != before {
		t.Fatal("an unconfirmed removal removed")
	}
	if resp, _ := ada.do("GET", "/admin/members/gone/remove", nil); resp.StatusCode != http.StatusGone {
		t.Fatalf("confirm page of a removed member: %d", resp.StatusCode)
	}
	if resp, _ := ada.do("GET", "/admin/members/nobody/remove", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("confirm page of nobody: %d", resp.StatusCode)
	}

	resp, _ = ada.do("POST", "/admin/members/alice/remove", url.Values{"csrf": {token}, "confirm": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/members?done=removed&member=alice" {
		t.Fatalf("remove: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page = ada.do("GET", resp.Header.Get("Location"), nil)
	mustContain(t, "after removal", 200, 200, page, "alice was removed. The handle alice will never be given out again.")
	if strings.Contains(page, `id="member-alice"`) {
		t.Fatal("alice is still listed")
	}
	if _, page = ada.do("GET", "/admin/members?done=removed&member=cy", nil); strings.Contains(page, "cy was removed") {
		t.Fatal("a crafted address says a live member was removed")
	}
	// Alice's browser session ended with her membership.
	resp, page = alice.do("GET", "/account", nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
		t.Fatalf("a removed member's session opens a members-only page: %d\n%s", resp.StatusCode, page)
	}
	resp, page = ada.do("POST", "/admin/members/alice/remove", url.Values{"csrf": {token}, "confirm": {"yes"}})
	mustContain(t, "removed twice", resp.StatusCode, http.StatusGone, page)
	resp, page = ada.do("POST", "/admin/members", url.Values{"csrf": {token}, "handle": {"alice"}})
	mustContain(t, "the handle again", resp.StatusCode, http.StatusBadRequest, page, "never given out again")
}
