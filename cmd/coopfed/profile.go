package main

import (
	"context"
	"fmt"
	"os"

	"github.com/coopfed/coopfed/coop"
)

func runCoop(ctx context.Context, e *env, args []string) error {
	return runSub(ctx, e, "coop", args, []command{
		{"profile", "show or change the co-op's name, summary, avatar and header (Update sent to its followers)", coopProfile},
	})
}

// coopProfile shows the co-op's profile, or changes it when a flag is
// given. Images are read from files and checked by their content (PNG,
// JPEG, GIF or WebP; avatar at most 2 MiB, header at most 4 MiB, each at
// most 4096×4096 pixels).
func coopProfile(ctx context.Context, e *env, args []string) error {
	fs := newFlags("coop profile", "coop profile [--name NAME] [--summary TEXT] [--avatar FILE|--no-avatar] [--header FILE|--no-header] [--config PATH]", e.stderr)
	path := configFlag(fs)
	var ch coop.ProfileChange
	strFlag := func(target **string, name, usage string) {
		fs.Func(name, usage, func(v string) error { *target = &v; return nil })
	}
	strFlag(&ch.Name, "name", "the co-op's new name")
	strFlag(&ch.Summary, "summary", "a new summary")
	avatar := fs.String("avatar", "", "an image file for the avatar (PNG, JPEG, GIF or WebP, at most 2 MiB and 4096×4096)")
	header := fs.String("header", "", "an image file for the header (PNG, JPEG, GIF or WebP, at most 4 MiB and 4096×4096)")
	fs.BoolVar(&ch.RemoveAvatar, "no-avatar", false, "remove the avatar")
	fs.BoolVar(&ch.RemoveHeader, "no-header", false, "remove the header")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(fs, pos, 0, ""); err != nil {
		return err
	}
	if *avatar != "" && ch.RemoveAvatar || *header != "" && ch.RemoveHeader {
		fs.Usage()
		return usagef("give an image or --no-..., not both")
	}
	for _, f := range []struct {
		file string
		out  *[]byte
	}{{*avatar, &ch.Avatar}, {*header, &ch.Header}} {
		if f.file == "" {
			continue
		}
		if *f.out, err = readImageFile(f.file); err != nil {
			return err
		}
	}
	n, err := openNode(ctx, *path)
	if err != nil {
		return err
	}
	defer n.Close()
	change := ch.Name != nil || ch.Summary != nil || ch.Avatar != nil || ch.Header != nil || ch.RemoveAvatar || ch.RemoveHeader
	var p coop.Profile
	if change {
		p, err = n.svc.UpdateCoopProfile(ctx, ch)
	} else {
		p, err = n.svc.CoopProfile(ctx)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "name: %s\n", p.Name)
	fmt.Fprintf(e.stdout, "summary: %q\n", p.Summary)
	for _, img := range []struct {
		what string
		img  *coop.Image
	}{{"avatar", p.Avatar}, {"header", p.Header}} {
		if img.img == nil {
			fmt.Fprintf(e.stdout, "%s: none\n", img.what)
			continue
		}
		fmt.Fprintf(e.stdout, "%s: %s (%s, %d×%d, %d bytes)\n", img.what, n.svc.Site.MediaURL(*img.img), img.img.MediaType, img.img.Width, img.img.Height, img.img.Size)
	}
	if change {
		fmt.Fprintf(e.stdout, "the co-op is at revision %d (Update queued to its followers)\n", p.Revision)
	}
	return nil
}

// readImageFile reads an image file, refusing one larger than any image
// may be before reading it whole.
func readImageFile(name string) ([]byte, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if st.Size() > coop.MaxHeaderBytes {
		return nil, fmt.Errorf("%w: %s is %d bytes, more than any image may be (%d)", coop.ErrInvalidInput, name, st.Size(), coop.MaxHeaderBytes)
	}
	return os.ReadFile(name)
}
