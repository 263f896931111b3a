package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-jose/go-jose/v4"
)

// Brokered login (issue 13; docs/design.md decision 35): a user signs in at an
// upstream OpenID Provider (IdentityProvider, through an Upstream) and is linked, by
// the provider's id and the upstream's `sub`, to a local user with its own random,
// immutable `sub`, created on the first login (just in time).

// AMRFederated is the amr value of a brokered login (RFC 8176 §2 registers none for
// it; "fed" is this server's, as the issue names it): the user authenticated at an
// upstream identity provider.
const AMRFederated = "fed"

// BrokeredUsernamePrefix starts the username of every user a brokered login created:
// "idp:" + provider id + ":" + 22 base64url characters of the link key. No seed entry
// or admin command may create a username with it (ReservedUsername), so a brokered
// user never collides with an operator's.
const BrokeredUsernamePrefix = "idp:"

// ReservedUsername reports whether username is in the brokered users' key space.
func ReservedUsername(username string) bool {
	return strings.HasPrefix(username, BrokeredUsernamePrefix)
}

// MaxProviderIDLength bounds a provider id.
const MaxProviderIDLength = 32

// ValidProviderID reports whether id may name an identity provider: 1 to 32 of
// a-z 0-9 and "-". The id appears in usernames, in the idp claim, in the login
// page's button value and in idp_hint, so it is kept plain.
func ValidProviderID(id string) bool {
	if id == "" || len(id) > MaxProviderIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// AccountLink ties an upstream identity (provider id, upstream sub) to a local user.
// It is stored under Key = LinkKey(provider, sub), a SHA-256 (decision 1 style): the
// table holds no upstream subject in the clear.
type AccountLink struct {
	Key        string
	ProviderID string
	// Username and Subject are the local user's (User.Username, User.Subject()).
	Username  string
	Subject   string
	CreatedAt time.Time
}

// LinkKey is the storage key of the link of (providerID, upstreamSub).
func LinkKey(providerID, upstreamSub string) string {
	return HashKey("pargate link\x00" + providerID + "\x00" + upstreamSub)
}

// AccountLinks stores account links and the users brokered logins create.
type AccountLinks interface {
	// GetAccountLink returns the link under key with a strongly consistent read, or
	// ErrNotFound.
	GetAccountLink(ctx context.Context, key string) (*AccountLink, error)
	// CreateLinkedUser stores user and link (link.Username == user.Username) in one
	// atomic step: ErrConflict, and nothing written, if either exists. Of concurrent
	// first logins of one upstream identity, one creates the user.
	CreateLinkedUser(ctx context.Context, link *AccountLink, user *User) error
	// LinkUser stores link to the existing user check names, in one atomic step with
	// the check (UserCheck: exists, not disabled, same Sub and TokensValidAfter):
	// ErrConflict if the link exists, ErrUserChanged if the check fails; nothing
	// is written then.
	LinkUser(ctx context.Context, link *AccountLink, check UserCheck) error
	// SetUserClaims replaces the claims of the user check names, under the check
	// (ErrUserChanged when it fails, nothing written).
	SetUserClaims(ctx context.Context, check UserCheck, claims map[string]any) error
	// RelinkUser replaces the link under link.Key, which must still name stale's
	// Username and Subject, with link, and creates user (link.Username ==
	// user.Username, a free username), in one atomic step: ErrConflict, and nothing
	// written, if the stored link changed or the username is taken. A linked user
	// who was deleted gets a new user, with a new sub, at the next login.
	RelinkUser(ctx context.Context, link, stale *AccountLink, user *User) error
}

// WithFederation enables brokered login: the providers users may sign in with and
// the store of account links (both nil: no brokering).
func WithFederation(providers IdentityProviders, links AccountLinks) Option {
	return func(s *Service) { s.providers, s.links = providers, links }
}

// Federation reports whether brokered login is configured.
func (s *Service) Federation() bool { return s.providers != nil && s.links != nil }

// LocalLogin reports whether the password form is offered (LOCAL_LOGIN).
func (s *Service) LocalLogin() bool { return !s.cfg.DisableLocalLogin }

// ClientMayUse reports whether client may offer provider p: p is enabled and the
// client's identity_providers, when present, list it (absent: every enabled provider).
func ClientMayUse(client *Client, p *IdentityProvider) bool {
	if p == nil || !p.Enabled {
		return false
	}
	return client.IdentityProviders == nil || slices.Contains(client.IdentityProviders, p.ID)
}

// ProvidersFor returns the enabled providers client may use, ordered by id; none
// without federation.
func (s *Service) ProvidersFor(ctx context.Context, client *Client) ([]*IdentityProvider, error) {
	if !s.Federation() {
		return nil, nil
	}
	all, err := s.providers.ListIdentityProviders(ctx)
	if err != nil {
		return nil, AsError(fmt.Errorf("list identity providers: %w", err))
	}
	var out []*IdentityProvider
	for _, p := range all {
		if ClientMayUse(client, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// ErrProviderNotAllowed: the provider is unknown, disabled or not among the client's.
var ErrProviderNotAllowed = errors.New("identity provider not available to this client")

// ProviderFor returns provider id if client may use it, else ErrProviderNotAllowed.
func (s *Service) ProviderFor(ctx context.Context, client *Client, id string) (*IdentityProvider, error) {
	if !s.Federation() || !ValidProviderID(id) {
		return nil, ErrProviderNotAllowed
	}
	p, err := s.providers.GetIdentityProvider(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrProviderNotAllowed
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("load identity provider: %w", err))
	}
	if !ClientMayUse(client, p) {
		return nil, ErrProviderNotAllowed
	}
	return p, nil
}

// standardClaims are the OIDC Core §5.1 claims a brokered login copies from the
// upstream by default, under the same names (a provider's claims mapping adds to and
// overrides them).
var standardClaims = func() []string {
	var out []string
	for _, names := range scopeClaims {
		out = append(out, names...)
	}
	slices.Sort(out)
	return out
}()

// ReservedClaims are the claim names the server sets itself in its tokens; a
// provider's claims mapping may not target them (nor copy them: the upstream's
// sub, iss or acr never become the local user's).
var ReservedClaims = []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "auth_time", "nonce",
	"acr", "amr", "azp", "sid", "idp", "at_hash", "c_hash", "cnf", "scope", "client_id"}

// MapClaims is the local user's claims from an upstream identity: every standard
// claim (OIDC Core §5.1) under its own name, then p.Claims (upstream name → local
// name), never a reserved claim.
func MapClaims(p *IdentityProvider, upstream map[string]any) map[string]any {
	out := map[string]any{}
	for _, name := range standardClaims {
		if v, ok := upstream[name]; ok {
			out[name] = v
		}
	}
	for _, from := range slices.Sorted(maps.Keys(p.Claims)) {
		to := p.Claims[from]
		if slices.Contains(ReservedClaims, to) {
			continue
		}
		if v, ok := upstream[from]; ok {
			out[to] = v
		}
	}
	// As a store keeps them (NormalizeClaims); a value that is not JSON cannot come
	// from a decoded ID token or userinfo answer.
	norm, err := NormalizeClaims(out)
	if err != nil {
		return nil
	}
	return norm
}

// rfc8176 are the amr values of RFC 8176 §2: the upstream's, when registered, are
// kept after "fed".
var rfc8176 = []string{"face", "fpt", "geo", "hwk", "iris", "kba", "mca", "mfa", "otp", "pin",
	"pop", "pwd", "rba", "retina", "sc", "sms", "swk", "tel", "user", "vbm", "wia"}

// BrokeredAMR is the amr of a brokered login: "fed" first, then the upstream's values
// that RFC 8176 registers (others are dropped: they are the upstream's vocabulary,
// not something the client could rely on), each once.
func BrokeredAMR(upstream []string) []string {
	out := []string{AMRFederated}
	for _, v := range upstream {
		if slices.Contains(rfc8176, v) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// maxACRLength bounds the acr passed through from the upstream.
const maxACRLength = 256

// BrokeredACR is the upstream's acr to pass through (OIDC Core §2), or "" when it
// has none or one that is not short printable text.
func BrokeredACR(acr string) string {
	if len(acr) > maxACRLength || hasControl(acr, false) || HasFormatChar(acr) {
		return ""
	}
	return acr
}

// BrokeredSignIn resolves the upstream identity id, which p vouched for, to the local
// user: the linked user; on the first login by a trusted, verified email
// (p.TrustEmail and email_verified true) the local user whose username is that email;
// else a new user with a random sub, created with its link in one atomic step. The
// user's mapped claims are refreshed on every login. A disabled local user is refused
// (access_denied, redirectable: the client's redirect target is established by then,
// decision 11) even though the upstream signed the user in.
func (s *Service) BrokeredSignIn(ctx context.Context, p *IdentityProvider, id *UpstreamIdentity) (*User, error) {
	if !s.Federation() {
		return nil, ServerError(errors.New("federation is not configured"))
	}
	if id == nil || id.Subject == "" || id.ProviderID != p.ID {
		return nil, InvalidRequest("the identity provider's answer could not be accepted")
	}
	claims := MapClaims(p, id.Claims)
	key := LinkKey(p.ID, id.Subject)
	for attempt := 0; attempt < 3; attempt++ {
		link, err := s.links.GetAccountLink(ctx, key)
		if err == nil {
			user, err := s.linkedUser(ctx, link, claims)
			if errors.Is(err, ErrConflict) {
				continue // a concurrent login relinked it: read the link again
			}
			return user, err
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, AsError(fmt.Errorf("load account link: %w", err))
		}
		var user *User
		if attempt == 0 {
			user, err = s.firstBrokeredLogin(ctx, p, id, key, claims)
		} else {
			// A conflict and still no link: the user under the derived username was
			// left without its link (a first login cut short between its two writes,
			// where the store writes without transactions). It is this identity's:
			// its username is derived from the link key.
			user, err = s.adoptBrokeredUser(ctx, p, id, key, claims)
		}
		if errors.Is(err, ErrConflict) {
			continue // a concurrent first login linked it: read the link again
		}
		return user, err
	}
	return nil, ServerError(errors.New("account link: conflicting first logins"))
}

// linkedUser is the user link points to, with claims refreshed.
func (s *Service) linkedUser(ctx context.Context, link *AccountLink, claims map[string]any) (*User, error) {
	user, err := s.store.GetUser(ctx, link.Username)
	if errors.Is(err, ErrNotFound) {
		// The local user was deleted (pargate user delete): the upstream identity
		// starts again as a new user, with a new random sub, so no relying party
		// takes it for the deleted one (OIDC Core §2: a sub is never reassigned).
		return s.relink(ctx, link, claims)
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("load user: %w", err))
	}
	if user.Subject() != link.Subject {
		return nil, AccessDenied("the linked local user was re-created").WithRedirect()
	}
	if user.Disabled {
		return nil, AccessDenied("the user is disabled").WithRedirect()
	}
	if merged := refreshedClaims(user.Claims, claims); !claimsEqual(merged, user.Claims) {
		err := s.links.SetUserClaims(ctx, UserCheck{Username: user.Username, Sub: user.Sub, TokensValidAfter: user.TokensValidAfter}, merged)
		if errors.Is(err, ErrUserChanged) {
			return nil, AccessDenied("the user changed during sign-in").WithRedirect()
		}
		if err != nil {
			return nil, AsError(fmt.Errorf("refresh user claims: %w", err))
		}
		user.Claims = merged
	}
	return user, nil
}

// relink gives the identity of stale, whose user was deleted, a new user under the
// same (derived) username. ErrConflict: a concurrent login relinked it first.
func (s *Service) relink(ctx context.Context, stale *AccountLink, claims map[string]any) (*User, error) {
	sub, err := NewSubject()
	if err != nil {
		return nil, ServerError(err)
	}
	user := &User{Username: stale.Username, Claims: claims, Sub: sub}
	link := &AccountLink{Key: stale.Key, ProviderID: stale.ProviderID, Username: user.Username, Subject: sub, CreatedAt: s.now()}
	if err := s.links.RelinkUser(ctx, link, stale, user); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, err
		}
		return nil, AsError(fmt.Errorf("relink user: %w", err))
	}
	return user, nil
}

// refreshedClaims are the user's claims with the mapped ones of this login: a mapped
// claim replaces the stored one, a claim the upstream no longer sends is kept (an
// operator may have set it), so a login never removes a claim.
func refreshedClaims(stored, mapped map[string]any) map[string]any {
	if len(mapped) == 0 {
		return stored
	}
	out := maps.Clone(stored)
	if out == nil {
		out = map[string]any{}
	}
	maps.Copy(out, mapped)
	return out
}

func claimsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	// encoding/json sorts map keys: equal claims marshal to equal bytes.
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// firstBrokeredLogin links a first login: to the local user of a trusted, verified
// email, else to a new user. ErrConflict: a concurrent login linked it first.
func (s *Service) firstBrokeredLogin(ctx context.Context, p *IdentityProvider, id *UpstreamIdentity, key string, claims map[string]any) (*User, error) {
	now := s.now()
	if email, ok := trustedEmail(p, id.Claims); ok {
		user, err := s.store.GetUser(ctx, email)
		switch {
		case err == nil && !ReservedUsername(user.Username) && emailMatches(user, email):
			return s.linkExisting(ctx, p, key, user, claims, now)
		case err != nil && !errors.Is(err, ErrNotFound):
			return nil, AsError(fmt.Errorf("load user: %w", err))
		}
	}
	sub, err := NewSubject()
	if err != nil {
		return nil, ServerError(err)
	}
	user := &User{Username: BrokeredUsername(p.ID, key), Claims: claims, Sub: sub}
	link := &AccountLink{Key: key, ProviderID: p.ID, Username: user.Username, Subject: sub, CreatedAt: now}
	if err := s.links.CreateLinkedUser(ctx, link, user); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, err
		}
		return nil, AsError(fmt.Errorf("create linked user: %w", err))
	}
	return user, nil
}

