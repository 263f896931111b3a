package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/oauth"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv_Defaults(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"ISSUER": "https://auth.example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PushedRequestLifetime != 60*time.Second || c.TransactionLifetime != 10*time.Minute ||
		c.CodeLifetime != 60*time.Second || c.RequirePAR || c.Profile != "default" {
		t.Errorf("defaults: %+v", c)
	}
}

func TestFromEnv_ReportsEveryProblemAtOnce(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"PAR_EXPIRES_IN": "601", "REQUIRE_PAR": "yes", "LOG_LEVEL": "loud"}), "TABLE_NAME")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"ISSUER is required", "TABLE_NAME is required", "PAR_EXPIRES_IN", "REQUIRE_PAR", "LOG_LEVEL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// RFC 8414 §2: https, no query or fragment.
func TestFromEnv_Issuer(t *testing.T) {
	for issuer, ok := range map[string]bool{
		"https://auth.example.com":        true,
		"https://auth.example.com/tenant": true,
		"http://127.0.0.1:8080":           true,
		"http://localhost:8080":           true,
		"http://auth.example.com":         false,
		"https://auth.example.com/":       false,
		"https://auth.example.com?x=1":    false,
		"https://auth.example.com#f":      false,
		"auth.example.com":                false,
	} {
		_, err := FromEnv(env(map[string]string{"ISSUER": issuer}))
		if (err == nil) != ok {
			t.Errorf("ISSUER=%q: err=%v, want ok=%v", issuer, err, ok)
		}
	}
}

func TestFromEnv_FAPI2RefusesContradictions(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"ISSUER": "https://as.example", "PROFILE": "fapi2"}))
	if err != nil || !c.RequirePAR || !c.FAPI2 {
		t.Fatalf("fapi2 defaults: %+v %v", c, err)
	}
	_, err = FromEnv(env(map[string]string{"ISSUER": "https://as.example", "PROFILE": "fapi2",
		"REQUIRE_PAR": "false", "PAR_EXPIRES_IN": "600", "CODE_LIFETIME": "120"}))
	for _, want := range []string{"REQUIRE_PAR", "PAR_EXPIRES_IN below 600", "CODE_LIFETIME"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error about %s, got %v", want, err)
		}
	}
}

