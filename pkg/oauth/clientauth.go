package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// ClientCredentials is what a request presented to authenticate its client, as
// parsed at the HTTP edge (RFC 6749 §2.3). The core decides what it means.
type ClientCredentials struct {
	// BasicUsed is true when an Authorization: Basic header was sent; BasicID and
	// BasicSecret are its form-urlencoding-decoded parts (RFC 6749 §2.3.1).
	BasicUsed   bool
	BasicID     string
	BasicSecret string
	// BodyClientID is the client_id form parameter, BodySecret the client_secret one.
	BodyClientID string
	BodySecret   string
	// Assertion and AssertionType are client_assertion(_type) (RFC 7521 §4.2).
	AssertionType string
	Assertion     string
	// Certificate is the TLS client certificate of the request, if any (RFC 8705).
	// Presenting one is not a method of its own: it authenticates only a client
	// registered for tls_client_auth or self_signed_tls_client_auth, which sends no
	// other credentials; any other client may present one to bind its tokens.
	Certificate *ClientCertificate
}

// SecretHash is the stored form of a client secret (docs/design.md decision 7).
func SecretHash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// secretMatches reports, in constant time, whether secret's SecretHash is hash; the
// digest stays on the stack.
func secretMatches(secret string, hash []byte) bool {
	var sum [sha256.Size]byte
	if len(secret) <= secretStack {
		var buf [secretStack]byte
		sum = sha256.Sum256(buf[:copy(buf[:], secret)])
	} else {
		sum = sha256.Sum256([]byte(secret))
	}
	return subtle.ConstantTimeCompare(sum[:], hash) == 1
}

// secretStack is the longest secret hashed from a stack copy: converting a longer
// string than 32 bytes to []byte allocates.
const secretStack = 256

// AuthenticateClient authenticates a client at /par or /token. RFC 9126 §2: "The
// rules for client authentication as defined in [RFC6749] for token endpoint
// requests, including the applicable authentication methods, apply for the PAR
// endpoint as well."
func (s *Service) AuthenticateClient(ctx context.Context, cred ClientCredentials) (*Client, error) {
	basic := cred.BasicUsed
	post := cred.BodySecret != ""
	assertion := cred.Assertion != "" || cred.AssertionType != ""
	methods := 0
	for _, used := range []bool{basic, post, assertion} {
		if used {
			methods++
		}
	}
	// RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in
	// each request."
	if methods > 1 {
		return nil, InvalidRequest("client authentication must use exactly one method")
	}

	var id, method string
	switch {
	case basic:
		id, method = cred.BasicID, AuthClientSecretBasic
		// docs/design.md decision 7: a body client_id that differs from the authenticated
		// client is invalid_request (RFC 6749 §2.3).
		if cred.BodyClientID != "" && cred.BodyClientID != id {
			return nil, InvalidRequest("client_id in the body does not match the authenticated client")
		}
	case post:
		id, method = cred.BodyClientID, AuthClientSecretPost
		if id == "" {
			return nil, InvalidRequest("client_id is required with client_secret")
		}
	case assertion:
		return s.authenticateAssertion(ctx, cred)
	default:
		if cred.BodyClientID == "" {
			return nil, clientAuthFailed("no client authentication and no client_id")
		}
		// No credentials in the request: a public client, or a client that
		// authenticates with its TLS certificate (RFC 8705 §2: "the client_id
		// parameter" names it); the registration says which.
		id = cred.BodyClientID
	}

	// FAPI 2.0 §5.3.2.1: confidential clients only, authenticated with MTLS or
	// private_key_jwt.
	if s.cfg.FAPI2 && method != "" {
		return nil, clientAuthFailed("the FAPI 2.0 profile accepts only private_key_jwt, tls_client_auth and self_signed_tls_client_auth, not %s", method)
	}
	if id == "" {
		return nil, clientAuthFailed("client_id is missing")
	}
	client, err := s.client(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, clientAuthFailed("unknown client")
	}
	if err != nil {
		return nil, AsError(err)
	}
	if client.Disabled {
		return nil, clientAuthFailed("the client is disabled")
	}
	if method == "" {
		switch client.TokenEndpointAuthMethod {
		case AuthTLSClient, AuthSelfSignedTLSClient:
			return s.authenticateTLS(ctx, client, cred.Certificate)
		}
		method = AuthNone
		if s.cfg.FAPI2 {
			return nil, clientAuthFailed("the FAPI 2.0 profile accepts only private_key_jwt, tls_client_auth and self_signed_tls_client_auth, not %s", method)
		}
	}
	if client.TokenEndpointAuthMethod != method {
		return nil, clientAuthFailed("the client is registered for %s, not %s", client.TokenEndpointAuthMethod, method)
	}
	if method == AuthNone {
		return client, nil
	}
	secret := cred.BasicSecret
	if post {
		secret = cred.BodySecret
	}
	if len(client.SecretHash) == 0 || !secretMatches(secret, client.SecretHash) {
		return nil, clientAuthFailed("wrong client secret")
	}
	return client, nil
}

