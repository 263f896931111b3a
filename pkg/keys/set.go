package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The JWS algorithms (RFC 7518 §3.1) a key may have.
const (
	RS256 = string(jose.RS256)
	PS256 = string(jose.PS256)
	ES256 = string(jose.ES256)
	EdDSA = string(jose.EdDSA)
)

// DefaultAlgorithm is the algorithm of generated keys unless configured otherwise:
// RS256 is the one every OpenID Connect relying party must support (OIDC Core §15.1).
const DefaultAlgorithm = RS256

// FAPIDefaultAlgorithm is the algorithm of generated keys under the fapi2 profile:
// one FAPI 2.0 Security Profile §5.4.1 allows, and the cheapest to sign with.
const FAPIDefaultAlgorithm = ES256

// FAPIAlgorithms are the algorithms a key may have under the fapi2 profile. FAPI 2.0
// Security Profile §5.4.1 item 1: authorization servers "when creating or processing
// JWTs shall … use PS256, ES256, or EdDSA (using the Ed25519 variant) algorithms".
func FAPIAlgorithms() []string { return []string{PS256, ES256, EdDSA} }

// MinRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3: "A key of size
// 2048 bits or larger MUST be used with these algorithms").
const MinRSABits = 2048

// Algorithms lists the supported algorithms.
func Algorithms() []string { return []string{RS256, PS256, ES256, EdDSA} }

// Supported reports whether alg is one of [Algorithms].
func Supported(alg string) bool { return slices.Contains(Algorithms(), alg) }

// Generate makes a new private signing key for alg: RSA 2048 for RS256 and PS256, P-256
// for ES256, Ed25519 for EdDSA. Its kid is the base64url RFC 7638 SHA-256 thumbprint.
func Generate(alg string) (jose.JSONWebKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case RS256, PS256:
		priv, err = rsa.GenerateKey(rand.Reader, MinRSABits)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return jose.JSONWebKey{}, fmt.Errorf("generate key: unsupported algorithm %q (want one of %v)", alg, Algorithms())
	}
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	k := jose.JSONWebKey{Key: priv, Algorithm: alg, Use: "sig"}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("generate %s key: thumbprint: %w", alg, err)
	}
	k.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return k, nil
}

// Set is a validated, immutable key set; see the package documentation for what the
// order of its keys means.
type Set struct {
	keys []jose.JSONWebKey
	// published is when each key was first published (the "published" member of
	// the stored set); a kid without an entry was published before times were
	// recorded (see [Set.Published]).
	published map[string]time.Time
}

// NewSet validates keys, in order (the first is the active key), into a Set.
func NewSet(keys ...jose.JSONWebKey) (*Set, error) {
	if len(keys) == 0 {
		return nil, errors.New("key set: no keys")
	}
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		if err := validate(k); err != nil {
			return nil, fmt.Errorf("key set: key %d (kid %q): %w", i, k.KeyID, err)
		}
		if seen[k.KeyID] {
			return nil, fmt.Errorf("key set: key %d: duplicate kid %q", i, k.KeyID)
		}
		seen[k.KeyID] = true
	}
	return &Set{keys: slices.Clone(keys)}, nil
}

// newSetPublished is [NewSet] with the publication times of the keys that have one;
// times of kids not in keys are dropped.
func newSetPublished(published map[string]time.Time, keys ...jose.JSONWebKey) (*Set, error) {
	s, err := NewSet(keys...)
	if err != nil {
		return nil, err
	}
	for kid, t := range published {
		if s.has(kid) && !t.IsZero() {
			if s.published == nil {
				s.published = make(map[string]time.Time, len(published))
			}
			s.published[kid] = t.UTC()
		}
	}
	return s, nil
}

// Published reports when the key kid was first published, as the set records it.
// ok is false for a key of a set written before publication times were recorded
// (or made by hand without them): such a key counts as published long ago, since it
// was already in service when the set was written (see the package documentation).
func (s *Set) Published(kid string) (t time.Time, ok bool) {
	t, ok = s.published[kid]
	return t, ok
}

