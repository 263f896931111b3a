package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/pargate/pargate/infra/bench/flow"
)

// stepSample is one step of the whole flow over a measured round: every flow of a
// batch takes the step before any takes the next, so the server's CPU over that
// window is the step's alone (utime+stime of the server process, as for /par).
type stepSample struct {
	Step      string
	OK        int
	Failed    int
	CPUPerOp  time.Duration // server CPU per successful step
	MotoCPU   time.Duration // per successful step, DynamoDB runs only
	PerSecond float64       // steps per second while the step ran
	P50, P99  time.Duration // latency of the step (all its requests)
	FirstErr  string
}

// flowSteps counts the measured windows of one step over a round.
type flowSteps struct {
	ok, failed int
	cpu, moto  time.Duration
	wall       time.Duration
	lat        *Hist
	first      string
}

// measureFlow starts t and measures whole flows (flow.Fixture with a refresh)
// step by step: batches of s.FlowBatch flows at concurrency conc, each step of the
// batch in turn, until s.FlowFlows flows were started or s.FlowDuration has passed
// (a batch in progress finishes), after one unmeasured batch of warm-up. Flows per
// second is the completed flows over the batches' time.
func measureFlow(ctx context.Context, t target, server flow.Server, store string, conc, round int, s settings, moto *Proc) (sample, error) {
	return launched(ctx, t, conc, func(st *started, tr *http.Transport) (sample, error) {
		return measureFlows(ctx, t, st, tr, server, store, conc, round, s, moto)
	})
}

func measureFlows(ctx context.Context, t target, st *started, tr *http.Transport, server flow.Server, store string, conc, round int, s settings, moto *Proc) (sample, error) {
	cfg := flow.Fixture("http://"+addr(st.port), server, true, tr)
	names := flow.StepsOf(cfg)
	batch := max(1, min(s.FlowBatch, s.FlowFlows))

	cpu := func() (time.Duration, time.Duration, error) {
		c, err := st.proc.CPU()
		if err != nil {
			return 0, 0, fmt.Errorf("%s died during the run: %w\n%s", t.name, err, st.proc.Stderr())
		}
		var m time.Duration
		if moto != nil {
			m, _ = moto.CPU()
		}
		return c, m, nil
	}
	// runBatch takes every step of n fresh flows and adds each step's window to acc
	// (nil: not measured); it returns the flows that completed.
	runBatch := func(n int, acc map[string]*flowSteps) (int, error) {
		flows := make([]*flow.Flow, n)
		for i := range flows {
			f, err := flow.New(cfg)
			if err != nil {
				return 0, err
			}
			flows[i] = f
		}
		for _, name := range names {
			live := flows[:0:0]
			for _, f := range flows {
				if f != nil {
					live = append(live, f)
				}
			}
			if len(live) == 0 {
				return 0, nil
			}
			flows = live
			var next atomic.Int64
			took := make([]bool, len(flows))
			op := func(ctx context.Context) error {
				i := next.Add(1) - 1
				took[i] = true
				if _, err := flows[i].Next(ctx); err != nil {
					flows[i] = nil
					return err
				}
				return nil
			}
			cpu0, moto0, err := cpu()
			if err != nil {
				return 0, err
			}
			res := Run(ctx, Bounds{Concurrency: conc, Requests: len(flows), Duration: time.Minute}, op)
			cpu1, moto1, err := cpu()
			if err != nil {
				return 0, err
			}
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			for i, ok := range took {
				if !ok {
					flows[i] = nil // cut off by the step's time limit
				}
			}
			if acc == nil {
				continue
			}
			a := acc[name]
			a.ok += res.OK
			a.failed += res.Failed
			a.cpu += cpu1 - cpu0
			a.moto += moto1 - moto0
			a.wall += res.Elapsed
			a.lat.Merge(res.Latency)
			if a.first == "" {
				a.first = res.FirstError
			}
		}
		done := 0
		for _, f := range flows {
			if f != nil && f.Done() {
				done++
			}
		}
		return done, nil
	}

	if _, err := runBatch(min(batch, 2*conc), nil); err != nil { // warm-up
		return sample{}, err
	}
	acc := map[string]*flowSteps{}
	for _, name := range names {
		acc[name] = &flowSteps{lat: &Hist{}}
	}
	meter := startMeter(st.proc, moto)
	cpu0, moto0, err := cpu()
	if err != nil {
		return sample{}, err
	}
	begin := time.Now()
	started, completed := 0, 0
	for started < s.FlowFlows && time.Since(begin) < s.FlowDuration {
		n := min(batch, s.FlowFlows-started)
		done, err := runBatch(n, acc)
		if err != nil {
			return sample{}, err
		}
		started += n
		completed += done
	}
	elapsed := time.Since(begin)
	cpu1, moto1, err := cpu()
	if err != nil {
		return sample{}, err
	}
	other := meter.other()
	hwm, _ := st.proc.PeakRSS()
	smp := sample{
		Target: t.name, Phase: "flow", Store: store, Conc: conc, Round: round,
		OK: completed, Failed: started - completed, ColdStart: st.cold, HWMStart: st.hwm, HWMEnd: hwm, Other: other,
	}
	if elapsed > 0 {
		smp.PerSecond = float64(completed) / elapsed.Seconds()
	}
	if completed > 0 {
		smp.CPUPerOp = (cpu1 - cpu0) / time.Duration(completed)
		smp.MotoCPU = (moto1 - moto0) / time.Duration(completed)
	}
	for _, name := range names {
		a := acc[name]
		ss := stepSample{Step: name, OK: a.ok, Failed: a.failed, FirstErr: a.first,
			P50: a.lat.Quantile(0.5), P99: a.lat.Quantile(0.99)}
		if a.ok > 0 {
			ss.CPUPerOp = a.cpu / time.Duration(a.ok)
			ss.MotoCPU = a.moto / time.Duration(a.ok)
		}
		if a.wall > 0 {
			ss.PerSecond = float64(a.ok) / a.wall.Seconds()
		}
		if smp.FirstErr == "" {
			smp.FirstErr = a.first
		}
		smp.Steps = append(smp.Steps, ss)
	}
	log.Printf("%-18s %-8s c=%-3d round %d: %6.1f flows/s cpu/flow %-8v ok %d failed %d other %.0f%% %s",
		t.name, store, conc, round+1, smp.PerSecond, smp.CPUPerOp, smp.OK, smp.Failed, other*100, smp.FirstErr)
	for _, ss := range smp.Steps {
		log.Printf("    %-9s cpu %-9v p50 %-9v p99 %-9v moto %-9v ok %d failed %d", ss.Step, ss.CPUPerOp, round3(ss.P50), round3(ss.P99), ss.MotoCPU, ss.OK, ss.Failed)
	}
	return smp, nil
}

// flowTarget is a server of the whole-flow comparison.
type flowTarget struct {
	target
	server flow.Server
	store  string
}

// flowPhase measures the whole flow on every target, round by round at every
// concurrency of s.FlowConc; the targets alternate within a round and their order
// rotates from round to round, as in the /par comparison.
func flowPhase(ctx context.Context, ts []flowTarget, s settings, moto *Proc) ([]sample, error) {
	var out []sample
	for _, c := range s.FlowConc {
		for round := range s.FlowRounds {
			n := round % len(ts)
			for _, t := range append(slices.Clone(ts[n:]), ts[:n]...) {
				smp, err := measureFlow(ctx, t.target, t.server, t.store, c, round, s, moto)
				if err != nil {
					return nil, err
				}
				out = append(out, smp)
			}
		}
	}
	return out, nil
}
