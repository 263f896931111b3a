package config

import (
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

func TestFromEnv_LoginPolicy(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"ISSUER": "https://auth.example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	want := oauth.LoginPolicy{MaxFailures: 5, MaxFailuresPerIP: 20, FailureWindow: 15 * time.Minute, LockoutMax: 15 * time.Minute, AttemptsPerRequest: 3}
	if c.Login != want {
		t.Errorf("default login policy %+v, want %+v", c.Login, want)
	}
	c, err = FromEnv(env(map[string]string{"ISSUER": "https://auth.example.com", "LOGIN_MAX_FAILURES": "10",
		"LOGIN_MAX_FAILURES_PER_IP": "100", "LOGIN_FAILURE_WINDOW": "600", "LOGIN_LOCKOUT_MAX": "3600", "LOGIN_ATTEMPTS_PER_REQUEST": "5"}))
	if err != nil {
		t.Fatal(err)
	}
	want = oauth.LoginPolicy{MaxFailures: 10, MaxFailuresPerIP: 100, FailureWindow: 10 * time.Minute, LockoutMax: time.Hour, AttemptsPerRequest: 5}
	if c.Login != want {
		t.Errorf("login policy %+v, want %+v", c.Login, want)
	}
	_, err = FromEnv(env(map[string]string{"ISSUER": "https://auth.example.com", "LOGIN_MAX_FAILURES": "0",
		"LOGIN_MAX_FAILURES_PER_IP": "many", "LOGIN_FAILURE_WINDOW": "10", "LOGIN_LOCKOUT_MAX": "-1", "LOGIN_ATTEMPTS_PER_REQUEST": "1000"}))
	for _, name := range []string{"LOGIN_MAX_FAILURES=", "LOGIN_MAX_FAILURES_PER_IP", "LOGIN_FAILURE_WINDOW", "LOGIN_LOCKOUT_MAX", "LOGIN_ATTEMPTS_PER_REQUEST"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error lacks %s: %v", name, err)
		}
	}
}