// ParseSet parses and validates a JWK Set of private signing keys.
func ParseSet(data []byte) (*Set, error) {
	var raw struct {
		Keys      []json.RawMessage    `json:"keys"`
		Published map[string]time.Time `json:"published"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse key set: %w", err)
	}
	keys := make([]jose.JSONWebKey, len(raw.Keys))
	for i, r := range raw.Keys {
		if err := keys[i].UnmarshalJSON(r); err != nil {
			return nil, fmt.Errorf("parse key set: key %d: %w", i, err)
		}
	}
	s, err := newSetPublished(raw.Published, keys...)
	if err != nil {
		return nil, fmt.Errorf("parse %w", err)
	}
	return s, nil
}

func validate(k jose.JSONWebKey) error {
	if k.KeyID == "" {
		return errors.New("no kid")
	}
	if k.Use != "sig" {
		return fmt.Errorf(`use is %q, want "sig"`, k.Use)
	}
	switch k.Algorithm {
	case RS256, PS256:
		priv, ok := k.Key.(*rsa.PrivateKey)
		if !ok {
			return fmt.Errorf("alg %s needs an RSA private key, got %T", k.Algorithm, k.Key)
		}
		if !k.Valid() {
			return errors.New("incomplete RSA key")
		}
		if n := priv.N.BitLen(); n < MinRSABits {
			return fmt.Errorf("RSA key of %d bits, want at least %d", n, MinRSABits)
		}
		if err := priv.Validate(); err != nil {
			return fmt.Errorf("invalid RSA key: %w", err)
		}
	case ES256:
		priv, ok := k.Key.(*ecdsa.PrivateKey)
		if !ok {
			return fmt.Errorf("alg %s needs an EC private key, got %T", k.Algorithm, k.Key)
		}
		if !k.Valid() {
			return errors.New("incomplete EC key")
		}
		if priv.Curve != elliptic.P256() {
			return fmt.Errorf("alg %s needs curve P-256, got %s", k.Algorithm, priv.Curve.Params().Name)
		}
		// The JWK carries the public point beside d; a mismatch would sign tokens that
		// the published key cannot verify.
		ecdhPriv, err := priv.ECDH()
		if err != nil {
			return fmt.Errorf("invalid EC key: %w", err)
		}
		ecdhPub, err := priv.PublicKey.ECDH()
		if err != nil {
			return fmt.Errorf("invalid EC public key: %w", err)
		}
		if !ecdhPriv.PublicKey().Equal(ecdhPub) {
			return errors.New("invalid EC key: d does not match x, y")
		}
	case EdDSA:
		// RFC 8037 §3.1: an OKP key of curve Ed25519 (go-jose reads no other EdDSA
		// curve); its d holds the seed, from which the public half is derived.
		priv, ok := k.Key.(ed25519.PrivateKey)
		if !ok {
			return fmt.Errorf("alg %s needs an Ed25519 private key, got %T", k.Algorithm, k.Key)
		}
		if !k.Valid() {
			return errors.New("incomplete Ed25519 key")
		}
		if !ed25519.NewKeyFromSeed(priv.Seed()).Equal(priv) {
			return errors.New("invalid Ed25519 key: d does not match x")
		}
	default:
		return fmt.Errorf("unsupported alg %q (want one of %v)", k.Algorithm, Algorithms())
	}
	return nil
}

// Active is the key that signs.
func (s *Set) Active() jose.JSONWebKey { return s.keys[0] }

// Keys returns the private keys in order, active first.
func (s *Set) Keys() []jose.JSONWebKey { return slices.Clone(s.keys) }

// KeyIDs returns the kids in order, active first.
func (s *Set) KeyIDs() []string {
	ids := make([]string, len(s.keys))
	for i, k := range s.keys {
		ids[i] = k.KeyID
	}
	return ids
}

// Key returns the key with kid.
func (s *Set) Key(kid string) (jose.JSONWebKey, bool) {
	for _, k := range s.keys {
		if k.KeyID == kid {
			return k, true
		}
	}
	return jose.JSONWebKey{}, false
}

// Algorithms lists the algorithms of the keys, the active key's first, without
// duplicates.
func (s *Set) Algorithms() []string {
	var algs []string
	for _, k := range s.keys {
		if !slices.Contains(algs, k.Algorithm) {
			algs = append(algs, k.Algorithm)
		}
	}
	return algs
}

// CheckAlgorithms reports the first key of the set, in order, whose algorithm is not
// one of allowed, naming its kid and its role, so that a profile that forbids an
// algorithm refuses a set that holds one anywhere: a retired key would still be
// published and listed in id_token_signing_alg_values_supported, and a successor would
// sign after the next rotation.
func (s *Set) CheckAlgorithms(allowed []string) error {
	for i, k := range s.keys {
		if slices.Contains(allowed, k.Algorithm) {
			continue
		}
		role := "a retired key"
		switch {
		case i == 0:
			role = "the active key"
		case i == 1:
			role = "the successor"
		}
		return fmt.Errorf("key set: key %q (%s) has alg %s; this profile allows only %v: "+
			"rotate the keys with an allowed algorithm until the key has left the set, or revoke it",
			k.KeyID, role, k.Algorithm, allowed)
	}
	return nil
}

// Public returns the public halves of every key, in order: the JWKS to publish.
func (s *Set) Public() jose.JSONWebKeySet {
	pub := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(s.keys))}
	for i, k := range s.keys {
		pub.Keys[i] = k.Public()
	}
	return pub
}

// PublicJSON is [Set.Public] as the JSON document served at the jwks_uri.
func (s *Set) PublicJSON() []byte {
	b, err := json.Marshal(s.Public())
	if err != nil {
		// Keys were validated when the set was made; marshalling a valid public key
		// cannot fail.
		panic(fmt.Sprintf("keys: marshal public key set: %v", err))
	}
	return b
}

// MarshalJSON encodes the private key set in the format [ParseSet] reads: the value to
// store in the secret or the keys file, with the publication times it records under
// "published". It contains private keys.
func (s *Set) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(struct {
		Keys      []jose.JSONWebKey    `json:"keys"`
		Published map[string]time.Time `json:"published,omitempty"`
	}{s.keys, s.published})
	if err != nil {
		return nil, fmt.Errorf("marshal key set: %w", err)
	}
	return b, nil
}

// Verify checks a compact JWS as a relying party holding the published JWKS would:
// see [VerifyJWKS].
func (s *Set) Verify(token string) ([]byte, error) {
	return VerifyJWKS(s.PublicJSON(), token)
}

// VerifyJWKS checks a compact JWS against a JWK Set document: the key is picked by the
// kid header, and only that key's alg is accepted. It returns the verified payload.
// The server verifies nothing it signed itself; this is for tests, relying-party
// examples and the rotation self-test.
func VerifyJWKS(jwks []byte, token string) ([]byte, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, fmt.Errorf("verify token: parse JWKS: %w", err)
	}
	jws, err := jose.ParseSignedCompact(token, signatureAlgorithms(set.Keys))
	if err != nil {
		return nil, fmt.Errorf("verify token: %w", err)
	}
	h := jws.Signatures[0].Protected
	matches := set.Key(h.KeyID)
	if len(matches) != 1 {
		return nil, fmt.Errorf("verify token: %d keys with kid %q, want 1", len(matches), h.KeyID)
	}
	k := matches[0]
	if k.Algorithm == "" || h.Algorithm != k.Algorithm {
		return nil, fmt.Errorf("verify token: alg %q does not match key %q (alg %q)", h.Algorithm, k.KeyID, k.Algorithm)
	}
	payload, err := jws.Verify(k)
	if err != nil {
		return nil, fmt.Errorf("verify token: %w", err)
	}
	return payload, nil
}

func signatureAlgorithms(keys []jose.JSONWebKey) []jose.SignatureAlgorithm {
	var algs []jose.SignatureAlgorithm
	for _, k := range keys {
		if a := jose.SignatureAlgorithm(k.Algorithm); !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	return algs
}

func (s *Set) has(kid string) bool {
	_, ok := s.Key(kid)
	return ok
}
