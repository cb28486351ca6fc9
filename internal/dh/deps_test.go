package dh

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDependencies keeps the package on the standard library plus
// filippo.io/bigmod, and away from the rest of KeyCustodian: algorithms
// know nothing of storage, HTTP or policy.
func TestDependencies(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"filippo.io/bigmod": true}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if strings.Contains(first, ".") && !allowed[path] {
				t.Errorf("%s imports %s; only the standard library and filippo.io/bigmod are allowed", name, path)
			}
			if path == "math/rand" || path == "math/rand/v2" {
				t.Errorf("%s imports %s; randomness must come from crypto/rand", name, path)
			}
		}
	}
}
