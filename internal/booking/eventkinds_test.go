package booking

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestEventKindsListsEveryKind keeps eventKinds, the event kinds exported at
// zero, in step with the EventKind constants of internal/booking.
func TestEventKindsListsEveryKind(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "EventKind" {
					continue
				}
				for _, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						declared = append(declared, s)
					}
				}
			}
		}
	}
	if len(declared) == 0 {
		t.Fatal("no EventKind constant found")
	}
	slices.Sort(declared)
	var listed []string
	for _, k := range EventKinds {
		listed = append(listed, string(k))
	}
	slices.Sort(listed)
	if !slices.Equal(declared, listed) {
		t.Errorf("the package declares the event kinds %v; EventKinds lists %v", declared, listed)
	}
}
