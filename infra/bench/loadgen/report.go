package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pargate/pargate/infra/bench/flow"
)

// Goals of the performance issue ("close to the floor"), for the report (never
// for tests). The floor is infra/bench/floor: a server that only stores the form.
const (
	goalRPSvsFloor   = 0.9  // /par req/s ÷ the floor's, at concurrency 8 and above
	goalRPSvsFloorC1 = 0.85 // at concurrency 1
	goalCPUvsFloor   = 1.15 // server CPU per /par ÷ the floor's, at concurrency 8 and above
	goalP99vsFloor   = 1.3  // at every concurrency
	goalColdvsFloor  = 2.0  // exec to first 201 (make run with the default seed)
	goalRSSvsFloor   = 1.5
	goalAllocsPerPAR = 30 // BenchmarkPAR less BenchmarkPARHarness (the handler's own)
	goalBytesPerPAR  = 6 << 10
	// node-oidc-provider is no longer a goal but stays a reference: the ratios the
	// earlier issue asked for, kept so a regression against the peer shows.
	refRPSvsNode   = 2.5 // at concurrency 8 and above
	refRPSvsNodeC1 = 1.7 // at concurrency 1
)

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// pick returns the samples of target at concurrency c (c < 0: any).
func pick(ss []sample, target, store string, c int) []sample {
	var out []sample
	for _, s := range ss {
		if s.Target == target && (store == "" || s.Store == store) && (c < 0 || s.Conc == c) {
			out = append(out, s)
		}
	}
	return out
}

func med(ss []sample, f func(sample) float64) float64 {
	xs := make([]float64, 0, len(ss))
	for _, s := range ss {
		xs = append(xs, f(s))
	}
	return median(xs)
}

// ratio is the median over rounds of f(a)/f(b), pairing the samples of the same
// round: neighbours in time, so the machine's drift cancels.
func ratio(a, b []sample, f func(sample) float64) (float64, bool) {
	var xs []float64
	for _, x := range a {
		for _, y := range b {
			if x.Round == y.Round && x.Conc == y.Conc && f(y) > 0 {
				xs = append(xs, f(x)/f(y))
			}
		}
	}
	return median(xs), len(xs) > 0
}

var (
	fRPS  = func(s sample) float64 { return s.PerSecond }
	fP50  = func(s sample) float64 { return float64(s.P50) }
	fP99  = func(s sample) float64 { return float64(s.P99) }
	fP999 = func(s sample) float64 { return float64(s.P999) }
	fCPU  = func(s sample) float64 { return float64(s.CPUPerOp) }
	fMoto = func(s sample) float64 { return float64(s.MotoCPU) }
	fCold = func(s sample) float64 { return float64(s.ColdStart) }
	fHWM  = func(s sample) float64 { return float64(s.HWMEnd) }
	fHWM0 = func(s sample) float64 { return float64(s.HWMStart) }
	fOth  = func(s sample) float64 { return s.Other }
)

func ms(ns float64) string {
	switch {
	case ns >= 100e6:
		return fmt.Sprintf("%.0f ms", ns/1e6)
	case ns >= 10e6:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	}
	return fmt.Sprintf("%.2f ms", ns/1e6)
}

func us(ns float64) string {
	if ns >= 1e5 {
		return fmt.Sprintf("%.0f µs", ns/1e3)
	}
	return fmt.Sprintf("%.1f µs", ns/1e3)
}

// thousands renders n with thousands separators: 60,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// human renders nanoseconds with three significant digits and a unit.
func human(ns float64) string {
	unit, div := "ns", 1.0
	switch {
	case ns >= 1e9:
		unit, div = "s", 1e9
	case ns >= 1e6:
		unit, div = "ms", 1e6
	case ns >= 1e3:
		unit, div = "µs", 1e3
	}
	v := ns / div
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	}
	return fmt.Sprintf("%.2f %s", v, unit)
}

func mib(b float64) string { return fmt.Sprintf("%.1f MiB", b/(1<<20)) }

func x(r float64) string { return fmt.Sprintf("%.2f×", r) }

func failed(ss []sample) (n int, first string) {
	for _, s := range ss {
		n += s.Failed
		if first == "" {
			first = s.FirstErr
		}
	}
	return n, first
}

