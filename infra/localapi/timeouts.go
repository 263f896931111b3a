package main

import (
	"fmt"
	"time"
)

// Timeouts of the local server. ReadHeaderTimeout alone let a client hold a
// connection and a handler forever by sending its body one byte at a time (API
// Gateway bounds that in the cloud; locally nothing did): ReadTimeout bounds the whole
// request, headers and body (at most 64 KiB, httpapi's limit, which takes
// milliseconds on loopback), and IdleTimeout bounds a kept-alive connection between
// requests.
const (
	defaultReadTimeout = 10 * time.Second
	defaultIdleTimeout = 60 * time.Second
)

// serverTimeouts reads LOCAL_READ_TIMEOUT and LOCAL_IDLE_TIMEOUT (Go durations,
// positive), with the defaults above.
func serverTimeouts(getenv func(string) string) (read, idle time.Duration, err error) {
	parse := func(name string, def time.Duration) (time.Duration, error) {
		v := getenv(name)
		if v == "" {
			return def, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("%s: %q is not a positive duration such as 10s", name, v)
		}
		return d, nil
	}
	if read, err = parse("LOCAL_READ_TIMEOUT", defaultReadTimeout); err != nil {
		return 0, 0, err
	}
	if idle, err = parse("LOCAL_IDLE_TIMEOUT", defaultIdleTimeout); err != nil {
		return 0, 0, err
	}
	return read, idle, nil
}
