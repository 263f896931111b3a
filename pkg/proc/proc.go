// Package proc runs the helper processes of the local stack and the tests
// (moto_server, Lambda bootstraps) so that they never outlive this process: each in
// its own process group, which Kill and Stop end as a whole, and on Linux with a
// parent-death signal, so that a crashed or timed-out run leaves nothing behind.
// It is under pkg/ because pkg/moto needs it, and nothing under pkg/ imports infra/.
package proc

import (
	"bytes"
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
