package awsapp_test

import (
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/awsapp/awstable"
)

// With DPOP_NONCE=true a function needs the nonce key's own secret: it never falls
// back to the cookie secret or to a key of its own instance, which other instances
// would not accept.
func TestLambda_DPoPNonceNeedsItsOwnSecret(t *testing.T) {
	env := lambdaEnv(t, "http://127.0.0.1:9") // nothing may be called
	with := func(extra map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return env(k)
		}
	}
	_, err := awsapp.Lambda(t.Context(), with(map[string]string{"DPOP_NONCE": "true"}), awstable.Table)
	if err == nil || !strings.Contains(err.Error(), awsapp.DPoPNonceSecretEnv) {
		t.Fatalf("Lambda with DPOP_NONCE=true and no %s: %v, want an error naming it", awsapp.DPoPNonceSecretEnv, err)
	}
	if _, err := awsapp.Lambda(t.Context(), with(map[string]string{"DPOP_NONCE": "true", awsapp.DPoPNonceSecretEnv: "nonce"}), awstable.Table); err != nil {
		t.Fatalf("Lambda with the nonce secret: %v", err)
	}
	if _, err := awsapp.Lambda(t.Context(), env, awstable.Table); err != nil {
		t.Fatalf("Lambda without DPoP nonces needs no nonce secret: %v", err)
	}
}
