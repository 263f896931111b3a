package main

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pargate/pargate/infra/bench/flow"
)

// settings of a comparison run (the flags of `loadgen compare`).
type settings struct {
	Repo, Out, GoBench, Notes string
	Rounds                    int           // rounds of the /par comparison on the in-memory store
	DynamoRounds, FlowRounds  int           // rounds of the DynamoDB and whole-flow runs
	RSSRounds                 int           // rounds of the peak-RSS runs
	Duration, Warmup          time.Duration // of each measured round, and its warm-up
	FlowDuration              time.Duration // most time of a whole-flow round
	FlowFlows, FlowBatch      int           // most flows of a round, flows per batch
	Phases                    []string      // of phaseNames, those to run
	Requests                  int           // most requests of a round
	Conc, FlowConc            []int
	RSSPushes, RSSConc        int
	RSSTimeout                time.Duration
	SkipNode, SkipDynamo      bool
}

// sample is one measured round of one target.
type sample struct {
	Target    string
	Phase     string // par, rss, dynamo or flow (phaseNames)
	Store     string // memory or dynamodb
	Conc      int
	Round     int
	PerSecond float64
	P50, P99  time.Duration
	P999      time.Duration
	CPUPerOp  time.Duration // of the server process
	MotoCPU   time.Duration // per operation, DynamoDB runs only
	OK        int
	Failed    int
	FirstErr  string
	Other     float64       // share of the machine other processes used during the run
	ColdStart time.Duration // exec to first 201 from /par
	HWMStart  int64         // VmHWM right after the first 201
	HWMEnd    int64         // VmHWM after the load
	Steps     []stepSample  // the steps of a whole flow, in order (flow phase)
}

// The phases of a comparison, in the order they run: /par on the in-memory store,
// peak RSS, /par on DynamoDB (moto) and the call count, the whole flow on both stores.
var phaseNames = []string{"par", "rss", "dynamo", "flow"}

// has reports whether the phase runs (every phase for measurements saved before
// there was a choice).
func (s settings) has(phase string) bool {
	return len(s.Phases) == 0 || slices.Contains(s.Phases, phase)
}

// results of a comparison run; they are also saved as JSON, from which `loadgen
// compare -from` renders the report again.
type results struct {
	Set          settings
	Began, Ended time.Time
	LoadBefore   string // /proc/loadavg when the run began and ended: other work
	LoadAfter    string // on the machine shows here
	Machine      machine
	Versions     versions
	Par          []sample // /par on the in-memory store, every target
	RSS          []sample // RSSPushes pushes at RSSConc, every target
	Dynamo       []sample // /par on DynamoDB (moto), pargate
	Flows        []sample // whole flows: pargate on both stores, node-oidc-provider
	Calls        []flow.StepCalls
	CallsErr     string
	InitTrace    []initLine
	Targets      []string
	DynamoSkip   string
	goBench      []goBench // the Go benchmarks of the same run (-gobench), for the goals
}

// compare runs every phase and returns what it measured.
func compare(ctx context.Context, s settings) (*results, error) {
	r := &results{Set: s, Began: time.Now(), LoadBefore: loadAvg()}
	r.Machine = readMachine()
	log.Printf("machine: %s", r.Machine)
	w, err := prepare(ctx, s.Repo, !s.SkipNode)
	if err != nil {
		return nil, err
	}
	defer w.cleanup()
	r.Versions = readVersions(ctx, s.Repo, w)

	targets := []target{w.pargate(w.seedPAR, ""), w.floorTarget()}
	if !s.SkipNode {
		targets = []target{w.pargate(w.seedPAR, ""), w.nodeTarget(), w.floorTarget()}
	}
	for _, t := range targets {
		r.Targets = append(r.Targets, t.name)
	}

	// Where pargate's cold start goes: the Go runtime's own trace of package inits.
	if s.has("par") {
		if r.InitTrace, err = traceInit(ctx, w); err != nil {
			log.Printf("init trace: %v", err)
		}
	}

	// /par on the in-memory store: targets alternate within each round, and the order
	// rotates from round to round, so drift of the machine spreads over all of them.
	for _, c := range s.Conc {
		for round := range s.Rounds {
			if !s.has("par") {
				break
			}
			for _, t := range rotate(targets, round) {
				smp, err := measurePAR(ctx, t, "par", "memory", c, round, Bounds{Concurrency: c, Requests: s.Requests, Duration: s.Duration}, s.Warmup, nil)
				if err != nil {
					return nil, err
				}
				r.Par = append(r.Par, smp)
			}
		}
	}

	// Peak RSS after RSSPushes pushes.
	for round := range s.RSSRounds {
		if !s.has("rss") {
			break
		}
		for _, t := range rotate(targets, round) {
			smp, err := measurePAR(ctx, t, "rss", "memory", s.RSSConc, round, Bounds{Concurrency: s.RSSConc, Requests: s.RSSPushes, Duration: s.RSSTimeout}, 0, nil)
			if err != nil {
				return nil, err
			}
			r.RSS = append(r.RSS, smp)
		}
	}

	// The whole flow on the in-memory stores.
	if s.has("flow") {
		ts := []flowTarget{{w.pargate(w.seedFlow, ""), flow.Pargate, "memory"}}
		if !s.SkipNode {
			ts = append(ts, flowTarget{w.nodeTarget(), flow.NodeOIDCProvider, "memory"})
		}
		flows, err := flowPhase(ctx, ts, s, nil)
		if err != nil {
			return nil, err
		}
		r.Flows = append(r.Flows, flows...)
	}

	if s.SkipDynamo {
		r.DynamoSkip = "skipped (-skip-dynamo)"
	} else if !s.has("dynamo") && !s.has("flow") {
		r.DynamoSkip = "skipped (-phases)"
	} else if err := r.dynamoPhases(ctx, w); err != nil {
		return nil, err
	}
	r.Ended, r.LoadAfter = time.Now(), loadAvg()
	return r, nil
}

