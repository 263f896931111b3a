// Package federation is the relying-party leg of brokered login (issue 13): it
// implements oauth.Upstream against an upstream OpenID Provider — discovery (OIDC
// Discovery §4), the authorization-code request with PKCE S256, state and nonce
// (pushed with PAR, RFC 9126, when the upstream advertises it), and the callback's
// validation (RFC 9207 iss, the code exchange, OIDC Core §3.1.3.7 ID token
// validation, userinfo). It knows HTTP and JOSE, nothing of AWS, and of ours only
// pkg/oauth. Errors are oauth.ErrUpstreamUnavailable or oauth.ErrUpstreamInvalid
// (errors.Is) or *oauth.UpstreamError; their messages name what failed (an endpoint,
// a status, a check) and never carry tokens, codes, secrets or upstream bodies.
package federation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// Defaults of Options.
const (
	// DefaultTimeout bounds each request to the upstream (discovery, JWKS, PAR,
	// token, userinfo).
	DefaultTimeout = 3 * time.Second
	// DefaultDiscoveryTTL is how long a discovery document is used before it is
	// fetched again.
	DefaultDiscoveryTTL = time.Hour
	// DefaultStaleFor is how long past DefaultDiscoveryTTL a cached document is
	// still served while the upstream's discovery endpoint cannot be reached.
	DefaultStaleFor = 6 * time.Hour
	// DefaultScope is requested when IdentityProvider.Scope is empty.
	DefaultScope = "openid email profile"
	// MaxResponse bounds every upstream answer the client reads.
	MaxResponse = 256 << 10
	// MaxClockSkew is how far in the future an ID token's iat may be.
	MaxClockSkew = 2 * time.Minute
	// AssertionLifetime is the lifetime of a private_key_jwt client assertion.
	AssertionLifetime = 60 * time.Second
)

// Options configure New. The zero value is usable.
type Options struct {
	// HTTPClient sends every request to upstreams. Default: a client with
	// Timeout-bounded dial, TLS handshake and response, that follows no redirect.
	// A client handed in should not follow redirects either.
	HTTPClient *http.Client
	// Timeout bounds each request (default DefaultTimeout).
	Timeout time.Duration
	// DiscoveryTTL (default DefaultDiscoveryTTL) is how long a discovery document
	// and a JWK Set are used before they are fetched again.
	DiscoveryTTL time.Duration
	// StaleFor (default DefaultStaleFor; negative: never) is how long past
	// DiscoveryTTL a cached document or key set is still used while a refresh fails.
	StaleFor time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives warnings (a stale discovery document served); default: none.
	Logger *slog.Logger
}

// Client implements oauth.Upstream. It is safe for concurrent use; it caches
// discovery documents and key sets per issuer for the life of the instance.
type Client struct {
	http     *http.Client
	timeout  time.Duration
	ttl      time.Duration
	staleFor time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu    sync.Mutex
	cache map[string]*upstream
}

var _ oauth.Upstream = (*Client)(nil)

// New returns a Client.
func New(opts Options) *Client {
	c := &Client{
		http: opts.HTTPClient, timeout: opts.Timeout, ttl: opts.DiscoveryTTL, staleFor: opts.StaleFor,
		now: opts.Now, log: opts.Logger, cache: map[string]*upstream{},
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.ttl <= 0 {
		c.ttl = DefaultDiscoveryTTL
	}
	if c.staleFor < 0 {
		c.staleFor = 0
	} else if opts.StaleFor == 0 {
		c.staleFor = DefaultStaleFor
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.http == nil {
		dialer := &net.Dialer{Timeout: c.timeout}
		c.http = &http.Client{
			Timeout: c.timeout,
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           dialer.DialContext,
				ForceAttemptHTTP2:     true,
				TLSHandshakeTimeout:   c.timeout,
				ResponseHeaderTimeout: c.timeout,
				MaxIdleConns:          16,
				IdleConnTimeout:       90 * time.Second,
			},
			// OIDC Discovery §4 and the endpoints it names are fetched where they
			// are, never where a server redirects to (a redirect is an error).
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return c
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{oauth.ErrUpstreamInvalid}, a...)...)
}

func unavailable(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{oauth.ErrUpstreamUnavailable}, a...)...)
}

