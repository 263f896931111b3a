package proc

import (
	"bytes"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestStop_EndsTheProcessGroupEvenWhenItIgnoresSIGTERM: what the process started is
// stopped with it, and SIGKILL follows once the grace period has passed. The
// background child holds the output pipe, and cmd.Wait (so the exited channel) waits
// for every holder to close it: Stop returns only once the child is gone too.
func TestStop_EndsTheProcessGroupEvenWhenItIgnoresSIGTERM(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no process groups or SIGTERM")
	}
	out := &TailBuffer{Max: 1 << 10}
	cmd := exec.Command("sh", "-c", `trap "" TERM; sleep 60 & echo started; wait`)
	cmd.Stdout = out
	exited, err := Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); out.String() != "started\n"; {
		if time.Now().After(deadline) {
			Kill(cmd)
			t.Fatalf("the shell did not start its child; output %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	stopped := make(chan struct{})
	go func() {
		Stop(cmd, exited, 200*time.Millisecond)
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		Kill(cmd)
		t.Fatal("Stop did not return: a process of the group still holds the output pipe")
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("Stop returned after %v, before the grace period, though SIGTERM is ignored", waited)
	}
	if cmd.ProcessState == nil {
		t.Error("ProcessState not set when Stop returned")
	}
}

func TestTailBuffer_KeepsTheLastMaxBytes(t *testing.T) {
	b := &TailBuffer{Max: 4}
	for _, s := range []string{"ab", "cdef", "g"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := b.String(); got != "defg" {
		t.Errorf("String() = %q, want %q", got, "defg")
	}
}

func TestSyncWriter_KeepsOrPassesOnConcurrentWrites(t *testing.T) {
	var own SyncWriter
	var to bytes.Buffer
	passed := &SyncWriter{W: &to}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				for _, w := range []*SyncWriter{&own, passed} {
					if n, err := w.Write([]byte("ab")); n != 2 || err != nil {
						t.Errorf("Write = %d, %v", n, err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if want := strings.Repeat("ab", 800); own.String() != want || to.String() != want {
		t.Errorf("own buffer %d bytes, W %d bytes, want %d each", len(own.String()), to.Len(), len(want))
	}
	if got := passed.String(); got != "" {
		t.Errorf("String() with W set = %q, want \"\"", got)
	}
}
