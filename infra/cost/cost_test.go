package cost_test

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pargate/pargate/infra/cost"
)

func inputs(t *testing.T) cost.Inputs {
	t.Helper()
	in, err := cost.Load("inputs")
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func readRepo(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestSizing_Arithmetic: CPU is shared in proportion to memory up to one vCPU at
// 1,769 MB, a step's CPU stretches by that share and its wait does not, and Lambda
// bills the duration rounded up to the millisecond times the memory.
func TestSizing_Arithmetic(t *testing.T) {
	if got := cost.VCPU(1769); got != 1 {
		t.Errorf("VCPU(1769) = %v, want 1", got)
	}
	if got := cost.VCPU(3538); got != 1 {
		t.Errorf("VCPU(3538) = %v, want 1 (one lane uses one core)", got)
	}
	in := cost.Inputs{Argon2Asm: 20, Argon2Generic: 30, Emulator: cost.Emulator{Steps: map[string]cost.Step{
		"login": {CPUMillis: 25, WallMillis: 31}, "authorize": {CPUMillis: 1, WallMillis: 5},
		"consent": {CPUMillis: 1, WallMillis: 5}, "approve": {CPUMillis: 1, WallMillis: 9},
	}}}
	if got := in.StepCPU("login"); got != 35 {
		t.Errorf("login CPU = %v, want 25 - 20 (assembly) + 30 (generic)", got)
	}
	if got := in.StepMillis("login", 1769); got != 41 {
		t.Errorf("login at 1769 MB = %v ms, want 35 CPU + 6 wait", got)
	}
	half := cost.LambdaMBPerVCPU / 2
	if got, want := in.StepMillis("login", half), 35/cost.VCPU(half)+6; got != want {
		t.Errorf("login at %d MB = %v ms, want %v", half, got, want)
	}
	if got := cost.GBSeconds(0.2, 1024); got != 0.001 {
		t.Errorf("GBSeconds(0.2 ms, 1024 MB) = %v, want 1 ms x 1 GB", got)
	}
}

// TestAuthorizeMemory_IsTheTemplatesAndTheREADMEs: the template deploys the memory
// the table picks, and the README's table is the one the checked-in measurements
// give.
func TestAuthorizeMemory_IsTheTemplatesAndTheREADMEs(t *testing.T) {
	tpl := readRepo(t, "template.yaml")
	m := regexp.MustCompile(`(?s)\n  AuthorizeFunction:\n.*?\n      MemorySize: (\d+)`).FindStringSubmatch(tpl)
	if m == nil {
		t.Fatal("template.yaml: AuthorizeFunction has no MemorySize")
	}
	if mb, _ := strconv.Atoi(m[1]); mb != cost.AuthorizeMemoryMB {
		t.Errorf("template.yaml AuthorizeFunction MemorySize %d, the table picks %d", mb, cost.AuthorizeMemoryMB)
	}
	if table := cost.AuthorizeTable(inputs(t)); !strings.Contains(readRepo(t, "README.md"), table) {
		t.Errorf("README.md does not have the Authorize memory table of infra/cost/inputs:\n%s", table)
	}
}

// TestGenerated_IsCheckedIn: docs/cost.md and docs/cost.svg are what make cost renders
// from the checked-in measurements (infra/cost/inputs), so the published figures are
// the inputs' and a change of a price or an input comes with the documents.
func TestGenerated_IsCheckedIn(t *testing.T) {
	in := inputs(t)
	md, err := cost.Markdown(in)
	if err != nil {
		t.Fatal(err)
	}
	svg, err := cost.SVG(in)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"docs/cost.md": md, "docs/cost.svg": svg} {
		if readRepo(t, path) != want {
			t.Errorf("%s is not what the inputs give: run make cost", path)
		}
	}
	if !strings.Contains(md, cost.AuthorizeTable(in)) {
		t.Error("docs/cost.md lacks the Authorize memory table")
	}
}

// TestPrice_LineItems: the bill follows from the inputs by the list prices: the
// requests of a flow through API Gateway and Lambda, the DynamoDB units of its calls
// (a transaction's items twice), and fapi2's jti records.
func TestPrice_LineItems(t *testing.T) {
	in := inputs(t)
	in.DynamoDB = cost.DynamoDB{
		Steps: []cost.DynamoDBStep{
			{Step: "push", Calls: []string{"GetItem client", "PutItem par"}},
			{Step: "approve", Calls: []string{"TransactWriteItems par+code", "BatchGetItem login+login"}},
		},
		ItemBytes: map[string]int{"client": 5000, "par": 1500, "code": 300},
	}
	u, err := in.DynamoDBUnits()
	if err != nil {
		t.Fatal(err)
	}
	// client 5000 B: 2 read units; 2 missing login counters: 1 each. par 1500 B: 2
	// write units, twice in the transaction; code: 1, twice.
	if u.Read != 4 || u.Write != 2+2*2+2*1 {
		t.Errorf("units = %+v, want 4 read and 8 write", u)
	}
	bill, err := in.Price()
	if err != nil {
		t.Fatal(err)
	}
	items := map[string]cost.LineItem{}
	for _, it := range bill.Items {
		items[it.Name] = it
	}
	if got := items["API Gateway HTTP API requests"].Default; !near(got, 6) {
		t.Errorf("API Gateway per million flows = %v, want 6 requests x $1.00 per million", got)
	}
	w := items["DynamoDB writes"]
	if !near(w.Default, 8*0.625) || !near(w.FAPI, (8+cost.FAPIJWSPerFlow)*0.625) {
		t.Errorf("DynamoDB writes = %v / %v, want 8 and 12 units at $0.625 per million", w.Default, w.FAPI)
	}
	in.DynamoDB.Steps[0].Calls = append(in.DynamoDB.Steps[0].Calls, "Scan client")
	if _, err := in.Price(); err == nil {
		t.Error("a call without a price was priced")
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