// adoptBrokeredUser links the user under the username derived from key, if there is
// one, else makes the first login again.
func (s *Service) adoptBrokeredUser(ctx context.Context, p *IdentityProvider, id *UpstreamIdentity, key string, claims map[string]any) (*User, error) {
	user, err := s.store.GetUser(ctx, BrokeredUsername(p.ID, key))
	if errors.Is(err, ErrNotFound) {
		return s.firstBrokeredLogin(ctx, p, id, key, claims)
	}
	if err != nil {
		return nil, AsError(fmt.Errorf("load user: %w", err))
	}
	return s.linkExisting(ctx, p, key, user, claims, s.now())
}

// linkExisting links the local user to the upstream account under key, on the
// condition that the user is as read (UserCheck), then refreshes its claims. A
// disabled or changed user is access_denied; ErrConflict (another login linked the
// account first) is returned as is for the caller to retry.
func (s *Service) linkExisting(ctx context.Context, p *IdentityProvider, key string, user *User, claims map[string]any, now time.Time) (*User, error) {
	if user.Disabled {
		return nil, AccessDenied("the user is disabled").WithRedirect()
	}
	link := &AccountLink{Key: key, ProviderID: p.ID, Username: user.Username, Subject: user.Subject(), CreatedAt: now}
	err := s.links.LinkUser(ctx, link, UserCheck{Username: user.Username, Sub: user.Sub, TokensValidAfter: user.TokensValidAfter})
	if errors.Is(err, ErrUserChanged) {
		return nil, AccessDenied("the user changed during sign-in").WithRedirect()
	}
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, err
		}
		return nil, AsError(fmt.Errorf("link user: %w", err))
	}
	return s.linkedUser(ctx, link, claims)
}

