package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/pargate/pargate/pkg/keys"
)

// Key rotation waits keys.MinPublished, which counts the JWKS's
// max-age as keys.JWKSMaxAge; /jwks must be served with exactly that max-age, or a
// verifier could cache it longer than a rotation waits.
func TestJWKS_MaxAgeIsTheOneKeyRotationWaitsFor(t *testing.T) {
	ts := newServer(t)
	r := ts.do(t, nil, http.MethodGet, "/jwks", "", "", "")
	want := fmt.Sprintf("public, max-age=%d", int(keys.JWKSMaxAge.Seconds()))
	if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != want {
		t.Fatalf("/jwks: %d, Cache-Control %q; want 200, %q", r.Status, r.Header.Get("Cache-Control"), want)
	}
}