type goalRow struct {
	what, measured, goal string
	met                  bool
	known                bool
}

func mark(r goalRow) string {
	switch {
	case !r.known:
		return "not measured"
	case r.met:
		return "**met**"
	}
	return "**missed**"
}

// goals evaluates the targets.
func (r *results) goals() []goalRow {
	var rows []goalRow
	pg := func(c int) []sample { return pick(r.Par, targetPargate, "", c) }
	floor := func(c int) []sample { return pick(r.Par, targetFloor, "", c) }
	for _, c := range r.Set.Conc {
		goal := goalRPSvsFloor
		if c == 1 {
			goal = goalRPSvsFloorC1
		}
		v, ok := ratio(pg(c), floor(c), fRPS)
		rows = append(rows, goalRow{fmt.Sprintf("/par req/s, pargate ÷ floor, c=%d", c), x(v), fmt.Sprintf("≥ %.2f×", goal), v >= goal, ok})
	}
	for _, c := range r.Set.Conc {
		if c == 1 {
			continue // the issue sets the CPU goal at c ≥ 8; c=1 is in the table below
		}
		v, ok := ratio(pg(c), floor(c), fCPU)
		rows = append(rows, goalRow{fmt.Sprintf("server CPU per /par, pargate ÷ floor, c=%d", c), x(v), fmt.Sprintf("≤ %.2f×", goalCPUvsFloor), v <= goalCPUvsFloor, ok})
	}
	for _, c := range r.Set.Conc {
		v, ok := ratio(pg(c), floor(c), fP99)
		rows = append(rows, goalRow{fmt.Sprintf("/par p99, pargate ÷ floor, c=%d", c), x(v), fmt.Sprintf("≤ %.1f×", goalP99vsFloor), v <= goalP99vsFloor, ok})
	}
	rows = append(rows, r.allocGoals()...)
	cold := append(slices.Clone(r.Par), r.RSS...)
	v, ok := coldRatio(cold, targetPargate, targetFloor)
	rows = append(rows, goalRow{"exec to first 201, pargate ÷ floor", x(v), fmt.Sprintf("≤ %.1f×", goalColdvsFloor), v <= goalColdvsFloor, ok})
	v, ok = ratio(pick(r.RSS, targetPargate, "", -1), pick(r.RSS, targetFloor, "", -1), fHWM)
	rows = append(rows, goalRow{"peak RSS after " + thousands(r.Set.RSSPushes) + " pushes, pargate ÷ floor", x(v), fmt.Sprintf("≤ %.1f×", goalRSSvsFloor), v <= goalRSSvsFloor, ok})
	rows = append(rows, r.callsGoal())
	for _, c := range r.Set.Conc {
		ref := refRPSvsNode
		if c == 1 {
			ref = refRPSvsNodeC1
		}
		v, ok := ratio(pg(c), pick(r.Par, targetNode, "", c), fRPS)
		rows = append(rows, goalRow{fmt.Sprintf("reference: /par req/s, pargate ÷ node-oidc-provider, c=%d", c), x(v), fmt.Sprintf("≥ %.1f×", ref), v >= ref, ok})
	}
	return rows
}

// allocGoals are the allocations and bytes of one push in the handler alone:
// BenchmarkPAR less BenchmarkPARHarness (the test's request and recorder).
func (r *results) allocGoals() []goalRow {
	var par, harness *goBench
	for i := range r.goBench {
		b := &r.goBench[i]
		if !strings.HasSuffix(b.Pkg, "/pkg/httpapi") || !b.HasMem {
			continue
		}
		switch b.Name {
		case "BenchmarkPAR":
			par = b
		case "BenchmarkPARHarness":
			harness = b
		}
	}
	known := par != nil && harness != nil
	var allocs, bytes int64
	if known {
		allocs, bytes = par.AllocsOp-harness.AllocsOp, par.BytesPerOp-harness.BytesPerOp
	}
	return []goalRow{
		{"allocations per push (BenchmarkPAR − BenchmarkPARHarness)", fmt.Sprint(allocs), fmt.Sprintf("≤ %d", goalAllocsPerPAR), allocs <= goalAllocsPerPAR, known},
		{"bytes allocated per push (BenchmarkPAR − BenchmarkPARHarness)", fmt.Sprintf("%.1f KiB", float64(bytes)/1024), fmt.Sprintf("≤ %d KiB", goalBytesPerPAR>>10), bytes <= goalBytesPerPAR, known},
	}
}

