package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCoopProfileCommand: the operator shows and changes the co-op's
// profile; an image is taken by its content, whatever its file's name.
func TestCoopProfileCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "coopfed.toml")
	mustCLI(t, "init", "--dir", dir, "--host", "coop.example", "--name", "Example Co-op")
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 40, 30))); err != nil {
		t.Fatal(err)
	}
	logo := filepath.Join(dir, "logo.jpg") // a PNG, whatever its name says
	notImage := filepath.Join(dir, "header.png")
	os.WriteFile(logo, b.Bytes(), 0o644)
	os.WriteFile(notImage, []byte("just text"), 0o644)

	out := mustCLI(t, "coop", "profile", "--config", cfg)
	if !strings.Contains(out, "name: Example Co-op") || !strings.Contains(out, "avatar: none") {
		t.Fatalf("show:\n%s", out)
	}
	out = mustCLI(t, "coop", "profile", "--name", "Example Workers' Co-op", "--summary", "We build tools.", "--avatar", logo, "--config", cfg)
	for _, want := range []string{"name: Example Workers' Co-op", "avatar: https://coop.example/media/", ".png (image/png, 40×30,", "header: none", "Update queued"} {
		if !strings.Contains(out, want) {
			t.Errorf("set lacks %q:\n%s", want, out)
		}
	}
	code, _, errs := cli(t, "coop", "profile", "--header", notImage, "--config", cfg)
	if code != 1 || !strings.Contains(errs, "header: the file is not a PNG, JPEG, GIF or WebP image") {
		t.Fatalf("not an image: exit %d, %s", code, errs)
	}
	code, _, errs = cli(t, "coop", "profile", "--avatar", logo, "--no-avatar", "--config", cfg)
	if code != 2 || !strings.Contains(errs, "not both") {
		t.Fatalf("both: exit %d, %s", code, errs)
	}
	out = mustCLI(t, "coop", "profile", "--no-avatar", "--config", cfg)
	if !strings.Contains(out, "avatar: none") {
		t.Fatalf("no-avatar:\n%s", out)
	}
	out = mustCLI(t, "log", "show", "--config", cfg)
	if !strings.Contains(out, "coop.profile_changed") {
		t.Errorf("the log lacks the change:\n%s", out)
	}
}
