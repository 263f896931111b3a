// Package moto starts a local moto_server (Python moto 5), which speaks the DynamoDB
// and Secrets Manager APIs over HTTP, for the local API and the tests. It is the one
// moto_server starter: the local API (STORE=dynamodb), the local Lambda stack and the
// test helpers (pkg/dynamo/dynamotest) all use it. It is under pkg/, not infra/,
// because those test helpers are, and nothing under pkg/ imports infra/.
package moto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/pargate/pargate/pkg/proc"
)

const (
	// Command is the program Start runs, looked up on PATH.
	Command = "moto_server"
	// startTimeout is generous: moto imports all of its service backends at
	// start-up, which takes about a second warm and much longer on a cold disk.
	startTimeout = 60 * time.Second
	// startAttempts covers the race between picking a free port and moto binding it.
	startAttempts = 3
	// stopGrace is how long moto_server has to exit after SIGTERM before SIGKILL.
	stopGrace = 5 * time.Second
)

// ErrNotInstalled is returned when moto_server is not on PATH.
var ErrNotInstalled = errors.New("moto_server is not installed (pip install 'moto[server]')")

// Server is a running moto_server.
type Server struct {
	// Endpoint is the base URL to use, e.g. http://127.0.0.1:41234: a proxy that
	// passes moto_server one write at a time (see serialize).
	Endpoint string

	cmd      *exec.Cmd
	exited   <-chan struct{} // closed when the process has exited
	proxy    *http.Server
	stopOnce sync.Once
}

// Start runs moto_server on a free 127.0.0.1 port, waits until it answers and starts
// the serializing proxy in front of it. A failed start is tried again (the free port
// may have been taken before moto bound it), up to three times.
//
// moto_server runs in its own process group, which Stop ends; on Linux it also dies
// with this process (a parent-death signal), so a crashed or timed-out run leaves no
// moto_server behind. Its output is kept for error messages; with MOTO_VERBOSE set it
// also goes to this process's stderr.
func Start(ctx context.Context) (*Server, error) {
	bin, err := exec.LookPath(Command)
	if err != nil {
		return nil, ErrNotInstalled
	}
	var errs []error
	for range startAttempts {
		s, err := launch(ctx, bin)
		if err == nil {
			if s.Endpoint, s.proxy, err = serialize(s.Endpoint); err != nil {
				s.Stop()
				return nil, err
			}
			return s, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// launch runs one moto_server on a free port and waits until it answers HTTP.
func launch(ctx context.Context, bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	// Not this process's own stdout/stderr: `go test` would wait for moto to close
	// them, and moto logs every request. The tail is kept for error messages.
	output := &proc.TailBuffer{Max: 8 << 10}
	var out io.Writer = output
	if os.Getenv("MOTO_VERBOSE") != "" {
		out = io.MultiWriter(output, os.Stderr)
	}
	cmd.Stdout, cmd.Stderr = out, out
	exited, err := proc.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, exited: exited}
	if err := waitReady(ctx, s.Endpoint, exited); err != nil {
		s.Stop()
		return nil, fmt.Errorf("%w; its output ends with:\n%s", err, output.String())
	}
	return s, nil
}

// Stop ends the proxy, and moto_server and its process group: SIGTERM, then SIGKILL
// if it has not exited within five seconds. It may be called more than once, and on
// a nil Server.
func (s *Server) Stop() {
	if s == nil {
		return
	}
	s.stopOnce.Do(func() {
		if s.proxy != nil {
			_ = s.proxy.Close()
		}
		proc.Stop(s.cmd, s.exited, stopGrace)
	})
}

// serialize starts an HTTP proxy on a free 127.0.0.1 port that forwards to target
// one write at a time, and returns its URL. A write (any request but the DynamoDB
// reads in sharedReads) runs alone; reads run alongside each other.
//
// moto_server handles requests in threads without isolation: TransactWriteItems
// deep-copies the table for its rollback while other threads write to it (failing
// with HTTP 500 "dictionary changed size during iteration"), a rollback restores
// that copy over writes committed meanwhile, and a conditional write's check and
// write are not atomic either. DynamoDB serializes writes to an item and runs
// transactions atomically, so serializing moto's writes is what makes it a faithful
// stand-in, for the store's concurrency tests and for the local API under concurrent
// requests alike; the store's own conditions are what those tests check. Letting
// reads share keeps the queue short enough for the store's per-call deadlines when
// many requests arrive at once.
func serialize(target string) (string, *http.Server, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", nil, fmt.Errorf("serializing proxy: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("serializing proxy: %w", err)
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) }}
	var writes sync.RWMutex
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if sharedReads[r.Header.Get("X-Amz-Target")] {
				writes.RLock()
				defer writes.RUnlock()
			} else {
				writes.Lock()
				defer writes.Unlock()
			}
			proxy.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), srv, nil
}

// sharedReads are the operations (X-Amz-Target) that change nothing in moto and so
// may run alongside each other, never alongside a write.
var sharedReads = map[string]bool{
	"DynamoDB_20120810.GetItem":          true,
	"DynamoDB_20120810.BatchGetItem":     true,
	"DynamoDB_20120810.TransactGetItems": true,
	"DynamoDB_20120810.Query":            true,
	"DynamoDB_20120810.Scan":             true,
	"DynamoDB_20120810.DescribeTable":    true,
}

// waitReady polls endpoint until it answers HTTP, the process exits, ctx ends or
// startTimeout passes.
func waitReady(ctx context.Context, endpoint string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := client.Get(endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before answering on %s", Command, endpoint)
		case <-ctx.Done():
			return fmt.Errorf("%s on %s: %w", Command, endpoint, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer on %s within %v: %v", Command, endpoint, startTimeout, err)
		}
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