// callsGoal compares the DynamoDB calls of one flow with the design minimum
// (flow.Budgets). Two kinds of call are beyond it by design, and counted apart: the
// client's read, made only on a cold client cache (a warm instance serves it from
// memory, CLIENT_CACHE_TTL), and the per-client rate counters (one ADD at /par and
// one at /token while CLIENT_RATE_LIMIT is on; docs/design.md decision 23).
func (r *results) callsGoal() goalRow {
	calls, client, rate := 0, 0, 0
	for _, s := range r.Calls {
		for _, c := range s.Calls {
			calls++
			switch c {
			case "GetItem client":
				client++
			case "UpdateItem rate":
				rate++
			}
		}
	}
	core := calls - client - rate
	measured := fmt.Sprint(calls)
	if client+rate > 0 {
		measured = fmt.Sprintf("%d: %d + %d client read (cold cache) + %d rate counters", calls, core, client, rate)
	}
	return goalRow{"DynamoDB calls per complete flow", measured,
		fmt.Sprintf("≤ %d (design minimum) + the cold-cache client read + the rate counters", flow.MinimumCalls()),
		core <= flow.MinimumCalls(), len(r.Calls) > 0}
}

// coldRatio pairs the cold starts of the same phase, concurrency and round.
func coldRatio(ss []sample, a, b string) (float64, bool) {
	var xs []float64
	for _, p := range ss {
		if p.Target != a {
			continue
		}
		for _, q := range ss {
			if q.Target == b && q.Phase == p.Phase && q.Round == p.Round && q.Conc == p.Conc && q.ColdStart > 0 {
				xs = append(xs, float64(p.ColdStart)/float64(q.ColdStart))
			}
		}
	}
	return median(xs), len(xs) > 0
}