// ClientAuthFailed is the one description of every failed client authentication. An
// answer that differed by reason would tell anyone which client ids exist and how they
// authenticate; the reason goes to the log as the error's cause (docs/design.md
// "Input, oracles and fetches").
const ClientAuthFailed = "client authentication failed"

// clientAuthFailed is invalid_client with the one description and the reason as its
// cause. RFC 6749 §5.2 invalid_client: "Client authentication failed (e.g., unknown
// client, no client authentication included, or unsupported authentication method)."
// The reason must not carry request values.
func clientAuthFailed(reason string, args ...any) *Error {
	return InvalidClient(ClientAuthFailed).WithCause(fmt.Errorf(reason, args...))
}

// ClientAssertionType is the assertion type of RFC 7523 §2.2.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// maxAssertionLifetime bounds how far in the future a client assertion's exp may be,
// which bounds how long its jti must be remembered.
const maxAssertionLifetime = 10 * time.Minute

// authenticateAssertion authenticates private_key_jwt (RFC 7523 §2.2 and §3, OIDC
// Core §9).
func (s *Service) authenticateAssertion(ctx context.Context, cred ClientCredentials) (*Client, error) {
	if cred.AssertionType != ClientAssertionType {
		return nil, clientAuthFailed("client_assertion_type is not %s", ClientAssertionType)
	}
	if cred.Assertion == "" {
		return nil, InvalidRequest("client_assertion is required with client_assertion_type")
	}
	// The client is named by the assertion's sub (RFC 7523 §3 item 2); the signature
	// is checked below with that client's keys.
	tok, err := jwt.ParseSigned(cred.Assertion, SigningAlgorithms)
	if err != nil {
		return nil, clientAuthFailed("client_assertion is not a signed JWT with an accepted algorithm")
	}
	var unverified jwtClaims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil || unverified.Subject == "" {
		return nil, clientAuthFailed("client_assertion has no sub")
	}
	id := unverified.Subject
	if cred.BodyClientID != "" && cred.BodyClientID != id {
		return nil, InvalidRequest("client_id does not match the client assertion's sub")
	}
	client, err := s.client(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, clientAuthFailed("unknown client")
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("load client: %w", err))
	}
	if client.Disabled {
		return nil, clientAuthFailed("the client is disabled")
	}
	if client.TokenEndpointAuthMethod != AuthPrivateKeyJWT {
		return nil, clientAuthFailed("the client is registered for %s, not %s", client.TokenEndpointAuthMethod, AuthPrivateKeyJWT)
	}
	algs := s.signingAlgorithms(client, client.TokenEndpointAuthSigningAlg)
	claims, err := s.verifyClientJWT(ctx, client, cred.Assertion, algs, []string{"", "jwt"}, nil)
	if err != nil {
		return nil, clientAuthFailed("client_assertion: %w", err)
	}
	// RFC 7523 §3 items 1-2: iss and sub are the client_id.
	if claims.Issuer != client.ID || claims.Subject != client.ID {
		return nil, clientAuthFailed("client_assertion iss and sub must both be the client_id")
	}
	if err := s.checkAssertionAudience(claims); err != nil {
		return nil, clientAuthFailed("client_assertion: %w", err)
	}
	now := s.now()
	if err := checkTimes(claims, now, maxAssertionLifetime); err != nil {
		return nil, clientAuthFailed("client_assertion: %w", err)
	}
	// OIDC Core §9: jti is required, and "the JWT MUST only be used once".
	if claims.ID == "" {
		return nil, clientAuthFailed("client_assertion: jti is required")
	}
	if err := s.useOnce(ctx, "assertion", client.ID, claims.ID, lastAccepted(claims.Expiry.Time())); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, clientAuthFailed("client_assertion: this jti was already used")
		}
		return nil, AsError(err)
	}
	return client, nil
}

// checkAssertionAudience applies RFC 9126 §2: the server "MUST accept its issuer
// identifier, token endpoint URL, or pushed authorization request endpoint URL as
// values that identify it as an intended audience". Under FAPI 2.0 (§5.3.2.1 item 8
// of the Final text) it "shall only accept its issuer identifier value ... as a
// string in the aud claim".
func (s *Service) checkAssertionAudience(c *jwtClaims) error {
	auds, single := c.audiences()
	if s.cfg.FAPI2 {
		if !single || auds[0] != s.cfg.Issuer {
			return fmt.Errorf("aud must be the issuer identifier %q as a single string", s.cfg.Issuer)
		}
		return nil
	}
	for _, a := range auds {
		if a == s.cfg.Issuer || (a != "" && (a == s.cfg.TokenEndpoint || a == s.cfg.PAREndpoint)) {
			return nil
		}
	}
	return fmt.Errorf("aud must name this server (issuer, token or PAR endpoint)")
}

// useOnce records a one-time identifier of a client until expires; ErrConflict when
// it was seen before.
func (s *Service) useOnce(ctx context.Context, kind, clientID, id string, expires time.Time) error {
	key := HashKey(kind + "\x00" + clientID + "\x00" + id)
	if err := s.store.UseOnce(ctx, key, expires, s.now()); err != nil {
		return fmt.Errorf("record %s jti: %w", kind, err)
	}
	return nil
}
