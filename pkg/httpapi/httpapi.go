// Package httpapi is the HTTP edge of the authorization server: it parses requests,
// calls the oauth core and renders JSON, redirects and HTML pages. Status codes and
// protocol headers are decided here and nowhere else. The same handlers serve the
// local API and, through the api-proxy adapter, the Lambda functions.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pargate/pargate/pkg/metrics"
	"github.com/pargate/pargate/pkg/oauth"
)

// Paths of the endpoints, as template.yaml routes them.
const (
	PathPAR            = "/par"
	PathAuthorize      = "/authorize"
	PathToken          = "/token"
	PathJWKS           = "/jwks"
	PathRevoke         = "/revoke"
	PathIntrospect     = "/introspect"
	PathUserinfo       = "/userinfo"
	PathLogout         = "/logout"
	PathASMetadata     = "/.well-known/oauth-authorization-server"
	PathOIDCMetadata   = "/.well-known/openid-configuration"
	maxBodyBytes       = 64 << 10
	formContentType    = "application/x-www-form-urlencoded"
	jsonContentType    = "application/json;charset=UTF-8"
	defaultRetryAfterS = "1"
)

// Endpoints are the public URLs of the endpoints under one issuer: what metadata
// publishes, what a DPoP proof's htu must name (RFC 9449 §4.3: compared with the
// published URL, never one rebuilt from the request's Host) and what a client
// assertion's aud may name (RFC 7523 §3). They are built here and nowhere else.
type Endpoints struct {
	Authorization, PAR, Token, JWKS, Revocation, Introspection, Userinfo string
	// EndSession is RP-Initiated Logout 1.0's end_session_endpoint.
	EndSession string
}

// EndpointsOf returns the endpoint URLs under issuer.
func EndpointsOf(issuer string) Endpoints {
	return Endpoints{
		Authorization: issuer + PathAuthorize,
		PAR:           issuer + PathPAR,
		Token:         issuer + PathToken,
		JWKS:          issuer + PathJWKS,
		Revocation:    issuer + PathRevoke,
		Introspection: issuer + PathIntrospect,
		Userinfo:      issuer + PathUserinfo,
		EndSession:    issuer + PathLogout,
	}
}

// KeySet publishes the public signing keys; *keys.Signer is one.
type KeySet interface {
	// PublicJWKS returns the JWK Set document of the public keys in use (RFC 7517 §5).
	PublicJWKS(ctx context.Context) ([]byte, error)
	// LoadAlgorithms lists the JWS algorithms of the keys, for discovery.
	LoadAlgorithms(ctx context.Context) ([]string, error)
}

// Options wires a Handler.
type Options struct {
	Service *oauth.Service
	// Keys publishes the JWKS and the signing algorithms.
	Keys KeySet
	// CookieKey returns the 32-byte key that seals transaction cookies. It may load
	// the key lazily (from Secrets Manager on first use). It is the one key, with id
	// "0", of a server without CookieKeys.
	CookieKey oauth.KeyFunc
	// CookieKeys, if set, returns the cookie keys instead, newest first: the first
	// seals, every one opens, and the id travels with the sealed value, so the key
	// can rotate without ending the transactions under way (session.go).
	CookieKeys func(context.Context) ([]CookieKey, error)
	// ScopesSupported is published in discovery.
	ScopesSupported []string
	// Logger receives one access line per request (observe.go).
	Logger *slog.Logger
	// Metrics, if set, receives one EMF metrics line per request (observe.go).
	Metrics *metrics.Emitter
	// RequestIDs, if set, returns the ids the platform gave the request: its own id
	// (behind API Gateway, requestContext.requestId) and the invocation's (in Lambda,
	// the Lambda request id); either may be empty. pkg/awsapp provides it, so the edge
	// knows nothing of Lambda.
	RequestIDs func(r *http.Request) (id, invocation string)
	// RequestDeadline, if positive, is the one deadline of each request, set once by
	// observe: the store calls of the request run under it instead of a timer each
	// (app.WithDeadlines). pkg/app sets it to app.StoreCallTimeout. It is not armed
	// when the service's store is in-process (oauth.InProcess, the in-memory store):
	// no call of it can outlast it.
	RequestDeadline time.Duration
	// ClientCertificates reads the TLS client certificate of a request (RFC 8705);
	// nil means requests never carry one.
	ClientCertificates ClientCertificates
	// MTLSBaseURL, if set, is the https origin serving the endpoints with mutual
	// TLS (an API Gateway custom domain with a truststore; locally the TLS
	// listener): published as mtls_endpoint_aliases (RFC 8705 §5), and with it the
	// tls_client_auth methods and tls_client_certificate_bound_access_tokens.
	MTLSBaseURL string
	// Upstream is the relying-party side of brokered login (issue 13;
	// pkg/federation): with it, and a Service WithFederation, the login page offers
	// the client's identity providers and /federation/callback takes their answers.
	Upstream oauth.Upstream
}

