package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pargate/pargate/pkg/proc"
)

// Proc is a server process the load generator started and measures.
type Proc struct {
	Name    string
	Started time.Time // just before exec
	cmd     *exec.Cmd
	exited  chan struct{}
	stderr  *proc.TailBuffer
}

// startProc execs argv with exactly env (nothing inherited but what env says), its
// own process group and a parent-death signal, so no server outlives the benchmark.
// Standard output is discarded; the tail of standard error is kept for errors.
func startProc(name, dir string, env []string, argv ...string) (*Proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &Proc{Name: name, cmd: cmd, exited: make(chan struct{}), stderr: &proc.TailBuffer{Max: 256 << 10}}
	cmd.Stderr = p.stderr
	p.Started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Stderr is the tail of what the process wrote to standard error.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Stop sends SIGTERM to the process group, and SIGKILL after five seconds.
func (p *Proc) Stop() {
	_ = syscall.Kill(-p.Pid(), syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
		<-p.exited
	}
}

// clockTick is the unit of utime and stime in /proc/<pid>/stat (USER_HZ), which is
// 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// CPU is the processor time (user + system) the process has used so far.
func (p *Proc) CPU() (time.Duration, error) { return procCPU(p.Pid()) }

func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(data)
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a /proc/<pid>/stat line.
// The command name (field 2) is in parentheses and may contain spaces, so fields are
// counted from the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed stat %q", stat)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// PeakRSS is the process's peak resident set size (VmHWM), in bytes.
func (p *Proc) PeakRSS() (int64, error) { return procStatus(p.Pid(), "VmHWM") }

func procStatus(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusKB(data, field)
}

// parseStatusKB reads a "Field:   1234 kB" line of /proc/<pid>/status, in bytes.
func parseStatusKB(status []byte, field string) (int64, error) {
	for line := range strings.SplitSeq(string(status), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || name != field {
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(rest), " ")
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || unit != "kB" {
			return 0, fmt.Errorf("malformed %s line %q", field, line)
		}
		return n << 10, nil
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", loopbackHost+":0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// machineCPU returns the processor time all processes have used so far (user, nice
// and system) and the time of all processors (every column), from the first line
// of /proc/stat (user nice system idle iowait irq softirq steal ...). Interrupt and
// softirq time is left out of the first: it is no process's (utime and stime do not
// hold it), and most of it here is the loopback traffic of the benchmark itself.
func machineCPU() (used, total time.Duration, err error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("malformed /proc/stat line %q", line)
	}
	var ticks [8]int64
	for i := range ticks {
		if ticks[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("malformed /proc/stat line %q", line)
		}
	}
	var sum int64
	for _, t := range ticks {
		sum += t
	}
	return time.Duration(ticks[0]+ticks[1]+ticks[2]) * clockTick, time.Duration(sum) * clockTick, nil
}

// cpuMeter measures the processor time that processes other than the benchmark's
// own (this process and the servers it measures) take during a window: other work
// on a shared machine, which the report shows beside each figure.
type cpuMeter struct {
	procs        []*Proc
	used0, total time.Duration
	own0         time.Duration
}

func (m *cpuMeter) ownCPU() time.Duration {
	own, _ := procCPU(os.Getpid())
	for _, p := range m.procs {
		if p != nil {
			c, _ := p.CPU()
			own += c
		}
	}
	return own
}

func startMeter(procs ...*Proc) *cpuMeter {
	m := &cpuMeter{procs: procs}
	m.used0, m.total, _ = machineCPU()
	m.own0 = m.ownCPU()
	return m
}

// other is the fraction of the machine's processor time since startMeter that
// went to other processes (0 to 1).
func (m *cpuMeter) other() float64 {
	used, total, err := machineCPU()
	if err != nil || total <= m.total {
		return 0
	}
	o := float64((used-m.used0)-(m.ownCPU()-m.own0)) / float64(total-m.total)
	return min(max(o, 0), 1)
}

// waitQuiet waits, at most limit, until other processes use less than frac of the
// machine over a quarter of a second, and returns their share at the end.
func waitQuiet(ctx context.Context, frac float64, limit time.Duration) float64 {
	deadline := time.Now().Add(limit)
	for {
		m := startMeter()
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(250 * time.Millisecond):
		}
		o := m.other()
		if o < frac || time.Now().After(deadline) {
			return o
		}
	}
}
