// Package oauth is the authorization server's domain: clients, users, pushed
// authorization requests (RFC 9126), authorization codes and the services that push,
// authorize and exchange them. It knows nothing of AWS, Lambda or HTTP handlers: the
// stores it consumes are interfaces declared here, and the token signer is injected.
package oauth

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Client authentication methods (RFC 7591 §2, OIDC Core §9).
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthNone              = "none"
	AuthPrivateKeyJWT     = "private_key_jwt"
)

// RequestURIPrefix is the URN of RFC 9126 §2.2 / §9.3.
const RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// Client is a registered client. JSON names are those of RFC 7591 client metadata so
// the same document serves the seed file, the admin import and storage.
type Client struct {
	ID   string `json:"client_id"`
	Name string `json:"client_name,omitempty"`
	// SecretHash is SHA-256 of the client secret. Secrets are high-entropy (≥ 256 bits),
	// so a fast hash compared in constant time is enough (docs/design.md decision 7).
	SecretHash []byte `json:"client_secret_sha256,omitempty"`
	// ApplicationType is OpenID Connect Registration §2 application_type: "web" (the
	// default, also when empty) or "native" (RFC 8252). It decides which redirect URIs
	// the client may register (CheckRedirectURIs) and how they match (redirectAllowed).
	ApplicationType         string   `json:"application_type,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	// Scope is the space-separated list of scopes the client may request.
	Scope string `json:"scope,omitempty"`
	// RequirePushedAuthorizationRequests is RFC 9126 §6 client metadata.
	RequirePushedAuthorizationRequests bool `json:"require_pushed_authorization_requests,omitempty"`
	// PushedRequestLifetime overrides the server's request_uri lifetime, in seconds.
	PushedRequestLifetime int `json:"pushed_request_lifetime,omitempty"`
	// JWKS and JWKSURI are the client's public keys (RFC 7591 §2), for private_key_jwt
	// and request objects.
	JWKS    json.RawMessage `json:"jwks,omitempty"`
	JWKSURI string          `json:"jwks_uri,omitempty"`
	// TokenEndpointAuthSigningAlg pins the private_key_jwt algorithm (RFC 7591 §2).
	TokenEndpointAuthSigningAlg string `json:"token_endpoint_auth_signing_alg,omitempty"`
	// RequestObjectSigningAlg pins the request object algorithm (RFC 9101 §10.2).
	RequestObjectSigningAlg string `json:"request_object_signing_alg,omitempty"`
	// AuthorizationSignedResponseAlg is the JWS algorithm of the client's JARM
	// responses (JARM §3); empty: the server's signing key's algorithm.
	AuthorizationSignedResponseAlg string `json:"authorization_signed_response_alg,omitempty"`
	// RequireSignedRequestObject makes plain pushes invalid (RFC 9101 §10.5, RFC 9126 §2.3).
	RequireSignedRequestObject bool `json:"require_signed_request_object,omitempty"`
	// PushedRedirectURIPrefixes enables RFC 9126 §2.4: a pushed request from this
	// (authenticated) client may name a redirect URI that is not registered, if it
	// starts with one of these prefixes.
	PushedRedirectURIPrefixes []string `json:"pushed_redirect_uri_prefixes,omitempty"`
	// DPoPBoundAccessTokens requires DPoP at the token endpoint (RFC 9449 §5.2).
	DPoPBoundAccessTokens bool `json:"dpop_bound_access_tokens,omitempty"`
	// TokenIntrospectionAllowed lets a resource server introspect every token
	// (RFC 7662 §4); other clients see only their own.
	TokenIntrospectionAllowed bool `json:"token_introspection_allowed,omitempty"`
	// RequireAuthTime is OpenID Connect Registration §2 require_auth_time: the ID
	// token must carry auth_time. Every ID token does (docs/design.md decision 31),
	// so the value is kept and changes nothing.
	RequireAuthTime bool `json:"require_auth_time,omitempty"`
	// AuthorizationDetailsTypes limits the RAR types the client may request
	// (RFC 9396 §10.2); empty means every type the server accepts.
	AuthorizationDetailsTypes []string `json:"authorization_details_types,omitempty"`
	// The expected subject of a tls_client_auth client's certificate: exactly one
	// of these (RFC 8705 §2.1.2; CheckTLSMetadata).
	TLSClientAuthSubjectDN string `json:"tls_client_auth_subject_dn,omitempty"`
	TLSClientAuthSANDNS    string `json:"tls_client_auth_san_dns,omitempty"`
	TLSClientAuthSANURI    string `json:"tls_client_auth_san_uri,omitempty"`
	TLSClientAuthSANIP     string `json:"tls_client_auth_san_ip,omitempty"`
	TLSClientAuthSANEmail  string `json:"tls_client_auth_san_email,omitempty"`
	// TLSClientCertificateBoundAccessTokens binds the client's access tokens to its
	// TLS client certificate (RFC 8705 §3.4), and a public client's refresh tokens
	// too (§4).
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// Resources are the resource indicators (RFC 8707 §2) the client may name in
	// `resource`: absolute URIs without fragment. The server's own audience
	// (Config.AccessTokenAudience) is always allowed; any other value is
	// invalid_target (docs/design.md decision 21).
	Resources []string `json:"resources,omitempty"`
	// RateLimit is the client's own limit of back-channel requests, "REQUESTS/SECONDS"
	// or "off" (ParseRateLimit); empty means the server's (CLIENT_RATE_LIMIT;
	// docs/design.md decision 23).
	RateLimit string `json:"rate_limit,omitempty"`
	// AllowedOrigins are the browser origins (scheme://host[:port], Fetch §3.2) that,
	// besides the origins of RedirectURIs, may call the endpoints a browser-based app
	// calls with CORS (CheckAllowedOrigins, OriginAllowed; docs/design.md decision 30).
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	// Consent is ConsentAlways ("always") to show the consent page at every
	// authorization; empty, the default, remembers a user's approval (Consent,
	// docs/design.md decision 32).
	Consent string `json:"consent,omitempty"`
	// PostLogoutRedirectURIs are where RP-Initiated Logout 1.0 may send the browser
	// after a logout (§2, §3: a request's post_logout_redirect_uri must be one of
	// them exactly; CheckPostLogoutRedirectURIs, docs/design.md
	// decision 33). None: a logout ends on the server's signed-out page.
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	// IdentityProviders are the ids of the upstream identity providers the client's
	// login page offers (issue 13); absent (nil) means every enabled provider, an
	// empty list none. Each must name a provider of the seed (pkg/seed).
	IdentityProviders []string `json:"identity_providers,omitempty"`
	// BackchannelLogoutURI is where a logout of a session the client signed in to
	// POSTs a logout token (OpenID Connect Back-Channel Logout 1.0 §2.2, §2.5;
	// CheckBackchannelLogoutURI, docs/design.md decision 34). Empty: the client is
	// not told.
	BackchannelLogoutURI string `json:"backchannel_logout_uri,omitempty"`
	// BackchannelLogoutSessionRequired is §2.2's backchannel_logout_session_required:
	// the client needs the sid claim in logout tokens. pargate always sends it.
	BackchannelLogoutSessionRequired bool `json:"backchannel_logout_session_required,omitempty"`
	Disabled                         bool `json:"disabled,omitempty"`
}

// Application types (OpenID Connect Registration §2).
const (
	ApplicationTypeWeb    = "web"
	ApplicationTypeNative = "native"
)

// Native reports whether the client is a native app (application_type native,
// RFC 8252); an empty application_type is web, OpenID Connect Registration §2's default.
func (c *Client) Native() bool { return c.ApplicationType == ApplicationTypeNative }

// Public reports whether the client has no credentials (RFC 6749 §2.1).
func (c *Client) Public() bool { return c.TokenEndpointAuthMethod == AuthNone }

// AllowsGrant reports whether grant is among the client's grant_types
// (RFC 7591 §2: authorization_code when omitted).
func (c *Client) AllowsGrant(grant string) bool {
	if len(c.GrantTypes) == 0 {
		return grant == "authorization_code"
	}
	return slices.Contains(c.GrantTypes, grant)
}

// User is an end user of the built-in login page.
type User struct {
	Username string `json:"username"`
	// PasswordHash is an argon2id PHC string (see HashPassword).
	PasswordHash string         `json:"password_hash"`
	Claims       map[string]any `json:"claims,omitempty"`
	Disabled     bool           `json:"disabled,omitempty"`
	// Sub is the user's immutable subject identifier, random at creation (NewSubject)
	// unless a seed pins it: OIDC Core §2, "never reassigned", so a deleted and
	// re-created username does not inherit the old identity.
	Sub string `json:"sub,omitempty"`
	// TokensValidAfter cuts the user's grants off: a grant created at or before it
	// yields no more tokens, userinfo or active introspection. Disabling the user and
	// changing the password move it to now.
	TokensValidAfter time.Time `json:"tokens_valid_after,omitzero"`
}

// Subject is the stable `sub` for the user: Sub. A user stored before Sub existed
// keeps the subject it had then — the `sub` claim if set, else the username — so
// its relying parties' account links survive the upgrade; every user created since
// has a random Sub (docs/design.md, "Users, grants and keys").
func (u *User) Subject() string {
	if u.Sub != "" {
		return u.Sub
	}
	if s, ok := u.Claims["sub"].(string); ok && s != "" {
		return s
	}
	return u.Username
}

// AuthorizationRequest is a validated authorization request (RFC 6749 §4.1.1,
// RFC 7636 §4.3, OIDC Core §3.1.2.1), whether it was pushed or sent to /authorize.
type AuthorizationRequest struct {
	ClientID     string `json:"client_id"`
	ResponseType string `json:"response_type"`
	// ResponseMode is how the response is delivered: "" (query), form_post,
	// query.jwt or form_post.jwt (jwt is stored as query.jwt; jarm.go).
	ResponseMode string `json:"response_mode,omitempty"`
	// RedirectURI is the effective redirect URI; RedirectURIGiven records whether the
	// request named it, because RFC 6749 §4.1.3 then requires it at the token endpoint.
	RedirectURI         string   `json:"redirect_uri"`
	RedirectURIGiven    bool     `json:"redirect_uri_given,omitempty"`
	Scopes              []string `json:"scope,omitempty"`
	State               string   `json:"state,omitempty"`
	Nonce               string   `json:"nonce,omitempty"`
	CodeChallenge       string   `json:"code_challenge"`
	CodeChallengeMethod string   `json:"code_challenge_method"`
	Prompt              string   `json:"prompt,omitempty"`
	MaxAge              *int     `json:"max_age,omitempty"`
	LoginHint           string   `json:"login_hint,omitempty"`
	UILocales           string   `json:"ui_locales,omitempty"`
	ACRValues           string   `json:"acr_values,omitempty"`
	// DPoPJKT binds the code to a DPoP key (RFC 9449 §10): from the dpop_jkt
	// parameter or the DPoP proof sent with the push.
	DPoPJKT string `json:"dpop_jkt,omitempty"`
	// AuthorizationDetails is the validated RAR array (RFC 9396 §2), as JSON.
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
	// Resources are the validated resource indicators (RFC 8707 §2) of the request.
	Resources []string `json:"resource,omitempty"`
	// IDPHint is the idp_hint parameter (issue 13): the identity provider to sign in
	// with, skipping the login page; ignored unless the client may use it.
	IDPHint string `json:"idp_hint,omitempty"`
}

// OpenID reports whether this is an OpenID Connect request (OIDC Core §3.1.2.1).
func (r *AuthorizationRequest) OpenID() bool { return slices.Contains(r.Scopes, "openid") }

// PushedRequest is the stored form of a pushed authorization request (RFC 9126 §2.2).
// Key is the SHA-256 of the reference in the request_uri, never the reference itself
// (docs/design.md decision 1).
type PushedRequest struct {
	Key      string `json:"key"`
	ClientID string `json:"client_id"`
	// Pushed is false for a request that arrived at /authorize directly and was stored
	// to carry it through login and consent.
	Pushed    bool                 `json:"pushed"`
	Request   AuthorizationRequest `json:"request"`
	CreatedAt time.Time            `json:"created_at"`
	// RedeemBy bounds when the request_uri may first be used at /authorize (expires_in);
	// Deadline bounds the whole authorization transaction (login and consent).
	// docs/design.md decision 2: a short expires_in must not cap the login (Keycloak #51761).
	RedeemBy   time.Time  `json:"redeem_by"`
	Deadline   time.Time  `json:"deadline"`
	ConsumedAt *time.Time `json:"consumed_at,omitempty"`
}

// AuthorizationCode is the stored form of an authorization code (RFC 6749 §4.1.2).
// Key is the SHA-256 of the code value.
type AuthorizationCode struct {
	Key                 string    `json:"key"`
	ClientID            string    `json:"client_id"`
	RedirectURI         string    `json:"redirect_uri"`
	RedirectURIGiven    bool      `json:"redirect_uri_given,omitempty"`
	Scopes              []string  `json:"scope,omitempty"`
	Nonce               string    `json:"nonce,omitempty"`
	CodeChallenge       string    `json:"code_challenge"`
	CodeChallengeMethod string    `json:"code_challenge_method"`
	Subject             string    `json:"sub"`
	AuthTime            time.Time `json:"auth_time"`
	// AMR and SID are the authentication's methods (OIDC Core §2 amr) and the
	// single sign-on session it belongs to (the ID token's sid, OIDC Back-Channel
	// Logout §2.1; SessionSID), empty when none.
	AMR []string `json:"amr,omitempty"`
	SID string   `json:"sid,omitempty"`
	// ACR is the authentication context class of the login (OIDC Core §2 acr: the
	// upstream's, passed through, for a brokered login) and IDP the identity
	// provider's id of a brokered login (the ID token's idp claim); empty for none.
	ACR string `json:"acr,omitempty"`
	IDP string `json:"idp,omitempty"`
	// Claims are the user's claims released by the granted scopes, snapshotted at
	// consent so the token endpoint needs no user lookup.
	Claims map[string]any `json:"claims,omitempty"`
	// DPoPJKT is the thumbprint of the key the code is bound to (RFC 9449 §10).
	DPoPJKT string `json:"dpop_jkt,omitempty"`
	// AuthorizationDetails are the RAR details the user approved (RFC 9396).
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
	// Resources are the resource indicators of the authorization request (RFC 8707).
	Resources []string `json:"resource,omitempty"`
	// GrantID names the grant created with the code.
	GrantID    string     `json:"grant_id"`
	IssuedAt   time.Time  `json:"issued_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	ConsumedAt *time.Time `json:"consumed_at,omitempty"`
}

