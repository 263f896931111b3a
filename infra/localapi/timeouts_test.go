package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestSlowBodyIsCutOff: a client that sends its body one byte at a time does not hold
// the connection (and a handler) open forever; ReadTimeout ends it.
func TestSlowBodyIsCutOff(t *testing.T) {
	localOnly(t, localServer)
	env := map[string]string{"ADDR": "127.0.0.1:0", "SEED_FILE": "../seed.json", "LOCAL_READ_TIMEOUT": "300ms"}
	srv, err := Start(t.Context(), func(n string) string { return env[n] })
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /par HTTP/1.1\r\nHost: "+srv.Addr+
		"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\na"); err != nil {
		t.Fatal(err)
	}
	// Keep trickling, as a slow-body attacker does, while waiting for the server to end it.
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
				if _, err := io.WriteString(conn, "b"); err != nil {
					return
				}
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.Copy(io.Discard, bufio.NewReader(conn))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the server still held the connection after 5 s of a trickled body")
	}
}

func TestServerTimeoutsAreConfigurable(t *testing.T) {
	localOnly(t, localServer)
	env := map[string]string{}
	read, idle, err := serverTimeouts(func(n string) string { return env[n] })
	if err != nil || read != defaultReadTimeout || idle != defaultIdleTimeout {
		t.Fatalf("defaults: %v %v %v", read, idle, err)
	}
	for _, bad := range []string{"10", "-1s", "soon"} {
		env["LOCAL_READ_TIMEOUT"] = bad
		if _, _, err := serverTimeouts(func(n string) string { return env[n] }); err == nil {
			t.Errorf("LOCAL_READ_TIMEOUT=%q accepted", bad)
		}
	}
}
