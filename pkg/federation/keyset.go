package federation

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// keyRefetchAfter is the least time between two fetches of a JWKS forced by an
// unknown kid: a flood of tokens naming unknown keys costs one fetch per period.
const keyRefetchAfter = time.Minute

// keySet implements oidc.KeySet over the upstream's jwks_uri, fetched with the
// client's bounded HTTP client and cached (refetched when a token names a key
// the cache lacks, the rotation signal of OIDC Core §10.1.1, or after the
// discovery TTL). Unlike go-oidc's RemoteKeySet it tells a JWKS that cannot be
// fetched (unavailable) from a signature that does not verify (invalid), through
// the fetchNote in the context.
type keySet struct {
	c   *Client
	uri string

	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetched time.Time
}

type fetchNoteKey struct{}

// fetchNote records, for one verification, why the key set could not be read.
type fetchNote struct{ err error }

func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	algs := make([]jose.SignatureAlgorithm, 0, len(asymmetric))
	for a := range asymmetric {
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	// The verifier has already held the alg to the upstream's list; this parse only
	// finds the kid.
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errors.New("malformed JWS")
	}
	kid := jws.Signatures[0].Header.KeyID
	for attempt := 0; attempt < 2; attempt++ {
		keys, err := k.get(ctx, attempt == 1)
		if err != nil {
			if note, ok := ctx.Value(fetchNoteKey{}).(*fetchNote); ok {
				note.err = err
			}
			return nil, err
		}
		for _, key := range keys {
			if (kid != "" && key.KeyID != kid) || (key.Use != "" && key.Use != "sig") {
				continue
			}
			if payload, err := jws.Verify(key); err == nil {
				return payload, nil
			}
		}
		if !k.mayRefetch() {
			break
		}
	}
	return nil, errors.New("no key of the upstream's JWKS verifies the signature")
}

// mayRefetch reports whether an unknown key may cause another fetch now.
func (k *keySet) mayRefetch() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.c.now().Sub(k.fetched) >= keyRefetchAfter
}

// get returns the cached keys, or fetches them when there are none, when they are
// older than the discovery TTL, or when refetch says so.
func (k *keySet) get(ctx context.Context, refetch bool) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	keys, fetched := k.keys, k.fetched
	k.mu.Unlock()
	now := k.c.now()
	if keys != nil && !refetch && now.Sub(fetched) < k.c.ttl {
		return keys, nil
	}
	fresh, err := k.fetch(ctx)
	if err != nil {
		if keys != nil && !refetch && now.Sub(fetched) < k.c.ttl+k.c.staleFor {
			return keys, nil // the keys known still verify what they verified
		}
		return nil, err
	}
	k.mu.Lock()
	k.keys, k.fetched = fresh, now
	k.mu.Unlock()
	return fresh, nil
}

// fetch reads the JWK Set (RFC 7517 §5), keeping the public signing keys go-jose
// can use and skipping the others (a set may hold keys of other types).
func (k *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequest(http.MethodGet, k.uri, nil)
	if err != nil {
		return nil, invalid("jwks_uri is not a URL")
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	status, _, body, err := k.c.do(ctx, "jwks_uri", req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, unavailable("jwks_uri answered %d", status)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := decodeJSON(body, &set); err != nil {
		return nil, unavailable("jwks_uri answered no JWK Set")
	}
	keys := []jose.JSONWebKey{}
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if json.Unmarshal(raw, &key) != nil || !key.Valid() {
			continue
		}
		keys = append(keys, key.Public())
	}
	return keys, nil
}