// BrokeredUsername is the username of the user a first login through provider
// creates for the link under key: reserved (BrokeredUsernamePrefix), and derived
// from the link key, so two concurrent first logins pick the same one and the
// atomic create lets one of them win.
func BrokeredUsername(providerID, key string) string {
	return BrokeredUsernamePrefix + providerID + ":" + key[:22]
}

// trustedEmail is the upstream's email when p trusts its emails and the upstream
// says it is verified (email_verified true, a JSON boolean — OIDC Core §5.1; a
// string "true" is not accepted).
func trustedEmail(p *IdentityProvider, claims map[string]any) (string, bool) {
	if !p.TrustEmail {
		return "", false
	}
	verified, _ := claims["email_verified"].(bool)
	email, _ := claims["email"].(string)
	if !verified || email == "" || len(email) > MaxUsernameBytes {
		return "", false
	}
	return email, true
}

// emailMatches: the local user's own email claim, if it has one, is the same address
// (case-insensitively): a username that happens to look like another address is
// not linked.
func emailMatches(u *User, email string) bool {
	own, ok := u.Claims["email"].(string)
	return !ok || strings.EqualFold(own, email)
}

// DefaultUpstreamScope is what a provider without scope asks the upstream for.
const DefaultUpstreamScope = "openid email profile"

