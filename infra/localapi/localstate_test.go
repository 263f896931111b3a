package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/seed"
)

// TestLocalStateIsReusedAcrossStarts: with LOCAL_STATE_DIR a second start signs with
// the key the first one generated (the JWKS is the same document) and finds the
// seed's password hashes in the folder instead of hashing again.
func TestLocalStateIsReusedAcrossStarts(t *testing.T) {
	localOnly(t, localServer)
	dir := t.TempDir()
	env := map[string]string{"SEED_FILE": "../seed.json", "ADDR": "127.0.0.1:0", "LOCAL_STATE_DIR": dir}
	jwks := func() string {
		t.Helper()
		srv, err := Start(t.Context(), func(n string) string { return env[n] })
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		res, err := http.Get(srv.Issuer + "/jwks")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /jwks: %d %s", res.StatusCode, body)
		}
		return string(body)
	}
	first := jwks()
	if _, err := os.Stat(filepath.Join(dir, "keys-RS256.json")); err != nil {
		t.Fatalf("the generated key was not kept: %v", err)
	}
	hashes, err := os.ReadFile(filepath.Join(dir, "password-hashes.json"))
	if err != nil {
		t.Fatalf("the password hashes were not kept: %v", err)
	}
	if second := jwks(); second != first {
		t.Errorf("the second start publishes other keys:\n%s\nfirst:\n%s", second, first)
	}
	again, err := os.ReadFile(filepath.Join(dir, "password-hashes.json"))
	if err != nil || string(again) != string(hashes) {
		t.Errorf("the second start rewrote the password hashes (%v)", err)
	}

	// Another algorithm is another key file, never the RS256 key.
	env["KEY_ALG"] = "ES256"
	if jwks() == first {
		t.Error("KEY_ALG=ES256 publishes the RS256 key")
	}
	if _, err := os.Stat(filepath.Join(dir, "keys-ES256.json")); err != nil {
		t.Errorf("no ES256 key file: %v", err)
	}
}

// TestLocalStatePasswordHashes: a cached hash verifies the password it was made for
// and no other, and an unreadable cache stops the start instead of being overwritten.
func TestLocalStatePasswordHashes(t *testing.T) {
	localOnly(t, localServer)
	state := localState{dir: t.TempDir()}
	mustHash := func(hash seed.Hasher, password string) string {
		t.Helper()
		h, err := hash(password)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	hash, save, err := state.passwordHashes()
	if err != nil {
		t.Fatal(err)
	}
	h1 := mustHash(hash, "correct horse")
	if err := save(); err != nil {
		t.Fatal(err)
	}
	hash2, _, err := state.passwordHashes()
	if err != nil {
		t.Fatal(err)
	}
	h2 := mustHash(hash2, "correct horse")
	if h2 != h1 {
		t.Errorf("the cached hash was not reused: %q, then %q", h1, h2)
	}
	if ok, err := oauth.VerifyPassword(h2, "correct horse"); !ok || err != nil {
		t.Errorf("the cached hash does not verify its password: %v %v", ok, err)
	}
	other := mustHash(hash2, "battery staple")
	if ok, _ := oauth.VerifyPassword(other, "correct horse"); ok || other == h1 {
		t.Error("another password got the first one's hash")
	}

	if err := os.WriteFile(filepath.Join(state.dir, "password-hashes.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := state.passwordHashes(); err == nil {
		t.Error("a corrupt cache was accepted")
	}
}
