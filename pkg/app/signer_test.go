package app

import (
	"context"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/keys"
)

// The signer the functions and the local server build (SignerOptions): under fapi2 a
// key set with an RS256 key is refused at its first load, naming the kid (FAPI 2.0
// Security Profile §5.4.1); before loading it answers the profile's key algorithm;
// the default profile signs with RS256 (OIDC Core §15.1).
func TestSignerOptions_FAPI2_5_4_1(t *testing.T) {
	set := httpapitest.KeySet(t, keys.RS256)
	for _, tc := range []struct {
		profile, before string
		refused         bool
	}{
		{"default", keys.RS256, false},
		{"fapi2", keys.ES256, true},
	} {
		cfg, err := config.FromEnv(func(n string) string {
			return map[string]string{"ISSUER": "https://as.example", "PROFILE": tc.profile}[n]
		})
		if err != nil {
			t.Fatal(err)
		}
		s := keys.NewSigner(keys.Static(set), SignerOptions(cfg)...)
		if algs := s.Algorithms(); len(algs) != 1 || algs[0] != tc.before {
			t.Errorf("%s: algorithms before loading %v, want [%s]", tc.profile, algs, tc.before)
		}
		err = s.Ready(context.Background())
		if tc.refused != (err != nil) || tc.refused && !strings.Contains(err.Error(), set.Active().KeyID) {
			t.Errorf("%s: Ready with an RS256 key: %v, want refused=%v naming %s", tc.profile, err, tc.refused, set.Active().KeyID)
		}
	}
}
