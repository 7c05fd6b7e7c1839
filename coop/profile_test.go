package coop_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strconv"
	"strings"
	"testing"

	"github.com/coopfed/coopfed/coop"
)

// testImage encodes a w×h image in format (png, jpeg or gif).
func testImage(t testing.TB, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, nil)
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// webpLossless is a 1×1 lossless WebP (VP8L).
var webpLossless = []byte{
	'R', 'I', 'F', 'F', 0x1a, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'L',
	0x0d, 0, 0, 0, 0x2f, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07, 0x00,
}

func TestCheckImage(t *testing.T) {
	pngBytes := testImage(t, "png", 3, 2)
	// A PNG with a 5000×1 header: small file, too many pixels.
	wide := testImage(t, "png", 5000, 1)
	big := append(testImage(t, "png", 2, 2), bytes.Repeat([]byte{0}, coop.MaxAvatarBytes)...)
	tests := []struct {
		name      string
		slot      coop.ImageSlot
		data      []byte
		mediaType string
		w, h      int
		refused   string // in the reason
	}{
		{"a PNG", coop.AvatarSlot, pngBytes, "image/png", 3, 2, ""},
		{"a JPEG", coop.AvatarSlot, testImage(t, "jpeg", 4, 4), "image/jpeg", 4, 4, ""},
		{"a GIF", coop.HeaderSlot, testImage(t, "gif", 5, 1), "image/gif", 5, 1, ""},
		{"a WebP", coop.AvatarSlot, webpLossless, "image/webp", 1, 1, ""},
		{"text is not an image", coop.AvatarSlot, []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), "", 0, 0, "not a PNG, JPEG, GIF or WebP image"},
		{"an empty file", coop.AvatarSlot, []byte{}, "", 0, 0, "empty"},
		{"an avatar over 2 MiB", coop.AvatarSlot, big, "", 0, 0, "larger than the 2 MiB allowed"},
		{"a header may be over 2 MiB", coop.HeaderSlot, big, "image/png", 2, 2, ""},
		{"too many pixels", coop.HeaderSlot, wide, "", 0, 0, "5000×1 pixels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := coop.CheckImage(tt.slot, tt.data)
			if tt.refused != "" {
				var pe *coop.ProfileError
				if !errors.As(err, &pe) || !errors.Is(err, coop.ErrInvalidInput) || !strings.Contains(pe.Reason, tt.refused) {
					t.Fatalf("err = %v, want a ProfileError saying %q", err, tt.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(tt.data)
			if m.MediaType != tt.mediaType || m.Width != tt.w || m.Height != tt.h || m.SHA256 != hex.EncodeToString(sum[:]) || m.Size != int64(len(tt.data)) {
				t.Fatalf("image = %+v", m.Image)
			}
		})
	}
}

// TestUpdateCoopProfile: an admin changes the co-op's profile; a member
// cannot; a PNG named .jpg is taken as the PNG it is; the change is a
// decision-log record with the images' hashes and an Update of the
// Organization; a change that changes nothing sends nothing.
func TestUpdateCoopProfile(t *testing.T) {
	s := newService(t)
	rec := &recorder{}
	s.Publisher = rec
	op := coop.AsAdmin(context.Background())
	if _, err := s.EnsureCoop(op, "coop", "Example Co-op", "We build tools."); err != nil {
		t.Fatal(err)
	}
	for _, n := range []coop.NewMember{{Handle: "ada", Role: coop.RoleAdmin}, {Handle: "bob"}} {
		if _, _, err := s.AddMember(op, n); err != nil {
			t.Fatal(err)
		}
	}
	as := func(h string) context.Context {
		return coop.WithPrincipal(context.Background(), coop.Principal{ID: s.Site.ActorID(h), Channel: "web"})
	}
	name := "Example Workers' Co-op"
	avatar := testImage(t, "png", 8, 8) // uploaded as "logo.jpg": the name is not read

	t.Run("a member may not", func(t *testing.T) {
		before, _ := s.CoopProfile(context.Background())
		_, err := s.UpdateCoopProfile(as("bob"), coop.ProfileChange{Name: &name, Avatar: avatar})
		if !errors.Is(err, coop.ErrNotAllowed) {
			t.Fatalf("err = %v, want ErrNotAllowed", err)
		}
		after, _ := s.CoopProfile(context.Background())
		if after.Name != before.Name || after.Avatar != nil || after.Revision != before.Revision {
			t.Fatalf("the profile changed: %+v", after)
		}
		if _, err := s.UpdateCoopProfile(context.Background(), coop.ProfileChange{Name: &name}); !errors.Is(err, coop.ErrNoPrincipal) {
			t.Fatalf("nobody: %v", err)
		}
	})
	t.Run("a non-image is refused by field", func(t *testing.T) {
		_, err := s.UpdateCoopProfile(as("ada"), coop.ProfileChange{Header: []byte("GIF89a but not really")})
		var pe *coop.ProfileError
		if !errors.As(err, &pe) || pe.Field != "header" {
			t.Fatalf("err = %v, want a header ProfileError", err)
		}
		empty := " "
		if _, err := s.UpdateCoopProfile(as("ada"), coop.ProfileChange{Name: &empty}); !errors.As(err, &pe) || pe.Field != "name" {
			t.Fatalf("empty name: %v", err)
		}
	})
	rec.sent = nil
	t.Run("an admin changes name and avatar", func(t *testing.T) {
		before, _ := s.CoopProfile(context.Background())
		p, err := s.UpdateCoopProfile(as("ada"), coop.ProfileChange{Name: &name, Avatar: avatar})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(avatar)
		if p.Name != name || p.Avatar == nil || p.Avatar.MediaType != "image/png" || p.Avatar.SHA256 != hex.EncodeToString(sum[:]) || p.Header != nil {
			t.Fatalf("profile = %+v avatar %+v", p, p.Avatar)
		}
		if p.Revision != before.Revision+1 {
			t.Errorf("revision %d, want %d", p.Revision, before.Revision+1)
		}
		if want := "Update coop rev " + strconv.FormatInt(p.Revision, 10) + " manual false"; len(rec.sent) != 1 || rec.sent[0] != want {
			t.Errorf("sent %q, want [%q]", rec.sent, want)
		}
		r, _ := lastRecord(t, s)
		if r.Type != "coop.profile_changed" || r.Subject != s.Site.ActorID("coop") || r.Principal != s.Site.ActorID("ada") ||
			r.Data["avatar"] != "sha256:"+p.Avatar.SHA256 || r.Data["header"] != "" || r.Data["name"] != name {
			t.Errorf("record = %+v", r)
		}
		m, err := s.MediaByName(context.Background(), p.Avatar.SHA256+".png")
		if err != nil || !bytes.Equal(m.Bytes, avatar) {
			t.Fatalf("media: %v", err)
		}
		if _, err := s.MediaByName(context.Background(), p.Avatar.SHA256+".jpg"); !errors.Is(err, coop.ErrNotFound) {
			t.Errorf("served under another extension: %v", err)
		}
		if got := s.Site.MediaURL(*p.Avatar); got != "https://a.example/media/"+p.Avatar.SHA256+".png" {
			t.Errorf("MediaURL = %s", got)
		}
	})
	t.Run("nothing changed, nothing sent", func(t *testing.T) {
		rec.sent = nil
		if _, err := s.UpdateCoopProfile(as("ada"), coop.ProfileChange{Name: &name, Avatar: avatar}); err != nil {
			t.Fatal(err)
		}
		if len(rec.sent) != 0 {
			t.Fatalf("sent %q", rec.sent)
		}
	})
	t.Run("the operator sets a header and removes the avatar", func(t *testing.T) {
		old, _ := s.CoopProfile(context.Background())
		header := testImage(t, "jpeg", 30, 10)
		p, err := s.UpdateCoopProfile(op, coop.ProfileChange{Header: header, RemoveAvatar: true})
		if err != nil {
			t.Fatal(err)
		}
		if p.Avatar != nil || p.Header == nil || p.Header.MediaType != "image/jpeg" || p.Header.Width != 30 {
			t.Fatalf("profile: avatar %+v header %+v", p.Avatar, p.Header)
		}
		r, _ := lastRecord(t, s)
		if r.Data["avatar"] != "" || r.Data["header"] != "sha256:"+p.Header.SHA256 {
			t.Errorf("record = %+v", r.Data)
		}
		// The old avatar is no one's any more: it is gone.
		if _, err := s.MediaByName(context.Background(), old.Avatar.Name()); !errors.Is(err, coop.ErrNotFound) {
			t.Errorf("old avatar: %v", err)
		}
		if _, err := s.UpdateCoopProfile(op, coop.ProfileChange{Header: header, RemoveHeader: true}); err == nil {
			t.Error("an image and its removal were both taken")
		}
	})
}
