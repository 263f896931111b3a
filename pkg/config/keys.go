package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/oauth"
)

// Default algorithms of generated signing keys (KEY_ALG unset), by profile.
const (
	// DefaultKeyAlgorithm is RS256, the algorithm every OpenID Connect relying party
	// must support (OIDC Core §15.1: "OPs MUST support signing ID Tokens with the
	// RSA SHA-256 algorithm").
	DefaultKeyAlgorithm = string(jose.RS256)
	// FAPI2KeyAlgorithm is ES256 under fapi2, one of the algorithms FAPI 2.0 Security
	// Profile §5.4.1 allows.
	FAPI2KeyAlgorithm = string(jose.ES256)
)

// KeyAlgorithm reads KEY_ALG, the algorithm of the signing keys the deployment
// generates, under PROFILE: the rotation function, which reads nothing else of the
// configuration, calls it as FromEnv does. Unset, it is [DefaultKeyAlgorithm], or
// [FAPI2KeyAlgorithm] under fapi2; under fapi2 RS256 is refused.
func KeyAlgorithm(getenv func(string) string) (string, error) {
	alg, _, err := keyAlgorithm(getenv)
	return alg, err
}

// keyAlgorithm returns KEY_ALG and the algorithms the key set may hold (nil: any
// the server signs with).
func keyAlgorithm(getenv func(string) string) (string, []string, error) {
	fapi2 := strings.TrimSpace(getenv("PROFILE")) == ProfileFAPI2
	alg := strings.TrimSpace(getenv("KEY_ALG"))
	if alg == "" {
		alg = DefaultKeyAlgorithm
		if fapi2 {
			alg = FAPI2KeyAlgorithm
		}
	}
	var all, allowed []string
	for _, a := range oauth.SigningAlgorithms {
		all = append(all, string(a))
	}
	if fapi2 {
		for _, a := range oauth.FAPISigningAlgorithms {
			allowed = append(allowed, string(a))
		}
	}
	switch {
	case !slices.Contains(all, alg):
		return "", nil, fmt.Errorf("KEY_ALG=%q: want one of %v", alg, all)
	// FAPI 2.0 Security Profile §5.4.1 item 1: authorization servers "when creating
	// or processing JWTs shall … use PS256, ES256, or EdDSA (using the Ed25519
	// variant) algorithms".
	case fapi2 && !slices.Contains(allowed, alg):
		return "", nil, fmt.Errorf("PROFILE=fapi2 requires KEY_ALG of %s (FAPI 2.0 Security Profile §5.4.1), got %s: unset it for %s",
			strings.Join(allowed, ", "), alg, FAPI2KeyAlgorithm)
	}
	return alg, allowed, nil
}
