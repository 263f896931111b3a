package httpapi_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestConformanceTableNamesTestsThatExist keeps CONFORMANCE.md honest ("no row
// without a test"): every test it names is declared in the package it names, so a
// renamed or deleted test fails here instead of leaving a row without proof. Subtest
// names are checked by running them (the command at the top of CONFORMANCE.md).
func TestConformanceTableNamesTestsThatExist(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "CONFORMANCE.md"))
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile("`((?:pkg|infra)/[\\w/]+) ((?:Test|Fuzz)\\w+)(?:/[^`]*)?`").FindAllStringSubmatch(string(doc), -1)
	if len(refs) < 100 {
		t.Fatalf("found %d test references in CONFORMANCE.md; the table format changed?", len(refs))
	}
	sources := map[string]string{}
	for _, ref := range refs {
		dir, name := ref[1], ref[2]
		src, ok := sources[dir]
		if !ok {
			files, err := filepath.Glob(filepath.Join("..", "..", dir, "*_test.go"))
			if err != nil || len(files) == 0 {
				t.Errorf("CONFORMANCE.md names package %s, which has no tests", dir)
				continue
			}
			var b strings.Builder
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				b.Write(data)
			}
			src = b.String()
			sources[dir] = src
		}
		if !strings.Contains(src, "func "+name+"(") {
			t.Errorf("CONFORMANCE.md names %s %s, which does not exist", dir, name)
		}
	}
}