// MaxDisplayNameLength bounds a provider's display_name (the login page's button).
const MaxDisplayNameLength = 64

// CheckIdentityProvider validates a provider's registration and applies its
// defaults (token_endpoint_auth_method client_secret_basic, scope
// DefaultUpstreamScope): CheckProviderSettings, and the credential its auth method
// needs and no other.
func CheckIdentityProvider(p *IdentityProvider) error {
	if err := CheckProviderSettings(p); err != nil {
		return err
	}
	switch p.TokenEndpointAuthMethod {
	case AuthClientSecretBasic, AuthClientSecretPost:
		if p.ClientSecret == "" {
			return fmt.Errorf("token_endpoint_auth_method %s needs client_secret", p.TokenEndpointAuthMethod)
		}
		if p.PrivateKey != "" {
			return fmt.Errorf("token_endpoint_auth_method %s has no private_key", p.TokenEndpointAuthMethod)
		}
	case AuthPrivateKeyJWT:
		if p.ClientSecret != "" {
			return errors.New("token_endpoint_auth_method private_key_jwt has no client_secret")
		}
		if err := checkPrivateJWK(p.PrivateKey); err != nil {
			return err
		}
	}
	return nil
}

// CheckProviderSettings is CheckIdentityProvider without the credential: what the
// admin CLI checks before it asks for the secret, and of a stored provider whose
// secret lives elsewhere (Secrets Manager). An id of ValidProviderID, a display name
// the page can show, an https issuer (http only on a loopback host, for local runs),
// a client_id, a supported auth method, openid among the scopes, and a claims
// mapping that targets no reserved claim; the defaults applied.
func CheckProviderSettings(p *IdentityProvider) error {
	if !ValidProviderID(p.ID) {
		return fmt.Errorf("id %q must be 1 to %d of a-z 0-9 -", p.ID, MaxProviderIDLength)
	}
	if p.DisplayName == "" {
		p.DisplayName = p.ID
	}
	if len(p.DisplayName) > MaxDisplayNameLength || strings.TrimSpace(p.DisplayName) != p.DisplayName ||
		hasControl(p.DisplayName, false) || HasFormatChar(p.DisplayName) || !utf8.ValidString(p.DisplayName) {
		return fmt.Errorf("display_name must be at most %d characters of plain text", MaxDisplayNameLength)
	}
	if err := checkIssuerURL(p.Issuer); err != nil {
		return err
	}
	if p.ClientID == "" || len(p.ClientID) > 255 || hasControl(p.ClientID, false) {
		return errors.New("client_id is required")
	}
	if p.TokenEndpointAuthMethod == "" {
		p.TokenEndpointAuthMethod = AuthClientSecretBasic
	}
	switch p.TokenEndpointAuthMethod {
	case AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT:
	default:
		return fmt.Errorf("token_endpoint_auth_method %q is not supported (client_secret_basic, client_secret_post, private_key_jwt)", p.TokenEndpointAuthMethod)
	}
	if p.Scope == "" {
		p.Scope = DefaultUpstreamScope
	}
	scopes, serr := parseScope(p.Scope)
	if serr != nil || !slices.Contains(scopes, "openid") {
		return errors.New("scope must be scope tokens including openid (OIDC Core §3.1.2.1)")
	}
	for from, to := range p.Claims {
		if from == "" || to == "" || hasControl(from, false) || hasControl(to, false) {
			return errors.New("claims maps non-empty upstream names to non-empty local names")
		}
		if slices.Contains(ReservedClaims, to) {
			return fmt.Errorf("claims: %q is set by this server and cannot be mapped to", to)
		}
	}
	return nil
}