// loadAvg is the 1-, 5- and 15-minute load average.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// dynamoPhases runs /par (phase dynamo) and the whole flow (phase flow) on DynamoDB
// (moto_server) and counts the DynamoDB calls of one flow (either phase).
func (r *results) dynamoPhases(ctx context.Context, w *workspace) error {
	s := r.Set
	m, err := startMoto(ctx)
	if err != nil {
		return err
	}
	defer m.stop()
	log.Printf("moto_server at %s (serialized)", m.endpoint)
	calls, err := flow.CountDynamoDBCalls(ctx, m.endpoint)
	if err != nil {
		r.CallsErr = err.Error()
		log.Printf("DynamoDB call count: %v", err)
	}
	r.Calls = calls
	par := w.pargate(w.seedPAR, m.endpoint)
	for _, c := range s.Conc {
		for round := range s.DynamoRounds {
			if !s.has("dynamo") {
				break
			}
			smp, err := measurePAR(ctx, par, "dynamo", "dynamodb", c, round, Bounds{Concurrency: c, Requests: s.Requests, Duration: s.Duration}, s.Warmup/2, m.proc)
			if err != nil {
				return err
			}
			r.Dynamo = append(r.Dynamo, smp)
		}
	}
	if s.has("flow") {
		flows, err := flowPhase(ctx, []flowTarget{{w.pargate(w.seedFlow, m.endpoint), flow.Pargate, "dynamodb"}}, s, m.proc)
		if err != nil {
			return err
		}
		r.Flows = append(r.Flows, flows...)
	}
	return nil
}

func rotate(ts []target, n int) []target {
	n %= len(ts)
	return append(slices.Clone(ts[n:]), ts[:n]...)
}

// started is a target process that answered its first 201.
type started struct {
	proc *Proc
	port int
	cold time.Duration
	hwm  int64
}

// quiet is how long launch may still wait, over the whole run, for other processes
// to leave the machine alone: at most quietRound per start, until quietTotal is spent.
var quiet = quietTotal

const (
	quietShare = 0.15 // of all processors
	quietRound = 5 * time.Second
	quietTotal = time.Minute
)

