// Command cost renders the cost model (docs/cost.md and docs/cost.svg) from the
// measurements in infra/cost/inputs: make cost.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/pargate/pargate/infra/cost"
)

func main() {
	inputs := flag.String("inputs", "infra/cost/inputs", "folder of the measurements")
	md := flag.String("md", "docs/cost.md", "Markdown output")
	svg := flag.String("svg", "docs/cost.svg", "SVG chart output")
	flag.Parse()
	if err := run(*inputs, *md, *svg); err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(1)
	}
}

func run(inputs, md, svg string) error {
	in, err := cost.Load(inputs)
	if err != nil {
		return err
	}
	doc, err := cost.Markdown(in)
	if err != nil {
		return err
	}
	chart, err := cost.SVG(in)
	if err != nil {
		return err
	}
	if err := os.WriteFile(md, []byte(doc), 0o644); err != nil {
		return err
	}
	return os.WriteFile(svg, []byte(chart), 0o644)
}
