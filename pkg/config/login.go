package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// loginPolicy reads the brute-force protection of the login form (oauth.LoginPolicy):
// LOGIN_MAX_FAILURES (5), LOGIN_MAX_FAILURES_PER_IP (20), LOGIN_FAILURE_WINDOW (900 s),
// LOGIN_LOCKOUT_MAX (900 s) and LOGIN_ATTEMPTS_PER_REQUEST (3).
func loginPolicy(getenv func(string) string) (oauth.LoginPolicy, []error) {
	var errs []error
	d := oauth.DefaultLoginPolicy
	whole := func(name string, def, lo, hi int) int {
		raw := strings.TrimSpace(getenv(name))
		if raw == "" {
			return def
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number from %d to %d", name, raw, lo, hi))
			return def
		}
		return n
	}
	p := oauth.LoginPolicy{
		MaxFailures:        whole("LOGIN_MAX_FAILURES", d.MaxFailures, 1, 100),
		MaxFailuresPerIP:   whole("LOGIN_MAX_FAILURES_PER_IP", d.MaxFailuresPerIP, 1, 10000),
		FailureWindow:      time.Duration(whole("LOGIN_FAILURE_WINDOW", int(d.FailureWindow.Seconds()), 60, 86400)) * time.Second,
		LockoutMax:         time.Duration(whole("LOGIN_LOCKOUT_MAX", int(d.LockoutMax.Seconds()), 1, 86400)) * time.Second,
		AttemptsPerRequest: whole("LOGIN_ATTEMPTS_PER_REQUEST", d.AttemptsPerRequest, 1, 100),
	}
	return p, errs
}
