package keys

import (
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Revoke returns current without the key kid, for a key that is compromised: it is
// unpublished at once, and tokens it signed stop verifying here. Revoking the
// successor or a retired key just drops it. Revoking the active key promotes the
// successor (published since the last rotation) and publishes a fresh successor of
// alg; a set with no successor gets a fresh active key and successor, which signs
// before verifiers' cached JWKS know it — an incident accepts that. Revoking the only
// key of a set is the same. A kid that is not in current is an error. The keys kept
// keep their publication times; fresh keys are recorded as published now, so the
// next rotation waits [MinPublished] before it promotes the fresh successor (an
// incident skips that wait only for the key it had to activate).
func Revoke(current *Set, kid, alg string) (*Set, error) {
	if current == nil || !current.has(kid) {
		return nil, fmt.Errorf("revoke key: no key %q in the key set", kid)
	}
	published := make(map[string]time.Time, len(current.published)+2)
	for k, t := range current.published {
		published[k] = t
	}
	now := time.Now()
	var rest []jose.JSONWebKey
	for _, k := range current.keys {
		if k.KeyID != kid {
			rest = append(rest, k)
		}
	}
	if current.keys[0].KeyID == kid {
		if len(current.keys) < 2 || current.keys[1].KeyID == kid {
			active, err := Generate(alg)
			if err != nil {
				return nil, fmt.Errorf("revoke key: %w", err)
			}
			published[active.KeyID] = now
			rest = append([]jose.JSONWebKey{active}, rest...)
		}
		// rest[0] signs now; a fresh successor goes second.
		next, err := Generate(alg)
		if err != nil {
			return nil, fmt.Errorf("revoke key: %w", err)
		}
		published[next.KeyID] = now
		rest = append([]jose.JSONWebKey{rest[0], next}, rest[1:]...)
	}
	s, err := newSetPublished(published, rest...)
	if err != nil {
		return nil, fmt.Errorf("revoke key: %w", err)
	}
	return s, nil
}