// METRICS: on in Lambda unless switched off, off elsewhere unless switched on.
func TestFromEnv_Metrics(t *testing.T) {
	for _, tc := range []struct {
		lambda, metrics string
		want            bool
	}{
		{"", "", false},
		{"pargate-ParFunction-1", "", true},
		{"pargate-ParFunction-1", "false", false},
		{"", "true", true},
	} {
		c, err := FromEnv(env(map[string]string{"ISSUER": "https://auth.example.com", "AWS_LAMBDA_FUNCTION_NAME": tc.lambda, "METRICS": tc.metrics}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Metrics != tc.want || c.ServiceName != "pargate" {
			t.Errorf("AWS_LAMBDA_FUNCTION_NAME=%q METRICS=%q: Metrics %v, ServiceName %q; want %v, pargate", tc.lambda, tc.metrics, c.Metrics, c.ServiceName, tc.want)
		}
	}
	if _, err := FromEnv(env(map[string]string{"ISSUER": "https://auth.example.com", "METRICS": "emf"})); err == nil || !strings.Contains(err.Error(), "METRICS") {
		t.Errorf("METRICS=emf: %v, want an error naming METRICS", err)
	}
}

// KEY_ALG: RS256 by default (OIDC Core §15.1); under fapi2 ES256 by default, and
// RS256 refused (FAPI 2.0 Security Profile §5.4.1: PS256, ES256 or EdDSA).
func TestFromEnv_KeyAlgorithm_FAPI2_5_4_1(t *testing.T) {
	for _, tc := range []struct {
		profile, alg, want, err string
		allowed                 []string
	}{
		{"", "", "RS256", "", nil},
		{"default", "PS256", "PS256", "", nil},
		{"default", "EdDSA", "EdDSA", "", nil},
		{"default", "HS256", "", "KEY_ALG", nil},
		{"fapi2", "", "ES256", "", []string{"PS256", "ES256", "EdDSA"}},
		{"fapi2", "PS256", "PS256", "", []string{"PS256", "ES256", "EdDSA"}},
		{"fapi2", "EdDSA", "EdDSA", "", []string{"PS256", "ES256", "EdDSA"}},
		{"fapi2", "RS256", "", "PROFILE=fapi2 requires KEY_ALG of PS256, ES256, EdDSA", nil},
	} {
		c, err := FromEnv(env(map[string]string{"ISSUER": "https://as.example", "PROFILE": tc.profile, "KEY_ALG": tc.alg}))
		alg, algErr := KeyAlgorithm(env(map[string]string{"PROFILE": tc.profile, "KEY_ALG": tc.alg}))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || algErr == nil || !strings.Contains(algErr.Error(), tc.err) {
				t.Errorf("PROFILE=%q KEY_ALG=%q: %v / %v, want an error with %q", tc.profile, tc.alg, err, algErr, tc.err)
			}
			continue
		}
		if err != nil || algErr != nil || c.KeyAlgorithm != tc.want || alg != tc.want || !slices.Equal(c.KeyAlgorithms, tc.allowed) {
			t.Errorf("PROFILE=%q KEY_ALG=%q: %q %v %v / %q %v; want %q %v", tc.profile, tc.alg, c.KeyAlgorithm, c.KeyAlgorithms, err, alg, algErr, tc.want, tc.allowed)
		}
	}
}

// The algorithms KEY_ALG accepts are those pkg/keys generates.
func TestKeyAlgorithms_AreThoseKeysGenerates(t *testing.T) {
	var algs []string
	for _, a := range oauth.SigningAlgorithms {
		algs = append(algs, string(a))
	}
	if !slices.Equal(algs, keys.Algorithms()) {
		t.Errorf("oauth.SigningAlgorithms %v, keys.Algorithms %v", algs, keys.Algorithms())
	}
	var fapi []string
	for _, a := range oauth.FAPISigningAlgorithms {
		fapi = append(fapi, string(a))
	}
	if !slices.Equal(fapi, keys.FAPIAlgorithms()) || DefaultKeyAlgorithm != keys.DefaultAlgorithm || FAPI2KeyAlgorithm != keys.FAPIDefaultAlgorithm {
		t.Errorf("fapi %v / %v; defaults %s %s / %s %s", fapi, keys.FAPIAlgorithms(), DefaultKeyAlgorithm, FAPI2KeyAlgorithm, keys.DefaultAlgorithm, keys.FAPIDefaultAlgorithm)
	}
}

// TestFromEnv_MTLSBaseURL: MTLS_BASE_URL (RFC 8705 §5 mtls_endpoint_aliases) is an
// https origin or nothing.
func TestFromEnv_MTLSBaseURL(t *testing.T) {
	for raw, want := range map[string]string{"": "", "https://mtls.auth.example.com": "https://mtls.auth.example.com",
		"https://mtls.auth.example.com/": "https://mtls.auth.example.com", "https://127.0.0.1:8443": "https://127.0.0.1:8443"} {
		c, err := FromEnv(func(n string) string {
			return map[string]string{"ISSUER": "https://auth.example.com", "MTLS_BASE_URL": raw}[n]
		})
		if err != nil || c.MTLSBaseURL != want {
			t.Errorf("MTLS_BASE_URL=%q: %q, %v; want %q", raw, c.MTLSBaseURL, err, want)
		}
	}
	c, err := FromEnv(func(n string) string {
		return map[string]string{"ISSUER": "https://auth.example.com", "MTLS_DOMAIN_NAME": "mtls.auth.example.com"}[n]
	})
	if err != nil || c.MTLSBaseURL != "https://mtls.auth.example.com" {
		t.Errorf("MTLS_DOMAIN_NAME: %q, %v", c.MTLSBaseURL, err)
	}
	for _, env := range []map[string]string{{"MTLS_DOMAIN_NAME": "mtls.auth.example.com", "MTLS_BASE_URL": "https://mtls.auth.example.com"},
		{"MTLS_DOMAIN_NAME": "https://mtls.auth.example.com"}} {
		env["ISSUER"] = "https://auth.example.com"
		if _, err := FromEnv(func(n string) string { return env[n] }); err == nil {
			t.Errorf("%v accepted", env)
		}
	}
	for _, raw := range []string{"http://mtls.auth.example.com", "https://mtls.auth.example.com/base", "https://mtls.auth.example.com?x=1", "mtls.auth.example.com", "https://u@mtls.auth.example.com"} {
		if _, err := FromEnv(func(n string) string {
			return map[string]string{"ISSUER": "https://auth.example.com", "MTLS_BASE_URL": raw}[n]
		}); err == nil {
			t.Errorf("MTLS_BASE_URL=%q accepted", raw)
		}
	}
}

// SESSION_IDLE_TIMEOUT and SESSION_LIFETIME: 30 minutes and 12 hours by default, in
// whole seconds within their bounds.
func TestFromEnv_SessionPolicy(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"ISSUER": "https://auth.example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Session.IdleTimeout != 30*time.Minute || c.Session.Lifetime != 12*time.Hour {
		t.Errorf("session defaults: %+v", c.Session)
	}
	c, err = FromEnv(env(map[string]string{"ISSUER": "https://auth.example.com", "SESSION_IDLE_TIMEOUT": "600", "SESSION_LIFETIME": "3600"}))
	if err != nil || c.Session.IdleTimeout != 10*time.Minute || c.Session.Lifetime != time.Hour {
		t.Errorf("session settings: %+v, %v", c.Session, err)
	}
	for _, kv := range [][2]string{{"SESSION_IDLE_TIMEOUT", "59"}, {"SESSION_LIFETIME", "299"}, {"SESSION_LIFETIME", "2592001"}, {"SESSION_IDLE_TIMEOUT", "1h"}} {
		if _, err := FromEnv(env(map[string]string{"ISSUER": "https://auth.example.com", kv[0]: kv[1]})); err == nil || !strings.Contains(err.Error(), kv[0]) {
			t.Errorf("%s=%s: %v, want an error naming it", kv[0], kv[1], err)
		}
	}
}

// Issue 13: LOCAL_LOGIN, true by default; false switches the password form off.
func TestFromEnv_Issue13LocalLogin(t *testing.T) {
	for v, disabled := range map[string]bool{"": false, "true": false, "false": true} {
		c, err := FromEnv(env(map[string]string{"ISSUER": "https://auth.example.com", "LOCAL_LOGIN": v}))
		if err != nil || c.DisableLocalLogin != disabled {
			t.Errorf("LOCAL_LOGIN=%q: %v %v", v, c.DisableLocalLogin, err)
		}
	}
	if _, err := FromEnv(env(map[string]string{"ISSUER": "https://auth.example.com", "LOCAL_LOGIN": "no"})); err == nil || !strings.Contains(err.Error(), "LOCAL_LOGIN") {
		t.Errorf("LOCAL_LOGIN=no: %v", err)
	}
}
