package oauth

import (
	"context"
	"errors"
	"net/url"
	"time"
)

// IdentityProvider is an upstream OpenID Provider users may sign in with instead of
// (or besides) a local password: the broker's relying-party registration at it
// (issue 13). JSON names are those of the seed file's identity_providers entries.
type IdentityProvider struct {
	// ID names the provider in the seed, the admin CLI, client metadata
	// (identity_providers), idp_hint and the login page's idp button.
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	// Issuer is the upstream's issuer identifier; its discovery document is
	// Issuer + "/.well-known/openid-configuration" (OIDC Discovery §4). https only,
	// except a loopback host.
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	// ClientSecret authenticates the broker at the upstream's token endpoint
	// (client_secret_basic or client_secret_post). Kept in memory only: on AWS it
	// lives in Secrets Manager, never in the table.
	ClientSecret string `json:"client_secret,omitempty"`
	// TokenEndpointAuthMethod is client_secret_basic (the default),
	// client_secret_post or private_key_jwt.
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	// PrivateKey is a private JWK (JSON, with kid and alg) for private_key_jwt;
	// a secret like ClientSecret.
	PrivateKey string `json:"private_key,omitempty"`
	// Scope is requested upstream; default "openid email profile".
	Scope string `json:"scope,omitempty"`
	// Claims maps upstream claim names to local ones.
	Claims map[string]string `json:"claims,omitempty"`
	// TrustEmail links a first login to an existing local user by email, only when
	// the upstream says email_verified is true.
	TrustEmail bool `json:"trust_email,omitempty"`
	Enabled    bool `json:"enabled"`
	// SecretID names, on AWS, the Secrets Manager secret holding ClientSecret or
	// PrivateKey (the table item records it; docs/design.md decision 36). Never in
	// the seed (json "-": a seed entry naming it is an unknown field); empty locally.
	// Added by fedops, additively.
	SecretID string `json:"-"`
}

// UpstreamStart is the upstream leg of one browser transaction, as Upstream.Begin
// returns it. State, Nonce and CodeVerifier are kept by the broker (in the sealed
// browser-transaction cookie) until the callback; AuthorizationURL is where the
// browser is sent.
type UpstreamStart struct {
	ProviderID   string `json:"p"`
	State        string `json:"s"`
	Nonce        string `json:"n"`
	CodeVerifier string `json:"v"`
	// MaxAge is the max_age the upstream was asked for (UpstreamAsk), nil for none:
	// Finish then requires an auth_time within it (OIDC Core §3.1.2.1).
	MaxAge           *int   `json:"m,omitempty"`
	AuthorizationURL string `json:"-"`
}

// UpstreamAsk is what the client's request demands of the authentication itself,
// passed upstream so that a brokered login is as fresh as a local one (OIDC Core
// §3.1.2.1): a local login page is always a new authentication, an upstream with a
// session of its own would otherwise sign the user in silently.
type UpstreamAsk struct {
	// Login: the request had prompt=login — asked upstream as prompt=login with
	// max_age=0, so the upstream's auth_time shows it re-authenticated the user.
	Login bool
	// MaxAge is the request's max_age, nil without one.
	MaxAge *int
}

// UpstreamIdentity is the user an upstream vouched for, from a validated ID token
// (and userinfo, when read).
type UpstreamIdentity struct {
	ProviderID string
	Issuer     string
	Subject    string
	// Claims are the upstream's claims, unmapped (the caller applies
	// IdentityProvider.Claims).
	Claims map[string]any
	ACR    string
	AMR    []string
	// AuthTime is the upstream's auth_time, zero when its ID token has none.
	AuthTime time.Time
}

// Upstream is the relying-party side of brokering, implemented outside the domain
// (it fetches over HTTP): discovery, the authorization request (pushed with PAR when
// the upstream advertises it), and the callback's validation.
type Upstream interface {
	// Begin starts an authorization-code request with PKCE S256 at the provider;
	// callback is the broker's redirect_uri, ask what the client's request demands
	// of the authentication.
	Begin(ctx context.Context, p *IdentityProvider, callback string, ask UpstreamAsk) (*UpstreamStart, error)
	// Finish validates the callback's query against start (state, RFC 9207 iss),
	// exchanges the code and validates the ID token (OIDC Core §3.1.3.7).
	Finish(ctx context.Context, p *IdentityProvider, start *UpstreamStart, callback string, query url.Values) (*UpstreamIdentity, error)
}

// Errors of Upstream, told apart with errors.Is / errors.As.
var (
	// ErrUpstreamUnavailable: the upstream could not be reached or answered 5xx or
	// garbage in time — a 503 page with Retry-After, never the client's error.
	ErrUpstreamUnavailable = errors.New("identity provider unavailable")
	// ErrUpstreamInvalid: the callback or the upstream's answer failed validation
	// (state, iss, ID token) — an attack or a misconfiguration, never trusted.
	ErrUpstreamInvalid = errors.New("identity provider answer invalid")
)

// UpstreamError is an error the upstream returned in its authorization response
// (access_denied, login_required, ...), to be passed on to the client.
type UpstreamError struct {
	Code string
}

func (e *UpstreamError) Error() string { return "identity provider error: " + e.Code }

// IdentityProviders reads the upstream providers: the seed's identity_providers
// locally; on AWS the table's, with their secrets from Secrets Manager.
type IdentityProviders interface {
	// GetIdentityProvider returns the provider, enabled or not, or ErrNotFound.
	GetIdentityProvider(ctx context.Context, id string) (*IdentityProvider, error)
	// ListIdentityProviders returns every provider, enabled or not, ordered by ID.
	ListIdentityProviders(ctx context.Context) ([]*IdentityProvider, error)
}

// ProviderRegistry writes upstream providers (the seed import).
type ProviderRegistry interface {
	// PutIdentityProvider creates or replaces the provider.
	PutIdentityProvider(ctx context.Context, p *IdentityProvider) error
}
