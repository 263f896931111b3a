//go:build knownbugs

package seed_test

import (
	"testing"

	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/seed"
)

// RFC 9700 §2.1 / RFC 8252 §7.3: plain http is for loopback IP literals (127.0.0.1,
// [::1]); config.IsLoopback (and oauth's isLoopback) treat any host starting with
// "127." as loopback, so a DNS name such as 127.evil.example passes as a redirect URI,
// a redirect prefix and an issuer. Run: go test -tags knownbugs -run '^TestKnownBug' ./pkg/seed
func TestKnownBug_LoopbackIsDecidedByPrefix(t *testing.T) {
	doc := `{"clients":[{"client_id":"a","token_endpoint_auth_method":"none","redirect_uris":["http://127.evil.example/cb"]}]}`
	if _, err := seed.Parse([]byte(doc)); err == nil {
		t.Error("redirect URI http://127.evil.example/cb accepted as loopback")
	}
	if _, err := config.FromEnv(func(k string) string {
		if k == "ISSUER" {
			return "http://127.evil.example"
		}
		return ""
	}); err == nil {
		t.Error("ISSUER http://127.evil.example accepted as loopback")
	}
}