// write renders the report as Markdown.
func (r *results) write(path string, goBenchOut string, notes string) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	s := r.Set
	p("# pargate benchmark report\n\n")
	flowOnly := !s.has("par") && !s.has("rss") && !s.has("dynamo")
	if flowOnly {
		p("Generated by `make bench-flow` (`go run ./infra/bench/loadgen compare -phases %s`) on %s UTC, in %s: the whole flow alone; `make bench` measures it with everything else.\n\n",
			strings.Join(s.Phases, ","), r.Began.UTC().Format("2006-01-02 15:04"), r.Ended.Sub(r.Began).Round(time.Second))
	} else {
		p("Generated by `make bench` (`go run ./infra/bench/loadgen compare`) on %s UTC, in %s. Rerun `make bench` to refresh it; do not edit by hand (the last section is included from `infra/bench/NOTES.md`).\n\n",
			r.Began.UTC().Format("2006-01-02 15:04"), r.Ended.Sub(r.Began).Round(time.Second))
	}
	p("- **Machine:** %s; load average %s when the run began, %s when it ended\n", r.Machine, r.LoadBefore, r.LoadAfter)
	p("- **Versions:** pargate %s · Go %s · Node.js %s · oidc-provider %s · moto %s\n", r.Versions.Pargate, r.Versions.Go, r.Versions.Node, r.Versions.OIDCProvider, r.Versions.Moto)
	p("- **Servers:** pargate is the local API (`infra/localapi`, built like the Lambda functions: `-trimpath -ldflags='-s -w'`, CGO off) on the in-memory store or on DynamoDB (moto_server); node-oidc-provider is `infra/bench/node/provider.js` (PAR on, PKCE required, `client_secret_basic`, its in-memory adapter, `NODE_ENV=production`); the floor is `infra/bench/floor` (stdlib: parse the form, check the Basic secret by SHA-256 in constant time, keep the form under a random 256-bit reference in a map, answer 201).\n")
	if flowOnly {
		p("\n")
		benches := parseGoBench(goBenchOut)
		r.writeFlow(p, benches)
		r.writeCalls(p)
		writeGoBench(p, benches)
		return os.WriteFile(path, []byte(b.String()), 0o644)
	}
	p("- **Load:** `infra/bench/loadgen`, keep-alive HTTP/1.1 clients, one connection per worker, 127.0.0.1 only. Every target gets the same push (`response_type=code`, `client_id`, `redirect_uri`, `scope=openid`, `state`, `nonce`, `code_challenge` S256, Basic client authentication) and must answer 201 before it is measured. Each round starts the server afresh, times exec → first 201 (the cold start), warms it up for %v at the round's concurrency and then measures at most %d requests or %v. The targets alternate within every round and their order rotates from round to round; each figure is the median over %d rounds, and each ratio the median of the per-round ratios. Server CPU is utime+stime of the server process (`/proc/<pid>/stat`) over the measured window divided by the requests; the load generator runs on the same 2 cores.\n\n",
		s.Warmup, s.Requests, s.Duration, s.Rounds)
	p("## Targets\n\n| Target | Measured | Goal | |\n|---|---|---|---|\n")
	for _, g := range r.goals() {
		p("| %s | %s | %s | %s |\n", g.what, g.measured, g.goal, mark(g))
	}
	p("\n")

	p("## `/par` on the in-memory store\n\nMedians over %d rounds.\n\n", s.Rounds)
	p("| c | server | req/s | p50 | p99 | p99.9 | server CPU / req | failed | other processes |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range s.Conc {
		for _, t := range r.Targets {
			ss := pick(r.Par, t, "", c)
			n, _ := failed(ss)
			p("| %d | %s | %.0f | %s | %s | %s | %s | %d | %.0f%% |\n", c, t, med(ss, fRPS), ms(med(ss, fP50)), ms(med(ss, fP99)), ms(med(ss, fP999)), us(med(ss, fCPU)), n, 100*med(ss, fOth))
		}
	}
	p("\n*Other processes* is the median share of the machine's processor time that processes other than the load generator and the server took during the measured runs (user and system time from `/proc/stat`, interrupts left out; this machine is shared); before each server start the load generator waits up to %v for that share to fall under %.0f%%, %v in all.\n", quietRound, quietShare*100, quietTotal)
	p("\nRatios (median of per-round ratios):\n\n| c | req/s pargate ÷ node | req/s pargate ÷ floor | req/s node ÷ floor | CPU/req pargate ÷ floor | CPU/req node ÷ floor | p99 pargate ÷ floor | p99 node ÷ floor |\n|---|---|---|---|---|---|---|---|\n")
	for _, c := range s.Conc {
		pgs, nd, fl := pick(r.Par, targetPargate, "", c), pick(r.Par, targetNode, "", c), pick(r.Par, targetFloor, "", c)
		rat := func(a, b []sample, f func(sample) float64) string {
			if v, ok := ratio(a, b, f); ok {
				return x(v)
			}
			return "-"
		}
		p("| %d | %s | %s | %s | %s | %s | %s | %s |\n", c, rat(pgs, nd, fRPS), rat(pgs, fl, fRPS), rat(nd, fl, fRPS),
			rat(pgs, fl, fCPU), rat(nd, fl, fCPU), rat(pgs, fl, fP99), rat(nd, fl, fP99))
	}
	if n, first := failed(r.Par); n > 0 {
		p("\n%d requests failed; the first: `%s`\n", n, first)
	}

	p("\n## Cold start: exec to first 201 from `/par`\n\nEvery round of the `/par` and RSS runs starts each server once (%d starts per server). The poll sends the push every 0.2 ms until it gets a 201; keys and seed files exist beforehand (no key generation), and pargate's seed has no user (no argon2id hash at start).\n\n", s.Rounds*len(s.Conc)+s.RSSRounds)
	p("| server | median | min | max | peak RSS at first 201 |\n|---|---|---|---|---|\n")
	all := append(slices.Clone(r.Par), r.RSS...)
	for _, t := range r.Targets {
		ss := pick(all, t, "", -1)
		lo, hi := time.Duration(1<<62), time.Duration(0)
		for _, x := range ss {
			lo, hi = min(lo, x.ColdStart), max(hi, x.ColdStart)
		}
		p("| %s | %s | %s | %s | %s |\n", t, ms(med(ss, fCold)), ms(float64(lo)), ms(float64(hi)), mib(med(ss, fHWM0)))
	}
	if v, ok := coldRatio(all, targetPargate, targetFloor); ok {
		p("\npargate ÷ floor: %s (median of the per-round ratios).", x(v))
	}
	if v, ok := coldRatio(all, targetNode, targetFloor); ok {
		p(" node-oidc-provider ÷ floor: %s.", x(v))
	}
	p("\n")
	if len(r.InitTrace) > 0 {
		total := 0.0
		for _, l := range r.InitTrace {
			total += l.Clock
		}
		p("\nWhere pargate's start goes before `main` (`GODEBUG=inittrace=1`, the fastest of three starts for each package): %.1f ms in package initializers in all; the largest:\n\n| package | init clock | allocated |\n|---|---|---|\n", total)
		for _, l := range r.InitTrace[:min(6, len(r.InitTrace))] {
			p("| `%s` | %.2f ms | %s |\n", l.Pkg, l.Clock, mib(float64(l.Bytes)))
		}
	}

	r.lambdaColdStart(p, all)

	p("\n## Peak RSS after %s pushes\n\n%s pushes at concurrency %d into a fresh server (bounded to %v), %d rounds; VmHWM from `/proc/<pid>/status`.\n\n", thousands(s.RSSPushes), thousands(s.RSSPushes), s.RSSConc, s.RSSTimeout, s.RSSRounds)
	p("| server | VmHWM at first 201 | VmHWM after the pushes | growth per push | pushes/s | other processes |\n|---|---|---|---|---|---|\n")
	for _, t := range r.Targets {
		ss := pick(r.RSS, t, "", -1)
		okN := med(ss, func(s sample) float64 { return float64(s.OK) })
		per := 0.0
		if okN > 0 {
			per = (med(ss, fHWM) - med(ss, fHWM0)) / okN
		}
		p("| %s | %s | %s | %.0f B | %.0f | %.0f%% |\n", t, mib(med(ss, fHWM0)), mib(med(ss, fHWM)), per, med(ss, fRPS), 100*med(ss, fOth))
	}
	if n, first := failed(r.RSS); n > 0 {
		p("\n%d pushes failed; the first: `%s`\n", n, first)
	}

	p("\n## `/par` on DynamoDB (moto_server)\n\n")
	if r.DynamoSkip != "" {
		p("%s\n", r.DynamoSkip)
	} else {
		p("pargate with `STORE=dynamodb` against moto_server %s behind a proxy that forwards one request at a time (moto is not safe under concurrent transactions; `pkg/dynamo/dynamotest` does the same). Moto is a functional stand-in written in Python: these figures measure moto far more than pargate or DynamoDB, whose calls take single-digit milliseconds and scale out. Medians over %d rounds.\n\n", r.Versions.Moto, s.DynamoRounds)
		p("| c | req/s | p50 | p99 | p99.9 | pargate CPU / req | moto CPU / req | failed | other processes |\n|---|---|---|---|---|---|---|---|---|\n")
		for _, c := range s.Conc {
			ss := pick(r.Dynamo, targetPargate, "dynamodb", c)
			n, _ := failed(ss)
			p("| %d | %.0f | %s | %s | %s | %s | %s | %d | %.0f%% |\n", c, med(ss, fRPS), ms(med(ss, fP50)), ms(med(ss, fP99)), ms(med(ss, fP999)), us(med(ss, fCPU)), us(med(ss, fMoto)), n, 100*med(ss, fOth))
		}
		if n, first := failed(r.Dynamo); n > 0 {
			p("\nFirst failure: `%s`\n", first)
		}
	}

	benches := parseGoBench(goBenchOut)
	r.writeFlow(p, benches)

	r.writeCalls(p)
	writeGoBench(p, benches)

	if notes != "" {
		p("\n%s", notes)
		if !strings.HasSuffix(notes, "\n") {
			p("\n")
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// writeCalls renders the DynamoDB calls of one flow.
func (r *results) writeCalls(p func(string, ...any)) {
	p("\n## DynamoDB calls per complete flow\n\n")
	switch {
	case r.CallsErr != "":
		p("Not counted: %v\n", r.CallsErr)
	case len(r.Calls) == 0:
		p("Not counted (%s).\n", r.DynamoSkip)
	default:
		p("Counted by an SDK middleware in the Initialize step (one count per API call, whatever the retries) while one flow runs on the DynamoDB store; `infra/bench/flow` `TestDynamoDBCallsPerFlow` (part of `make test`) asserts the budgets.\n\n")
		p("| step | calls | which | budget | design minimum |\n|---|---|---|---|---|\n")
		total, budget, minimum := 0, 0, 0
		for _, st := range r.Calls {
			p("| %s | %d | %s | %d | %d: %s |\n", st.Step, len(st.Calls), flow.Summary(st.Calls), st.Budget, st.Minimum, st.MinimumCalls)
			total += len(st.Calls)
			budget += st.Budget
			minimum += st.Minimum
		}
		p("| **flow** | **%d** | %s | %d | %d |\n", total, strings.Join(flow.ByOperation(r.Calls), "; "), budget, minimum)
	}
}

// writeGoBench renders the Go benchmarks.
func writeGoBench(p func(string, ...any), benches []goBench) {
	p("\n## Go benchmarks\n\nThe output given with `-gobench`: `make bench` runs `go test -run='^$' -bench=. -benchmem -benchtime=500ms ./...` (handlers through `ServeHTTP` with `httptest.NewRecorder`, the core's hot paths, the in-memory store), `make bench-flow` only `BenchmarkPasswordCheck`.\n\n")
	if len(benches) > 0 {
		p("| package | benchmark | time/op | B/op | allocs/op |\n|---|---|---|---|---|\n")
		for _, gb := range benches {
			mem := "| - | -"
			if gb.HasMem {
				mem = fmt.Sprintf("| %d | %d", gb.BytesPerOp, gb.AllocsOp)
			}
			p("| `%s` | %s | %s %s |\n", strings.TrimPrefix(gb.Pkg, "github.com/pargate/pargate/"), strings.TrimPrefix(gb.Name, "Benchmark"), human(gb.NsPerOp), mem)
		}
	} else {
		p("Not run (no `-gobench` output given).\n")
	}
}

// lambdaColdStart writes each function's cold start on the Lambda Runtime API
// emulator (BenchmarkColdStart in infra/lambdaemu/stack, from -gobench) next to the
// floor's exec to first 201 (issue 15 item 5).
func (r *results) lambdaColdStart(p func(string, ...any), all []sample) {
	var rows []goBench
	for _, b := range r.goBench {
		if strings.HasPrefix(b.Name, "BenchmarkColdStart/") && b.Metrics["init-ms"] > 0 {
			rows = append(rows, b)
		}
	}
	if len(rows) == 0 {
		return
	}
	p("\nOn Lambda (`BenchmarkColdStart`, `infra/lambdaemu/stack`: each function's bootstrap, built as `make build` builds it, started by the project's Lambda Runtime API emulator against moto_server, then its first event from `events/`): *init* is exec until the runtime asks for its first event (Lambda's Init Duration; it makes no AWS call), *first response* exec until that event is answered, store and Secrets Manager reads on moto included.\n\n")
	p("| function | init | first response | peak RSS | arm64 binary |\n|---|---|---|---|---|\n")
	for _, b := range rows {
		p("| %s | %.2f ms | %.2f ms | %.1f MiB | %.1f MB |\n", strings.TrimPrefix(b.Name, "BenchmarkColdStart/"), b.Metrics["init-ms"], b.Metrics["first-response-ms"], b.Metrics["peak-RSS-MiB"], b.Metrics["arm64-MB"])
	}
	if floor := pick(all, targetFloor, "", -1); len(floor) > 0 {
		p("\nThe floor's exec to first 201, for scale: %s (median above). A function's init is the part a deployment pays on every cold start whatever the request; its first response adds the first request's own work and, on moto, moto's.\n", ms(med(floor, fCold)))
	}
}
