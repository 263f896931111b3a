package main

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pargate/pargate/infra/bench/flow"
)

// stepOf returns each sample's figure f of the named step.
func stepOf(ss []sample, step string, f func(stepSample) float64) []float64 {
	var xs []float64
	for _, s := range ss {
		for _, st := range s.Steps {
			if st.Step == step && st.OK > 0 {
				xs = append(xs, f(st))
			}
		}
	}
	return xs
}

var (
	fStepCPU  = func(s stepSample) float64 { return float64(s.CPUPerOp) }
	fStepMoto = func(s stepSample) float64 { return float64(s.MotoCPU) }
	fStepP50  = func(s stepSample) float64 { return float64(s.P50) }
)

// flowColumn is one server and store of the whole-flow tables.
type flowColumn struct {
	title, target, store string
}

var flowColumns = []flowColumn{
	{"pargate, in-memory", targetPargate, "memory"},
	{"pargate, DynamoDB (moto)", targetPargate, "dynamodb"},
	{"node-oidc-provider", targetNode, "memory"},
}

// passwordCheck is BenchmarkPasswordCheck's CPU per check (cpu-ms/op, the median of
// its lines in the Go benchmark output, in ns) and the -cpu it ran with.
func passwordCheck(benches []goBench) (ns float64, procs string, ok bool) {
	var xs []float64
	for _, b := range benches {
		if b.Name == "BenchmarkPasswordCheck" && strings.HasSuffix(b.Pkg, "/infra/cost") {
			if v, has := b.Metrics["cpu-ms/op"]; has {
				xs = append(xs, v*1e6)
				procs = cmp.Or(b.Procs, "1")
			}
		}
	}
	return median(xs), procs, len(xs) > 0
}

// writeFlow renders the "Whole flow" section.
func (r *results) writeFlow(p func(string, ...any), benches []goBench) {
	s := r.Set
	p("\n## Whole flow\n\n")
	if len(r.Flows) == 0 {
		p("Not measured (`-phases` without flow).\n")
		return
	}
	steps := flow.StepsOf(flow.Fixture("", flow.Pargate, true, nil))
	p("One flow is push → `/authorize` (the login page) → login → consent page → approve → `/token` (code for tokens) → refresh (`grant_type=refresh_token`), with `scope=openid offline_access` and `prompt=consent` (OIDC Core §11), each flow with its own cookie jar; `infra/bench/flow` checks every answer against its spec (201 with `request_uri` and `expires_in`, the login and consent pages, the authorization response's `code`, `state` and `iss`, the token responses' `access_token`, `token_type`, `id_token`, `refresh_token` and `Cache-Control: no-store`, a rotated refresh token). ")
	p("Flows run in batches of %d at concurrency c, **step by step**: every flow of a batch takes a step before any takes the next, so the server's CPU over that window (utime+stime from `/proc/<pid>/stat`, as for `/par`) is that step's alone, divided by the steps that succeeded. A round starts the server afresh, runs one unmeasured batch, then batches until %s flows or %v (the batch in progress finishes); flows per second is the completed flows over the batches' time. Medians over %d rounds; the servers alternate within each round.\n\n",
		s.FlowBatch, thousands(s.FlowFlows), s.FlowDuration, s.FlowRounds)
	p("node-oidc-provider signs in and consents through the interaction routes of `infra/bench/node/provider.js` (the library's `interactionDetails`, `interactionFinished` and `Grant`), whose login compares the password as it is: no hashing. Its authorize, login and approve steps take two requests each (the redirect to `/interaction/<uid>` and its page; the redirect back through `/authorize/<uid>`), pargate's one. pargate's access tokens are RS256 JWTs; node-oidc-provider's are opaque (its ID token is RS256).\n\n")

	p("| server | store | c | flows/s | server CPU / flow | moto CPU / flow | failed | other processes |\n|---|---|---|---|---|---|---|---|\n")
	for _, col := range flowColumns {
		for _, c := range s.FlowConc {
			ss := pick(r.Flows, col.target, col.store, c)
			if len(ss) == 0 {
				continue
			}
			n, _ := failed(ss)
			motoCol := "-"
			if col.store == "dynamodb" {
				motoCol = ms(med(ss, fMoto))
			}
			p("| %s | %s | %d | %.1f | %s | %s | %d | %.0f%% |\n", col.target, col.store, c, med(ss, fRPS), ms(med(ss, fCPU)), motoCol, n, 100*med(ss, fOth))
		}
	}

	n := fewestSteps(r.Flows)
	windows := math.Ceil(n / float64(max(1, s.FlowBatch)))
	p("\nThe CPU counters tick in 10 ms (`USER_HZ`) and are read around each step of each batch; each reading is within one tick and unbiased, so a step's figure over a round of W batches and N steps is within about 10 ms × √W ÷ N: %s for the least-taken step of a round here (N = %.0f).\n",
		ms(float64(10*time.Millisecond)*math.Sqrt(windows)/max(1, n)), n)
	for _, c := range s.FlowConc {
		p("\nServer CPU per step at c=%d (median over rounds; the share is of the sum of the steps):\n\n| step |", c)
		var cols []flowColumn
		for _, col := range flowColumns {
			if len(pick(r.Flows, col.target, col.store, c)) > 0 {
				cols = append(cols, col)
			}
		}
		sep := "|---|"
		for _, col := range cols {
			p(" %s | share | p50 |", col.title)
			sep += "---|---|---|"
			if col.store == "dynamodb" {
				p(" moto CPU |")
				sep += "---|"
			}
		}
		p("\n%s\n", sep)
		totals := make([]float64, len(cols))
		for i, col := range cols {
			for _, st := range steps {
				totals[i] += median(stepOf(pick(r.Flows, col.target, col.store, c), st, fStepCPU))
			}
		}
		for _, st := range steps {
			p("| %s |", st)
			for i, col := range cols {
				ss := pick(r.Flows, col.target, col.store, c)
				v := median(stepOf(ss, st, fStepCPU))
				share := 0.0
				if totals[i] > 0 {
					share = v / totals[i]
				}
				p(" %s | %.0f%% | %s |", ms(v), 100*share, ms(median(stepOf(ss, st, fStepP50))))
				if col.store == "dynamodb" {
					p(" %s |", ms(median(stepOf(ss, st, fStepMoto))))
				}
			}
			p("\n")
		}
		p("| **sum** |")
		for i, col := range cols {
			p(" **%s** | | |", ms(totals[i]))
			if col.store == "dynamodb" {
				p(" |")
			}
		}
		p("\n")
	}
	r.writeDominant(p, steps, benches)
	if n, first := failed(r.Flows); n > 0 {
		p("\n%d flows failed; the first failure: `%s`\n", n, first)
	}
}

