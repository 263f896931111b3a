package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
)

// machine describes the computer the benchmark ran on.
type machine struct {
	CPU    string
	Cores  int
	Memory int64 // bytes
	Kernel string
}

func (m machine) String() string {
	return fmt.Sprintf("%s, %d cores, %.1f GiB memory, Linux %s", m.CPU, m.Cores, float64(m.Memory)/(1<<30), m.Kernel)
}

func readMachine() machine {
	m := machine{CPU: "unknown CPU", Cores: runtime.NumCPU(), Kernel: "unknown"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if name, val, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
				m.CPU = strings.TrimSpace(val)
				break
			}
		}
		f.Close()
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.Memory, _ = parseStatusKB(data, "MemTotal")
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	return m
}

// versions of everything measured.
type versions struct {
	Pargate, Go, Node, OIDCProvider, Moto string
}

func readVersions(ctx context.Context, repo string, w *workspace) versions {
	v := versions{Go: runtime.Version(), Node: "-", OIDCProvider: "-", Moto: "-"}
	v.Pargate = strings.TrimSpace(output(ctx, repo, "git", "describe", "--always", "--dirty", "--abbrev=12"))
	if w.node != "" {
		v.Node = strings.TrimSpace(output(ctx, repo, w.node, "--version"))
		var pkg struct{ Version string }
		if data, err := os.ReadFile(filepath.Join(w.nodeDir, "node_modules", "oidc-provider", "package.json")); err == nil && json.Unmarshal(data, &pkg) == nil {
			v.OIDCProvider = pkg.Version
		}
	}
	if path, err := exec.LookPath("moto_server"); err == nil {
		// moto_server is a Python entry point: its first line names the interpreter,
		// unless it is a pyenv shim, in which case python3 on PATH is the one.
		py := "python3"
		if data, err := os.ReadFile(path); err == nil {
			if first, _, _ := strings.Cut(string(data), "\n"); strings.HasPrefix(first, "#!") && strings.Contains(first, "python") {
				py = strings.TrimSpace(strings.TrimPrefix(first, "#!"))
			}
		}
		args := append(strings.Fields(py), "-c", "import moto; print(moto.__version__)")
		if out := strings.TrimSpace(output(ctx, repo, args[0], args[1:]...)); regexp.MustCompile(`^[0-9][0-9a-z.]*$`).MatchString(out) {
			v.Moto = out
		}
	}
	return v
}

func output(ctx context.Context, dir, name string, args ...string) string {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return string(out)
}

// goBench is one line of `go test -bench -benchmem` output.
type goBench struct {
	Pkg, Name            string
	N                    int64
	NsPerOp              float64
	BytesPerOp, AllocsOp int64
	HasMem               bool
	Procs                string             // the -N suffix of the name (GOMAXPROCS), "" if none
	Metrics              map[string]float64 // every "value unit" pair after ns/op, e.g. cpu-ms/op
}

var (
	benchRE  = regexp.MustCompile(`^(Benchmark\S+?)(?:-(\d+))?\s+(\d+)\s+([0-9.]+) ns/op`)
	metricRE = regexp.MustCompile(`\s([0-9.]+) (\S+)`)
	bytesRE  = regexp.MustCompile(`\s(\d+) B/op`)
	allocsRE = regexp.MustCompile(`\s(\d+) allocs/op`)
)

// parseGoBench reads the output of `go test -run=^$ -bench=. -benchmem ./...`.
func parseGoBench(data string) []goBench {
	var out []goBench
	pkg := ""
	for line := range strings.SplitSeq(data, "\n") {
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		m := benchRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		b := goBench{Pkg: pkg, Name: m[1], Procs: m[2], Metrics: map[string]float64{}}
		b.N, _ = strconv.ParseInt(m[3], 10, 64)
		b.NsPerOp, _ = strconv.ParseFloat(m[4], 64)
		for _, mm := range metricRE.FindAllStringSubmatch(line[len(m[0]):], -1) {
			b.Metrics[mm[2]], _ = strconv.ParseFloat(mm[1], 64)
		}
		mb, ma := bytesRE.FindStringSubmatch(line), allocsRE.FindStringSubmatch(line)
		if mb != nil && ma != nil {
			b.HasMem = true
			b.BytesPerOp, _ = strconv.ParseInt(mb[1], 10, 64)
			b.AllocsOp, _ = strconv.ParseInt(ma[1], 10, 64)
		}
		out = append(out, b)
	}
	return out
}