// random returns n random bytes, base64url without padding.
func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// checkProvider refuses a provider registration Begin and Finish cannot use.
func checkProvider(p *oauth.IdentityProvider) error {
	if p == nil || p.ID == "" || p.Issuer == "" || p.ClientID == "" {
		return invalid("identity provider needs id, issuer and client_id")
	}
	switch p.TokenEndpointAuthMethod {
	case "", oauth.AuthClientSecretBasic, oauth.AuthClientSecretPost:
		if p.ClientSecret == "" {
			return invalid("identity provider %s: client_secret is missing", p.ID)
		}
	case oauth.AuthPrivateKeyJWT:
		if p.PrivateKey == "" {
			return invalid("identity provider %s: private_key is missing", p.ID)
		}
	default:
		return invalid("identity provider %s: token_endpoint_auth_method %q is not supported", p.ID, p.TokenEndpointAuthMethod)
	}
	return nil
}

// scope is the provider's scope with openid in it (OIDC Core §3.1.2.1: "OpenID
// Connect requests MUST contain the openid scope value").
func scope(p *oauth.IdentityProvider) string {
	s := strings.Join(strings.Fields(p.Scope), " ")
	if s == "" {
		return DefaultScope
	}
	for _, v := range strings.Fields(s) {
		if v == "openid" {
			return s
		}
	}
	return "openid " + s
}

// Begin implements oauth.Upstream: a fresh state, nonce and PKCE verifier, and the
// authorization URL — a pushed request's (RFC 9126 §4) when the upstream
// advertises pushed_authorization_request_endpoint, a plain one otherwise.
func (c *Client) Begin(ctx context.Context, p *oauth.IdentityProvider, callback string, ask oauth.UpstreamAsk) (*oauth.UpstreamStart, error) {
	if err := checkProvider(p); err != nil {
		return nil, err
	}
	if callback == "" {
		return nil, invalid("no callback URL")
	}
	up, err := c.discover(ctx, p.Issuer)
	if err != nil {
		return nil, err
	}
	// RFC 7636 §4.1: a verifier of 43-128 characters from 32 random octets; state
	// and nonce carry as much entropy (≥ 128 bits).
	start := &oauth.UpstreamStart{ProviderID: p.ID, State: random(32), Nonce: random(32), CodeVerifier: random(32)}
	challenge := sha256.Sum256([]byte(start.CodeVerifier))
	params := url.Values{
		"response_type":         {"code"},
		"client_id":             {p.ClientID},
		"redirect_uri":          {callback},
		"scope":                 {scope(p)},
		"state":                 {start.State},
		"nonce":                 {start.Nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(challenge[:])},
		"code_challenge_method": {"S256"},
	}
	// OIDC Core §3.1.2.1: the client's prompt=login and max_age are the upstream's
	// to honour (the user authenticates there). prompt=login goes with max_age=0, so
	// that the ID token must carry an auth_time (§2: required "When a max_age request
	// is made") and Finish can tell a new authentication from the upstream's session.
	maxAge := ask.MaxAge
	if ask.Login {
		params.Set("prompt", "login")
		if maxAge == nil {
			zero := 0
			maxAge = &zero
		}
	}
	if maxAge != nil {
		v := *maxAge
		start.MaxAge = &v
		params.Set("max_age", strconv.Itoa(v))
	}
	if up.meta.PAREndpoint != "" {
		requestURI, err := c.push(ctx, p, up, params)
		if err != nil {
			return nil, err
		}
		// RFC 9126 §4: the authorization request carries client_id and request_uri.
		params = url.Values{"client_id": {p.ClientID}, "request_uri": {requestURI}}
	} else if up.meta.RequirePAR {
		return nil, invalid("%s requires pushed authorization requests but advertises no pushed_authorization_request_endpoint", p.Issuer)
	}
	start.AuthorizationURL = withQuery(up.authorize, params)
	return start, nil
}

