package config

import (
	"strings"
	"testing"
	"time"
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
