package dynamotest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"time"
)

const (
	motoCommand = "moto_server"
	// motoStartTimeout is generous: moto imports all of its service backends at
	// start-up, which takes about a second warm and much longer on a cold disk.
	motoStartTimeout = 60 * time.Second
	// motoStartAttempts covers the race between picking a free port and moto
	// binding it.
	motoStartAttempts = 3
)

// shared is this test binary's moto_server. It is package state on purpose: starting
// moto costs a second or more, so every test and helper in the binary shares one, and
// each test isolates itself with its own table instead.
var shared motoServer

// motoServer starts moto_server at most once and stops it at most once.
type motoServer struct {
	mu       sync.Mutex
	started  bool
	stopped  bool
	endpoint string // the serializing proxy's URL, which tests use
	err      error
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the process has exited
	proxy    *http.Server
}

// start starts moto_server on the first call and returns its endpoint; later calls
// return the first call's result.
func (s *motoServer) start() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return "", errors.New("moto_server was already stopped (Endpoint called after Main's tests finished)")
	}
	if s.started {
		return s.endpoint, s.err
	}
	s.started = true
	var motoURL string
	for range motoStartAttempts {
		motoURL, s.err = s.launch()
		if s.err == nil {
			break
		}
	}
	if s.err == nil {
		s.endpoint, s.proxy, s.err = serialize(motoURL)
	}
	return s.endpoint, s.err
}

// launch runs one moto_server on a free port and waits until it answers HTTP.
func (s *motoServer) launch() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	path, err := exec.LookPath(motoCommand)
	if err != nil {
		return "", err
	}
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.SysProcAttr = sysProcAttr()
	// Not the test binary's own stdout/stderr: `go test` would wait for moto to close
	// them, and moto logs every request. The tail is kept for error messages.
	output := &tailBuffer{max: 8 << 10}
	cmd.Stdout, cmd.Stderr = output, output

	// The parent-death signal (Linux) fires when the thread that started the child
	// exits, not the process. A goroutine locked to its thread that lives as long as
	// the child ties the signal to the test binary's lifetime.
	startErr := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			startErr <- err
			return
		}
		startErr <- nil
		_ = cmd.Wait()
		close(exited)
	}()
	if err := <-startErr; err != nil {
		return "", fmt.Errorf("run %s: %w", path, err)
	}

	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitReady(endpoint, exited); err != nil {
		terminate(cmd, exited)
		return "", fmt.Errorf("%w; its output ends with:\n%s", err, output.String())
	}
	s.cmd, s.exited = cmd, exited
	return endpoint, nil
}

// stop terminates moto_server and its process group, if it was started.
func (s *motoServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.proxy != nil {
		_ = s.proxy.Close()
		s.proxy = nil
	}
	if s.cmd != nil {
		terminate(s.cmd, s.exited)
		s.cmd = nil
	}
}

// serialize starts an HTTP proxy on a free 127.0.0.1 port that forwards to target
// one request at a time, and returns its URL.
//
// moto_server handles requests in threads without isolation: TransactWriteItems
// deep-copies the table for its rollback while other threads write to it (failing
// with HTTP 500 "dictionary changed size during iteration") and a rollback restores
// that copy over writes committed meanwhile. DynamoDB serializes writes to an item
// and runs transactions atomically, so serializing moto's requests is what makes it a
// faithful stand-in for the concurrency tests; the store's own conditions are what
// those tests check.
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
	var one sync.Mutex
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			one.Lock()
			defer one.Unlock()
			proxy.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), srv, nil
}

// terminate asks the process group to stop, and kills it if it has not within five
// seconds.
func terminate(cmd *exec.Cmd, exited <-chan struct{}) {
	signalGroup(cmd, false)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		signalGroup(cmd, true)
		<-exited
	}
}

// waitReady polls endpoint until it answers HTTP, the process exits or
// motoStartTimeout passes.
func waitReady(endpoint string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(motoStartTimeout)
	for {
		resp, err := client.Get(endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before answering on %s", motoCommand, endpoint)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer on %s within %v: %v", motoCommand, endpoint, motoStartTimeout, err)
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

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.max; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