// withQuery adds params to u's query, keeping the query u has (OIDC Core §3.1.2.1
// allows an authorization endpoint with one).
func withQuery(u *url.URL, params url.Values) string {
	v := *u
	q := v.Query()
	for k, vs := range params {
		q[k] = vs
	}
	v.RawQuery = q.Encode()
	return v.String()
}

// push sends the authorization request to the PAR endpoint (RFC 9126 §2.1) and
// returns its request_uri (§2.2).
func (c *Client) push(ctx context.Context, p *oauth.IdentityProvider, up *upstream, params url.Values) (string, error) {
	form := url.Values{}
	for k, vs := range params {
		form[k] = vs
	}
	status, body, err := c.post(ctx, p, up, "pushed authorization request endpoint", up.meta.PAREndpoint, form)
	if err != nil {
		return "", err
	}
	// RFC 9126 §2.2: "201 Created"; 200 is accepted from servers that answer so.
	if status != http.StatusCreated && status != http.StatusOK {
		return "", answerError("pushed authorization request endpoint", status, body)
	}
	var resp struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  any    `json:"expires_in"`
	}
	if err := decodeJSON(body, &resp); err != nil || resp.RequestURI == "" {
		return "", unavailable("pushed authorization request endpoint answered no request_uri")
	}
	return resp.RequestURI, nil
}

// Authorization-response error codes (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6), by
// what they mean for the broker's own client.
var (
	// The user or the upstream's policy refused: the client hears the same code.
	userErrors = map[string]bool{
		"access_denied": true, "login_required": true, "interaction_required": true,
		"consent_required": true, "account_selection_required": true,
	}
	// The upstream is failing: a 503 page, like a network failure.
	serverErrors = map[string]bool{"server_error": true, "temporarily_unavailable": true}
	// The upstream refused the broker's own request: a misconfiguration of the
	// broker's registration, never the client's fault, so never passed on as if
	// the client's request had been wrong.
	requestErrors = map[string]bool{
		"invalid_request": true, "unauthorized_client": true, "unsupported_response_type": true,
		"invalid_scope": true, "invalid_request_uri": true, "invalid_request_object": true,
		"request_not_supported": true, "request_uri_not_supported": true, "registration_not_supported": true,
	}
)

// single returns the one value of name in q: "" when absent, ok false when repeated
// (RFC 6749 §3.1: parameters "MUST NOT be included more than once").
func single(q url.Values, name string) (string, bool) {
	switch vs := q[name]; len(vs) {
	case 0:
		return "", true
	case 1:
		return vs[0], true
	default:
		return "", false
	}
}

// Finish implements oauth.Upstream: the callback's state and iss, an error answer,
// the code exchange and the ID token's validation.
func (c *Client) Finish(ctx context.Context, p *oauth.IdentityProvider, start *oauth.UpstreamStart, callback string, query url.Values) (*oauth.UpstreamIdentity, error) {
	if err := checkProvider(p); err != nil {
		return nil, err
	}
	// RFC 9700 §4.4.2: the response is checked against the provider this browser
	// transaction was sent to; a start of another provider is a mix-up.
	if callback == "" {
		return nil, invalid("no callback URL")
	}
	if start == nil || start.State == "" || start.ProviderID != p.ID {
		return nil, invalid("the callback is not for identity provider %s", p.ID)
	}
	// RFC 6749 §10.12 / OIDC Core §3.1.2.7: the state must be the one this browser
	// transaction sent.
	state, ok := single(query, "state")
	if !ok || subtle.ConstantTimeCompare([]byte(state), []byte(start.State)) != 1 {
		return nil, invalid("state does not match this browser transaction")
	}
	up, err := c.discover(ctx, p.Issuer)
	if err != nil {
		return nil, err
	}
	// RFC 9207 §2.4: "Clients that support this specification MUST extract the
	// value of the iss parameter from authorization responses they receive if the
	// parameter is present" and compare it with the expected issuer by simple
	// string comparison; when the upstream advertises
	// authorization_response_iss_parameter_supported, a response without iss
	// "MUST" be rejected.
	iss, ok := single(query, "iss")
	if !ok {
		return nil, invalid("iss repeated in the authorization response")
	}
	if _, present := query["iss"]; present {
		if iss != p.Issuer {
			return nil, invalid("iss of the authorization response is not %s (RFC 9207)", p.Issuer)
		}
	} else if up.meta.IssParameterSupported {
		return nil, invalid("the authorization response lacks iss, which %s advertises (RFC 9207)", p.Issuer)
	}
	if code, present := query["error"]; present {
		if len(code) != 1 {
			return nil, invalid("error repeated in the authorization response")
		}
		return nil, authorizationError(code[0])
	}
	code, ok := single(query, "code")
	if !ok || code == "" {
		return nil, invalid("the authorization response has no single code")
	}
	tokens, err := c.exchange(ctx, p, up, start, callback, code)
	if err != nil {
		return nil, err
	}
	return c.identity(ctx, p, up, start, tokens)
}

