package config

import (
	"strings"
	"testing"
)

// TestFromEnv_JWKSURIAllowLoopback: loopback jwks_uri fetches are off by default, on
// only when a local run asks, and refused in Lambda.
func TestFromEnv_JWKSURIAllowLoopback(t *testing.T) {
	base := map[string]string{"ISSUER": "https://auth.example.com"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	if c, err := FromEnv(env(base)); err != nil || c.JWKSURIAllowLoopback {
		t.Errorf("default: %v %v, want off", c.JWKSURIAllowLoopback, err)
	}
	if c, err := FromEnv(env(with("JWKS_URI_ALLOW_LOOPBACK", "true"))); err != nil || !c.JWKSURIAllowLoopback {
		t.Errorf("local run asking: %v %v, want on", c.JWKSURIAllowLoopback, err)
	}
	if c, err := FromEnv(env(with("AWS_LAMBDA_FUNCTION_NAME", "fn"))); err != nil || c.JWKSURIAllowLoopback {
		t.Errorf("Lambda default: %v %v, want off", c.JWKSURIAllowLoopback, err)
	}
	if _, err := FromEnv(env(with("JWKS_URI_ALLOW_LOOPBACK", "true", "AWS_LAMBDA_FUNCTION_NAME", "fn"))); err == nil || !strings.Contains(err.Error(), "JWKS_URI_ALLOW_LOOPBACK") {
		t.Errorf("Lambda asking: %v, want a refusal", err)
	}
	if _, err := FromEnv(env(with("JWKS_URI_ALLOW_LOOPBACK", "yes"))); err == nil {
		t.Error("JWKS_URI_ALLOW_LOOPBACK=yes accepted")
	}
}

// TestFromEnv_BackchannelLogoutAllowLoopback: loopback back-channel logout POSTs are
// off by default, on only when a local run asks, and refused in Lambda.
func TestFromEnv_BackchannelLogoutAllowLoopback(t *testing.T) {
	base := map[string]string{"ISSUER": "https://auth.example.com"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"ISSUER": base["ISSUER"]}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	const name = "BACKCHANNEL_LOGOUT_ALLOW_LOOPBACK"
	if c, err := FromEnv(env(base)); err != nil || c.BackchannelLogoutAllowLoopback {
		t.Errorf("default: %v %v, want off", c.BackchannelLogoutAllowLoopback, err)
	}
	if c, err := FromEnv(env(with(name, "true"))); err != nil || !c.BackchannelLogoutAllowLoopback || c.JWKSURIAllowLoopback {
		t.Errorf("local run asking: %+v %v, want on (and jwks_uri still off)", c.BackchannelLogoutAllowLoopback, err)
	}
	if _, err := FromEnv(env(with(name, "true", "AWS_LAMBDA_FUNCTION_NAME", "fn"))); err == nil || !strings.Contains(err.Error(), name) {
		t.Errorf("Lambda asking: %v, want a refusal", err)
	}
	if _, err := FromEnv(env(with(name, "1"))); err == nil {
		t.Error(name + "=1 accepted")
	}
}
