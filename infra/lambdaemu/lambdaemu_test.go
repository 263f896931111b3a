package lambdaemu_test

// The emulator against the real Runtime API client: the "bootstrap" in these tests is
// this test binary itself, re-executed with LAMBDAEMU_TEST_RUNTIME naming what it
// should do, running aws-lambda-go's lambda.Start (or, for what that client never
// does, plain HTTP calls). The real functions are driven in ./stack.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/pargate/pargate/infra/lambdaemu"
)

const modeEnv = "LAMBDAEMU_TEST_RUNTIME"

func TestMain(m *testing.M) {
	if mode := os.Getenv(modeEnv); mode != "" {
		testRuntime(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// echo is what the echo runtime answers: the event and what the function saw.
type echo struct {
	Event      json.RawMessage   `json:"event"`
	RequestID  string            `json:"request_id"`
	ARN        string            `json:"arn"`
	DeadlineMS int64             `json:"deadline_ms"`
	TraceID    string            `json:"trace_id"`
	Env        map[string]string `json:"env"`
	ChildPID   int               `json:"child_pid,omitempty"`
}

// testRuntime is the bootstrap of the tests, by mode.
func testRuntime(mode string) {
	base := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/" + lambdaemu.APIVersion + "/runtime"
	childPID := 0
	switch mode {
	case "exit": // what functions/*/main.go do on a configuration error
		fmt.Fprintln(os.Stderr, "configuration: TABLE_NAME is required")
		os.Exit(1)
	case "hang":
		time.Sleep(time.Hour)
	case "init-error":
		req, _ := http.NewRequest(http.MethodPost, base+"/init/error", strings.NewReader(`{"errorMessage":"no keys","errorType":"Config.Missing"}`))
		req.Header.Set(lambdaemu.HeaderFunctionErrorType, "Runtime.ConfigError")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusAccepted {
			fmt.Fprintln(os.Stderr, "init/error:", resp, err)
		}
		os.Exit(1)
	case "protocol":
		protocolRuntime(base)
		return
	case "fork":
		child, err := os.StartProcess("/bin/sleep", []string{"sleep", "300"}, &os.ProcAttr{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		childPID = child.Pid
	}
	lambda.Start(func(ctx context.Context, event json.RawMessage) (*echo, error) {
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		switch mode {
		case "error":
			return nil, errors.New("boom")
		case "panic":
			panic("kaboom")
		case "sleep":
			time.Sleep(time.Hour)
		case "spin": // {"spin_ms": n, "sleep_ms": m}: n ms of CPU, then m ms asleep
			var work struct{ SpinMS, SleepMS int }
			_ = json.Unmarshal(event, &work)
			// Until the process has used that much CPU, however often it is descheduled.
			for start := processCPU(); processCPU()-start < time.Duration(work.SpinMS)*time.Millisecond; {
			}
			time.Sleep(time.Duration(work.SleepMS) * time.Millisecond)
		}
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		return &echo{
			Event: event, RequestID: lc.AwsRequestID, ARN: lc.InvokedFunctionArn,
			DeadlineMS: deadline.UnixMilli(), TraceID: ctx.Value("x-amzn-trace-id").(string),
			Env: env, ChildPID: childPID,
		}, nil
	})
}

// protocolRuntime checks what aws-lambda-go never does, with plain HTTP, and answers
// the first event with the status codes it got.
func protocolRuntime(base string) {
	post := func(path string, body io.Reader, trailer http.Header) int {
		req, _ := http.NewRequest(http.MethodPost, base+path, body)
		req.Trailer = trailer
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return -1
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	next := func() string {
		resp, err := http.Get(base + "/invocation/next")
		if err != nil {
			os.Exit(2)
		}
		resp.Body.Close()
		return resp.Header.Get(lambdaemu.HeaderRequestID)
	}
	id := next()
	statuses := map[string]int{
		"unknown_id":      post("/invocation/00000000-0000-4000-8000-000000000000/response", strings.NewReader("{}"), nil),
		"late_init_error": post("/init/error", strings.NewReader(`{"errorMessage":"late"}`), nil),
	}
	body, _ := json.Marshal(statuses)
	post("/invocation/"+id+"/response", bytes.NewReader(body), nil)

	// A body that fails half-way: aws-lambda-go then sends the error in trailers.
	id = next()
	post("/invocation/"+id+"/response", io.MultiReader(strings.NewReader(`{"partial":`), &trailerReader{}),
		http.Header{"Lambda-Runtime-Function-Error-Type": {"Runtime.TruncatedResponse"}, "Lambda-Runtime-Function-Error-Body": {"eyJlcnJvck1lc3NhZ2UiOiJjdXQifQ=="}})

	// An oversized response.
	id = next()
	post("/invocation/"+id+"/response", bytes.NewReader(make([]byte, lambdaemu.MaxResponseSize+1)), nil)
	next()
}

// trailerReader ends the body; its trailer values were set up front.
type trailerReader struct{}

func (*trailerReader) Read([]byte) (int, error) { return 0, io.EOF }

func start(t *testing.T, mode string, configure func(*lambdaemu.Function)) *lambdaemu.Runtime {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the Runtime API emulator is tested on Linux")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	fn := lambdaemu.Function{
		Bootstrap: exe, Name: "test-" + mode, Env: map[string]string{modeEnv: mode},
		Timeout: 5 * time.Second, InitTimeout: 10 * time.Second, Logs: io.Discard,
	}
	if configure != nil {
		configure(&fn)
	}
	rt, err := lambdaemu.Start(t.Context(), fn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := rt.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("function output:\n%s", rt.Logs())
		}
	})
	return rt
}

func invokeJSON(t *testing.T, rt *lambdaemu.Runtime, event string, out any) {
	t.Helper()
	resp, err := rt.Invoke(t.Context(), []byte(event))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(resp, out); err != nil {
		t.Fatalf("response %q: %v", resp, err)
	}
}

func wantFunctionError(t *testing.T, err error, phase, typ string) *lambdaemu.FunctionError {
	t.Helper()
	var fe *lambdaemu.FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v, want a *FunctionError", err)
	}
	if fe.Phase != phase || fe.Type != typ {
		t.Fatalf("error phase %q type %q, want %q %q: %v", fe.Phase, fe.Type, phase, typ, err)
	}
	return fe
}

// invokeFailing invokes rt with an empty event and wants the error wantFunctionError
// wants.
func invokeFailing(t *testing.T, rt *lambdaemu.Runtime, phase, typ string) *lambdaemu.FunctionError {
	t.Helper()
	_, err := rt.Invoke(t.Context(), []byte(`{}`))
	return wantFunctionError(t, err, phase, typ)
}

var uuid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestInvoke_GivesTheEventWithLambdasHeadersAndEnvironment: the function gets the
// event and, through aws-lambda-go's context, the request id, ARN, deadline and trace
// id; its environment is Lambda's plus its own, never the caller's.
func TestInvoke_GivesTheEventWithLambdasHeadersAndEnvironment(t *testing.T) {
	t.Setenv("LAMBDAEMU_PARENT_ONLY", "must not leak")
	rt := start(t, "echo", func(f *lambdaemu.Function) {
		f.Name, f.Region, f.MemoryMB = "echo-fn", "eu-west-1", 256
		f.Env["APP_SETTING"] = "on"
		f.Env["AWS_REGION"] = "us-west-2" // reserved: Lambda's value wins
	})
	before := time.Now()
	var got echo
	invokeJSON(t, rt, `{"n":1}`, &got)

	if string(got.Event) != `{"n":1}` {
		t.Errorf("event = %s", got.Event)
	}
	if !uuid.MatchString(got.RequestID) {
		t.Errorf("request id %q is not a UUID", got.RequestID)
	}
	if want := "arn:aws:lambda:eu-west-1:" + lambdaemu.AccountID + ":function:echo-fn"; got.ARN != want {
		t.Errorf("ARN = %q, want %q", got.ARN, want)
	}
	if d := time.UnixMilli(got.DeadlineMS).Sub(before); d < 4*time.Second || d > 6*time.Second {
		t.Errorf("deadline is %v after the invocation, want the 5s timeout", d)
	}
	if !strings.HasPrefix(got.TraceID, "Root=1-") {
		t.Errorf("trace id = %q", got.TraceID)
	}
	for k, want := range map[string]string{
		"APP_SETTING": "on", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
		"AWS_LAMBDA_FUNCTION_NAME": "echo-fn", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_RUNTIME_API": rt.Addr(), "LAMBDAEMU_PARENT_ONLY": "", "TZ": ":UTC",
	} {
		if got.Env[k] != want {
			t.Errorf("%s = %q, want %q", k, got.Env[k], want)
		}
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "_HANDLER", "LAMBDA_TASK_ROOT"} {
		if got.Env[k] == "" {
			t.Errorf("%s is not set", k)
		}
	}

	// Warm: the same process takes the next event.
	var again echo
	invokeJSON(t, rt, `{"n":2}`, &again)
	if string(again.Event) != `{"n":2}` || again.RequestID == got.RequestID {
		t.Errorf("second invocation: event %s, request id %s (first %s)", again.Event, again.RequestID, got.RequestID)
	}
	s := rt.Stats()
	if s.Invocations != 2 || s.Init <= 0 || s.FirstResponse < s.Init || s.LastDuration <= 0 {
		t.Errorf("stats = %+v", s)
	}
	if s.PeakRSS < 1<<20 {
		t.Errorf("peak RSS = %d bytes, want the process's VmHWM", s.PeakRSS)
	}
}

// TestInvoke_ReturnsTheFunctionsError: an error the handler returns is posted to
// .../error and is a *FunctionError; the environment stays up for the next event.
func TestInvoke_ReturnsTheFunctionsError(t *testing.T) {
	rt := start(t, "error", nil)
	fe := invokeFailing(t, rt, "invoke", "errorString")
	if fe.Message != "boom" || !bytes.Contains(fe.Payload, []byte(`"errorMessage":"boom"`)) {
		t.Errorf("message %q, payload %s", fe.Message, fe.Payload)
	}
	invokeFailing(t, rt, "invoke", "errorString")
}

// TestInvoke_AfterAPanicTheRuntimeHasExited: aws-lambda-go reports a panic and exits.
func TestInvoke_AfterAPanicTheRuntimeHasExited(t *testing.T) {
	rt := start(t, "panic", nil)
	if fe := invokeFailing(t, rt, "invoke", "string"); fe.Message != "kaboom" {
		t.Errorf("message = %q", fe.Message)
	}
	invokeFailing(t, rt, "invoke", "Runtime.ExitError")
}

// TestInvoke_KillsAFunctionPastItsTimeout, as Lambda does.
func TestInvoke_KillsAFunctionPastItsTimeout(t *testing.T) {
	rt := start(t, "sleep", func(f *lambdaemu.Function) { f.Timeout = 300 * time.Millisecond })
	begin := time.Now()
	if fe := invokeFailing(t, rt, "invoke", "Sandbox.Timedout"); !strings.Contains(fe.Message, "Task timed out after 0.30 seconds") {
		t.Errorf("message = %q", fe.Message)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}
	waitGone(t, rt.Pid())
}

// TestInvoke_ReportsAnInitError posted to /runtime/init/error, header type first.
func TestInvoke_ReportsAnInitError(t *testing.T) {
	rt := start(t, "init-error", nil)
	if fe := invokeFailing(t, rt, "init", "Runtime.ConfigError"); fe.Message != "no keys" {
		t.Errorf("message = %q", fe.Message)
	}
}

// TestInvoke_ReportsAnExitDuringInitWithTheOutput: a bootstrap that exits before
// asking for an event (as functions/*/main.go do on bad configuration) fails the
// invocation at once with its exit status and output, instead of hanging.
func TestInvoke_ReportsAnExitDuringInitWithTheOutput(t *testing.T) {
	rt := start(t, "exit", nil)
	fe := invokeFailing(t, rt, "init", "Runtime.ExitError")
	if !strings.Contains(fe.Message, "exit status 1") || !strings.Contains(fe.Logs, "TABLE_NAME is required") {
		t.Errorf("message %q, logs %q", fe.Message, fe.Logs)
	}
}

// TestInvoke_BoundsTheInitPhase: a bootstrap that never asks for an event is killed
// after the init timeout.
func TestInvoke_BoundsTheInitPhase(t *testing.T) {
	rt := start(t, "hang", func(f *lambdaemu.Function) { f.InitTimeout = 300 * time.Millisecond })
	invokeFailing(t, rt, "init", "Sandbox.Timedout")
	waitGone(t, rt.Pid())
}

// TestRuntimeAPI_RejectsWhatLambdaRejects: a response for an unknown request id is
// 400, init/error after init is 403, a response cut short (error trailers) and an
// oversized one fail the invocation.
func TestRuntimeAPI_RejectsWhatLambdaRejects(t *testing.T) {
	rt := start(t, "protocol", nil)
	var statuses map[string]int
	invokeJSON(t, rt, `{}`, &statuses)
	if statuses["unknown_id"] != http.StatusBadRequest || statuses["late_init_error"] != http.StatusForbidden {
		t.Errorf("statuses = %v, want unknown_id 400, late_init_error 403", statuses)
	}
	if fe := invokeFailing(t, rt, "invoke", "Runtime.TruncatedResponse"); fe.Message != "cut" {
		t.Errorf("message = %q", fe.Message)
	}
	invokeFailing(t, rt, "invoke", "Function.ResponseSizeTooLarge")
}

// TestClose_EndsTheProcessGroup: nothing the function started outlives Close.
func TestClose_EndsTheProcessGroup(t *testing.T) {
	rt := start(t, "fork", nil)
	var got echo
	invokeJSON(t, rt, `{}`, &got)
	if got.ChildPID == 0 {
		t.Fatal("no child started")
	}
	pid := rt.Pid()
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	waitGone(t, got.ChildPID)
	if _, err := rt.Invoke(t.Context(), []byte(`{}`)); !errors.Is(err, lambdaemu.ErrClosed) {
		t.Errorf("Invoke after Close: %v, want ErrClosed", err)
	}
}

// waitGone waits until pid no longer runs (a zombie awaiting its reaper counts as gone).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if errors.Is(err, os.ErrNotExist) || err == nil && zombie(stat) {
			return
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func zombie(stat []byte) bool {
	// pid (comm) state ...; comm may contain spaces, so look after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && (stat[i+2] == 'Z' || stat[i+2] == 'X')
}

// TestStats_CountTheInvocationsCPU: LastCPU is the CPU time the function used in its
// last invocation - the busy part, not the time it waited (what Lambda's CPU share
// must deliver) - and Duration covers both.
func TestStats_CountTheInvocationsCPU(t *testing.T) {
	rt := start(t, "spin", nil)
	var out echo
	invokeJSON(t, rt, `{"SpinMS": 80, "SleepMS": 150}`, &out)
	st := rt.Stats()
	if st.LastCPU < 80*time.Millisecond || st.LastCPU > 140*time.Millisecond {
		t.Errorf("LastCPU = %v after 80 ms of work and 150 ms asleep; want about 80 ms", st.LastCPU)
	}
	if st.LastDuration < 230*time.Millisecond {
		t.Errorf("LastDuration = %v, want at least the 230 ms of work and sleep", st.LastDuration)
	}
	invokeJSON(t, rt, `{"SpinMS": 0, "SleepMS": 100}`, &out)
	if st := rt.Stats(); st.LastCPU > 30*time.Millisecond {
		t.Errorf("LastCPU = %v for an invocation that only slept; want close to 0 (the previous one's CPU not counted again)", st.LastCPU)
	}
}

// processCPU is this process's user and system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