// launch starts t on a free port and waits for its first 201 from /par.
func launch(ctx context.Context, t target) (*started, error) {
	if quiet > 0 {
		begin := time.Now()
		if o := waitQuiet(ctx, quietShare, min(quietRound, quiet)); o >= quietShare {
			log.Printf("other processes use %.0f%% of the machine; going on", o*100)
		}
		quiet -= time.Since(begin)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p, err := t.start(port)
	if err != nil {
		return nil, err
	}
	cold, err := firstSuccess(ctx, pushRequest(port), p.Started, p.exited, time.Minute)
	if err != nil {
		p.Stop()
		return nil, fmt.Errorf("%s: %w\n%s", t.name, err, p.Stderr())
	}
	hwm, _ := p.PeakRSS()
	return &started{proc: p, port: port, cold: cold, hwm: hwm}, nil
}

// measurePAR starts t, warms it up at the round's concurrency, and measures one
// bounded run of pushes.
func measurePAR(ctx context.Context, t target, phase, store string, conc, round int, b Bounds, warmup time.Duration, moto *Proc) (sample, error) {
	return launched(ctx, t, conc, func(st *started, tr *http.Transport) (sample, error) {
		op := pushRequest(st.port).Op(&http.Client{Transport: tr})
		return measure(ctx, t, st, phase, store, conc, round, b, warmup, op, moto)
	})
}

// launched starts t, runs run with the server and a transport for conc
// connections, and stops the server.
func launched(ctx context.Context, t target, conc int, run func(st *started, tr *http.Transport) (sample, error)) (sample, error) {
	st, err := launch(ctx, t)
	if err != nil {
		return sample{}, err
	}
	defer st.proc.Stop()
	tr := newTransport(conc)
	defer tr.CloseIdleConnections()
	return run(st, tr)
}

func measure(ctx context.Context, t target, st *started, phase, store string, conc, round int, b Bounds, warmup time.Duration, op Op, moto *Proc) (sample, error) {
	if warmup > 0 {
		Run(ctx, Bounds{Concurrency: conc, Requests: b.Requests, Duration: warmup}, op)
	}
	cpu0, err := st.proc.CPU()
	if err != nil {
		return sample{}, err
	}
	var moto0 time.Duration
	if moto != nil {
		moto0, _ = moto.CPU()
	}
	meter := startMeter(st.proc, moto)
	res := Run(ctx, b, op)
	other := meter.other()
	cpu1, err := st.proc.CPU()
	if err != nil {
		return sample{}, fmt.Errorf("%s died during the run: %w\n%s", t.name, err, st.proc.Stderr())
	}
	if ctx.Err() != nil {
		return sample{}, ctx.Err()
	}
	hwm, _ := st.proc.PeakRSS()
	smp := sample{
		Target: t.name, Phase: phase, Store: store, Conc: conc, Round: round,
		PerSecond: res.PerSecond(), OK: res.OK, Failed: res.Failed, FirstErr: res.FirstError,
		P50: res.Latency.Quantile(0.50), P99: res.Latency.Quantile(0.99), P999: res.Latency.Quantile(0.999),
		ColdStart: st.cold, HWMStart: st.hwm, HWMEnd: hwm, Other: other,
	}
	if res.OK > 0 {
		smp.CPUPerOp = (cpu1 - cpu0) / time.Duration(res.OK)
		if moto != nil {
			moto1, _ := moto.CPU()
			smp.MotoCPU = (moto1 - moto0) / time.Duration(res.OK)
		}
	}
	log.Printf("%-18s %-8s c=%-3d round %d: %8.0f/s p50 %-9v p99 %-9v p99.9 %-9v cpu %-8v ok %d failed %d cold %v hwm %.1f MiB other %.0f%% %s",
		t.name, store, conc, round+1, smp.PerSecond, round3(smp.P50), round3(smp.P99), round3(smp.P999), smp.CPUPerOp,
		smp.OK, smp.Failed, round3(smp.ColdStart), float64(hwm)/(1<<20), other*100, smp.FirstErr)
	return smp, nil
}

func round3(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= 10*time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d
}

// initLine is one line of GODEBUG=inittrace=1.
type initLine struct {
	Pkg    string
	Clock  float64 // ms
	Bytes  int64
	Allocs int64
}

var initRE = regexp.MustCompile(`^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock, ([0-9]+) bytes, ([0-9]+) allocs`)

// traceInit starts pargate three times with GODEBUG=inittrace=1 and returns, for
// each package, the fastest of its initializations (the others were disturbed),
// slowest package first.
func traceInit(ctx context.Context, w *workspace) ([]initLine, error) {
	best := map[string]initLine{}
	for range 3 {
		st, err := launch(ctx, w.pargate(w.seedPAR, "", "GODEBUG=inittrace=1"))
		if err != nil {
			return nil, err
		}
		st.proc.Stop()
		sc := bufio.NewScanner(strings.NewReader(st.proc.Stderr()))
		for sc.Scan() {
			m := initRE.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			clock, _ := strconv.ParseFloat(m[2], 64)
			b, _ := strconv.ParseInt(m[3], 10, 64)
			a, _ := strconv.ParseInt(m[4], 10, 64)
			if old, ok := best[m[1]]; !ok || clock < old.Clock {
				best[m[1]] = initLine{Pkg: m[1], Clock: clock, Bytes: b, Allocs: a}
			}
		}
	}
	out := make([]initLine, 0, len(best))
	for _, l := range best {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b initLine) int {
		switch {
		case a.Clock > b.Clock:
			return -1
		case a.Clock < b.Clock:
			return 1
		}
		return strings.Compare(a.Pkg, b.Pkg)
	})
	return out, nil
}
