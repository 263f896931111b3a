package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRun_WritesTheCheckedInDocuments: make cost (this command over the checked-in
// inputs) writes exactly docs/cost.md and docs/cost.svg as they are checked in.
func TestRun_WritesTheCheckedInDocuments(t *testing.T) {
	root := filepath.Join("..", "..", "..", "..")
	dir := t.TempDir()
	md, svg := filepath.Join(dir, "cost.md"), filepath.Join(dir, "cost.svg")
	if err := run(filepath.Join(root, "infra", "cost", "inputs"), md, svg); err != nil {
		t.Fatal(err)
	}
	for got, want := range map[string]string{md: "docs/cost.md", svg: "docs/cost.svg"} {
		a, err := os.ReadFile(got)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(root, want))
		if err != nil {
			t.Fatal(err)
		}
		if string(a) != string(b) {
			t.Errorf("%s differs from what make cost writes: run make cost", want)
		}
	}
	if err := run(filepath.Join(dir, "no-inputs"), md, svg); err == nil {
		t.Error("run without inputs: no error")
	}
}
