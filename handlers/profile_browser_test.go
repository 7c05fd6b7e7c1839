package handlers

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

// logoImage draws an avatar-like w×h image (a ring on the accent colour)
// and encodes it as JPEG.
func logoImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			c := color.RGBA{11, 95, 58, 255}
			dx, dy := x-w/2, y-h/2
			if r := dx*dx + dy*dy; r < (h/3)*(h/3) && r > (h/5)*(h/5) {
				c = color.RGBA{253, 253, 251, 255}
			} else if (x/40+y/40)%2 == 0 && w > h {
				c = color.RGBA{26, 95, 140, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBrowserProfileUpload: an admin chooses a text file as the header
// and is told why it was refused, next to the field; then chooses an
// avatar and a header in the profile form, saves, and sees them on the home page (loaded from
// /media), with the federation's co-ops; at 360 and 1280 px, with
// screenshots.
func TestBrowserProfileUpload(t *testing.T) {
	chromium(t)
	dir := t.TempDir()
	avatarFile, headerFile := filepath.Join(dir, "logo.jpg"), filepath.Join(dir, "banner.jpg")
	if err := os.WriteFile(avatarFile, logoImage(t, 160, 160), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(headerFile, logoImage(t, 1200, 400), 0o644); err != nil {
		t.Fatal(err)
	}
	notImage := filepath.Join(dir, "banner.png")
	if err := os.WriteFile(notImage, []byte("a banner, in words"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{360, 1280} {
		t.Run(strconv.Itoa(width)+"px", func(t *testing.T) {
			ctx := browse(t, width)
			f, base := servedFixture(t)
			admin := coop.AsAdmin(context.Background())
			if _, _, err := f.svc.AddMember(admin, coop.NewMember{Handle: "ada", DisplayName: "Ada", Role: coop.RoleAdmin}); err != nil {
				t.Fatal(err)
			}
			ownPasswords(t, f, "ada")
			err := f.db.Write(context.Background(), func(tx *store.Tx) error {
				for _, uri := range []string{"https://tools.example/users/coop", "https://care-coop.example/users/coop"} {
					if err := tx.InsertPeer(context.Background(), coop.Peer{Actor: uri, AddedAt: time.Now(), AddedBy: "cli"}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			w := strconv.Itoa(width)
			must(t, ctx,
				signIn(base+"/signin?next=/admin/profile", "ada"),
				chromedp.WaitVisible(chromedp.ID("avatar")),
				screenshot(t, "admin-profile-empty-"+w),
				// A text file chosen as the header: refused by its content.
				chromedp.SetUploadFiles(chromedp.ID("header"), []string{notImage}),
				chromedp.Click(chromedp.CSS(`form[action="/admin/profile"] button[type=submit]`)),
				chromedp.WaitVisible(chromedp.ID("header-error")),
				screenshot(t, "admin-profile-error-"+w),
				chromedp.SetUploadFiles(chromedp.ID("avatar"), []string{avatarFile}),
				chromedp.SetUploadFiles(chromedp.ID("header"), []string{headerFile}),
				chromedp.Click(chromedp.CSS(`form[action="/admin/profile"] button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS("p.notice")),
				chromedp.WaitVisible(chromedp.CSS("img.avatar")),
				screenshot(t, "admin-profile-"+w),
				chromedp.Navigate(base+"/"),
				chromedp.WaitVisible(chromedp.CSS("img.avatar")),
				chromedp.WaitVisible(chromedp.CSS("img.coop-header")),
			)
			// The images were loaded: the browser decoded what /media served.
			sizes, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`(async () => {
				const imgs = [document.querySelector('img.avatar'), document.querySelector('img.coop-header')];
				await Promise.all(imgs.map(i => i.decode()));
				return imgs.map(i => i.naturalWidth);
			})()`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			if len(sizes) != 2 || sizes[0] != 160 || sizes[1] != 1200 {
				t.Fatalf("natural widths %v, want [160 1200]", sizes)
			}
			src, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("img.avatar"), "src"))
			if err != nil || !strings.HasPrefix(src.Value, base+"/media/") || !strings.HasSuffix(src.Value, ".jpg") {
				t.Fatalf("avatar src %q, %v", src.Value, err)
			}
			fed, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`section[aria-labelledby="federation"]`)))
			if err != nil || !strings.Contains(fed, "tools.example") || !strings.Contains(fed, "care-coop.example") {
				t.Fatalf("federation section %q, %v", fed, err)
			}
			// Nothing wider than the window.
			scroll, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			if err != nil || scroll > width {
				t.Errorf("page is %d px wide in a %d px window (%v)", scroll, width, err)
			}
			must(t, ctx, screenshot(t, "home-profile-"+w))
		})
	}
}