// checkIssuerURL: OIDC Discovery §3 — the issuer "is a case-sensitive URL using the
// https scheme that contains scheme, host, and optionally, port number and path
// components and no query or fragment components"; http is allowed for a loopback
// host (local runs and tests).
func checkIssuerURL(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return fmt.Errorf("issuer %q must be an https URL without query or fragment (OIDC Discovery §3)", issuer)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && IsLoopback(u.Hostname())) {
		return fmt.Errorf("issuer %q must use https (http only on a loopback host)", issuer)
	}
	return nil
}

// checkPrivateJWK: private_key is a private JWK with kid and an alg this server
// signs with (RFC 7517 §4; RFC 7523 §3 for the client assertion it signs).
func checkPrivateJWK(raw string) error {
	var k jose.JSONWebKey
	if raw == "" || json.Unmarshal([]byte(raw), &k) != nil || !k.Valid() || k.IsPublic() {
		return errors.New("private_key_jwt needs private_key: a private JWK (JSON)")
	}
	if k.KeyID == "" || !slices.Contains(SigningAlgorithms, jose.SignatureAlgorithm(k.Algorithm)) {
		return fmt.Errorf("private_key needs a kid and an alg of %v", SigningAlgorithms)
	}
	if err := CheckKeyStrength(k.Public()); err != nil {
		return fmt.Errorf("private_key: %w", err)
	}
	return nil
}

