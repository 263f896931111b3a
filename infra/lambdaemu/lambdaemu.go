// Package lambdaemu runs a real Lambda bootstrap binary locally, the way Lambda and
// `sam local invoke` do but without Docker: it serves the Lambda Runtime API
// (2018-06-01) on 127.0.0.1, starts the bootstrap with AWS_LAMBDA_RUNTIME_API pointing
// at it and the environment Lambda gives a function, and hands it events one at a
// time. The function sees what it would see in Lambda: GET .../invocation/next with the
// event and the Lambda-Runtime-* headers, and POSTs its response, its error or its init
// error back. The process is measured (exec to init done, exec to first response,
// peak RSS) and killed with its process group on Close.
//
// It knows nothing about pargate; infra/lambdaemu/stack builds pargate's functions and
// the AWS resources they need.
package lambdaemu

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/pargate/pargate/pkg/proc"
)

// APIVersion is the version of the Runtime API served, the first path segment.
const APIVersion = "2018-06-01"

// Defaults of a [Function], Lambda's own.
const (
	DefaultRegion      = "us-east-1"
	DefaultMemoryMB    = 128
	DefaultTimeout     = 3 * time.Second
	DefaultInitTimeout = 10 * time.Second
	// MaxResponseSize is the limit of a synchronous invocation's response.
	MaxResponseSize = 6 * 1024 * 1024
)

// AccountID is the account in the function ARN the runtime is told it runs as.
const AccountID = "123456789012"

// Function is a bootstrap binary and the configuration Lambda would run it with.
type Function struct {
	// Bootstrap is the path of the executable (a provided.al2023 `bootstrap`). Its
	// directory is the working directory and LAMBDA_TASK_ROOT, as /var/task is.
	Bootstrap string
	// Name is AWS_LAMBDA_FUNCTION_NAME; default: the name of Bootstrap's directory.
	Name string
	// Env is the function's own environment (template.yaml's Environment.Variables).
	// The parent's environment is not inherited, as in Lambda: what is not here or in
	// the variables Lambda sets (see [Function.Environ]) is unset.
	Env map[string]string
	// Region is AWS_REGION (default [DefaultRegion]).
	Region string
	// MemoryMB is AWS_LAMBDA_FUNCTION_MEMORY_SIZE (default [DefaultMemoryMB]). It is
	// reported, not enforced.
	MemoryMB int
	// Timeout bounds each invocation (default [DefaultTimeout]); the runtime gets
	// the deadline in Lambda-Runtime-Deadline-Ms. A function that overruns it is
	// killed, as Lambda does.
	Timeout time.Duration
	// InitTimeout bounds the init phase: exec until the first GET .../next (default
	// [DefaultInitTimeout]).
	InitTimeout time.Duration
	// Logs receives the function's stdout and stderr (CloudWatch Logs in Lambda) and a
	// REPORT line per invocation; nil discards them. The last 16 KiB are kept either
	// way, for error messages.
	Logs io.Writer
}

