// Package seed reads the seed file — one JSON format for the local server, the tests
// and the admin import (docs/design.md "Seed file") — and writes it into a registry.
package seed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/oauth"
)

// File is the seed document.
type File struct {
	Clients []Client `json:"clients"`
	Users   []User   `json:"users"`
	// IdentityProviders are the upstream OpenID Providers users may sign in with
	// (issue 13).
	IdentityProviders []oauth.IdentityProvider `json:"identity_providers,omitempty"`
}

// Client is RFC 7591 client metadata plus the plain client_secret, which is hashed
// when loaded and never stored.
type Client struct {
	oauth.Client
	Secret string `json:"client_secret,omitempty"`
}

// User is a user with a plain password, hashed with argon2id when loaded.
type User struct {
	Username string         `json:"username"`
	Password string         `json:"password"`
	Claims   map[string]any `json:"claims,omitempty"`
	Disabled bool           `json:"disabled,omitempty"`
	// Sub pins the user's subject identifier; without it a new user gets a random
	// one and a re-imported user keeps its own (see subjectFor).
	Sub string `json:"sub,omitempty"`
}

// MinSecretLength is the shortest client secret accepted: 43 base64url characters
// carry 256 bits, which is what makes a fast hash safe (docs/design.md decision 7).
const MinSecretLength = 43

// ReadFile parses and validates the seed file at path.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read seed: %w", err)
	}
	return Parse(data)
}

// Parse parses and validates a seed document; unknown fields are errors, so a typo
// in a policy flag does not silently weaken a client.
func Parse(data []byte) (*File, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse seed: %w", err)
	}
	var errs []error
	for i := range f.Clients {
		if err := f.Clients[i].normalize(); err != nil {
			errs = append(errs, fmt.Errorf("clients[%d] %q: %w", i, f.Clients[i].ID, err))
		}
	}
	for i, u := range f.Users {
		if u.Username == "" || u.Password == "" {
			errs = append(errs, fmt.Errorf("users[%d]: username and password are required", i))
		}
		if oauth.ReservedUsername(u.Username) {
			errs = append(errs, fmt.Errorf("users[%d]: usernames starting with %q are the brokered users' (issue 13)", i, oauth.BrokeredUsernamePrefix))
		}
	}
	errs = append(errs, f.checkProviders(data)...)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	return &f, nil
}

// checkProviders validates identity_providers (oauth.CheckIdentityProvider, which
// applies the defaults), with ids unique, and the clients' identity_providers, which
// must name providers of the seed. A provider without "enabled" is enabled: listing
// a provider in the seed is asking for it; "enabled": false keeps one configured but
// off. data is the seed document, read again for the presence of "enabled".
func (f *File) checkProviders(data []byte) []error {
	var errs []error
	var presence struct {
		IdentityProviders []struct {
			Enabled *bool `json:"enabled"`
		} `json:"identity_providers"`
	}
	if err := json.Unmarshal(data, &presence); err != nil || len(presence.IdentityProviders) != len(f.IdentityProviders) {
		return []error{errors.New("identity_providers: cannot read the entries")}
	}
	seen := map[string]bool{}
	for i := range f.IdentityProviders {
		p := &f.IdentityProviders[i]
		if presence.IdentityProviders[i].Enabled == nil {
			p.Enabled = true
		}
		if err := oauth.CheckIdentityProvider(p); err != nil {
			errs = append(errs, fmt.Errorf("identity_providers[%d] %q: %w", i, p.ID, err))
		}
		if seen[p.ID] {
			errs = append(errs, fmt.Errorf("identity_providers[%d]: id %q is listed twice", i, p.ID))
		}
		seen[p.ID] = true
	}
	for i, c := range f.Clients {
		for _, id := range c.IdentityProviders {
			if !seen[id] {
				errs = append(errs, fmt.Errorf("clients[%d] %q: identity_providers names %q, which is not in the seed's identity_providers", i, c.ID, id))
			}
		}
	}
	return errs
}

