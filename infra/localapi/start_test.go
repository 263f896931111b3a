package main

import (
	"path/filepath"
	"testing"
)

// TestStartReportsItsErrors: a Start that fails returns its error (it used to panic
// in Close on the HTTP server it had not created yet).
func TestStartReportsItsErrors(t *testing.T) {
	tests := map[string]map[string]string{
		"missing seed file":        {"SEED_FILE": filepath.Join(t.TempDir(), "missing.json")},
		"unknown store":            {"SEED_FILE": "../seed.json", "STORE": "postgres"},
		"http issuer off loopback": {"SEED_FILE": "../seed.json", "ISSUER": "http://auth.example.com"},
		"bad lifetime":             {"SEED_FILE": "../seed.json", "PAR_EXPIRES_IN": "3"},
		"unknown key algorithm":    {"SEED_FILE": "../seed.json", "KEY_ALG": "HS256"},
	}
	for name, env := range tests {
		t.Run(name, func(t *testing.T) {
			env["ADDR"] = "127.0.0.1:0"
			srv, err := Start(t.Context(), func(n string) string { return env[n] })
			if err == nil {
				srv.Close()
				t.Fatal("Start succeeded")
			}
		})
	}
}
