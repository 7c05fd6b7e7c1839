package payout

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps payout pure (STYLE.md, "Which way the imports
// go"): the standard library only, and of it nothing that does I/O on its
// own account.
func TestImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	banned := map[string]bool{
		"os": true, "os/exec": true, "net": true, "net/http": true, "database/sql": true,
		"log": true, "log/slog": true, "io/fs": true, "syscall": true, "unsafe": true,
	}
	for _, imp := range strings.Fields(string(out)) {
		if first, _, _ := strings.Cut(imp, "/"); strings.Contains(first, ".") {
			t.Errorf("payout imports %s: only the standard library is allowed", imp)
		}
		if banned[imp] {
			t.Errorf("payout imports %s: no I/O, no logging", imp)
		}
	}
}
