package handlers

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coopfed/coopfed/coop"
	"github.com/coopfed/coopfed/store"
)

// pngImage is a w×h PNG.
func pngImage(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			img.Set(x, y, color.RGBA{11, uint8(40 + x), uint8(y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// upload is a file part of a multipart form.
type upload struct {
	field, filename, contentType string
	data                         []byte
}

// postMultipart posts a multipart form, as a browser posts a form with
// files.
func (b *browser) postMultipart(path string, fields url.Values, files ...upload) (*http.Response, string) {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+f.field+`"; filename="`+f.filename+`"`)
		h.Set("Content-Type", f.contentType)
		w, err := mw.CreatePart(h)
		if err != nil {
			b.t.Fatal(err)
		}
		w.Write(f.data)
	}
	mw.Close()
	req := httptest.NewRequest("POST", "https://coop.example"+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	resp := rec.Result()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

// profileFixture adds an admin, ada, to the pages' fixture.
func profileFixture(t *testing.T) fixture {
	t.Helper()
	f := newFixture(t)
	if _, _, err := f.svc.AddMember(coop.AsAdmin(context.Background()), coop.NewMember{Handle: "ada", DisplayName: "Ada", Role: coop.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestProfilePage(t *testing.T) {
	f := profileFixture(t)
	ctx := context.Background()
	unchanged := func(t *testing.T) {
		t.Helper()
		p, err := f.svc.CoopProfile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "Example Co-op" || p.Avatar != nil || p.Header != nil {
			t.Fatalf("the profile changed: %s, avatar %v, header %v", p.Name, p.Avatar, p.Header)
		}
	}
	avatar := pngImage(t, 16, 16)
	form := func(csrf string) url.Values {
		return url.Values{"csrf": {csrf}, "name": {"Example Workers' Co-op"}, "summary": {"We build tools, together."}}
	}

	t.Run("a visitor is sent to sign in, and cannot post", func(t *testing.T) {
		b := newBrowser(t, f.handler)
		resp, _ := b.do("GET", "/admin/profile", nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Fadmin%2Fprofile" {
			t.Fatalf("GET: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, _ = b.postMultipart("/admin/profile", form("x"), upload{"avatar", "a.png", "image/png", avatar})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("POST: %d", resp.StatusCode)
		}
		unchanged(t)
	})
	t.Run("a plain member is refused", func(t *testing.T) {
		b := signedIn(t, f, "alice")
		resp, page := b.do("GET", "/admin/profile", nil)
		mustContain(t, "GET", resp.StatusCode, http.StatusForbidden, page, "Only an admin of the co-op may open the admin pages.")
		_, home := b.do("GET", "/", nil)
		resp, page = b.postMultipart("/admin/profile", form(csrfOf(t, home)), upload{"avatar", "a.png", "image/png", avatar})
		mustContain(t, "POST", resp.StatusCode, http.StatusForbidden, page, "Only an admin")
		unchanged(t)
	})

	ada := signedIn(t, f, "ada")
	resp, page := ada.do("GET", "/admin/profile", nil)
	mustContain(t, "form", resp.StatusCode, http.StatusOK, page,
		`enctype="multipart/form-data"`, `value="Example Co-op"`, `<label for="avatar">`, `<label for="header">`,
		"at most 2\u00a0MiB and 4096×4096 pixels", "at most 4\u00a0MiB and 4096×4096 pixels", "No avatar yet.")
	csrf := csrfOf(t, page)

	t.Run("a post without the form's token is refused", func(t *testing.T) {
		resp, page := ada.postMultipart("/admin/profile", form("not-the-token"), upload{"avatar", "a.png", "image/png", avatar})
		mustContain(t, "POST", resp.StatusCode, http.StatusForbidden, page, "did not come from this site")
		unchanged(t)
	})
	t.Run("errors by field, nothing changed", func(t *testing.T) {
		resp, page := ada.postMultipart("/admin/profile", form(csrf), upload{"header", "header.png", "image/png", []byte("%PDF-1.7 not an image")})
		mustContain(t, "not an image", resp.StatusCode, http.StatusBadRequest, page,
			`<span class="error" id="header-error">The file is not a PNG, JPEG, GIF or WebP image.</span>`, `aria-invalid="true"`,
			"Choose the images again", `value="Example Workers&#39; Co-op"`)
		big := append(pngImage(t, 2, 2), make([]byte, coop.MaxAvatarBytes)...)
		resp, page = ada.postMultipart("/admin/profile", form(csrf), upload{"avatar", "big.png", "image/png", big})
		mustContain(t, "too large", resp.StatusCode, http.StatusBadRequest, page, `id="avatar-error">The file is larger than the 2 MiB allowed.`)
		resp, page = ada.postMultipart("/admin/profile", form(csrf), upload{"header", "huge.png", "image/png", make([]byte, maxProfileForm)})
		mustContain(t, "over the body limit", resp.StatusCode, http.StatusRequestEntityTooLarge, page, "the header at most 4 MiB")
		v := form(csrf)
		v.Set("name", "  ")
		resp, page = ada.postMultipart("/admin/profile", v)
		mustContain(t, "no name", resp.StatusCode, http.StatusBadRequest, page, `id="name-error">The co-op needs a name.`)
		unchanged(t)
	})
	var avatarURL string
	t.Run("a PNG named .jpg is taken as the PNG it is; post, redirect, get", func(t *testing.T) {
		resp, _ := ada.postMultipart("/admin/profile", form(csrf), upload{"avatar", "logo.jpg", "image/jpeg", avatar})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/profile?saved=1" {
			t.Fatalf("POST: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		p, err := f.svc.CoopProfile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "Example Workers' Co-op" || p.Summary != "We build tools, together." || p.Avatar == nil || p.Avatar.MediaType != "image/png" {
			t.Fatalf("profile: %+v, avatar %+v", p.Actor, p.Avatar)
		}
		avatarURL = "/media/" + p.Avatar.SHA256 + ".png"
		resp, page := ada.do("GET", "/admin/profile?saved=1", nil)
		mustContain(t, "after", resp.StatusCode, http.StatusOK, page, "The profile is saved", `src="https://coop.example`+avatarURL+`"`,
			`alt="The co-op's current avatar"`, `name="remove_avatar"`)
	})
	t.Run("the image is served with its type, immutable, not sniffed", func(t *testing.T) {
		for _, method := range []string{"GET", "HEAD"} {
			rec := httptest.NewRecorder()
			f.handler.ServeHTTP(rec, httptest.NewRequest(method, avatarURL, nil))
			h := rec.Header()
			if rec.Code != 200 || h.Get("Content-Type") != "image/png" || h.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
				h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Length") != strconv.Itoa(len(avatar)) {
				t.Fatalf("%s: %d %v", method, rec.Code, h)
			}
			if method == "GET" && !bytes.Equal(rec.Body.Bytes(), avatar) {
				t.Fatal("the bytes differ")
			}
			if method == "HEAD" && rec.Body.Len() != 0 {
				t.Fatal("HEAD has a body")
			}
		}
		for _, path := range []string{strings.TrimSuffix(avatarURL, ".png") + ".jpg", "/media/" + strings.Repeat("0", 64) + ".png", "/media/nope.png", "/media/" + strings.Repeat("A", 64) + ".png"} {
			rec := httptest.NewRecorder()
			f.handler.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", path, rec.Code)
			}
		}
	})
	t.Run("the home page shows the images and the federation's co-ops", func(t *testing.T) {
		header := pngImage(t, 60, 20)
		resp, _ := ada.postMultipart("/admin/profile", form(csrf), upload{"header", "header.png", "image/png", header})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST header: %d", resp.StatusCode)
		}
		err := f.db.Write(ctx, func(tx *store.Tx) error {
			for _, uri := range []string{"https://other.example/users/coop", "https://known.example/users/coop"} {
				if err := tx.InsertPeer(ctx, coop.Peer{Actor: uri, AddedAt: time.Now(), AddedBy: "cli"}); err != nil {
					return err
				}
			}
			// known.example's actor is at hand: its name is shown.
			return tx.PutRemoteActor(ctx, store.RemoteActor{ID: "https://known.example/users/coop", Type: "Organization", PreferredUsername: "coop",
				Name: "Known Workers", Inbox: "https://known.example/users/coop/inbox", KeyID: "https://known.example/users/coop#main-key",
				PublicKeyPEM: "-", Host: "known.example", FetchedAt: time.Now()})
		})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := f.svc.CoopProfile(ctx)
		resp, page := newBrowser(t, f.handler).do("GET", "/", nil)
		mustContain(t, "home", resp.StatusCode, http.StatusOK, page,
			`<img class="avatar" src="https://coop.example`+avatarURL+`" alt="Example Workers&#39; Co-op: avatar"`,
			`<img class="coop-header" src="https://coop.example/media/`+p.Header.SHA256+`.png" alt="Example Workers&#39; Co-op: header image" width="60" height="20">`,
			`<h2 id="federation">Federation</h2>`, `<a href="https://other.example/users/coop">other.example</a> <span class="acct">https://other.example/users/coop</span>`,
			`<a href="https://known.example/users/coop">Known Workers</a> <span class="acct">@coop@known.example</span>`)
	})
	t.Run("removing an image", func(t *testing.T) {
		v := form(csrf)
		v.Set("remove_avatar", "1")
		resp, _ := ada.postMultipart("/admin/profile", v)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST: %d", resp.StatusCode)
		}
		if p, _ := f.svc.CoopProfile(ctx); p.Avatar != nil || p.Header == nil {
			t.Fatalf("avatar %v, header %v", p.Avatar, p.Header)
		}
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, httptest.NewRequest("GET", avatarURL, nil))
		if rec.Code != http.StatusNotFound {
			t.Fatalf("the removed avatar is still served: %d", rec.Code)
		}
	})
}
