// Command loadgen is pargate's load generator and the driver of `make bench`.
//
//	loadgen compare [flags]   start pargate, node-oidc-provider and the floor server,
//	                          measure them round by round and write infra/bench/REPORT.md
//	loadgen par -url http://127.0.0.1:8080/par [flags]
//	                          push to one running server and print req/s and latency
//
// Every run is bounded in requests and in time, and load goes to 127.0.0.1 only: a
// target URL naming any other host is refused, and the clients' dialer refuses any
// other address too.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pargate/pargate/infra/bench/flow"
)

func main() {
	log.SetFlags(log.Ltime)
	log.SetPrefix("loadgen: ")
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "compare":
		err = cmdCompare(ctx, os.Args[2:])
	case "par":
		err = cmdPAR(ctx, os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		log.Fatal(err)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: loadgen compare [flags] | loadgen par -url http://127.0.0.1:PORT/par [flags]; -h for flags")
	os.Exit(2)
}

type intList []int

func (l *intList) String() string {
	s := make([]string, len(*l))
	for i, v := range *l {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

func (l *intList) Set(v string) error {
	*l = nil
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1024 {
			return fmt.Errorf("concurrency %q: want 1 to 1024", f)
		}
		*l = append(*l, n)
	}
	return nil
}

func cmdCompare(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("compare", flag.ExitOnError)
	s := settings{Conc: intList{1, 8, 32, 64}, FlowConc: intList{1, 8}}
	fs.StringVar(&s.Repo, "repo", ".", "root of the pargate repository")
	fs.StringVar(&s.Out, "out", "infra/bench/REPORT.md", "where to write the report")
	fs.StringVar(&s.GoBench, "gobench", "", "file with the output of go test -bench -benchmem, for the report")
	fs.StringVar(&s.Notes, "notes", "infra/bench/NOTES.md", "hand-written analysis appended to the report (skipped if missing)")
	fs.IntVar(&s.Rounds, "rounds", 5, "rounds of the /par comparison per concurrency")
	fs.IntVar(&s.DynamoRounds, "dynamo-rounds", 3, "rounds of /par on DynamoDB per concurrency")
	fs.IntVar(&s.FlowRounds, "flow-rounds", 3, "rounds of the whole flow per target, store and concurrency")
	fs.IntVar(&s.RSSRounds, "rss-rounds", 2, "rounds of the peak-RSS run")
	fs.DurationVar(&s.Duration, "duration", 2*time.Second, "longest measured run of a round")
	fs.DurationVar(&s.Warmup, "warmup", time.Second, "warm-up before each measured run")
	fs.DurationVar(&s.FlowDuration, "flow-duration", 4*time.Second, "longest measured run of a whole-flow round (the batch in progress finishes)")
	fs.IntVar(&s.FlowFlows, "flow-flows", 2000, "most flows of a whole-flow round")
	fs.IntVar(&s.FlowBatch, "flow-batch", 50, "flows of a batch, each step taken by all before the next (node-oidc-provider's in-memory adapter keeps 1,000 entries, about 12 per flow)")
	phases := fs.String("phases", strings.Join(phaseNames, ","), "phases to run, of "+strings.Join(phaseNames, ","))
	fs.IntVar(&s.Requests, "requests", 200000, "most requests of a measured run")
	conc, flowConc := (*intList)(&s.Conc), (*intList)(&s.FlowConc)
	fs.Var(conc, "c", "concurrency levels of /par")
	fs.Var(flowConc, "flow-c", "concurrency levels of the complete flow")
	fs.IntVar(&s.RSSPushes, "rss-pushes", 60000, "pushes before the peak RSS is read")
	fs.IntVar(&s.RSSConc, "rss-c", 8, "concurrency of the RSS run")
	fs.DurationVar(&s.RSSTimeout, "rss-timeout", 90*time.Second, "longest RSS run")
	fs.BoolVar(&s.SkipNode, "skip-node", false, "leave node-oidc-provider out")
	fs.BoolVar(&s.SkipDynamo, "skip-dynamo", false, "leave the DynamoDB (moto_server) runs out")
	limit := fs.Duration("limit", 20*time.Minute, "abort the whole comparison after this long")
	jsonOut := fs.String("json", "bin/bench-results.json", "where to save the measurements (empty: nowhere)")
	from := fs.String("from", "", "render the report from saved measurements instead of measuring")
	_ = fs.Parse(args)
	if s.Rounds < 1 || s.Requests < 1 || s.Duration <= 0 || s.RSSPushes < 1 || s.FlowFlows < 1 || s.FlowBatch < 1 || s.FlowDuration <= 0 {
		return fmt.Errorf("rounds, requests, duration, rss-pushes, flow-flows, flow-batch and flow-duration must be positive")
	}
	for p := range strings.SplitSeq(*phases, ",") {
		if p = strings.TrimSpace(p); !slices.Contains(phaseNames, p) {
			return fmt.Errorf("phase %q: want one of %s", p, strings.Join(phaseNames, ","))
		}
		s.Phases = append(s.Phases, p)
	}
	s.Conc, s.FlowConc = []int(*conc), []int(*flowConc)
	var r *results
	if *from != "" {
		data, err := os.ReadFile(*from)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("%s: %w", *from, err)
		}
	} else {
		ctx, cancel := context.WithTimeout(ctx, *limit)
		defer cancel()
		var err error
		if r, err = compare(ctx, s); err != nil {
			return err
		}
		if *jsonOut != "" {
			data, err := json.MarshalIndent(r, "", " ")
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(*jsonOut), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(*jsonOut, data, 0o644); err != nil {
				return err
			}
		}
	}
	gb := ""
	if s.GoBench != "" {
		data, err := os.ReadFile(s.GoBench)
		if err != nil {
			return err
		}
		gb = string(data)
	}
	notes := ""
	if data, err := os.ReadFile(s.Notes); err == nil {
		notes = string(data)
	}
	r.goBench = parseGoBench(gb)
	if err := r.write(s.Out, gb, notes); err != nil {
		return err
	}
	log.Printf("wrote %s (measured in %s)", s.Out, r.Ended.Sub(r.Began).Round(time.Second))
	for _, g := range r.goals() {
		if !g.known {
			continue
		}
		log.Printf("%-60s %-8s goal %-40s %s", g.what, g.measured, g.goal, strings.Trim(mark(g), "*"))
	}
	return nil
}

func cmdPAR(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("par", flag.ExitOnError)
	target := fs.String("url", "http://127.0.0.1:8080/par", "the /par endpoint (127.0.0.1 only)")
	clientID := fs.String("client-id", "demo-client", "client_id (client_secret_basic)")
	secret := fs.String("client-secret", "demo-secret-change-me-7Q0a9sV1mXbq3R2kT8wZpL4nYc5dE6fG", "client secret")
	redirect := fs.String("redirect-uri", "http://127.0.0.1:8080/callback", "redirect_uri")
	scope := fs.String("scope", "openid", "scope")
	c := fs.Int("c", 8, "concurrency (1 to 1024)")
	n := fs.Int("n", 20000, "most requests")
	d := fs.Duration("d", 5*time.Second, "longest run")
	_ = fs.Parse(args)
	if err := checkTarget(*target); err != nil {
		return err
	}
	if *c < 1 || *c > 1024 || *n < 1 || *d <= 0 || *d > 10*time.Minute {
		return fmt.Errorf("want 1 ≤ -c ≤ 1024, -n ≥ 1 and 0 < -d ≤ 10m")
	}
	cfg := flow.Config{ClientID: *clientID, RedirectURI: *redirect, Scope: *scope}
	rq := Request{URL: *target, Body: cfg.PushBody(), WantStatus: http.StatusCreated,
		Auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(*clientID)+":"+url.QueryEscape(*secret)))}
	tr := newTransport(*c)
	defer tr.CloseIdleConnections()
	op := rq.Op(&http.Client{Transport: tr})
	if err := op(ctx); err != nil {
		return fmt.Errorf("the first push failed: %w", err)
	}
	res := Run(ctx, Bounds{Concurrency: *c, Requests: *n, Duration: *d}, op)
	fmt.Printf("%d ok, %d failed in %v: %.0f req/s, p50 %v, p99 %v, p99.9 %v\n", res.OK, res.Failed,
		res.Elapsed.Round(time.Millisecond), res.PerSecond(), round3(res.Latency.Quantile(0.5)),
		round3(res.Latency.Quantile(0.99)), round3(res.Latency.Quantile(0.999)))
	if res.FirstError != "" {
		fmt.Printf("first failure: %s\n", res.FirstError)
	}
	return nil
}
