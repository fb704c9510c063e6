// Package selfcheck holds tests about the repository itself rather than any one
// package: a clone with nothing beside it must pass `make test`.
package selfcheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// moduleRoot is the folder holding go.mod, found upwards from this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// relativePaths returns the relative paths a Go file spells out: string literals
// that climb ("../…" or ".."), and filepath.Join / path.Join calls whose
// arguments are all string literals, joined.
func relativePaths(f *ast.File) map[token.Pos]string {
	out := map[token.Pos]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Join" || len(n.Args) == 0 {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || (pkg.Name != "filepath" && pkg.Name != "path") {
				return true
			}
			var parts []string
			for _, a := range n.Args {
				lit, ok := a.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					return true
				}
				parts = append(parts, s)
			}
			out[n.Pos()] = filepath.Join(parts...)
			return false
		case *ast.BasicLit:
			if n.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(n.Value); err == nil && (s == ".." || strings.HasPrefix(s, "../")) {
				out[n.Pos()] = s
			}
		}
		return true
	})
	return out
}

// escapes reports whether rel, taken from a file in dir, names a place outside root.
func escapes(root, dir, rel string) bool {
	r, err := filepath.Rel(root, filepath.Join(dir, rel))
	return err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator))
}

// TestNoTestReadsOutsideTheModule fails when any Go file of the module spells a
// relative path that leaves it, such as the PSPLIB folder beside the repository that
// the planner's tests once read: CI has that folder beside its clone, a user's clone
// does not.
func TestNoTestReadsOutsideTheModule(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		for pos, rel := range relativePaths(f) {
			if escapes(root, filepath.Dir(path), rel) {
				t.Errorf("%s: %q leaves the module: carry the file in the repository (testdata/)", fset.Position(pos), rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("checked only %d Go files under %s", checked, root)
	}
}

// TestEscapesCatchesTheOldPlannerPath keeps the check itself honest: the path the
// planner's tests used to read is caught, paths inside the module are not.
func TestEscapesCatchesTheOldPlannerPath(t *testing.T) {
	t.Parallel()
	src := `package p
import "path/filepath"
const a = "../../../beside/psplib"
var b = filepath.Join("..", "..", "..", "beside")
var c = filepath.Join("..", "..", "test-output")
const d = "../calendar/testdata"
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.FromSlash("/repo")
	dir := filepath.Join(root, "internal", "planner")
	var out []string
	for _, rel := range relativePaths(f) {
		if escapes(root, dir, rel) {
			out = append(out, rel)
		}
	}
	if len(out) != 2 {
		t.Fatalf("escaping paths %q, want the beside/psplib literal and the beside Join", out)
	}
}
