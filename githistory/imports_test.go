package githistory

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package to reading history (doc.go): no coopfed
// package, and no os/exec, so that no git binary is ever run. It parses
// the package's own files rather than running go list.
func TestImports(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "os/exec" || strings.HasPrefix(path, "github.com/coopfed/coopfed") {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
