package stack_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pargate/pargate/infra/lambdaemu/stack"
)

// firstEvent is the event each function's cold start is measured with.
var firstEvent = map[string]string{
	"par":       "par.json",
	"authorize": "authorize.json",
	"token":     "token.json",
	"discovery": "discovery.json",
}

var (
	sizesOnce sync.Once
	sizes     map[string]map[string]int64 // GOARCH → function → bytes
	sizesErr  error
)

// binarySizes builds the functions for both Lambda architectures (the host's build is
// already there) and returns their sizes.
func binarySizes(tb testing.TB) map[string]map[string]int64 {
	tb.Helper()
	sizesOnce.Do(func() {
		sizes = map[string]map[string]int64{}
		for _, arch := range []string{"amd64", "arm64"} {
			paths := bootstraps
			if arch != runtime.GOARCH {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				paths, sizesErr = stack.Build(ctx, root, buildDir, arch, stack.HTTPFunctions...)
				cancel()
				if sizesErr != nil {
					return
				}
			}
			sizes[arch] = map[string]int64{}
			for name, p := range paths {
				info, err := os.Stat(p)
				if err != nil {
					sizesErr = err
					return
				}
				sizes[arch][name] = info.Size()
			}
		}
	})
	if sizesErr != nil {
		tb.Fatal(sizesErr)
	}
	return sizes
}

// BenchmarkColdStart measures each function's cold start through the local Runtime
// API: a new process per iteration, exec until init is done (the runtime's first
// GET .../next: Lambda's Init Duration) and until its response to the first event
// (which includes the function's calls to moto_server), and the process's peak RSS
// (VmHWM). It also reports the stripped binary sizes for linux/amd64 and linux/arm64,
// and the floor server's exec → first 201 (floorColdStart) as the table's last row.
// These are measurements of this machine, not assertions; a table of them is printed
// at the end.
//
//	go test -run='^$' -bench=ColdStart ./infra/lambdaemu/...
func BenchmarkColdStart(b *testing.B) {
	a := setup(b)
	sz := binarySizes(b)
	type row struct {
		name              string
		init, first       time.Duration
		peakRSS, amd, arm int64
	}
	var rows []row
	for _, name := range stack.HTTPFunctions {
		ev := event(b, firstEvent[name])
		b.Run(name, func(b *testing.B) {
			var init, first time.Duration
			var peak int64
			n := 0
			for b.Loop() {
				fn, err := a.Start(context.Background(), name, bootstraps[name], nil)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := fn.Invoke(context.Background(), ev); err != nil {
					b.Fatalf("%s: %v", firstEvent[name], err)
				}
				s := fn.Stats()
				if err := fn.Close(); err != nil {
					b.Fatal(err)
				}
				init += s.Init
				first += s.FirstResponse
				peak = max(peak, s.PeakRSS)
				n++
			}
			r := row{name: name, init: init / time.Duration(n), first: first / time.Duration(n), peakRSS: peak, amd: sz["amd64"][name], arm: sz["arm64"][name]}
			b.ReportMetric(ms(r.init), "init-ms")
			b.ReportMetric(ms(r.first), "first-response-ms")
			b.ReportMetric(float64(r.peakRSS)/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(float64(r.amd)/1e6, "amd64-MB")
			b.ReportMetric(float64(r.arm)/1e6, "arm64-MB")
			rows = slices.DeleteFunc(rows, func(x row) bool { return x.name == name })
			rows = append(rows, r)
		})
	}
	floor := floorColdStart(b)
	var t strings.Builder
	fmt.Fprintf(&t, "cold start through the local Runtime API (%s/%s, %d CPUs; means over the iterations, peak is the max)\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintf(&t, "%-10s %10s %10s %12s %16s %10s\n", "function", "amd64 MB", "arm64 MB", "init ms", "1st response ms", "peak RSS MiB")
	for _, r := range rows {
		fmt.Fprintf(&t, "%-10s %10.2f %10.2f %12.1f %16.1f %10.1f\n", r.name, float64(r.amd)/1e6, float64(r.arm)/1e6, ms(r.init), ms(r.first), float64(r.peakRSS)/(1<<20))
	}
	fmt.Fprintf(&t, "%-10s %10s %10s %12s %16.1f %10s   (infra/bench/floor: exec to first 201 from /par, no AWS call)\n", "floor", "-", "-", "-", ms(floor), "-")
	// Printed, not logged: benchmark logs of a parent benchmark show only with -v.
	fmt.Print(t.String())
}

// floorColdStart is the mean exec → first 201 of the benchmark's floor server
// (infra/bench/floor: the standard library answering /par, no AWS), over ten starts:
// what the functions' cold starts are compared with.
func floorColdStart(b *testing.B) time.Duration {
	b.Helper()
	bin := filepath.Join(buildDir, "floor")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(root, "infra", "bench", "floor")).CombinedOutput(); err != nil {
		b.Fatalf("build the floor: %v\n%s", err, out)
	}
	const id, secret = "floor-client", "floor-secret"
	var total time.Duration
	const starts = 10
	for range starts {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		start := time.Now()
		cmd := exec.Command(bin, "-addr", addr, "-client-id", id, "-client-secret", secret)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		body := "response_type=code&client_id=" + id + "&redirect_uri=https%3A%2F%2Fclient.example.org%2Fcb"
		for {
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/par", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(id, secret)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					break
				}
			}
			if time.Since(start) > 10*time.Second {
				_ = cmd.Process.Kill()
				b.Fatal("the floor did not answer 201 within 10s")
			}
			time.Sleep(200 * time.Microsecond)
		}
		total += time.Since(start)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	return total / starts
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