// Handler serves the endpoints.
type Handler struct {
	opts Options
	svc  *oauth.Service
	log  *slog.Logger
	urls Endpoints
	// mtls are the endpoints under Options.MTLSBaseURL (RFC 8705 §5); mtlsHost is
	// its host, by which a request to an alias is told from one to the issuer's.
	mtls     *Endpoints
	mtlsHost string
	secure   bool
	// deadlines: the store is remote (not oauth.InProcess), so requests get
	// RequestDeadline and the back channel its requestTimeout bound.
	deadlines bool
	// mu guards endpoints, each route's handler once built (endpoint), and
	// discoveryHandler, the one handler of the three discovery paths.
	mu               sync.Mutex
	endpoints        map[string]http.Handler
	discoveryHandler http.Handler
	// pageError answers an error with a page (errorPageStatus). It is set when the
	// authorization endpoint, the one with pages, is built (authorizeWithPages): a
	// function without that endpoint links no page.
	pageError func(w http.ResponseWriter, r *http.Request, status int, err error)
}

// New returns a Handler.
func New(opts Options) *Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	issuer := opts.Service.Config().Issuer
	h := &Handler{
		opts: opts,
		svc:  opts.Service,
		log:  opts.Logger,
		urls: EndpointsOf(issuer),
		// Cookies are Secure except for a local http issuer (docs/design.md, Contracts).
		secure:    !strings.HasPrefix(issuer, "http://"),
		deadlines: !opts.Service.StoreInProcess(),
		endpoints: map[string]http.Handler{},
	}
	if base := opts.MTLSBaseURL; base != "" {
		aliases := EndpointsOf(base)
		h.mtls = &aliases
		if u, err := url.Parse(base); err == nil {
			h.mtlsHost = u.Host
		}
	}
	return h
}

// Each endpoint is built on first use, not in New: a Lambda function asks for its
// own route only, so the linker leaves out the handlers, pages and templates of
// every other (docs/design.md decision 25).

// PAR serves the pushed authorization request endpoint (RFC 9126 §2).
func (h *Handler) PAR() http.Handler {
	return h.endpoint(PathPAR, func() http.Handler { return h.clientCORS(http.MethodPost, h.par()) })
}

// Authorize serves the authorization endpoint: the pushed (or direct) request, the
// login page and the consent page, and the authorization response.
func (h *Handler) Authorize() http.Handler { return h.endpoint(PathAuthorize, h.authorizeWithPages) }

// Logout serves RP-Initiated Logout 1.0's end_session_endpoint (logout.go).
func (h *Handler) Logout() http.Handler { return h.endpoint(PathLogout, h.logoutWithPages) }

// AuthorizeFunction serves the routes of the authorize function: the authorization
// endpoint and the logout endpoint, which share the session cookie and the pages.
func (h *Handler) AuthorizeFunction() http.Handler {
	return h.mux(map[string]http.Handler{PathAuthorize: h.Authorize(), PathLogout: h.Logout(), PathFederationCallback: h.FederationCallback()})
}

// FederationCallback serves GET /federation/callback, the broker's redirect URI at
// upstream identity providers (federation.go).
func (h *Handler) FederationCallback() http.Handler {
	return h.endpoint(PathFederationCallback, h.federationCallbackWithPages)
}