// ErrCallbackUsed: the upstream callback's state was used already (a replay).
var ErrCallbackUsed = errors.New("the identity provider's callback was used already")

// UseCallbackState records the state of one upstream callback as used, until
// expires (the browser transaction's deadline): a callback is single-use, and a
// second one with the same state gets ErrCallbackUsed (RFC 9700 §4.7.1: the state
// is bound to one user agent and one transaction; OIDC Core §3.1.2.7: code and
// state are used once).
func (s *Service) UseCallbackState(ctx context.Context, state string, expires time.Time) error {
	err := s.store.UseOnce(ctx, HashKey("pargate upstream state\x00"+state), expires, s.now())
	if errors.Is(err, ErrConflict) {
		return ErrCallbackUsed
	}
	if err != nil {
		return AsError(fmt.Errorf("record callback state: %w", err))
	}
	return nil
}

// Upstream error codes passed on to the client as they are (OIDC Core §3.1.2.6,
// RFC 6749 §4.1.2.1): what the user or the upstream decided. Any other code the
// upstream answers (invalid_request, unauthorized_client, invalid_scope,
// server_error, ...) is about the broker's registration there, not the client's
// request, and reaches the client as access_denied.
var passedUpstreamErrors = []string{CodeAccessDenied, CodeLoginRequired, CodeConsentRequired,
	"interaction_required", "account_selection_required", CodeTemporarilyUnavailable}

// UpstreamRefusal is the client's error, redirectable, for an upstream's error
// response code.
func UpstreamRefusal(code string) *Error {
	if !slices.Contains(passedUpstreamErrors, code) {
		code = CodeAccessDenied
	}
	return newError(code, "the identity provider did not sign the user in").WithRedirect()
}
