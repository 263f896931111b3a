package keys

import (
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// Rotate returns the set that follows current, with a new key of alg generated as the
// successor (see the package documentation):
//
//   - current nil (no key set yet): [new active, new successor];
//   - current of one key A: [A, new successor], so A keeps signing until the successor
//     has been published for one rotation;
//   - current [A, B, …]: [B, new successor, A]. B was published by the previous
//     rotation and now signs; A stays published for the tokens it signed; older
//     retired keys are dropped.
//
// Position is all Rotate knows of a key's role, so a hand-made set should hold its
// active key alone, or the active key and then a successor: a retired key in second
// place would be made active again.
func Rotate(current *Set, alg string) (*Set, error) {
	next, err := Generate(alg)
	if err != nil {
		return nil, fmt.Errorf("rotate keys: %w", err)
	}
	var keys []jose.JSONWebKey
	switch {
	case current == nil:
		active, err := Generate(alg)
		if err != nil {
			return nil, fmt.Errorf("rotate keys: %w", err)
		}
		keys = []jose.JSONWebKey{active, next}
	case len(current.keys) == 1:
		keys = []jose.JSONWebKey{current.keys[0], next}
	default:
		keys = []jose.JSONWebKey{current.keys[1], next, current.keys[0]}
	}
	s, err := NewSet(keys...)
	if err != nil {
		return nil, fmt.Errorf("rotate keys: %w", err)
	}
	return s, nil
}

// CheckSuccessor reports whether next may replace current without breaking a verifier:
// next's active key must already be published in current (a verifier holding
// current's JWKS can check what next signs), and current's active key must still be
// published in next (tokens current signed keep verifying). A nil current, the first
// key set of a deployment, has nothing to break.
func CheckSuccessor(current, next *Set) error {
	if current == nil {
		return nil
	}
	if kid := next.Active().KeyID; !current.has(kid) {
		return fmt.Errorf("new active key %q was never published: it must be in the current set before it signs", kid)
	}
	if kid := current.Active().KeyID; !next.has(kid) {
		return fmt.Errorf("current active key %q would be unpublished while tokens it signed are still valid", kid)
	}
	return nil
}