// Token serves the token endpoint (RFC 6749 §3.2).
func (h *Handler) Token() http.Handler {
	return h.endpoint(PathToken, func() http.Handler { return h.clientCORS(http.MethodPost, h.token()) })
}

// Revoke serves the revocation endpoint (RFC 7009 §2).
func (h *Handler) Revoke() http.Handler {
	return h.endpoint(PathRevoke, func() http.Handler { return h.clientCORS(http.MethodPost, h.revoke()) })
}

// Introspect serves the introspection endpoint (RFC 7662 §2).
func (h *Handler) Introspect() http.Handler { return h.endpoint(PathIntrospect, h.introspect) }

// Userinfo serves the UserInfo endpoint (OIDC Core §5.3).
func (h *Handler) Userinfo() http.Handler {
	return h.endpoint(PathUserinfo, func() http.Handler { return h.clientCORS("GET, POST", h.userinfo()) })
}

// Discovery serves both metadata documents and the JWKS.
func (h *Handler) Discovery() http.Handler { return h.endpoint(PathJWKS, h.sharedDiscovery) }

// Routes serves every endpoint, as the local API does.
func (h *Handler) Routes() http.Handler {
	return h.mux(map[string]http.Handler{
		PathPAR:                h.PAR(),
		PathAuthorize:          h.Authorize(),
		PathLogout:             h.Logout(),
		PathFederationCallback: h.FederationCallback(),
		PathToken:              h.Token(),
		PathRevoke:             h.Revoke(),
		PathIntrospect:         h.Introspect(),
		PathUserinfo:           h.Userinfo(),
		PathASMetadata:         h.endpoint(PathASMetadata, h.sharedDiscovery),
		PathOIDCMetadata:       h.endpoint(PathOIDCMetadata, h.sharedDiscovery),
		PathJWKS:               h.Discovery(),
	})
}

// TokenEndpoints serves the endpoints that hold tokens — token, revocation,
// introspection, userinfo — for the token Lambda function.
func (h *Handler) TokenEndpoints() http.Handler {
	return h.mux(map[string]http.Handler{
		PathToken:      h.Token(),
		PathRevoke:     h.Revoke(),
		PathIntrospect: h.Introspect(),
		PathUserinfo:   h.Userinfo(),
	})
}

// endpoint is the endpoint of path, made by build once: the one place the endpoints
// are wrapped. Every handler, alone (a Lambda function) or in a mux, writes one
// access log line and one metrics line per request (observe.go), and has a body
// limit (limits.go) inside the observation, so a refused body still gets its access
// line.
func (h *Handler) endpoint(path string, build func() http.Handler) http.Handler {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e, ok := h.endpoints[path]; ok {
		return e
	}
	e := h.observe(h.limitBody(path, build()))
	h.endpoints[path] = e
	return e
}

// sharedDiscovery is the one discovery handler behind the metadata and JWKS paths.
// It is called with h.mu held (endpoint).
func (h *Handler) sharedDiscovery() http.Handler {
	if h.discoveryHandler == nil {
		h.discoveryHandler = h.publicCORS(h.discovery())
	}
	return h.discoveryHandler
}

// authorizeWithPages is the authorization endpoint, its pages parsed before the
// first request. It is called with h.mu held (endpoint).
func (h *Handler) authorizeWithPages() http.Handler {
	loadPages()
	h.pageError = h.errorPageStatus
	return h.authorize()
}

// federationCallbackWithPages is the upstream callback, its pages parsed before
// the first request. It is called with h.mu held (endpoint).
func (h *Handler) federationCallbackWithPages() http.Handler {
	loadPages()
	h.pageError = h.errorPageStatus
	return h.federationCallback()
}

// logoutWithPages is the logout endpoint, its pages parsed before the first request.
// It is called with h.mu held (endpoint).
func (h *Handler) logoutWithPages() http.Handler {
	loadPages()
	h.pageError = h.errorPageStatus
	return h.logout()
}

// mux routes paths to their endpoints. The mux itself is observed too, so a path it
// does not serve (404) gets its access line; observation nests to one.
func (h *Handler) mux(routes map[string]http.Handler) http.Handler {
	mux := http.NewServeMux()
	for p, e := range routes {
		mux.Handle(p, e)
	}
	return h.observe(mux)
}

