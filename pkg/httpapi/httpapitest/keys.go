package httpapitest

import (
	"testing"

	"github.com/pargate/pargate/pkg/keys"
)

// KeySet is a signing key set of one new key of alg (keys.ES256, keys.RS256, …), as
// the servers under test sign with.
func KeySet(tb testing.TB, alg string) *keys.Set {
	tb.Helper()
	k, err := keys.Generate(alg)
	if err != nil {
		tb.Fatal(err)
	}
	set, err := keys.NewSet(k)
	if err != nil {
		tb.Fatal(err)
	}
	return set
}