// fewestSteps is the fewest times a step was taken in any round.
func fewestSteps(ss []sample) float64 {
	n := -1
	for _, s := range ss {
		for _, st := range s.Steps {
			if n < 0 || st.OK < n {
				n = st.OK
			}
		}
	}
	return float64(n)
}

// stepCPU is the median CPU of each step of ss, and their sum.
func stepCPU(ss []sample, steps []string) (map[string]float64, float64) {
	cpu, total := map[string]float64{}, 0.0
	for _, st := range steps {
		cpu[st] = median(stepOf(ss, st, fStepCPU))
		total += cpu[st]
	}
	return cpu, total
}

// writeDominant says which step dominates pargate's flow on the in-memory store at
// the lowest concurrency measured (a Lambda instance serves one request at a time),
// and sets the login's argon2id beside it.
func (r *results) writeDominant(p func(string, ...any), steps []string, benches []goBench) {
	if len(r.Set.FlowConc) == 0 {
		return
	}
	c := slices.Min(r.Set.FlowConc)
	mem := pick(r.Flows, targetPargate, "memory", c)
	node := pick(r.Flows, targetNode, "memory", c)
	cpu, total := stepCPU(mem, steps)
	if total == 0 {
		return
	}
	order := slices.Clone(steps)
	slices.SortStableFunc(order, func(a, b string) int { return cmp.Compare(cpu[b], cpu[a]) })
	top := order[0]
	p("\n**Which step dominates.** At c=%d (a Lambda instance serves one request at a time) on the in-memory store, pargate's **%s** step takes %s of the %s its steps take per flow (%.0f%%); next come %s (%s) and %s (%s).",
		c, top, ms(cpu[top]), ms(total), 100*cpu[top]/total, order[1], ms(cpu[order[1]]), order[2], ms(cpu[order[2]]))
	hash, procs, hasHash := passwordCheck(benches)
	if hasHash {
		p(" The login verifies the user's password with argon2id (m = 19 MiB, t = 2, p = 1, `docs/design.md decision 19`): `BenchmarkPasswordCheck` (`infra/cost`, `-cpu %s`) measures **%s** of CPU per check (cpu-ms/op from getrusage, the collector's work included), so the login step without its hash costs about %s.",
			procs, ms(hash), ms(max(cpu[flow.StepLogin]-hash, 0)))
	} else {
		p(" (`BenchmarkPasswordCheck` was not in the Go benchmark output given with `-gobench`, so the login's argon2id is not set apart here.)")
	}
	for _, hc := range r.Set.FlowConc {
		if hc == c {
			continue
		}
		if hcpu, _ := stepCPU(pick(r.Flows, targetPargate, "memory", hc), steps); hcpu[flow.StepLogin] > 0 {
			p(" At c=%d the login takes %s: concurrent checks each fill 19 MiB, and the collector works through them on the same cores.", hc, ms(hcpu[flow.StepLogin]))
		}
	}
	if ncpu, ntotal := stepCPU(node, steps); ntotal > 0 {
		p(" node-oidc-provider's login, which hashes nothing, costs %s; its steps %s per flow in all.", ms(ncpu[flow.StepLogin]), ms(ntotal))
		if hasHash {
			p(" Without the hash, pargate's steps take %s per flow, %s node-oidc-provider's.", ms(max(total-hash, 0)), x(max(total-hash, 0)/ntotal))
		}
	}
	switch top {
	case flow.StepLogin:
		p(" Why: argon2id is made to be expensive in memory and time, so that a stolen hash is slow to attack (RFC 9106 §4), and it is the only step that computes rather than reads, writes and formats: the other steps make one or two store calls each. It is also what sizes the Authorize function's memory (`docs/design.md decision 19`).")
		if order[1] == flow.StepToken || order[1] == flow.StepRefresh {
			p(" After it come the token requests: pargate's code exchange and refresh each sign two RS256 JWTs (the access token and the ID token; node-oidc-provider's access tokens are opaque, so it signs one).")
		}
		p("\n")
	case flow.StepToken, flow.StepRefresh:
		p(" Why: the code exchange and the refresh each sign two RS256 JWTs (the access token and the ID token), each an RSA-2048 private-key operation.\n")
	default:
		p("\n")
	}
}
