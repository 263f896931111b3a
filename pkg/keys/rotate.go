package keys

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// JWKSMaxAge is how long a response of the JWKS endpoint may be cached: the max-age
// of the Cache-Control header pkg/httpapi's discovery serves /jwks with (a test
// there keeps the two equal).
const JWKSMaxAge = 5 * time.Minute

// MinPublished is how long a key must have been published before a rotation may
// make it the active key: the JWKS cache time, [JWKSMaxAge] for a verifier that
// honours the server's Cache-Control plus [DefaultRefresh] for an instance that
// still serves the JWKS of the set it loaded before the key was added. A token
// signed with a key published more recently could reach a verifier whose cached JWKS
// does not have its kid yet.
const MinPublished = JWKSMaxAge + DefaultRefresh

// ErrSuccessorTooNew is the error of a rotation that would promote a successor
// published less than [MinPublished] ago; rotating again later succeeds.
var ErrSuccessorTooNew = errors.New("successor key published too recently")

// Rotate returns the set that follows current at time now, with a new key of alg
// generated as the successor (see the package documentation):
//
//   - current nil (no key set yet): [new active, new successor];
//   - current of one key A: [A, new successor], so A keeps signing until the successor
//     has been published for one rotation;
//   - current [A, B, …]: [B, new successor, A]. B was published by the previous
//     rotation and now signs; A stays published for the tokens it signed; older
//     retired keys are dropped.
//
// Every key it adds is recorded as published at now; the others keep their times.
// It refuses (an error wrapping [ErrSuccessorTooNew]) to promote B when B was
// published less than [MinPublished] before now ([CheckPromotable]).
//
// Position is all Rotate knows of a key's role, so a hand-made set should hold its
// active key alone, or the active key and then a successor: a retired key in second
// place would be made active again.
func Rotate(current *Set, alg string, now time.Time) (*Set, error) {
	if err := CheckPromotable(current, now); err != nil {
		return nil, fmt.Errorf("rotate keys: %w", err)
	}
	next, err := Generate(alg)
	if err != nil {
		return nil, fmt.Errorf("rotate keys: %w", err)
	}
	published := map[string]time.Time{next.KeyID: now}
	var keys []jose.JSONWebKey
	switch {
	case current == nil:
		active, err := Generate(alg)
		if err != nil {
			return nil, fmt.Errorf("rotate keys: %w", err)
		}
		published[active.KeyID] = now
		keys = []jose.JSONWebKey{active, next}
	case len(current.keys) == 1:
		keys = []jose.JSONWebKey{current.keys[0], next}
	default:
		keys = []jose.JSONWebKey{current.keys[1], next, current.keys[0]}
	}
	if current != nil {
		for kid, t := range current.published {
			published[kid] = t
		}
	}
	s, err := newSetPublished(published, keys...)
	if err != nil {
		return nil, fmt.Errorf("rotate keys: %w", err)
	}
	return s, nil
}

// CheckPromotable reports whether a rotation at now may promote the successor of
// current (its second key): it must have been published at least [MinPublished]
// before now. A successor without a recorded time (a set written before times were
// recorded) counts as published long ago. A nil set or a set of one key promotes
// nothing.
func CheckPromotable(current *Set, now time.Time) error {
	if current == nil || len(current.keys) < 2 {
		return nil
	}
	return checkPublished(current, current.keys[1].KeyID, now)
}

func checkPublished(current *Set, kid string, now time.Time) error {
	at, ok := current.Published(kid)
	if !ok {
		return nil
	}
	if age := now.Sub(at); age < MinPublished {
		return fmt.Errorf("%w: key %q was published at %s, %v ago; verifiers may cache the JWKS for %v "+
			"(max-age %v plus the signer's refresh %v), so it may sign from %s on: rotate again then",
			ErrSuccessorTooNew, kid, at.UTC().Format(time.RFC3339), age.Truncate(time.Second), MinPublished,
			JWKSMaxAge, DefaultRefresh, at.Add(MinPublished).UTC().Format(time.RFC3339))
	}
	return nil
}

// CheckSuccessor reports whether next may replace current at now without breaking a
// verifier: next's active key must already be published in current (a verifier
// holding current's JWKS can check what next signs), for at least [MinPublished] when
// it is not current's active key, and current's active key must still be published
// in next (tokens current signed keep verifying). A nil current, the first key set of
// a deployment, has nothing to break.
func CheckSuccessor(current, next *Set, now time.Time) error {
	if current == nil {
		return nil
	}
	kid := next.Active().KeyID
	if !current.has(kid) {
		return fmt.Errorf("new active key %q was never published: it must be in the current set before it signs", kid)
	}
	if kid != current.Active().KeyID {
		if err := checkPublished(current, kid, now); err != nil {
			return err
		}
	}
	if kid := current.Active().KeyID; !next.has(kid) {
		return fmt.Errorf("current active key %q would be unpublished while tokens it signed are still valid", kid)
	}
	return nil
}