// Environ is the process environment of the function: the variables Lambda sets
// for a custom runtime, then f.Env. Reserved variables (credentials, region, the
// AWS_LAMBDA_* ones) cannot be overridden by f.Env, as in Lambda.
func (f *Function) Environ(runtimeAPI string) []string {
	taskRoot := filepath.Dir(f.Bootstrap)
	reserved := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME":        f.Name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(f.MemoryMB),
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + f.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16),
		"AWS_REGION":                      f.Region,
		"AWS_DEFAULT_REGION":              f.Region,
		// The execution role's temporary credentials in Lambda; dummies here, so a
		// developer's own profile can never reach the function.
		"AWS_ACCESS_KEY_ID":     "ASIALAMBDAEMULATOR00",
		"AWS_SECRET_ACCESS_KEY": "lambdaemu-secret-access-key",
		"AWS_SESSION_TOKEN":     "lambdaemu-session-token",
		"_HANDLER":              filepath.Base(f.Bootstrap),
		"LAMBDA_TASK_ROOT":      taskRoot,
		"LAMBDA_RUNTIME_DIR":    taskRoot,
	}
	env := map[string]string{
		"PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"LANG": "en_US.UTF-8",
		"TZ":   ":UTC",
	}
	for k, v := range f.Env {
		env[k] = v
	}
	for k, v := range reserved {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// ARN is the function's ARN, sent to the runtime in Lambda-Runtime-Invoked-Function-Arn.
func (f *Function) ARN() string {
	return "arn:aws:lambda:" + f.Region + ":" + AccountID + ":function:" + f.Name
}

func (f *Function) defaults() error {
	if f.Bootstrap == "" {
		return errors.New("lambdaemu: Function.Bootstrap is empty")
	}
	abs, err := filepath.Abs(f.Bootstrap)
	if err != nil {
		return fmt.Errorf("lambdaemu: bootstrap: %w", err)
	}
	f.Bootstrap = abs
	if f.Name == "" {
		f.Name = filepath.Base(filepath.Dir(abs))
	}
	if f.Region == "" {
		f.Region = DefaultRegion
	}
	if f.MemoryMB <= 0 {
		f.MemoryMB = DefaultMemoryMB
	}
	if f.Timeout <= 0 {
		f.Timeout = DefaultTimeout
	}
	if f.InitTimeout <= 0 {
		f.InitTimeout = DefaultInitTimeout
	}
	return nil
}

// FunctionError is a failed invocation, as Lambda reports it to the caller: an error
// the function posted to .../invocation/{id}/error or .../init/error, or one Lambda
// itself determines - the runtime exited (Runtime.ExitError), overran its timeout
// (Sandbox.Timedout) or sent an oversized response (Function.ResponseSizeTooLarge).
type FunctionError struct {
	// Type is the errorType, e.g. Runtime.ExitError or the Go type aws-lambda-go names.
	Type    string
	Message string
	// Phase is "init" when the function failed before taking the event, else "invoke".
	Phase string
	// Payload is the error document the runtime posted, or the one Lambda would
	// return ({"errorType":…,"errorMessage":…}).
	Payload []byte
	// Logs is the end of the function's output when the error was detected.
	Logs string
}

func (e *FunctionError) Error() string {
	msg := fmt.Sprintf("lambda %s error %s: %s", e.Phase, e.Type, e.Message)
	if e.Logs != "" {
		msg += "\nfunction output ends with:\n" + e.Logs
	}
	return msg
}

func newFunctionError(phase, typ, message string, logs string) *FunctionError {
	payload, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": message})
	return &FunctionError{Type: typ, Message: message, Phase: phase, Payload: payload, Logs: logs}
}

// ErrClosed is returned by Invoke after Close.
var ErrClosed = errors.New("lambdaemu: runtime closed")

// Stats are measurements of one execution environment.
type Stats struct {
	// Init is exec until the runtime's first GET .../next: Lambda's Init Duration.
	Init time.Duration
	// FirstResponse is exec until the first response or error was posted: what a
	// caller of a cold function waits for, minus the gateway.
	FirstResponse time.Duration
	// LastDuration is the last invocation's Duration (event handed over to result).
	LastDuration time.Duration
	// Invocations counts the results received.
	Invocations int
	// PeakRSS is the process's peak resident set size in bytes (VmHWM on Linux),
	// as last read: at every result and at Close.
	PeakRSS int64
	// LastCPU is the CPU time (user and system, every thread) the process used during
	// the last invocation, from the event handed over to the result: what Lambda's
	// CPU share, proportional to the memory size, must deliver (cpu_linux.go). -1
	// where it cannot be read (not Linux).
	LastCPU time.Duration
}

// Runtime is a running function: the Runtime API server and the bootstrap process.
// Invoke may be called from several goroutines; invocations run one at a time, as
// in a Lambda execution environment.
type Runtime struct {
	fn      Function
	ln      net.Listener
	srv     *http.Server
	cmd     *exec.Cmd
	logs    *proc.TailBuffer
	out     io.Writer // logs, and Function.Logs if set
	started time.Time

	queue    chan *invocation // Invoke → GET .../next
	initDone chan struct{}    // closed on the first GET .../next
	initErr  chan struct{}    // closed on POST .../init/error
	exited   chan struct{}    // closed when the process has exited
	closing  chan struct{}    // closed by Close

	invokeMu sync.Mutex // one invocation at a time

	mu          sync.Mutex
	inflight    map[string]*invocation
	initFailure *FunctionError
	exitState   *os.ProcessState
	stats       Stats
	closeOnce   sync.Once
}

type invocation struct {
	id    string
	event []byte
	done  chan struct{} // closed when result or err is set, under Runtime.mu
	res   []byte
	err   error
	given time.Time     // when the runtime received it
	cpu   time.Duration // the process's CPU time then (cpuTime)
}

// Start serves the Runtime API on a free 127.0.0.1 port and starts the bootstrap.
// The init phase runs in the background; the first Invoke waits for it. Close the
// Runtime to stop the process.
func Start(ctx context.Context, fn Function) (*Runtime, error) {
	if err := fn.defaults(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(fn.Bootstrap); err != nil {
		return nil, fmt.Errorf("lambdaemu: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambdaemu: listen: %w", err)
	}
	r := &Runtime{
		fn:       fn,
		ln:       ln,
		logs:     &proc.TailBuffer{Max: 16 << 10},
		queue:    make(chan *invocation),
		initDone: make(chan struct{}),
		initErr:  make(chan struct{}),
		exited:   make(chan struct{}),
		closing:  make(chan struct{}),
		inflight: map[string]*invocation{},
	}
	r.srv = &http.Server{Handler: r.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()

	var out io.Writer = r.logs
	if fn.Logs != nil {
		out = io.MultiWriter(r.logs, fn.Logs)
	}
	// One writer for the process's stdout and stderr and the REPORT lines.
	out = &proc.SyncWriter{W: out}
	r.out = out
	cmd := exec.Command(fn.Bootstrap)
	cmd.Dir = filepath.Dir(fn.Bootstrap)
	cmd.Env = fn.Environ(ln.Addr().String())
	cmd.Stdout, cmd.Stderr = out, out
	// A child that outlives the kill holding the output pipe must not hang Wait.
	cmd.WaitDelay = time.Second
	r.cmd = cmd

	// Its own process group, which kill ends, and on Linux a parent-death signal: no
	// orphaned bootstrap after a crashed or timed-out test run.
	r.mu.Lock()
	r.started = time.Now()
	r.mu.Unlock()
	exited, err := proc.Start(cmd)
	if err != nil {
		_ = r.srv.Close()
		return nil, fmt.Errorf("lambdaemu: start %s: %w", fn.Bootstrap, err)
	}
	go func() {
		<-exited
		r.mu.Lock()
		r.exitState = cmd.ProcessState
		if rss := maxRSS(cmd.ProcessState); rss > r.stats.PeakRSS {
			r.stats.PeakRSS = rss
		}
		r.mu.Unlock()
		close(r.exited)
	}()
	return r, nil
}

// Addr is the host:port of the Runtime API (the function's AWS_LAMBDA_RUNTIME_API).
func (r *Runtime) Addr() string { return r.ln.Addr().String() }

// Pid is the bootstrap's process id.
func (r *Runtime) Pid() int { return r.cmd.Process.Pid }

// Logs is the end of the function's output so far.
func (r *Runtime) Logs() string { return r.logs.String() }

// WaitInit waits until the init phase is over: the runtime asked for its first event.
// It returns the init error or exit if the function failed instead.
func (r *Runtime) WaitInit(ctx context.Context) error {
	timeout := time.NewTimer(r.fn.InitTimeout)
	defer timeout.Stop()
	select {
	case <-r.initDone:
		return nil
	case <-r.initErr:
		return r.initFailureErr()
	case <-r.exited:
		return r.exitErr("init")
	case <-timeout.C:
		r.kill()
		return newFunctionError("init", "Sandbox.Timedout", fmt.Sprintf("init phase did not complete within %v (no GET /%s/runtime/invocation/next)", r.fn.InitTimeout, APIVersion), r.Logs())
	case <-r.closing:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Invoke hands event to the function, as a synchronous (RequestResponse) invocation,
// and returns the response payload it posted. A failed invocation is a
// *FunctionError. After an init failure, an exit or a timeout the environment is
// gone and every later Invoke fails; Start a new Runtime for a new cold start.
func (r *Runtime) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	r.invokeMu.Lock()
	defer r.invokeMu.Unlock()
	if err := r.WaitInit(ctx); err != nil {
		return nil, err
	}
	inv := &invocation{id: newRequestID(), event: event, done: make(chan struct{})}
	r.mu.Lock()
	r.inflight[inv.id] = inv
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.inflight, inv.id)
		r.mu.Unlock()
	}()

	// The runtime is between invocations, in (or on its way to) GET .../next.
	select {
	case r.queue <- inv:
	case <-r.exited:
		return nil, r.exitErr("invoke")
	case <-r.closing:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	timeout := time.NewTimer(r.fn.Timeout)
	defer timeout.Stop()
	select {
	case <-inv.done:
		return inv.res, inv.err
	case <-r.exited:
		// A result posted just before exiting still counts.
		select {
		case <-inv.done:
			return inv.res, inv.err
		default:
		}
		return nil, r.exitErr("invoke")
	case <-timeout.C:
		r.kill()
		return nil, newFunctionError("invoke", "Sandbox.Timedout", fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, r.fn.Timeout.Seconds()), r.Logs())
	case <-r.closing:
		return nil, ErrClosed
	case <-ctx.Done():
		// The caller gave up; Lambda would still run the function to its end, so the
		// environment is no longer in a known state.
		r.kill()
		return nil, ctx.Err()
	}
}

// Stats returns the measurements so far, with the current peak RSS.
func (r *Runtime) Stats() Stats {
	r.sampleRSS()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Close stops the function - SIGKILL to its process group, as Lambda ends an
// environment without extensions - and the Runtime API server. It returns the
// final statistics' error, if the process could not be stopped.
func (r *Runtime) Close() error {
	var err error
	r.closeOnce.Do(func() {
		r.sampleRSS()
		close(r.closing)
		r.kill()
		select {
		case <-r.exited:
		case <-time.After(5 * time.Second):
			err = fmt.Errorf("lambdaemu: process %d did not exit after SIGKILL", r.cmd.Process.Pid)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if e := r.srv.Shutdown(ctx); e != nil {
			_ = r.srv.Close()
		}
	})
	return err
}

// kill sends SIGKILL to the process group (the bootstrap and anything it started).
func (r *Runtime) kill() {
	select {
	case <-r.exited:
		return
	default:
	}
	proc.Kill(r.cmd)
}

// sampleRSS records the process's peak RSS while it is alive.
func (r *Runtime) sampleRSS() {
	select {
	case <-r.exited:
		return
	default:
	}
	rss := peakRSS(r.cmd.Process.Pid)
	r.mu.Lock()
	if rss > r.stats.PeakRSS {
		r.stats.PeakRSS = rss
	}
	r.mu.Unlock()
}

func (r *Runtime) initFailureErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.initFailure
}

// exitErr is the error of a process that exited on its own, as Lambda words it.
func (r *Runtime) exitErr(phase string) error {
	select {
	case <-r.closing:
		return ErrClosed
	default:
	}
	r.mu.Lock()
	state := r.exitState
	initFailure := r.initFailure
	r.mu.Unlock()
	if initFailure != nil {
		return initFailure
	}
	msg := "Runtime exited without providing a reason"
	if state != nil && !state.Success() {
		msg = "Runtime exited with error: " + state.String()
	}
	return newFunctionError(phase, "Runtime.ExitError", msg, r.Logs())
}

// finish records the result of inv; false if it already had one.
func (r *Runtime) finish(inv *invocation, res []byte, err error) bool {
	r.sampleRSS()
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-inv.done:
		return false
	default:
	}
	inv.res, inv.err = res, err
	now := time.Now()
	if c := cpuTime(r.cmd.Process.Pid); c >= 0 && inv.cpu >= 0 {
		r.stats.LastCPU = c - inv.cpu
	} else {
		r.stats.LastCPU = -1
	}
	r.stats.Invocations++
	r.stats.LastDuration = now.Sub(inv.given)
	if r.stats.FirstResponse == 0 {
		r.stats.FirstResponse = now.Sub(r.started)
	}
	close(inv.done)
	r.report(inv.id)
	return true
}

// report writes Lambda's REPORT line to the function's log; called with r.mu held.
func (r *Runtime) report(id string) {
	if r.fn.Logs == nil {
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
		id, ms(r.stats.LastDuration), (r.stats.LastDuration+time.Millisecond-1)/time.Millisecond, r.fn.MemoryMB, (r.stats.PeakRSS+(1<<20)-1)>>20)
	if r.stats.Invocations == 1 {
		fmt.Fprintf(&b, "\tInit Duration: %.2f ms", ms(r.stats.Init))
	}
	b.WriteByte('\n')
	_, _ = r.out.Write(b.Bytes())
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// newRequestID returns a random UUID (version 4), the form of Lambda's request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newTraceID returns an X-Ray trace header as Lambda sends it.
func newTraceID() string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0;Lineage=1:%s:0", time.Now().Unix(), randomHex(12), randomHex(8), randomHex(4))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
