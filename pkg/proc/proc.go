// Package proc runs the helper processes of the local stack and the tests
// (moto_server, Lambda bootstraps) so that they never outlive this process: each in
// its own process group, which Kill and Stop end as a whole, and on Linux with a
// parent-death signal, so that a crashed or timed-out run leaves nothing behind.
// It is under pkg/ because pkg/moto needs it, and nothing under pkg/ imports infra/.
package proc

import (
	"bytes"
	"io"
	"os/exec"
	"runtime"
	"sync"
	"time"
)

// Start starts cmd in its own process group (it sets cmd.SysProcAttr) and returns a
// channel that is closed once the process has exited and cmd.Wait has returned, so
// that cmd.ProcessState is set.
//
// The parent-death signal (Linux) fires when the thread that started the child
// exits, not the process. Start therefore starts and waits for the child from a
// goroutine locked to its thread, which lives as long as the child and ties the
// signal to this process's lifetime.
func Start(cmd *exec.Cmd) (<-chan struct{}, error) {
	cmd.SysProcAttr = sysProcAttr()
	startErr := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			startErr <- err
			return
		}
		startErr <- nil
		_ = cmd.Wait()
		close(exited)
	}()
	if err := <-startErr; err != nil {
		return nil, err
	}
	return exited, nil
}

// Kill sends SIGKILL to the process group of cmd, which Start started.
func Kill(cmd *exec.Cmd) { signalGroup(cmd, true) }

// Stop asks the process group of cmd to end (SIGTERM), kills it if it has not exited
// within grace, and returns once it has exited.
func Stop(cmd *exec.Cmd, exited <-chan struct{}, grace time.Duration) {
	signalGroup(cmd, false)
	select {
	case <-exited:
	case <-time.After(grace):
		signalGroup(cmd, true)
		<-exited
	}
}

// TailBuffer keeps the last Max bytes written to it: a process's output for error
// messages, without holding all of it.
type TailBuffer struct {
	Max int

	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *TailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.Max; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

func (b *TailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// SyncWriter serialises the writes of several goroutines (a process's stdout and
// stderr, concurrent handlers' logs), so that they neither race nor interleave: to
// W, or with W nil to a buffer of its own, which String reads. Its zero value is
// that buffer, empty and ready.
type SyncWriter struct {
	W io.Writer

	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *SyncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.W != nil {
		return s.W.Write(p)
	}
	return s.buf.Write(p)
}

// String returns what was written to the own buffer ("" when W is set).
func (s *SyncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
