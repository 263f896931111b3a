package main

// The target of the end-to-end suite, chosen by PARGATE_TARGET: local (the default)
// is `make run` - the local API in this process, with an injected clock; lambda is
// `make run-lambda` - template.yaml's HTTP API (infra/apigw) in front of the real
// bootstraps, built for this host once per test binary, each started under the
// Lambda Runtime API emulator with template.yaml's environment and the test's own
// settings as the variable overrides run-lambda takes, on one moto_server the test
// binary starts. Each start on the lambda target is a new stack (table, secrets,
// instance pool): its first requests meet cold instances, the following ones warm
// ones. Tests that need what only `make run` has call localOnly.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pargate/pargate/infra/apigw"
	"github.com/pargate/pargate/infra/lambdaemu/stack"
	"github.com/pargate/pargate/pkg/moto"
	"github.com/pargate/pargate/pkg/proc"
)

// Why tests are localOnly: the reasons, one constant each, so the list stays short.
const (
	// injectedClock: the test advances the server's clock (expiry without sleeping);
	// the bootstraps read the host's time.
	injectedClock = "advances the injected clock; the functions read the host's time"
	// tlsListener: run-lambda serves plain HTTP, as API Gateway terminates TLS
	// (and mTLS) in front of the functions.
	tlsListener = "needs make run's TLS listener; run-lambda serves plain HTTP behind which API Gateway terminates TLS"
	// localServer: the test is about make run's own server (its start, settings,
	// state directory, timeouts, store choice), not about a flow.
	localServer = "tests make run's own server, not a flow"
)

// target is PARGATE_TARGET: "local" or "lambda".
var target = os.Getenv("PARGATE_TARGET")

// lambdaConcurrency is LAMBDA_CONCURRENCY on the lambda target: a few instances per
// function, so that the concurrent tests meet more than one without loading the
// machine with bootstraps.
const lambdaConcurrency = "2"

func TestMain(m *testing.M) {
	switch target {
	case "":
		target = "local"
	case "local", "lambda":
	default:
		fmt.Fprintf(os.Stderr, "PARGATE_TARGET=%q: want local or lambda\n", target)
		os.Exit(2)
	}
	code := m.Run()
	lambdaDeps.close()
	os.Exit(code)
}

// localOnly skips t on the lambda target: what it tests is not on the path AWS runs
// (reason says why), or cannot be driven there (an injected clock).
func localOnly(t *testing.T, reason string) {
	t.Helper()
	if target == "lambda" {
		t.Skipf("local target only (PARGATE_TARGET=local): %s", reason)
	}
}

// lambdaDeps are what every lambda start shares: the bootstraps and moto_server.
var lambdaDeps shared

type shared struct {
	once       sync.Once
	err        error
	dir        string
	bootstraps map[string]string
	moto       *moto.Server
}

// close stops moto_server and removes the bootstraps, if they were made.
func (d *shared) close() {
	if d.moto != nil {
		d.moto.Stop()
	}
	if d.dir != "" {
		_ = os.RemoveAll(d.dir)
	}
}

// sharedLambda builds the bootstraps and starts moto_server, once per test binary.
func sharedLambda(t *testing.T) (map[string]string, string) {
	t.Helper()
	d := &lambdaDeps
	d.once.Do(func() {
		if runtime.GOOS != "linux" {
			d.err = fmt.Errorf("the bootstraps are linux executables; this host is %s", runtime.GOOS)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			d.err = err
			return
		}
		if d.dir, d.err = os.MkdirTemp("", "pargate-e2e-lambda-"); d.err != nil {
			return
		}
		if d.bootstraps, d.err = stack.Build(ctx, root, d.dir, runtime.GOARCH, stack.HTTPFunctions...); d.err != nil {
			return
		}
		d.moto, d.err = moto.Start(ctx)
	})
	if errors.Is(d.err, moto.ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skip(d.err)
	}
	if d.err != nil {
		t.Fatalf("lambda target: %v (CI=true makes a missing moto_server a failure)", d.err)
	}
	return d.bootstraps, d.moto.Endpoint
}

// startLambda is `make run-lambda` on a free port (or vars' ADDR) with vars as its environment
// (SEED_FILE, PROFILE, REQUIRE_PAR, ... override template.yaml's values), as a
// *Server whose Close stops it.
func startLambda(t *testing.T, vars map[string]string) (*Server, *apigw.Local) {
	t.Helper()
	bootstraps, endpoint := sharedLambda(t)
	addr := "127.0.0.1:0"
	if vars["ADDR"] != "" {
		addr = vars["ADDR"] // a server the others must know before it starts (federation_test.go)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"LAMBDA_CONCURRENCY": lambdaConcurrency, "DYNAMODB_ENDPOINT": endpoint}
	for k, v := range vars {
		env[k] = v
	}
	logs := &proc.SyncWriter{}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	l, err := apigw.Start(ctx, apigw.Options{Root: filepath.Join("..", ".."), Listener: ln, Bootstraps: bootstraps, Logs: logs,
		Getenv: func(name string) string { return env[name] }})
	if err != nil {
		t.Fatalf("run-lambda: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("run-lambda output:\n%s", logs.String())
		}
	})
	srv := &Server{Addr: ln.Addr().String(), Issuer: l.Issuer, Seed: l.AWS.Seed, close: []func(){l.Close}}
	return srv, l
}

// instances counts the instances of each function behind the HTTP API on the lambda
// target (nil on the local one): what a story started cold, and reused warm.
func (l *local) instances() map[string]int {
	if l.lambda == nil {
		return nil
	}
	out := map[string]int{}
	for _, r := range l.lambda.Routes {
		out[r.Function] = l.lambda.Pool.Instances(r.Function)
	}
	return out
}
