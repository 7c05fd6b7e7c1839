package ledger

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the ledger pure (STYLE.md, "Which way the imports
// go"): the standard library, sumdb's tlog and note, torchwood's root
// package and jcs; nothing of coopfed's.
func TestImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string]bool{
		"golang.org/x/mod/sumdb/tlog": true,
		"golang.org/x/mod/sumdb/note": true,
		"filippo.io/torchwood":        true,
		"github.com/gowebpki/jcs":     true,
	}
	for _, imp := range strings.Fields(string(out)) {
		if first, _, _ := strings.Cut(imp, "/"); !strings.Contains(first, ".") {
			continue // the standard library
		}
		if !allowed[imp] {
			t.Errorf("ledger imports %s", imp)
		}
	}
}
