package stack_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pargate/pargate/infra/cost"
	"github.com/pargate/pargate/infra/lambdaemu/stack"
)

var flowCostOut = flag.String("flowcost.out", "", "BenchmarkFlowCost writes its medians (infra/cost.Emulator JSON) to this file")

// countingWriter counts the bytes a function writes to its log.
type countingWriter struct {
	mu sync.Mutex
	n  int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.n += len(p)
	c.mu.Unlock()
	return len(p), nil
}

func (c *countingWriter) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = 0
	return n
}

// BenchmarkFlowCost carries whole authorizations through the warm par, authorize and
// token bootstraps (each in its own process, as in Lambda) and measures every step's
// invocation: the CPU the function process used (lambdaemu Stats.LastCPU), its
// Duration, the bytes it logged and the size of its response. The medians are what
// the cost model (infra/cost, make cost) and the Authorize memory table start from;
// with -flowcost.out they are written as JSON.
//
//	go test -run='^$' -bench=FlowCost -benchtime=40x ./infra/lambdaemu/stack -flowcost.out=infra/cost/inputs/emulator.json
func BenchmarkFlowCost(b *testing.B) {
	a := setup(b)
	logs := map[string]*countingWriter{}
	fns := map[string]*stack.Function{}
	for _, name := range []string{"par", "authorize", "token"} {
		logs[name] = &countingWriter{}
		fn, err := a.Start(b.Context(), name, bootstraps[name], logs[name])
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = fn.Close() })
		fns[name] = fn
	}
	user := a.Seed.Users[0]
	samples := map[string][]cost.Step{}
	measure := func(step, fn string, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
		logs[fn].take()
		resp := send(b, fns[fn], ev)
		st := fns[fn].Stats()
		size := len(resp.Body)
		for k, v := range resp.Headers {
			size += len(k) + len(v) + 4
		}
		for _, c := range resp.Cookies {
			size += len("Set-Cookie: ") + len(c) + 2
		}
		samples[step] = append(samples[step], cost.Step{
			CPUMillis: ms(st.LastCPU), WallMillis: ms(st.LastDuration),
			LogBytes: logs[fn].take(), ResponseBytes: size,
		})
		return resp
	}
	flows := 0
	for b.Loop() {
		flows++
		// A user's first authorization of the client, the costly one: with the
		// consent remembered from the last iteration the consent and approve steps
		// would be skipped (docs/design.md decision 32), so every flow asks again
		// (OIDC Core §3.1.2.1 prompt=consent).
		push := request(b, "par.json")
		push.Body += "&prompt=consent"
		pushed := measure("push", "par", push)
		wantStatus(b, pushed, http.StatusCreated)
		requestURI, _ := decodeJSON(b, pushed)["request_uri"].(string)
		open := request(b, "authorize.json")
		open.QueryStringParameters["request_uri"] = requestURI
		open.RawQueryString = url.Values{"client_id": {open.QueryStringParameters["client_id"]}, "request_uri": {requestURI}}.Encode()
		login := measure("authorize", "authorize", open)
		wantStatus(b, login, http.StatusOK)

		form := hiddenFields(b, login.Body)
		form.Set("username", user.Username)
		form.Set("password", user.Password)
		jar := cookieJar(b, nil, login)
		signedIn := measure("login", "authorize", formPost(b, form, jar))
		wantStatus(b, signedIn, http.StatusSeeOther)
		next, err := url.Parse(signedIn.Headers["Location"])
		if err != nil {
			b.Fatal(err)
		}
		again := request(b, "authorize.json")
		again.RawQueryString, again.QueryStringParameters = next.RawQuery, nil
		jar = cookieJar(b, jar, signedIn)
		again.Cookies = jar
		consent := measure("consent", "authorize", again)
		wantStatus(b, consent, http.StatusOK)
		form = hiddenFields(b, consent.Body)
		form.Set("decision", "approve")
		approved := measure("approve", "authorize", formPost(b, form, cookieJar(b, jar, consent)))
		wantStatus(b, approved, http.StatusSeeOther)
		loc, err := url.Parse(approved.Headers["Location"])
		if err != nil {
			b.Fatal(err)
		}
		exchange := request(b, "token.json")
		body, err := url.ParseQuery(exchange.Body)
		if err != nil {
			b.Fatal(err)
		}
		body.Set("code", loc.Query().Get("code"))
		exchange.Body = body.Encode()
		delete(exchange.Headers, "content-length")
		wantStatus(b, measure("token", "token", exchange), http.StatusOK)
	}
	out := cost.Emulator{Machine: machine(), GOARCH: runtime.GOARCH, Flows: flows, Steps: map[string]cost.Step{}}
	var lines []string
	for _, s := range cost.FlowSteps {
		m := medianStep(samples[s.Step])
		out.Steps[s.Step] = m
		b.ReportMetric(m.CPUMillis, s.Step+"-cpu-ms")
		lines = append(lines, fmt.Sprintf("%-9s cpu %6.2f ms  duration %6.2f ms  log %4d B  response %5d B", s.Step, m.CPUMillis, m.WallMillis, m.LogBytes, m.ResponseBytes))
	}
	b.Logf("medians of %d flows on %s:\n%s", flows, out.Machine, strings.Join(lines, "\n"))
	if *flowCostOut != "" {
		data, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(*flowCostOut, append(data, '\n'), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// medianStep is the median of each figure of the samples (the upper median of an
// even count).
func medianStep(s []cost.Step) cost.Step {
	med := func(get func(cost.Step) float64) float64 {
		v := make([]float64, len(s))
		for i, x := range s {
			v[i] = get(x)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return cost.Step{
		CPUMillis:     roundTo(med(func(x cost.Step) float64 { return x.CPUMillis }), 100),
		WallMillis:    roundTo(med(func(x cost.Step) float64 { return x.WallMillis }), 100),
		LogBytes:      int(med(func(x cost.Step) float64 { return float64(x.LogBytes) })),
		ResponseBytes: int(med(func(x cost.Step) float64 { return float64(x.ResponseBytes) })),
	}
}

func roundTo(v, per float64) float64 { return float64(int64(v*per+0.5)) / per }

// machine is the CPU model and core count of this host.
func machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores", model, runtime.NumCPU())
}
