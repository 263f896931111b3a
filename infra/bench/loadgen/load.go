package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Load is only ever sent to this host: the benchmark runs its servers on this
// machine, and nothing else is a target.
const loopbackHost = "127.0.0.1"

// checkTarget refuses any URL whose host is not 127.0.0.1.
func checkTarget(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("target %q: %w", raw, err)
	}
	if u.Scheme != "http" || u.Hostname() != loopbackHost || u.Port() == "" {
		return fmt.Errorf("target %q refused: load is only sent to http://%s:<port>", raw, loopbackHost)
	}
	return nil
}

// dialLoopback is the only dialer of the load generator's clients: it refuses every
// address but 127.0.0.1, whatever a URL or a redirect names.
func dialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if host != loopbackHost {
		return nil, fmt.Errorf("refusing to connect to %s: load is only sent to %s", addr, loopbackHost)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// newTransport is a keep-alive transport for up to conns connections to one host.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		DialContext:         dialLoopback,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

// Op is one unit of load (one request, or one whole flow). It returns nil when the
// server answered as expected.
type Op func(ctx context.Context) error

// Bounds limit one run of load: it stops after Requests operations or Duration,
// whichever comes first.
type Bounds struct {
	Concurrency int
	Requests    int
	Duration    time.Duration
}

// Result of one run of load.
type Result struct {
	OK, Failed int
	Elapsed    time.Duration
	Latency    *Hist // of the successful operations
	FirstError string
}

// PerSecond is the rate of successful operations.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// Run runs op from b.Concurrency workers until b.Requests operations were started or
// b.Duration passed; operations in flight at the deadline finish and count.
func Run(ctx context.Context, b Bounds, op Op) Result {
	if b.Concurrency < 1 {
		b.Concurrency = 1
	}
	var (
		started  atomic.Int64
		mu       sync.Mutex
		res      = Result{Latency: &Hist{}}
		wg       sync.WaitGroup
		deadline = time.Now().Add(b.Duration)
	)
	begin := time.Now()
	for range b.Concurrency {
		wg.Go(func() {
			h := &Hist{}
			ok, failed, first := 0, 0, ""
			for ctx.Err() == nil && time.Now().Before(deadline) && started.Add(1) <= int64(b.Requests) {
				t0 := time.Now()
				err := op(ctx)
				if err != nil {
					if ctx.Err() != nil {
						break
					}
					failed++
					if first == "" {
						first = err.Error()
					}
					continue
				}
				h.Record(time.Since(t0))
				ok++
			}
			mu.Lock()
			defer mu.Unlock()
			res.OK += ok
			res.Failed += failed
			res.Latency.Merge(h)
			if res.FirstError == "" {
				res.FirstError = first
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(begin)
	return res
}

// Request is a prepared POST of a form with client_secret_basic.
type Request struct {
	URL        string
	Body       string
	Auth       string // the Authorization header
	WantStatus int
}

// Op returns the operation that sends the request with client and checks its status.
func (rq Request) Op(client *http.Client) Op {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, rq.URL, strings.NewReader(rq.Body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", rq.Auth)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != rq.WantStatus {
			return fmt.Errorf("status %d, want %d", resp.StatusCode, rq.WantStatus)
		}
		return err
	}
}

// errNotYet marks a poll that found the server not ready.
var errNotYet = errors.New("not ready")

// firstSuccess polls rq until it succeeds and returns the time from start (the exec
// of the server) to that answer. exited is closed when the server process ends.
func firstSuccess(ctx context.Context, rq Request, start time.Time, exited <-chan struct{}, timeout time.Duration) (time.Duration, error) {
	tr := newTransport(1)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	op := rq.Op(client)
	deadline := start.Add(timeout)
	var last error = errNotYet
	for {
		if err := op(ctx); err == nil {
			return time.Since(start), nil
		} else {
			last = err
		}
		select {
		case <-exited:
			return 0, fmt.Errorf("the server exited before answering (%v)", last)
		case <-ctx.Done():
			return 0, ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no success within %v: %v", timeout, last)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// Hist is a log-linear latency histogram: 64 buckets per power of two of
// nanoseconds, so any quantile it reports is within 1.6% of the true value.
type Hist struct {
	counts [histBuckets]uint64
	n      uint64
	max    time.Duration
}

const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histBuckets = (64 - histSubBits) * histSub
)

func bucketOf(ns uint64) int {
	if ns < histSub {
		return int(ns)
	}
	shift := bits.Len64(ns) - histSubBits - 1
	return (shift+1)*histSub + int(ns>>shift) - histSub
}

// bucketMid is the middle of the bucket's range of nanoseconds.
func bucketMid(i int) float64 {
	if i < histSub {
		return float64(i)
	}
	shift := i/histSub - 1
	lo := uint64(i%histSub+histSub) << shift
	return float64(lo) + float64(uint64(1)<<shift)/2
}

// Record adds one latency.
func (h *Hist) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	h.n++
	h.max = max(h.max, d)
}

// Merge adds o's counts to h.
func (h *Hist) Merge(o *Hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Count is the number of recorded latencies.
func (h *Hist) Count() uint64 { return h.n }

// Quantile returns the latency below which a fraction q of the records fall.
func (h *Hist) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	if rank == h.n {
		return h.max
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(bucketMid(i)), h.max)
		}
	}
	return h.max
}