// Grant is what a user authorized a client to do. Every token issued from one
// authorization code refers to it, so revoking it (refresh token reuse, code replay,
// RFC 7009 revocation) revokes the whole family.
type Grant struct {
	ID       string `json:"grant_id"`
	ClientID string `json:"client_id"`
	Subject  string `json:"sub"`
	// Username names the user the grant is for, so refresh, userinfo and
	// introspection can check that the user still exists, is enabled, still has
	// Subject and has not cut the grant off (User.TokensValidAfter).
	Username string    `json:"username,omitempty"`
	Scopes   []string  `json:"scope,omitempty"`
	AuthTime time.Time `json:"auth_time"`
	// AMR and SID as on the code: ID tokens of a refresh carry them too.
	AMR []string `json:"amr,omitempty"`
	SID string   `json:"sid,omitempty"`
	// ACR and IDP as on the code.
	ACR                  string          `json:"acr,omitempty"`
	IDP                  string          `json:"idp,omitempty"`
	Claims               map[string]any  `json:"claims,omitempty"`
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
	// Resources are the resource indicators the user authorized (RFC 8707 §2): every
	// access token of the grant is for some of them, never for another (§2.2). None
	// means the server's own audience.
	Resources []string  `json:"resource,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is when the grant, and any token of it, ends at the latest.
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// RefreshToken is the stored form of a refresh token; Key is the SHA-256 of its value.
type RefreshToken struct {
	Key      string `json:"key"`
	GrantID  string `json:"grant_id"`
	ClientID string `json:"client_id"`
	// Scopes may narrow the grant's scopes (RFC 6749 §6).
	Scopes []string `json:"scope,omitempty"`
	// DPoPJKT binds a public client's refresh token to its DPoP key (RFC 9449 §5).
	DPoPJKT string `json:"dpop_jkt,omitempty"`
	// X5TS256 binds a public client's refresh token to its TLS client certificate
	// (RFC 8705 §4): the certificate's thumbprint.
	X5TS256   string     `json:"x5t_s256,omitempty"`
	IssuedAt  time.Time  `json:"issued_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at,omitempty"`
}

// HasPrompt reports whether the request's prompt lists v (OIDC Core §3.1.2.1: "a space
// delimited, case sensitive list of ASCII string values"; validateRequest refuses
// unknown values and "none" with another).
func (r *AuthorizationRequest) HasPrompt(v string) bool {
	for p := range strings.FieldsSeq(r.Prompt) {
		if p == v {
			return true
		}
	}
	return false
}
