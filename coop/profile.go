package coop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	_ "image/gif"  // GIF avatars and headers
	_ "image/jpeg" // JPEG
	_ "image/png"  // PNG
	"strings"
	"unicode/utf8"

	"github.com/coopfed/coopfed/ledger"
	_ "golang.org/x/image/webp" // WebP
)

// The co-op's profile (issue 9): its name, summary, avatar and header
// image, which its admins change and its followers receive in an
// Update{Organization}. Images are checked by what their bytes are (the
// image's own header, decoded), never by a file name or a browser's
// Content-Type, and are kept in the database by the SHA-256 of their
// bytes.

// Image limits, checked before anything is stored; the form says them.
const (
	MaxAvatarBytes = 2 << 20 // 2 MiB
	MaxHeaderBytes = 4 << 20 // 4 MiB
	// MaxImageSide bounds both sides of either image, in pixels: a small
	// file can claim a huge image, which every viewer would then decode.
	MaxImageSide = 4096
	// MaxCoopName and MaxCoopSummary bound the profile's text, in
	// characters.
	MaxCoopName    = 100
	MaxCoopSummary = 2000
)

// Image is a stored image's facts, read from the image itself.
type Image struct {
	SHA256    string // hex SHA-256 of its bytes
	MediaType string // image/png, image/jpeg, image/gif or image/webp
	Width     int
	Height    int
	Size      int64 // bytes
}

// imageFormats maps image.DecodeConfig's format names to media types and
// the file extension the image is served under.
var imageFormats = map[string]struct{ mediaType, ext string }{
	"png":  {"image/png", "png"},
	"jpeg": {"image/jpeg", "jpg"},
	"gif":  {"image/gif", "gif"},
	"webp": {"image/webp", "webp"},
}

// Ext is the file extension the image is served under.
func (i Image) Ext() string {
	for _, f := range imageFormats {
		if f.mediaType == i.MediaType {
			return f.ext
		}
	}
	return "bin"
}

// Name is the image's file name under /media/: its hash and extension.
func (i Image) Name() string { return i.SHA256 + "." + i.Ext() }

// MediaURL is where the node serves an image: immutable, since the name
// is its content's hash.
func (s Site) MediaURL(i Image) string { return s.URL("/media/" + i.Name()) }

// Media is an image with its bytes, as stored and served.
type Media struct {
	Image
	Bytes []byte
}

// ImageSlot is which of an actor's images: the avatar or the header. The
// values are the ActivityStreams properties that carry them (icon,
// image), which is also how Mastodon reads them.
type ImageSlot string

// The two images an actor may show.
const (
	AvatarSlot ImageSlot = "icon"
	HeaderSlot ImageSlot = "image"
)

// ActorImages are a local actor's avatar and header; nil when it has
// none.
type ActorImages struct {
	Avatar *Image
	Header *Image
}

// Profile is the co-op's actor with its images.
type Profile struct {
	Actor
	ActorImages
}

// ProfileError is a refused profile change, naming the field at fault
// (name, summary, avatar or header) so that a form shows it there. It
// wraps ErrInvalidInput.
type ProfileError struct {
	Field  string
	Reason string
}

func (e *ProfileError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalidInput, e.Field, e.Reason)
}

func (e *ProfileError) Unwrap() error { return ErrInvalidInput }

