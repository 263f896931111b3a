package oauth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/pargate/pargate/pkg/oauth"
)

// A storage key is its base64url SHA-256 at the cost of one allocation,
// the string itself.
func TestHashKey_IsTheBase64URLSHA256InOneAllocation(t *testing.T) {
	sum := sha256.Sum256([]byte("a-reference-of-43-characters-like-a-code-xyz"))
	if got, want := oauth.HashKey("a-reference-of-43-characters-like-a-code-xyz"), base64.RawURLEncoding.EncodeToString(sum[:]); got != want {
		t.Errorf("HashKey = %q, want %q", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { _ = oauth.HashKey("a-reference-of-43-characters-like-a-code-xyz") }); n > 1 {
		t.Errorf("HashKey allocates %v times, want 1", n)
	}
}
