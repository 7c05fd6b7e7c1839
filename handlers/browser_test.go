package handlers

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coopfed/coopfed/coop"
)

// Browser tests drive Debian's Chromium, headless, from Go (chromedp),
// against the pages served on loopback: what a member does with a mouse
// and a keyboard. .ci/run installs chromium; without it they are
// skipped. The flags are the ones this machine's notes give (no sandbox
// as root, no GPU, and no background networking: the machine has no
// internet, and Chromium's own connections would be refused).

// chromium finds the browser, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a browser")
	}
	for _, p := range []string{os.Getenv("COOPFED_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	t.Skip("no chromium here (.ci/run installs Debian's)")
	return ""
}

// browse starts a headless Chromium of the given width for the test.
func browse(t *testing.T, width int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	// The first Run starts the browser and must not carry a timeout (it
	// would stop the browser); the test's own deadline bounds it.
	if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// A headless window is never narrower than 500 px: the viewport of a
	// phone is emulated.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), 900)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// servedFixture is the pages' fixture served on a loopback port, its
// site's URL: plain http, as a development node (cookies without Secure).
func servedFixture(t *testing.T) (fixture, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureAt(t, coop.Site{Scheme: "http", Host: ln.Addr().String()})
	srv := &http.Server{Handler: f.handler, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return f, "http://" + ln.Addr().String()
}

// secondBrowser opens another browser context in ctx's browser, width
// px wide: a second member at the same time, with their own cookies.
func secondBrowser(t *testing.T, ctx context.Context, width int) context.Context {
	t.Helper()
	ctx2, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx2, chromedp.EmulateViewport(int64(width), 900)); err != nil {
		t.Fatal(err)
	}
	return ctx2
}

// must runs steps within 30 seconds (a selector that never matches would
// wait for ever) or fails the test, saying where the page was and what
// its main said.
func must(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		where, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("%v at %s:\n%s", err, where, body)
	}
}

// ownPassword is the password ownPasswords gives a member.
func ownPassword(handle string) string { return handle + "-correct-horse" }

// ownPasswords has each member choose their own password, ownPassword(h),
// as after signing in with the one-time password an admin gave them.
func ownPasswords(t *testing.T, f fixture, handles ...string) {
	t.Helper()
	admin := coop.AsAdmin(context.Background())
	for _, h := range handles {
		oneTime, err := f.svc.ResetPassword(admin, h)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ChangePassword(context.Background(), h, oneTime, ownPassword(h)); err != nil {
			t.Fatal(err)
		}
	}
}

// signInForm fills the sign-in form, once shown, with handle and pass,
// and sends it by Enter.
func signInForm(handle, pass string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.ID("handle")),
		chromedp.SendKeys(chromedp.ID("handle"), handle),
		chromedp.SendKeys(chromedp.ID("password"), pass+"\r"), // Enter submits
	)
}

// signIn goes to url (the sign-in page, or a page that asks to sign in
// first) and signs in as handle with ownPassword(handle).
func signIn(url, handle string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Navigate(url), signInForm(handle, ownPassword(handle)))
}

// waitSignedIn waits for the header's sign of a signed-in member.
var waitSignedIn = chromedp.WaitVisible(chromedp.CSS("nav.account strong"))

// signOut sends the header's sign-out form and waits for the sign-in
// link.
var signOut = chromedp.Steps(
	chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)),
	chromedp.WaitVisible(chromedp.CSS(`a[href="/signin"]`)),
)

// screenshot saves the page and says where.
func screenshot(t *testing.T, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return err
		}
		dir := os.Getenv("COOPFED_SCREENSHOTS")
		if dir == "" {
			dir = filepath.Join(os.TempDir(), "coopfed-screenshots")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		path := filepath.Join(dir, name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			return err
		}
		t.Logf("screenshot: %s", path)
		return nil
	})
}

// TestBrowserSignInAndChangePassword: a member signs in with the
// one-time password the admin gave them, by keyboard, is taken to choose
// their own, does, and is signed in; then signs out; at 360 and 1280 px
// wide.
func TestBrowserSignInAndChangePassword(t *testing.T) {
	for _, width := range []int{360, 1280} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			ctx := browse(t, width)
			f, base := servedFixture(t)
			oneTime, err := f.svc.ResetPassword(coop.AsAdmin(context.Background()), "alice")
			if err != nil {
				t.Fatal(err)
			}
			w := strconv.Itoa(width)
			must(t, ctx,
				chromedp.Navigate(base+"/"),
				chromedp.Click(chromedp.CSS(`a[href="/signin"]`)),
				chromedp.WaitVisible(chromedp.ID("handle")),
				screenshot(t, "signin-"+w),
				signInForm("alice", oneTime),
				chromedp.WaitVisible(chromedp.ID("current")),
			)
			location, err := chromedp.Run(ctx, chromedp.Location())
			if err != nil || !strings.HasSuffix(location, "/account/password") {
				t.Fatalf("after the one-time password: %q %v", location, err)
			}
			must(t, ctx,
				screenshot(t, "password-"+w),
				chromedp.SendKeys(chromedp.ID("current"), oneTime),
				chromedp.SendKeys(chromedp.ID("new"), "alice-correct-horse"),
				chromedp.SendKeys(chromedp.ID("again"), "alice-correct-horse"),
				chromedp.Click(chromedp.CSS(`form[action="/account/password"] button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS(`nav.account strong`)),
				screenshot(t, "home-signed-in-"+w),
			)
			who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`nav.account strong`)))
			if err != nil || who != "alice" {
				t.Fatalf("signed in as %q: %v", who, err)
			}
			// The new password works; the one-time one no longer does.
			if _, _, err := f.svc.SignIn(context.Background(), "alice", "alice-correct-horse"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := f.svc.SignIn(context.Background(), "alice", oneTime); err == nil {
				t.Fatal("the one-time password still signs in")
			}
			must(t, ctx, signOut)
			signedIn, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('nav.account strong')`))
			if err != nil || signedIn {
				t.Fatalf("after sign-out: signed in %v, %v", signedIn, err)
			}
		})
	}
}
