package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
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
}

// SecretHash is the stored form of a client secret (DESIGN.md decision 7).
func SecretHash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

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
		// DESIGN.md decision 7: a body client_id that differs from the authenticated
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
		return nil, InvalidClient("client assertion authentication is not enabled for this server")
	default:
		if cred.BodyClientID == "" {
			return nil, InvalidClient("client authentication is required")
		}
		id, method = cred.BodyClientID, AuthNone
	}

	fail := func(format string, args ...any) error {
		e := InvalidClient(format, args...)
		e.BasicAuth = basic
		return e
	}
	if id == "" {
		return nil, fail("client_id is missing")
	}
	client, err := s.store.GetClient(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, fail("client authentication failed")
	}
	if err != nil {
		return nil, AsError(err)
	}
	if client.Disabled {
		return nil, fail("client authentication failed")
	}
	if client.TokenEndpointAuthMethod != method {
		if method == AuthNone {
			return nil, fail("client authentication is required (registered method: %s)", client.TokenEndpointAuthMethod)
		}
		return nil, fail("client is registered for %s, not %s", client.TokenEndpointAuthMethod, method)
	}
	if method == AuthNone {
		return client, nil
	}
	secret := cred.BasicSecret
	if post {
		secret = cred.BodySecret
	}
	if len(client.SecretHash) == 0 || subtle.ConstantTimeCompare(SecretHash(secret), client.SecretHash) != 1 {
		return nil, fail("client authentication failed")
	}
	return client, nil
}