// statusOf is the one map from error code to HTTP status. RFC 6749 §5.2: "The
// authorization server responds with an HTTP 400 (Bad Request) status code (unless
// specified otherwise)"; a code missing here is 400 too (statusFor).
var statusOf = map[string]int{
	oauth.CodeInvalidRequest:              http.StatusBadRequest,
	oauth.CodeInvalidClient:               http.StatusUnauthorized, // RFC 6749 §5.2 "MAY return an HTTP 401"
	oauth.CodeInvalidGrant:                http.StatusBadRequest,
	oauth.CodeUnauthorizedClient:          http.StatusBadRequest,
	oauth.CodeUnsupportedGrantType:        http.StatusBadRequest,
	oauth.CodeUnsupportedResponseType:     http.StatusBadRequest,
	oauth.CodeInvalidScope:                http.StatusBadRequest,
	oauth.CodeAccessDenied:                http.StatusBadRequest,
	oauth.CodeServerError:                 http.StatusInternalServerError,
	oauth.CodeTemporarilyUnavailable:      http.StatusServiceUnavailable, // docs/design.md decision 10
	oauth.CodeInvalidRequestURI:           http.StatusBadRequest,
	oauth.CodeInvalidRequestObject:        http.StatusBadRequest,
	oauth.CodeLoginRequired:               http.StatusBadRequest,
	oauth.CodeRequestNotSupported:         http.StatusBadRequest,
	oauth.CodeInvalidToken:                http.StatusBadRequest, // 401 at resources: resourceStatusOf
	oauth.CodeInsufficientScope:           http.StatusBadRequest, // 403 at resources: resourceStatusOf
	oauth.CodeUnsupportedTokenType:        http.StatusBadRequest,
	oauth.CodeInvalidAuthorizationDetails: http.StatusBadRequest,
	oauth.CodeInvalidDPoPProof:            http.StatusBadRequest, // RFC 9449 §7.1; 401 at resources
	oauth.CodeUseDPoPNonce:                http.StatusBadRequest, // RFC 9449 §8; 401 at resources (§9)
	oauth.CodeInvalidTarget:               http.StatusBadRequest, // RFC 8707 §2
}

// resourceStatusOf overrides statusOf at a protected resource (userinfo). RFC 6750
// §3.1: invalid_token "SHOULD respond with the HTTP 401 (Unauthorized) status code",
// insufficient_scope "SHOULD respond with the HTTP 403 (Forbidden) status code";
// RFC 9449 §7.1 and §9 answer proof and nonce problems at a resource with 401.
var resourceStatusOf = map[string]int{
	oauth.CodeInvalidToken:      http.StatusUnauthorized,
	oauth.CodeInvalidDPoPProof:  http.StatusUnauthorized,
	oauth.CodeUseDPoPNonce:      http.StatusUnauthorized,
	oauth.CodeInsufficientScope: http.StatusForbidden,
}

const (
	// statusTooLarge answers a body over maxBodyBytes at a back-channel endpoint
	// (RFC 9126 §2.3: "413 Payload Too Large ... if the request did not fit").
	statusTooLarge = http.StatusRequestEntityTooLarge
	// statusFormExpired answers a login or consent form whose CSRF field does not
	// match the transaction: the page refuses the post (docs/design.md, Contracts).
	statusFormExpired = http.StatusForbidden
)

// statusFor is the status of code at an authorization-server endpoint.
func statusFor(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusBadRequest
}

// resourceStatusFor is the status of code at a protected resource.
func resourceStatusFor(code string) int {
	if s, ok := resourceStatusOf[code]; ok {
		return s
	}
	return statusFor(code)
}

// noStore marks a response as not cacheable (RFC 6749 §5.1).
func noStore(w http.ResponseWriter) {
	h := w.Header()
	h["Cache-Control"], h["Pragma"] = noStoreValue, noCacheValue
}

// Header values shared by every response (no slice per header). Their
// length is their capacity, so a later Header.Add copies rather than writes into them.
var (
	noStoreValue = []string{"no-store"}
	noCacheValue = []string{"no-cache"}
	jsonValue    = []string{jsonContentType}
)

