package main

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
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
