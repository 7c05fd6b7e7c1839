package coopfed

import (
	"os/exec"
	"strings"
	"testing"
)

// streams is go-fed's generated vocabulary: ~700 files, slow to compile.
const streams = "github.com/go-fed/activity" + "/streams" // split so that grep-based checks do not take this test for an import

// TestStreamsStaysInFederation keeps go-fed's streams out of every package
// but federation and the commands that wire it, so that the rest of the
// tree builds and tests fast (STYLE.md, "Which way the imports go").
func TestStreamsStaysInFederation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the module")
	}
	out, err := exec.Command("go", "list", "-test=false", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(pkg, "github.com/coopfed/coopfed")
		if rel == "/federation" || strings.HasPrefix(rel, "/cmd/") {
			continue
		}
		t.Run(rel, func(t *testing.T) {
			// -test also follows the package's test imports: a handlers
			// test must not build streams either.
			deps, err := exec.Command("go", "list", "-deps", "-test", pkg).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", pkg, err)
			}
			for _, d := range strings.Fields(string(deps)) {
				if d == streams {
					t.Fatalf("%s pulls in %s; only federation may import it", pkg, streams)
				}
			}
		})
	}
}