// writeJSON writes a protocol response: never cached (RFC 6749 §5.1, docs/design.md decision 10).
func writeJSON(w http.ResponseWriter, status int, v any) {
	noStore(w)
	writeJSONStatus(w, status, v)
}

// writeJSONCacheable writes a public document whose caller set Cache-Control.
func writeJSONCacheable(w http.ResponseWriter, v any) {
	writeJSONStatus(w, http.StatusOK, v)
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	// A pooled buffer and encoder; the body is what json.Marshal writes,
	// without the newline Encode adds.
	je := jsonPool.Get().(*jsonEncoder)
	defer je.put()
	body := serverErrorBody
	if a, ok := v.(jsonAppender); ok {
		// Appended into the pooled buffer's free space, so that once it has grown
		// the body costs no allocation.
		je.buf.Write(a.appendJSON(je.buf.AvailableBuffer()))
		body = je.buf.Bytes()
	} else if err := je.enc.Encode(v); err == nil {
		body = bytes.TrimSuffix(je.buf.Bytes(), []byte("\n"))
	} else {
		status = http.StatusInternalServerError
	}
	w.Header()["Content-Type"] = jsonValue
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// jsonAppender is a response body that writes its JSON itself (pushBody), the bytes
// json.Marshal would write for it.
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// serverErrorBody answers a value that does not encode; a package variable, so the
// happy path does not allocate the literal.
var serverErrorBody = []byte(`{"error":"server_error"}`)

type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonPool = sync.Pool{New: func() any {
	je := &jsonEncoder{}
	je.enc = json.NewEncoder(&je.buf)
	return je
}}

func (je *jsonEncoder) put() {
	if je.buf.Cap() > 64<<10 {
		return // a JWKS or metadata document is small; anything larger is not kept
	}
	je.buf.Reset()
	jsonPool.Put(je)
}

type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeError renders err as an RFC 6749 §5.2 JSON error and notes it for the
// access log line.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := oauth.AsError(err)
	status := statusFor(e.Code)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", defaultRetryAfterS)
	}
	noteError(r.Context(), e)
	writeJSON(w, status, errorBody{Error: e.Code, Description: e.Description})
}

// writeAuthError renders a failed client authentication. RFC 6749 §5.2: if the client
// attempted to authenticate via the "Authorization" request header field, the server
// "MUST respond with an HTTP 401 (Unauthorized) status code and include the
// WWW-Authenticate response header field matching the authentication scheme used by
// the client". RFC 7235 §3.1: "The server generating a 401 response MUST send a
// WWW-Authenticate header field containing at least one challenge applicable to the
// target resource" — so every 401 invalid_client carries one, whatever method the
// client tried; Basic is the one header scheme the server accepts from clients.
func (h *Handler) writeAuthError(w http.ResponseWriter, r *http.Request, _ oauth.ClientCredentials, err error) {
	if statusFor(oauth.AsError(err).Code) == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="pargate", charset="UTF-8"`)
	}
	h.writeError(w, r, err)
}

// methodNotAllowed answers 405 with Allow (RFC 9126 §2.3 for /par; RFC 9110 §15.5.6).
func (h *Handler) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	noteError(r.Context(), oauth.InvalidRequest("method not allowed"))
	writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: oauth.CodeInvalidRequest, Description: "use " + allow})
}

// requestTimeout bounds every request below the Lambda timeout.
const requestTimeout = 8 * time.Second

// aliasFor is the published URL of the endpoint a request reached: its mTLS alias
// (RFC 8705 §5) when the request came to the alias host, else endpoint. It picks
// between the two published URLs by the request's host and never builds one from it
// (a DPoP proof's htu is compared with what it returns).
func (h *Handler) aliasFor(r *http.Request, endpoint string) string {
	if h.mtls == nil || h.mtlsHost == "" || !strings.EqualFold(r.Host, h.mtlsHost) {
		return endpoint
	}
	return h.opts.MTLSBaseURL + strings.TrimPrefix(endpoint, h.svc.Config().Issuer)
}