// CheckImage accepts a PNG, JPEG, GIF or WebP image for an actor's avatar
// or header by its content: the image's configuration (format, width,
// height) is decoded from its bytes, within the slot's limits.
func CheckImage(slot ImageSlot, data []byte) (Media, error) {
	field, max := "avatar", int64(MaxAvatarBytes)
	if slot == HeaderSlot {
		field, max = "header", MaxHeaderBytes
	}
	switch {
	case len(data) == 0:
		return Media{}, &ProfileError{field, "the file is empty"}
	case int64(len(data)) > max:
		return Media{}, &ProfileError{field, fmt.Sprintf("the file is larger than the %s allowed", sizeText(max))}
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	f, known := imageFormats[format]
	if err != nil || !known {
		return Media{}, &ProfileError{field, "the file is not a PNG, JPEG, GIF or WebP image"}
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		return Media{}, &ProfileError{field, fmt.Sprintf("the image is %d×%d pixels; at most %d×%d are allowed", cfg.Width, cfg.Height, MaxImageSide, MaxImageSide)}
	}
	sum := sha256.Sum256(data)
	return Media{
		Image: Image{SHA256: hex.EncodeToString(sum[:]), MediaType: f.mediaType, Width: cfg.Width, Height: cfg.Height, Size: int64(len(data))},
		Bytes: data,
	}, nil
}

// sizeText writes a limit for people: "2 MiB".
func sizeText(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }

// ProfileChange is what an admin changes in the co-op's profile; a nil
// field is left as it is. An image is the file's bytes as uploaded.
type ProfileChange struct {
	Name         *string
	Summary      *string
	Avatar       []byte
	Header       []byte
	RemoveAvatar bool
	RemoveHeader bool
}

// CoopProfile returns the co-op's actor with its avatar and header.
func (s *Service) CoopProfile(ctx context.Context) (Profile, error) {
	c, err := s.Store.Coop(ctx)
	if err != nil {
		return Profile{}, err
	}
	imgs, err := s.Store.ActorImages(ctx, c.ID)
	if err != nil {
		return Profile{}, fmt.Errorf("coop: profile: %w", err)
	}
	return Profile{Actor: c, ActorImages: imgs}, nil
}

// UpdateCoopProfile changes the co-op's name, summary, avatar and header;
// only an admin may. Images are checked (CheckImage) before the
// transaction. In one transaction the actor changes (its revision moves,
// so its document is rendered anew), the change is recorded in the
// decision log (coop.profile_changed, with the images' hashes), and, with
// a Publisher, the co-op's followers are sent the whole Organization in
// an Update, as a project's change is. A change that changes nothing
// records and sends nothing.
func (s *Service) UpdateCoopProfile(ctx context.Context, ch ProfileChange) (Profile, error) {
	var name, summary string
	if ch.Name != nil {
		name = strings.Join(strings.Fields(*ch.Name), " ")
		switch {
		case name == "":
			return Profile{}, &ProfileError{"name", "the co-op needs a name"}
		case utf8.RuneCountInString(name) > MaxCoopName:
			return Profile{}, &ProfileError{"name", fmt.Sprintf("the name is longer than %d characters", MaxCoopName)}
		}
	}
	if ch.Summary != nil {
		summary = strings.TrimSpace(strings.ReplaceAll(*ch.Summary, "\r\n", "\n"))
		if utf8.RuneCountInString(summary) > MaxCoopSummary {
			return Profile{}, &ProfileError{"summary", fmt.Sprintf("the summary is longer than %d characters", MaxCoopSummary)}
		}
	}
	var avatar, header *Media
	for _, img := range []struct {
		slot   ImageSlot
		field  string
		data   []byte
		remove bool
		out    **Media
	}{{AvatarSlot, "avatar", ch.Avatar, ch.RemoveAvatar, &avatar}, {HeaderSlot, "header", ch.Header, ch.RemoveHeader, &header}} {
		if img.data == nil {
			continue
		}
		if img.remove {
			return Profile{}, &ProfileError{img.field, "choose a new image or removing it, not both"}
		}
		m, err := CheckImage(img.slot, img.data)
		if err != nil {
			return Profile{}, err
		}
		*img.out = &m
	}
	var out Profile
	err := s.Store.Update(ctx, func(tx Tx) error {
		if err := s.requireAdmin(ctx, tx); err != nil {
			return err
		}
		c, err := tx.Coop(ctx)
		if err != nil {
			return err
		}
		imgs, err := tx.ActorImages(ctx, c.ID)
		if err != nil {
			return err
		}
		nextName, nextSummary := c.Name, c.Summary
		if ch.Name != nil {
			nextName = name
		}
		if ch.Summary != nil {
			nextSummary = summary
		}
		next := imgs
		changed := nextName != c.Name || nextSummary != c.Summary
		now := s.now()
		for _, img := range []struct {
			slot   ImageSlot
			cur    **Image
			media  *Media
			remove bool
		}{{AvatarSlot, &next.Avatar, avatar, ch.RemoveAvatar}, {HeaderSlot, &next.Header, header, ch.RemoveHeader}} {
			switch {
			case img.media != nil && (*img.cur == nil || (*img.cur).SHA256 != img.media.SHA256):
				if err := tx.PutMedia(ctx, *img.media, now); err != nil {
					return err
				}
				if err := tx.SetActorImage(ctx, c.ID, img.slot, img.media.SHA256); err != nil {
					return err
				}
				i := img.media.Image
				*img.cur, changed = &i, true
			case img.remove && *img.cur != nil:
				if err := tx.SetActorImage(ctx, c.ID, img.slot, ""); err != nil {
					return err
				}
				*img.cur, changed = nil, true
			}
		}
		if !changed {
			out = Profile{Actor: c, ActorImages: imgs}
			return nil
		}
		// Always, for the revision: the images live outside the actor's
		// row, and the document must be rendered anew.
		if err := tx.UpdateActorProfile(ctx, c.ID, nextName, nextSummary, now); err != nil {
			return err
		}
		if c, err = tx.Coop(ctx); err != nil {
			return err
		}
		out = Profile{Actor: c, ActorImages: next}
		facts := profileFacts(out)
		if _, err := s.logEvent(ctx, tx, event{Type: "coop.profile_changed", Subject: s.Site.ActorID(c.Handle), Data: facts, State: facts}); err != nil {
			return err
		}
		if s.Publisher == nil {
			return nil
		}
		return s.Publisher.PublishActorUpdate(ctx, tx, c, now)
	})
	if err != nil {
		return Profile{}, fmt.Errorf("coop: update the co-op's profile: %w", err)
	}
	return out, nil
}

// profileFacts is what the decision log records of the co-op's profile:
// its name, the summary's hash and the images' hashes ("" for none).
func profileFacts(p Profile) map[string]any {
	hashOf := func(i *Image) string {
		if i == nil {
			return ""
		}
		return "sha256:" + i.SHA256
	}
	return map[string]any{
		"name":    p.Name,
		"summary": ledger.HashText(p.Summary),
		"avatar":  hashOf(p.Avatar),
		"header":  hashOf(p.Header),
	}
}

// MediaByName finds a stored image by its name under /media/
// ("<sha256>.<ext>"); a name whose extension is not the image's is
// ErrNotFound, so that each image has one address.
func (s *Service) MediaByName(ctx context.Context, name string) (Media, error) {
	sum, ext, ok := strings.Cut(name, ".")
	if !ok || len(sum) != sha256.Size*2 || strings.ToLower(sum) != sum {
		return Media{}, fmt.Errorf("media %q: %w", name, ErrNotFound)
	}
	if _, err := hex.DecodeString(sum); err != nil {
		return Media{}, fmt.Errorf("media %q: %w", name, ErrNotFound)
	}
	m, err := s.Store.Media(ctx, sum)
	if err != nil {
		return Media{}, err
	}
	if m.Ext() != ext {
		return Media{}, fmt.Errorf("media %q: %w", name, ErrNotFound)
	}
	return m, nil
}
