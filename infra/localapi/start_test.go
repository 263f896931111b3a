package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/keys"
)

// TestStartReportsItsErrors: a Start that fails returns its error (it used to panic
// in Close on the HTTP server it had not created yet).
func TestStartReportsItsErrors(t *testing.T) {
	localOnly(t, localServer)
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

// TestStart_JARM_3_SignedResponseAlgOfTheKey: a seeded client whose
// authorization_signed_response_alg is not the signing key's algorithm stops the
// start with its client_id; with KEY_ALG set to it the start succeeds.
func TestStart_JARM_3_SignedResponseAlgOfTheKey(t *testing.T) {
	seedFile := filepath.Join(t.TempDir(), "seed.json")
	doc := `{"clients":[{"client_id":"jarm-rp","client_secret":"` + strings.Repeat("s", 43) +
		`","redirect_uris":["https://rp.example/cb"],"authorization_signed_response_alg":"ES256"}],"users":[]}`
	if err := os.WriteFile(seedFile, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SEED_FILE": seedFile, "ADDR": "127.0.0.1:0", "LOCAL_STATE_DIR": t.TempDir(), "KEY_ALG": "RS256"}
	getenv := func(n string) string { return env[n] }
	if srv, err := Start(t.Context(), getenv); err == nil || !strings.Contains(err.Error(), "jarm-rp") {
		if err == nil {
			srv.Close()
		}
		t.Fatalf("RS256 key, ES256 client: %v, want an error naming jarm-rp", err)
	}
	env["KEY_ALG"] = "ES256"
	srv, err := Start(t.Context(), getenv)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
}

// FAPI 2.0 Security Profile §5.4.1: under fapi2 the server signs with PS256, ES256 or
// EdDSA. Without KEY_ALG the generated key is ES256 (kept as keys-ES256.json); KEY_ALG
// RS256 and a keys file holding an RS256 key stop the start, the latter naming the
// key's kid.
func TestStart_FAPI2_5_4_1_SigningKeys(t *testing.T) {
	localOnly(t, localServer)
	dir := t.TempDir()
	env := map[string]string{"SEED_FILE": "../seed.json", "ADDR": "127.0.0.1:0", "LOCAL_STATE_DIR": dir, "PROFILE": "fapi2", "ALLOW_HTTP_ISSUER": "true"}
	getenv := func(n string) string { return env[n] }
	srv, err := Start(t.Context(), getenv)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	set, err := keys.FileSource(filepath.Join(dir, "keys-ES256.json")).Load(t.Context())
	if err != nil {
		t.Fatalf("fapi2 without KEY_ALG: no ES256 key file: %v", err)
	}
	if alg := set.Active().Algorithm; alg != keys.ES256 {
		t.Errorf("generated key %s, want ES256", alg)
	}

	env["KEY_ALG"] = "RS256"
	if srv, err := Start(t.Context(), getenv); err == nil || !strings.Contains(err.Error(), "KEY_ALG") {
		if err == nil {
			srv.Close()
		}
		t.Errorf("fapi2 with KEY_ALG=RS256: %v, want an error naming KEY_ALG", err)
	}

	rs, err := keys.Generate(keys.RS256)
	if err != nil {
		t.Fatal(err)
	}
	es, err := keys.Generate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	bad, err := keys.NewSet(es, rs)
	if err != nil {
		t.Fatal(err)
	}
	data, err := bad.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	env["KEY_ALG"], env["KEYS_FILE"] = "", file
	if srv, err := Start(t.Context(), getenv); err == nil || !strings.Contains(err.Error(), rs.KeyID) {
		if err == nil {
			srv.Close()
		}
		t.Errorf("fapi2 with an RS256 key in KEYS_FILE: %v, want an error naming kid %s", err, rs.KeyID)
	}
	// The default profile keeps accepting it (OIDC Core §15.1: RS256).
	env["PROFILE"] = ""
	srv, err = Start(t.Context(), getenv)
	if err != nil {
		t.Fatalf("default profile with an RS256 key: %v", err)
	}
	srv.Close()
}