// normalize applies RFC 7591 defaults and checks the metadata.
func (c *Client) normalize() error {
	if c.ID == "" {
		return errors.New("client_id is required")
	}
	if err := checkDisplayed(c); err != nil {
		return err
	}
	if c.TokenEndpointAuthMethod == "" {
		// RFC 7591 §2: "If unspecified or omitted, the default is client_secret_basic".
		c.TokenEndpointAuthMethod = oauth.AuthClientSecretBasic
	}
	switch c.TokenEndpointAuthMethod {
	case oauth.AuthClientSecretBasic, oauth.AuthClientSecretPost:
		if len(c.Secret) < MinSecretLength {
			return fmt.Errorf("client_secret must be at least %d characters (256 bits of randomness)", MinSecretLength)
		}
		c.SecretHash = oauth.SecretHash(c.Secret)
	case oauth.AuthNone, oauth.AuthPrivateKeyJWT, oauth.AuthTLSClient, oauth.AuthSelfSignedTLSClient:
		if c.Secret != "" {
			return fmt.Errorf("a client with token_endpoint_auth_method %s has no client_secret", c.TokenEndpointAuthMethod)
		}
	default:
		return fmt.Errorf("token_endpoint_auth_method %q is not supported", c.TokenEndpointAuthMethod)
	}

	for _, g := range c.GrantTypes {
		if !slices.Contains([]string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantClientCredentials}, g) {
			return fmt.Errorf("grant_type %q is not supported", g)
		}
	}
	// RFC 6749 §4.4: "The client credentials grant type MUST only be used by
	// confidential clients."
	if c.Public() && c.AllowsGrant(oauth.GrantClientCredentials) {
		return errors.New("grant_type client_credentials needs a client with credentials (RFC 6749 §4.4)")
	}
	// application_type and the redirect URIs it allows (OpenID Connect Registration
	// §2, RFC 8252 §7, RFC 9700 §2.1).
	if err := oauth.CheckRedirectURIs(&c.Client); err != nil {
		return err
	}
	// The browser origins of its pages besides its redirect URIs' (CORS,
	// docs/design.md decision 30).
	if err := oauth.CheckAllowedOrigins(&c.Client); err != nil {
		return err
	}
	// consent: always, or remembered (docs/design.md decision 32).
	if err := oauth.CheckConsentMetadata(&c.Client); err != nil {
		return err
	}
	// Where a logout may return the browser (RP-Initiated Logout 1.0 §3).
	if err := oauth.CheckPostLogoutRedirectURIs(&c.Client); err != nil {
		return err
	}
	// Where a logout POSTs its logout token (Back-Channel Logout 1.0 §2.2).
	if err := oauth.CheckBackchannelLogoutURI(&c.Client); err != nil {
		return err
	}
	if err := checkKeys(&c.Client); err != nil {
		return err
	}
	// RFC 8705 §2.1.2 and §2.2: the expected certificate subject or keys.
	if err := oauth.CheckTLSMetadata(&c.Client); err != nil {
		return err
	}
	for _, p := range c.PushedRedirectURIPrefixes {
		if err := checkRedirectPrefix(p); err != nil {
			return err
		}
	}
	if c.Public() && len(c.PushedRedirectURIPrefixes) > 0 {
		// RFC 9126 §7.2: only authenticated clients may use unregistered redirect URIs.
		return errors.New("pushed_redirect_uri_prefixes needs a client with credentials (RFC 9126 §7.2)")
	}
	for _, r := range c.Resources {
		// RFC 8707 §2: a resource indicator "MUST be an absolute URI ... MUST NOT
		// include a fragment component"; a registered one that could never be
		// requested would be a typo.
		if !oauth.ValidResource(r) {
			return fmt.Errorf("resources entry %q must be an absolute URI without a fragment (RFC 8707 §2)", r)
		}
	}
	// JARM §3: "The algorithm none is not allowed"; nor is any algorithm the server
	// cannot hold a signing key of (pkg/keys: RS256, PS256, ES256, EdDSA). Whether
	// the deployment's key has it is checked where the response is signed.
	if alg := c.AuthorizationSignedResponseAlg; alg != "" && !slices.Contains(oauth.SigningAlgorithms, jose.SignatureAlgorithm(alg)) {
		return fmt.Errorf("authorization_signed_response_alg %q is not one the server signs with (%v)", alg, oauth.SigningAlgorithms)
	}
	if c.PushedRequestLifetime != 0 && (c.PushedRequestLifetime < 5 || c.PushedRequestLifetime > 600) {
		return errors.New("pushed_request_lifetime must be from 5 to 600 seconds")
	}
	// The client's own back-channel rate limit (docs/design.md decision 23).
	if c.RateLimit != "" {
		if _, err := oauth.ParseRateLimit(c.RateLimit); err != nil {
			return fmt.Errorf("rate_limit: %w", err)
		}
	}
	return nil
}