// authorizationError maps an error of the authorization response. Codes outside
// the three lists (extensions, typos) become access_denied: the upstream did
// refuse the login, and the client gets a code it knows instead of a dead end.
func authorizationError(code string) error {
	switch {
	case userErrors[code]:
		return &oauth.UpstreamError{Code: code}
	case serverErrors[code]:
		return unavailable("the authorization response says %s", code)
	case requestErrors[code]:
		return invalid("the upstream refused the broker's authorization request: %s", code)
	default:
		return &oauth.UpstreamError{Code: "access_denied"}
	}
}

// answerError is the error of an upstream endpoint's non-success answer: 5xx
// unavailable, anything else invalid, named by status and, when the body is an
// RFC 6749 §5.2 error with a registered code, that code — never other body text.
func answerError(endpoint string, status int, body []byte) error {
	if status >= 500 {
		return unavailable("%s answered %d", endpoint, status)
	}
	var e struct {
		Error string `json:"error"`
	}
	if decodeJSON(body, &e) == nil && registeredTokenErrors[e.Error] {
		return invalid("%s answered %d %s", endpoint, status, e.Error)
	}
	return invalid("%s answered %d", endpoint, status)
}

// registeredTokenErrors are RFC 6749 §5.2's codes, RFC 9126 §2.3's and RFC 9449's,
// the only body text an error message quotes.
var registeredTokenErrors = map[string]bool{
	"invalid_request": true, "invalid_client": true, "invalid_grant": true, "unauthorized_client": true,
	"unsupported_grant_type": true, "invalid_scope": true, "invalid_request_uri": true,
	"invalid_request_object": true, "invalid_dpop_proof": true, "use_dpop_nonce": true,
}

// do sends req bounded by the timeout and reads at most MaxResponse bytes of the
// answer. A network failure, a timeout or an oversized answer is unavailable.
func (c *Client) do(ctx context.Context, endpoint string, req *http.Request) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is named by endpoint; no query strings in logs
		}
		return 0, nil, nil, fmt.Errorf("%w: %s: %w", oauth.ErrUpstreamUnavailable, endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: %s: read the answer: %w", oauth.ErrUpstreamUnavailable, endpoint, err)
	}
	if len(body) > MaxResponse {
		return 0, nil, nil, unavailable("%s answered more than %d bytes", endpoint, MaxResponse)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// post sends form to an endpoint of the upstream with the broker's client
// authentication.
func (c *Client) post(ctx context.Context, p *oauth.IdentityProvider, up *upstream, endpoint, target string, form url.Values) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, target, nil)
	if err != nil {
		return 0, nil, invalid("%s is not a URL", endpoint)
	}
	if err := c.authenticate(p, up, req, form); err != nil {
		return 0, nil, err
	}
	encoded := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(encoded))
	req.ContentLength = int64(len(encoded))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(encoded)), nil }
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	status, _, body, err := c.do(ctx, endpoint, req)
	return status, body, err
}
