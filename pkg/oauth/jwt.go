package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ClientKeys resolves the public keys a client signs with: its registered `jwks`,
// or the document at its `jwks_uri` (RFC 7591 §2).
type ClientKeys interface {
	ClientKeys(ctx context.Context, c *Client) (*jose.JSONWebKeySet, error)
}

// RegisteredKeys resolves only clients' inline `jwks`; a client with a `jwks_uri`
// needs a fetching resolver (package clientkeys).
type RegisteredKeys struct{}

func (RegisteredKeys) ClientKeys(_ context.Context, c *Client) (*jose.JSONWebKeySet, error) {
	if len(c.JWKS) == 0 {
		return nil, fmt.Errorf("client %s has no registered jwks", c.ID)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(c.JWKS, &set); err != nil {
		return nil, fmt.Errorf("client %s jwks: %w", c.ID, err)
	}
	return &set, nil
}

// SigningAlgorithms are the JWS algorithms accepted from clients, for client
// assertions and request objects. `none` and symmetric algorithms are never accepted
// (RFC 9101 §5: a request object "MUST" be signed; FAPI 2.0 §5.4).
var SigningAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}

// FAPISigningAlgorithms are those FAPI 2.0 §5.4.1 allows: PS256, ES256, EdDSA.
var FAPISigningAlgorithms = []jose.SignatureAlgorithm{jose.PS256, jose.ES256, jose.EdDSA}

// ClientSigningAlgorithms lists the algorithms accepted from clients under the
// configured profile, for discovery.
func (s *Service) ClientSigningAlgorithms() []jose.SignatureAlgorithm {
	return s.signingAlgorithms(nil, "")
}

func (s *Service) signingAlgorithms(_ *Client, pinned string) []jose.SignatureAlgorithm {
	algs := SigningAlgorithms
	if s.cfg.FAPI2 {
		algs = FAPISigningAlgorithms
	}
	if pinned != "" {
		// A client that registered an algorithm gets only that one (RFC 7591 §2
		// token_endpoint_auth_signing_alg, RFC 9101 §10.2 request_object_signing_alg).
		if slices.Contains(algs, jose.SignatureAlgorithm(pinned)) {
			return []jose.SignatureAlgorithm{jose.SignatureAlgorithm(pinned)}
		}
		return nil
	}
	return algs
}

// jwtClaims are the registered claims read from client JWTs, with the audience kept
// raw so that "string, not array" can be enforced where a profile demands it.
type jwtClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  json.RawMessage  `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	ID        string           `json:"jti"`
}

// audiences returns the aud values and whether aud was a single string.
func (c *jwtClaims) audiences() ([]string, bool) {
	var one string
	if json.Unmarshal(c.Audience, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(c.Audience, &many) == nil {
		return many, false
	}
	return nil, false
}

// verifyClientJWT checks a JWT's signature against the client's keys and returns its
// registered claims and, if all is non-nil, every claim decoded into it. typs lists the
// accepted `typ` headers ("" for absent), compared case-insensitively and without an
// "application/" prefix (RFC 8725 §3.11).
func (s *Service) verifyClientJWT(ctx context.Context, c *Client, raw string, algs []jose.SignatureAlgorithm, typs []string, all any) (*jwtClaims, error) {
	if len(algs) == 0 {
		return nil, errors.New("the client's registered signing algorithm is not allowed")
	}
	tok, err := jwt.ParseSigned(raw, algs)
	if err != nil {
		return nil, fmt.Errorf("not a JWS signed with %v: %w", algs, err)
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("the JWS must have exactly one signature")
	}
	h := tok.Headers[0]
	// RFC 7515 §4.1.9: typ, when present, is a string.
	rawTyp, present := h.ExtraHeaders[jose.HeaderType]
	typ, isString := rawTyp.(string)
	if present && !isString {
		return nil, errors.New("typ must be a string")
	}
	typ = strings.TrimPrefix(strings.ToLower(typ), "application/")
	if !slices.Contains(typs, typ) {
		return nil, fmt.Errorf("typ %q is not accepted here", typ)
	}
	set, err := s.clientKeys.ClientKeys(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("client keys: %w", err)
	}
	var candidates []jose.JSONWebKey
	if h.KeyID != "" {
		candidates = set.Key(h.KeyID)
	} else {
		candidates = set.Keys
	}
	var claims jwtClaims
	var weak error
	for _, k := range candidates {
		if k.IsPublic() && (k.Algorithm == "" || k.Algorithm == h.Algorithm) && (k.Use == "" || k.Use == "sig") {
			// RFC 7518 §3.3, FAPI 2.0 §5.4.1: a key too small is never used, even if
			// registered before the check existed or served at a jwks_uri.
			if err := CheckKeyStrength(k); err != nil {
				weak = err
				continue
			}
			dest := []any{&claims}
			if all != nil {
				dest = append(dest, all)
			}
			if tok.Claims(k.Key, dest...) == nil {
				return &claims, nil
			}
		}
	}
	if weak != nil {
		return nil, fmt.Errorf("the client's key is too small to be used: %w", weak)
	}
	return nil, errors.New("the signature does not verify with any of the client's keys")
}

// checkTimes enforces exp (required), nbf and iat with the clock-skew rule of FAPI
// 2.0 §5.3.2.1: accept values up to 10 s in the future; maxLifetime bounds how far in
// the future exp may lie.
func checkTimes(c *jwtClaims, now time.Time, maxLifetime time.Duration) error {
	const skew = jwtClockSkew
	switch {
	case c.Expiry == nil:
		return errors.New("exp is required")
	case !now.Before(c.Expiry.Time().Add(skew)):
		return errors.New("the JWT has expired")
	case c.Expiry.Time().After(now.Add(maxLifetime + skew)):
		return fmt.Errorf("exp lies more than %s in the future", maxLifetime)
	case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(skew)):
		return errors.New("nbf lies in the future")
	case c.IssuedAt != nil && c.IssuedAt.Time().After(now.Add(skew)):
		return errors.New("iat lies in the future")
	}
	return nil
}

// jwtClockSkew is how far past exp (and before nbf and iat) a client JWT is still
// accepted (FAPI 2.0 §5.3.2.1: 10 s).
const jwtClockSkew = 10 * time.Second

// lastAccepted is the last moment checkTimes accepts a JWT with this exp. RFC 7523 §3
// item 7: used jti values are kept "for the length of time for which the JWT would be
// considered valid based on the applicable "exp" instant" — with the skew, which
// extends that time, or the same JWT is accepted again just after exp.
func lastAccepted(exp time.Time) time.Time { return exp.Add(jwtClockSkew) }