// checkKeys validates the client's public keys: private_key_jwt needs jwks or
// jwks_uri (RFC 7591 §2: not both), and registered keys must be public and large
// enough (oauth.CheckKeyStrength: RSA of at least 2048 bits).
func checkKeys(c *oauth.Client) error {
	if len(c.JWKS) > 0 && c.JWKSURI != "" {
		return errors.New("jwks and jwks_uri must not both be present (RFC 7591 §2)")
	}
	if c.JWKSURI != "" {
		u, err := url.Parse(c.JWKSURI)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("jwks_uri %q must be an https URL", c.JWKSURI)
		}
	}
	if len(c.JWKS) > 0 {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(c.JWKS, &set); err != nil || len(set.Keys) == 0 {
			return errors.New("jwks must be a JWK Set with at least one key")
		}
		for _, k := range set.Keys {
			if !k.IsPublic() || !k.Valid() {
				return fmt.Errorf("jwks key %q must be a valid public key", k.KeyID)
			}
			// RFC 7518 §3.3, FAPI 2.0 Security Profile §5.4.1 items 2 and 3.
			if err := oauth.CheckKeyStrength(k); err != nil {
				return fmt.Errorf("jwks: %w", err)
			}
		}
	}
	if c.TokenEndpointAuthMethod == oauth.AuthPrivateKeyJWT && len(c.JWKS) == 0 && c.JWKSURI == "" {
		return errors.New("private_key_jwt needs jwks or jwks_uri")
	}
	return nil
}

// checkRedirectPrefix accepts only prefixes that fix the scheme, host and the start
// of the path, so a prefix cannot be extended into another host (RFC 9126 §2.4
// "the authorization server MAY require a certain URI prefix").
func checkRedirectPrefix(p string) error {
	u, err := url.Parse(p)
	if err != nil || !u.IsAbs() || u.Host == "" || !strings.HasPrefix(u.Path, "/") || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("pushed_redirect_uri_prefixes entry %q must be an absolute URL with a path", p)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && config.IsLoopback(u.Hostname())) {
		return fmt.Errorf("pushed_redirect_uri_prefixes entry %q must use https", p)
	}
	return nil
}

// Import writes the seed's clients and users into reg, hashing user passwords with
// oauth.HashPassword, and its identity providers when reg is an
// oauth.ProviderRegistry.
func Import(ctx context.Context, reg oauth.Registry, f *File) error {
	return ImportWith(ctx, reg, f, oauth.HashPassword)
}

// Hasher turns a password into its stored argon2id PHC string (oauth.HashPassword, or
// a cache of its results).
type Hasher func(password string) (string, error)

// ImportWith is Import with the password hashes from hash.
func ImportWith(ctx context.Context, reg oauth.Registry, f *File, hash Hasher) error {
	for i := range f.Clients {
		c := f.Clients[i].Client
		if err := reg.PutClient(ctx, &c); err != nil {
			return fmt.Errorf("import client %s: %w", c.ID, err)
		}
	}
	if len(f.IdentityProviders) > 0 {
		// Upstream identity providers (issue 13) where the registry keeps them: the
		// local stores do; on AWS the admin import stores them with their secrets
		// apart (Secrets Manager).
		if pr, ok := reg.(oauth.ProviderRegistry); ok {
			for i := range f.IdentityProviders {
				p := f.IdentityProviders[i]
				if err := pr.PutIdentityProvider(ctx, &p); err != nil {
					return fmt.Errorf("import identity provider %s: %w", p.ID, err)
				}
			}
		}
	}
	for _, u := range f.Users {
		encoded, err := hash(u.Password)
		if err != nil {
			return fmt.Errorf("import user %s: %w", u.Username, err)
		}
		user, err := importedUser(ctx, reg, u, encoded)
		if err != nil {
			return fmt.Errorf("import user %s: %w", u.Username, err)
		}
		if err := reg.PutUser(ctx, user); err != nil {
			return fmt.Errorf("import user %s: %w", u.Username, err)
		}
	}
	return nil
}
