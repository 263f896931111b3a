// Package oauthtest holds what tests of oauth.Store implementations and of their users
// share: fixtures for the domain records and RunStoreContract, the one suite that every
// store (the in-memory one and DynamoDB) must pass, so that a fake cannot drift from
// production behaviour.
package oauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// ClientID is the client the fixtures are bound to (the client of RFC 6749's examples).
const ClientID = "s6BhdRkqt3"

// Key returns a fresh store key shaped like the core's: the base64url SHA-256 of a
// random 256-bit reference.
func Key(tb testing.TB) string {
	tb.Helper()
	sum := sha256.Sum256([]byte(rand.Text() + rand.Text()))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// PushedRequest returns an unconsumed pushed request under a fresh key, bound to
// ClientID, created at now, redeemable for 60 s and with a 10 min transaction deadline
// (docs/design.md decision 2). Every field but ConsumedAt is set, so round trips through a
// store exercise the whole record.
func PushedRequest(tb testing.TB, now time.Time) *oauth.PushedRequest {
	tb.Helper()
	maxAge := 3600
	return &oauth.PushedRequest{
		Key:      Key(tb),
		ClientID: ClientID,
		Pushed:   true,
		Request: oauth.AuthorizationRequest{
			ClientID:             ClientID,
			ResponseType:         "code",
			ResponseMode:         "form_post.jwt",
			RedirectURI:          "https://client.example.org/cb",
			RedirectURIGiven:     true,
			Scopes:               []string{"openid", "profile", "email"},
			State:                "af0ifjsldkj",
			Nonce:                "n-0S6_WzA2Mj",
			CodeChallenge:        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
			CodeChallengeMethod:  "S256",
			Prompt:               "login",
			MaxAge:               &maxAge,
			LoginHint:            "janedoe@example.com",
			UILocales:            "de-DE en",
			ACRValues:            "urn:mace:incommon:iap:silver",
			DPoPJKT:              "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
			AuthorizationDetails: AuthorizationDetails(),
			Resources:            []string{"https://rs.example.com/", "https://api.example.com/payments"},
			IDPHint:              "corp",
		},
		CreatedAt: now,
		RedeemBy:  now.Add(60 * time.Second),
		Deadline:  now.Add(10 * time.Minute),
	}
}

// Code returns an unused authorization code under a fresh key, bound to ClientID,
// issued at now and valid for 60 s, naming a fresh grant ID (see Grant). Every field
// but ConsumedAt is set.
func Code(tb testing.TB, now time.Time) *oauth.AuthorizationCode {
	tb.Helper()
	return &oauth.AuthorizationCode{
		Key:                 Key(tb),
		ClientID:            ClientID,
		RedirectURI:         "https://client.example.org/cb",
		RedirectURIGiven:    true,
		Scopes:              []string{"openid", "profile"},
		Nonce:               "n-0S6_WzA2Mj",
		DPoPJKT:             "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
		CodeChallenge:       "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		CodeChallengeMethod: "S256",
		Subject:             "248289761001",
		AuthTime:            now.Add(-30 * time.Second),
		AMR:                 []string{"pwd", "otp"},
		SID:                 "vG8cQ5xS2rJmWnT1pLz0aE4uYbK7dHf3iO9gR6sN-_c",
		ACR:                 "urn:mace:incommon:iap:silver",
		IDP:                 "corp",
		Claims: map[string]any{
			"name":    "Jane Doe",
			"address": map[string]any{"locality": "Berlin", "country": "DE"},
		},
		AuthorizationDetails: AuthorizationDetails(),
		Resources:            []string{"https://rs.example.com/", "https://api.example.com/payments"},
		GrantID:              Key(tb),
		IssuedAt:             now,
		ExpiresAt:            now.Add(60 * time.Second),
	}
}

// Grant returns an unrevoked grant under a fresh ID for what Code describes (client,
// subject, scopes, claims, authorization details), created at now and ending 30 days
// later. IssueCode needs grant.ID == code.GrantID: set one to the other. Every field
// but RevokedAt is set.
func Grant(tb testing.TB, now time.Time) *oauth.Grant {
	tb.Helper()
	return &oauth.Grant{
		ID:       Key(tb),
		ClientID: ClientID,
		Subject:  "248289761001",
		Username: "janedoe",
		Scopes:   []string{"openid", "profile"},
		AuthTime: now.Add(-30 * time.Second),
		AMR:      []string{"pwd", "otp"},
		SID:      "vG8cQ5xS2rJmWnT1pLz0aE4uYbK7dHf3iO9gR6sN-_c",
		ACR:      "urn:mace:incommon:iap:silver",
		IDP:      "corp",
		Claims: map[string]any{
			"name":    "Jane Doe",
			"address": map[string]any{"locality": "Berlin", "country": "DE"},
		},
		AuthorizationDetails: AuthorizationDetails(),
		Resources:            []string{"https://rs.example.com/", "https://api.example.com/payments"},
		CreatedAt:            now,
		ExpiresAt:            now.Add(30 * 24 * time.Hour),
	}
}

// RefreshToken returns an unused refresh token under a fresh key, of the grant
// grantID and bound to ClientID, issued at now and valid for 24 hours. Every field
// but UsedAt is set.
func RefreshToken(tb testing.TB, now time.Time, grantID string) *oauth.RefreshToken {
	tb.Helper()
	return &oauth.RefreshToken{
		Key:       Key(tb),
		GrantID:   grantID,
		ClientID:  ClientID,
		Scopes:    []string{"openid", "profile"},
		DPoPJKT:   "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
		X5TS256:   "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0",
		IssuedAt:  now,
		ExpiresAt: now.Add(24 * time.Hour),
	}
}

// AuthorizationDetails returns a fresh copy of an RFC 9396 authorization_details
// array: the payment_initiation example of RFC 9396 §2.1, as a client pushes it.
// Whitespace and key order are part of the raw JSON: stores keep it byte for byte.
func AuthorizationDetails() json.RawMessage {
	return json.RawMessage(`[{"type": "payment_initiation", "locations": ["https://example.com/payments"],` +
		` "instructedAmount": {"currency": "EUR", "amount": "123.50"}, "creditorName": "Merchant A",` +
		` "creditorAccount": {"bic": "ABCIDEFFXXX", "iban": "DE02100100109307118603"},` +
		` "remittanceInformationUnstructured": "Ref Number Merchant"}]`)
}

// Client returns an enabled confidential client with ID ClientID that authenticates
// with client_secret_basic; its SecretHash is the SHA-256 of ClientSecret.
func Client(tb testing.TB) *oauth.Client {
	tb.Helper()
	sum := sha256.Sum256([]byte(ClientSecret))
	return &oauth.Client{
		ID:                                 ClientID,
		Name:                               "Example Client",
		SecretHash:                         sum[:],
		ApplicationType:                    oauth.ApplicationTypeWeb, // stored and read back as given
		RedirectURIs:                       []string{"https://client.example.org/cb", "https://client.example.org/cb2"},
		TokenEndpointAuthMethod:            oauth.AuthClientSecretBasic,
		GrantTypes:                         []string{"authorization_code", "refresh_token"},
		ResponseTypes:                      []string{"code"},
		Scope:                              "openid profile email",
		RequirePushedAuthorizationRequests: true,
		PushedRequestLifetime:              90,
		// Kept byte for byte: whitespace and key order are part of the raw JSON.
		JWKS: json.RawMessage(`{"keys": [{"kty":"EC","crv":"P-256","kid":"k1",` +
			`"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`),
	}
}

// ClientSecret is the secret whose SHA-256 is the SecretHash of Client.
const ClientSecret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-00"

// User returns the enabled user "janedoe". The password
// hash is a syntactically valid argon2id PHC string that matches no known password;
// its claims are JSON values with nested objects and arrays.
func User(tb testing.TB) *oauth.User {
	tb.Helper()
	return &oauth.User{
		Username:     "janedoe",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$u0sYV5D4aNq5hz0NVV5cCq1V2EOd2cJDPa0rjS8b3Dk",
		Claims: map[string]any{
			"sub":            "248289761001",
			"name":           "Jane Doe",
			"email":          "janedoe@example.com",
			"email_verified": true,
			"updated_at":     float64(1700000000),
			"groups":         []any{"admins", "users"},
			"address": map[string]any{
				"street_address": "Unter den Linden 1",
				"locality":       "Berlin",
				"country":        "DE",
				"geo":            map[string]any{"lat": 52.5170365, "lon": 13.3888599},
			},
		},
	}
}

// fullClient is Client with every field set, for round trips through a store; the
// combination is not a sensible client (it has both jwks and jwks_uri).
func fullClient(tb testing.TB) *oauth.Client {
	tb.Helper()
	c := Client(tb)
	c.JWKSURI = "https://client.example.org/jwks.json"
	c.RateLimit = "120/60"
	c.TokenEndpointAuthSigningAlg = "PS256"
	c.RequestObjectSigningAlg = "ES256"
	c.AuthorizationSignedResponseAlg = "EdDSA"
	c.RequireSignedRequestObject = true
	c.PushedRedirectURIPrefixes = []string{"https://client.example.org/cb/", "https://app.example.org/"}
	c.DPoPBoundAccessTokens = true
	c.TokenIntrospectionAllowed = true
	c.RequireAuthTime = true
	c.AuthorizationDetailsTypes = []string{"payment_initiation", "account_information"}
	c.TLSClientAuthSubjectDN = "CN=client.example.org,O=Example\\, Inc.,C=DE"
	c.TLSClientAuthSANDNS = "client.example.org"
	c.TLSClientAuthSANURI = "https://client.example.org/id"
	c.TLSClientAuthSANIP = "2001:db8::1"
	c.TLSClientAuthSANEmail = "ops@client.example.org"
	c.TLSClientCertificateBoundAccessTokens = true
	c.Resources = []string{"https://rs.example.com/", "https://api.example.com/payments"}
	c.AllowedOrigins = []string{"https://spa.example.org", "http://localhost:5173"}
	c.Consent = oauth.ConsentAlways
	c.PostLogoutRedirectURIs = []string{"https://client.example.org/signed-out", "https://client.example.org/bye"}
	c.IdentityProviders = []string{"corp", "partner"}
	c.BackchannelLogoutURI = "https://client.example.org/backchannel-logout"
	c.BackchannelLogoutSessionRequired = true
	c.Disabled = true
	return c
}

// fullUser is User with every field set, for round trips through a store.
func fullUser(tb testing.TB) *oauth.User {
	tb.Helper()
	u := User(tb)
	u.Disabled = true
	u.Sub = "248289761001"
	u.TokensValidAfter = time.UnixMilli(1700000000123).UTC()
	return u
}
