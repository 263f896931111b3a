package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/infra/bench/flow"
)

func TestCheckTargetOnlyLoopback(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8080/par", "http://127.0.0.1:1/"} {
		if err := checkTarget(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://localhost:8080/par", "http://10.0.0.1:8080/par", "https://127.0.0.1:8080/par",
		"http://127.0.0.2:8080/par", "http://example.com/par", "http://127.0.0.1/par", "http://[::1]:8080/par"} {
		if err := checkTarget(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	for _, addr := range []string{"10.0.0.1:80", "192.168.1.1:80", "8.8.8.8:53", "[::1]:80", "localhost:80"} {
		if _, err := dialLoopback(context.Background(), "tcp", addr); err == nil {
			t.Errorf("dialer connected to %s", addr)
		}
	}
}

func TestHistQuantilesWithinBucketError(t *testing.T) {
	var h Hist
	var all []time.Duration
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		d := time.Duration(math.Exp(r.NormFloat64()*1.5 + 12)) // log-normal around 160 µs
		h.Record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := all[int(math.Ceil(q*float64(len(all))))-1]
		got := h.Quantile(q)
		if rel := math.Abs(float64(got-exact)) / float64(exact); rel > 0.016 {
			t.Errorf("q%.3f: %v, exact %v (%.2f%% off)", q, got, exact, rel*100)
		}
	}
	var a, b Hist
	a.Record(time.Millisecond)
	b.Record(3 * time.Millisecond)
	a.Merge(&b)
	if a.Count() != 2 || a.Quantile(1) != 3*time.Millisecond {
		t.Errorf("merge: count %d, max %v", a.Count(), a.Quantile(1))
	}
	for _, ns := range []uint64{0, 1, 63, 64, 65, 127, 128, 1 << 40, math.MaxInt64} {
		if i := bucketOf(ns); i < 0 || i >= histBuckets {
			t.Errorf("bucketOf(%d) = %d out of range", ns, i)
		}
	}
}

func TestProcParsing(t *testing.T) {
	stat := []byte("4242 (node (worker) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 40 0 0 20 0 11 0 5 100 20 0")
	if cpu, err := parseStatCPU(stat); err != nil || cpu != 2900*time.Millisecond {
		t.Errorf("parseStatCPU = %v, %v; want 2.9s", cpu, err)
	}
	status := []byte("Name:\tfloor\nVmPeak:\t  100 kB\nVmHWM:\t   20480 kB\nVmRSS:\t 1 kB\n")
	if n, err := parseStatusKB(status, "VmHWM"); err != nil || n != 20<<20 {
		t.Errorf("VmHWM = %d, %v", n, err)
	}
	if _, err := parseStatusKB(status, "VmSwap"); err == nil {
		t.Error("missing field found")
	}
}

func TestParseGoBench(t *testing.T) {
	out := parseGoBench("goos: linux\npkg: github.com/pargate/pargate/pkg/httpapi\n" +
		"BenchmarkPAR-2   \t   24079\t     14018 ns/op\t   10681 B/op\t      70 allocs/op\n" +
		"BenchmarkToken/RS256-2 \t 208\t 1759059 ns/op\t 30633 B/op\t 252 allocs/op\nPASS\n" +
		"pkg: github.com/pargate/pargate/pkg/memory\nBenchmarkGet 1000 12.5 ns/op\n")
	if len(out) != 3 || out[0].Name != "BenchmarkPAR" || out[0].AllocsOp != 70 || out[1].Name != "BenchmarkToken/RS256" ||
		out[2].Pkg != "github.com/pargate/pargate/pkg/memory" || out[2].HasMem || out[2].NsPerOp != 12.5 {
		t.Errorf("parseGoBench: %+v", out)
	}
}

func TestParseGoBenchCustomMetrics(t *testing.T) {
	out := parseGoBench("pkg: x\nBenchmarkColdStart/par-2 \t 13\t 80447049 ns/op\t 11.63 amd64-MB\t 32.25 peak-RSS-MiB\t 221056 B/op\t 860 allocs/op\n")
	if len(out) != 1 || !out[0].HasMem || out[0].BytesPerOp != 221056 || out[0].AllocsOp != 860 || out[0].NsPerOp != 80447049 {
		t.Errorf("parseGoBench: %+v", out)
	}
}

func TestParseGoBenchMetricsAndProcs(t *testing.T) {
	out := parseGoBench("pkg: github.com/pargate/pargate/infra/cost\nBenchmarkPasswordCheck \t 66\t 19367758 ns/op\t 17.68 cpu-ms/op\n" +
		"BenchmarkPasswordCheck-2 \t 63\t 32266206 ns/op\t 18.02 cpu-ms/op\n")
	if len(out) != 2 || out[0].Procs != "" || out[1].Procs != "2" || out[0].Metrics["cpu-ms/op"] != 17.68 || out[1].Metrics["cpu-ms/op"] != 18.02 {
		t.Fatalf("parseGoBench: %+v", out)
	}
	if ns, procs, ok := passwordCheck(out); !ok || ns != 17.85e6 || procs != "2" {
		t.Errorf("passwordCheck = %v, %q, %v; want the median 17.85 ms", ns, procs, ok)
	}
}

// TestWholeFlowReport renders the whole-flow section of a flow-only run from made-up
// measurements: the step that dominates, the argon2id set apart, node beside it.
func TestWholeFlowReport(t *testing.T) {
	steps := func(login, token time.Duration) []stepSample {
		var out []stepSample
		for _, s := range []string{"push", "authorize", "login", "consent", "approve", "token", "refresh"} {
			cpu := 200 * time.Microsecond
			switch s {
			case "login":
				cpu = login
			case "token", "refresh":
				cpu = token
			}
			out = append(out, stepSample{Step: s, OK: 100, CPUPerOp: cpu})
		}
		return out
	}
	r := &results{
		Set: settings{FlowConc: []int{1, 8}, FlowRounds: 1, FlowBatch: 50, FlowFlows: 100, FlowDuration: time.Second, Phases: []string{"flow"}},
		Flows: []sample{
			{Target: targetPargate, Store: "memory", Conc: 1, OK: 100, PerSecond: 30, CPUPerOp: 25 * time.Millisecond, Steps: steps(20*time.Millisecond, 2*time.Millisecond)},
			{Target: targetPargate, Store: "memory", Conc: 8, OK: 100, PerSecond: 31, CPUPerOp: 30 * time.Millisecond, Steps: steps(24*time.Millisecond, 2*time.Millisecond)},
			{Target: targetNode, Store: "memory", Conc: 1, OK: 100, PerSecond: 70, CPUPerOp: 9 * time.Millisecond, Steps: steps(1500*time.Microsecond, 1500*time.Microsecond)},
		},
		DynamoSkip: "skipped (-skip-dynamo)",
	}
	path := t.TempDir() + "/report.md"
	gobench := "pkg: github.com/pargate/pargate/infra/cost\nBenchmarkPasswordCheck \t 66\t 19367758 ns/op\t 18.00 cpu-ms/op\n"
	if err := r.write(path, gobench, ""); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	report := string(data)
	for _, want := range []string{
		"Generated by `make bench-flow`",
		"## Whole flow",
		"| pargate | memory | 1 | 30.0 | 25.0 ms |",
		"| login | 20.0 ms | 81% |",
		"pargate's **login** step takes 20.0 ms of the 24.8 ms its steps take per flow (81%); next come token (2.00 ms) and refresh (2.00 ms)",
		"measures **18.0 ms** of CPU per check",
		"the login step without its hash costs about 2.00 ms",
		"At c=8 the login takes 24.0 ms",
		"node-oidc-provider's login, which hashes nothing, costs 1.50 ms; its steps 5.30 ms per flow in all",
		"Without the hash, pargate's steps take 6.80 ms per flow, 1.28× node-oidc-provider's",
		"After it come the token requests",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(report, "## `/par` on the in-memory store") {
		t.Error("a flow-only report renders the /par sections")
	}
}

// TestGoals evaluates the performance issue's targets from made-up measurements:
// ratios to the floor, the handler's allocations with the harness subtracted, and
// the DynamoDB calls with the cold-cache client read and the rate counters apart.
func TestGoals(t *testing.T) {
	par := func(target string, c int, rps float64, cpu, p99 time.Duration) sample {
		return sample{Target: target, Conc: c, Round: 0, OK: 1000, PerSecond: rps, CPUPerOp: cpu, P99: p99}
	}
	r := &results{
		Set: settings{Conc: []int{1, 8}},
		Par: []sample{
			par(targetPargate, 1, 8600, 110*time.Microsecond, 1200*time.Microsecond),
			par(targetFloor, 1, 10000, 100*time.Microsecond, 1000*time.Microsecond),
			par(targetPargate, 8, 8000, 120*time.Microsecond, 1400*time.Microsecond),
			par(targetFloor, 8, 10000, 100*time.Microsecond, 1000*time.Microsecond),
		},
		Calls: []flow.StepCalls{
			{Step: flow.StepPush, Calls: []string{"GetItem client", "UpdateItem rate", "PutItem par"}},
			{Step: flow.StepAuthorize, Calls: []string{"GetItem par"}},
			{Step: flow.StepLogin, Calls: []string{"BatchGetItem login+login+login", "GetItem user"}},
			{Step: flow.StepConsent, Calls: []string{"GetItem par"}},
			{Step: flow.StepApprove, Calls: []string{"GetItem par", "TransactWriteItems par+code+grant+user"}},
			{Step: flow.StepToken, Calls: []string{"UpdateItem rate", "UpdateItem code"}},
		},
		goBench: parseGoBench("pkg: github.com/pargate/pargate/pkg/httpapi\n" +
			"BenchmarkPARHarness-2 \t 1000\t 10118 ns/op\t 5744 B/op\t 18 allocs/op\n" +
			"BenchmarkPAR-2 \t 1000\t 29450 ns/op\t 10070 B/op\t 46 allocs/op\n"),
	}
	got := map[string]goalRow{}
	for _, g := range r.goals() {
		got[g.what] = g
	}
	for _, want := range []struct {
		what, measured string
		met, known     bool
	}{
		{"/par req/s, pargate ÷ floor, c=1", "0.86×", true, true},
		{"/par req/s, pargate ÷ floor, c=8", "0.80×", false, true},
		{"server CPU per /par, pargate ÷ floor, c=8", "1.20×", false, true},
		{"/par p99, pargate ÷ floor, c=1", "1.20×", true, true},
		{"/par p99, pargate ÷ floor, c=8", "1.40×", false, true},
		{"allocations per push (BenchmarkPAR − BenchmarkPARHarness)", "28", true, true},
		{"bytes allocated per push (BenchmarkPAR − BenchmarkPARHarness)", "4.2 KiB", true, true},
		{"DynamoDB calls per complete flow", "11: 8 + 1 client read (cold cache) + 2 rate counters", true, true},
		{"reference: /par req/s, pargate ÷ node-oidc-provider, c=8", "0.00×", false, false},
	} {
		g, ok := got[want.what]
		if !ok {
			t.Errorf("no goal %q", want.what)
			continue
		}
		if g.measured != want.measured || g.met != want.met || g.known != want.known {
			t.Errorf("%s: measured %q met %v known %v; want %q %v %v", want.what, g.measured, g.met, g.known, want.measured, want.met, want.known)
		}
	}
	if _, ok := got["server CPU per /par, pargate ÷ floor, c=1"]; ok {
		t.Error("the CPU goal is for c ≥ 8 only")
	}
}

// TestLambdaColdStart_EachFunctionNextToTheFloor: the emulator's cold starts
// (BenchmarkColdStart's init-ms and first-response-ms) are reported per function,
// with the floor's exec to first 201 for scale (issue 15 item 5); without them,
// nothing is written.
func TestLambdaColdStart_EachFunctionNextToTheFloor(t *testing.T) {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	floor := sample{Target: targetFloor, ColdStart: 4 * time.Millisecond}
	(&results{}).lambdaColdStart(p, []sample{floor})
	if b.Len() != 0 {
		t.Errorf("without cold-start benchmarks: %q", b.String())
	}
	r := &results{goBench: parseGoBench("pkg: github.com/pargate/pargate/infra/lambdaemu/stack\n" +
		"BenchmarkColdStart/par-2 \t 30\t 19559953 ns/op\t 9.175 arm64-MB\t 17.62 first-response-ms\t 4.108 init-ms\t 10.76 peak-RSS-MiB\t 468166 B/op\t 2284 allocs/op\n")}
	r.lambdaColdStart(p, []sample{floor})
	for _, want := range []string{"| par | 4.11 ms | 17.62 ms | 10.8 MiB | 9.2 MB |", "The floor's exec to first 201, for scale: 4.00 ms"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("want %q in:\n%s", want, b.String())
		}
	}
}
