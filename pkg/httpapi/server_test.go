package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/httpapi"
	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
	"github.com/pargate/pargate/pkg/proc"
	"github.com/pargate/pargate/pkg/seed"
)

// Fixture credentials. Secrets are 43+ characters, as the seed requires.
const (
	confID       = "conf-client"
	confSecret   = "conf-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	postID       = "post-client"
	postSecret   = "post-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	publicID     = "public-client"
	twoURIID     = "two-uri-client"
	twoURISecret = "twouri-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	parOnlyID    = "par-only-client"
	parOnlySec   = "paronly-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	// serviceID has the client_credentials grant only (RFC 6749 §4.4).
	serviceID     = "service-client"
	serviceSecret = "service-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	redirectURI   = "https://client.example.org/cb"
	// postLogoutURI is confID's one post_logout_redirect_uri (RP-Initiated Logout 1.0 §3).
	postLogoutURI = "https://client.example.org/signed-out?from=op"
	verifier      = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	// The resource indicators (RFC 8707) registered for confID.
	apiResource    = "https://api.example.org/v1"
	ledgerResource = "urn:example:ledger"
	challenge      = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	username       = httpapitest.Username
	password       = httpapitest.Password
)

// seedJSON registers the clients of the tests. Those with redirect URIs are
// registered with consent: always, so that every authorization shows the consent
// page the tests step through; consent_test.go registers a client with the default
// (remembered consent, docs/design.md decision 32).
var seedJSON = `{
 "clients": [
  {"client_id": "` + confID + `", "client_name": "Conf App", "client_secret": "` + confSecret + `",
   "consent": "always", "redirect_uris": ["` + redirectURI + `"], "scope": "openid profile email offline_access",
   "post_logout_redirect_uris": ["` + postLogoutURI + `"],
   "grant_types": ["authorization_code", "refresh_token"], "resources": ["` + apiResource + `", "` + ledgerResource + `"]},
  {"client_id": "` + postID + `", "client_secret": "` + postSecret + `", "token_endpoint_auth_method": "client_secret_post",
   "consent": "always", "redirect_uris": ["` + redirectURI + `"], "scope": "openid profile"},
  {"client_id": "` + publicID + `", "token_endpoint_auth_method": "none",
   "consent": "always", "redirect_uris": ["http://127.0.0.1:9999/cb"], "scope": "openid offline_access",
   "grant_types": ["authorization_code", "refresh_token"]},
  {"client_id": "` + twoURIID + `", "client_secret": "` + twoURISecret + `",
   "consent": "always", "redirect_uris": ["https://a.example.org/cb", "https://b.example.org/cb"], "scope": "openid"},
  {"client_id": "` + parOnlyID + `", "client_secret": "` + parOnlySec + `", "require_pushed_authorization_requests": true,
   "consent": "always", "redirect_uris": ["` + redirectURI + `"], "scope": "openid"},
  {"client_id": "` + serviceID + `", "client_secret": "` + serviceSecret + `", "grant_types": ["client_credentials"],
   "scope": "openid api reports", "resources": ["` + apiResource + `"]}
 ],
 "users": [{"username": "` + username + `", "password": "` + password + `",
   "claims": {"name": "Alice Example", "email": "alice@example.org", "email_verified": true}}]
}`

type testServer struct {
	*httptest.Server
	clock   *oauthtest.Clock // nil with withWallClock
	keys    *keys.Set
	handler *httpapi.Handler
}

// serverOptions are what newServer builds a server from.
type serverOptions struct {
	env       map[string]string
	store     oauth.Store
	keySource func(*keys.Set) keys.Source
	cookieKey func(context.Context) ([32]byte, error)
	// cookieKeys is app.Parts.CookieKeys (cookie_test.go withCookieKeys).
	cookieKeys func(context.Context) ([]httpapi.CookieKey, error)
	// dpopNonceKey is app.Parts.DPoPNonceKey (cookie_test.go withDPoPNonceKey).
	dpopNonceKey func(context.Context) ([32]byte, error)
	logs         io.Writer
	metrics      io.Writer
	wallClock    bool
	// requestIDs is app.Parts.RequestIDs (awsapp.RequestIDs in the functions).
	requestIDs func(*http.Request) (id, invocation string)
	// clientCerts is app.Parts.ClientCertificates (mtls_test.go withClientCertificates).
	clientCerts httpapi.ClientCertificates
	// upstream is app.Parts.Upstream (federation_test.go withUpstream).
	upstream oauth.Upstream
}

// serverOption changes one thing newServer builds.
type serverOption func(*serverOptions)

// withEnv is the configuration's environment. ISSUER defaults to the server's URL.
func withEnv(env map[string]string) serverOption {
	return func(o *serverOptions) { o.env = env }
}

// withStore serves store, already seeded, instead of a new in-memory store seeded
// with seedJSONWithKeys.
func withStore(store oauth.Store) serverOption {
	return func(o *serverOptions) { o.store = store }
}

// withKeySource signs with the source src makes over the server's key set (ts.keys)
// instead of keys.Static.
func withKeySource(src func(*keys.Set) keys.Source) serverOption {
	return func(o *serverOptions) { o.keySource = src }
}

// withCookieKey replaces the fixed cookie key.
func withCookieKey(key func(context.Context) ([32]byte, error)) serverOption {
	return func(o *serverOptions) { o.cookieKey = key }
}

// withLogs keeps the logs in w, as JSON lines from the debug level up, as in Lambda;
// without it they are discarded.
func withLogs(w io.Writer) serverOption {
	return func(o *serverOptions) { o.logs = w }
}

// withMetrics sends the EMF metrics lines (METRICS=true) to w.
func withMetrics(w io.Writer) serverOption {
	return func(o *serverOptions) { o.metrics = w }
}

// withRequestIDs reads the platform's request ids with ids, as the functions do with
// awsapp.RequestIDs.
func withRequestIDs(ids func(*http.Request) (id, invocation string)) serverOption {
	return func(o *serverOptions) { o.requestIDs = ids }
}

// withWallClock makes the server read time.Now instead of the settable ts.clock, for
// inputs that carry times of their own (the fuzz targets).
func withWallClock() serverOption {
	return func(o *serverOptions) { o.wallClock = true }
}

// newServer serves every route through httptest, by default over the in-memory store
// seeded with seedJSONWithKeys, signing with a new ES256 key set, at the time of
// ts.clock and with the logs discarded.
func newServer(tb testing.TB, opts ...serverOption) *testServer {
	tb.Helper()
	o := serverOptions{
		keySource: keys.Static,
		cookieKey: func(context.Context) ([32]byte, error) { return [32]byte{1, 2, 3}, nil },
		logs:      io.Discard,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.store == nil {
		o.store = seededStore(tb, memory.New())
	}
	set := httpapitest.KeySet(tb, keys.ES256)
	ts := &testServer{keys: set}
	var h http.Handler
	ts.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	ts.Start()
	tb.Cleanup(ts.Close)
	cfg, err := config.FromEnv(func(name string) string {
		if v, ok := o.env[name]; ok || name != "ISSUER" {
			return v
		}
		return ts.URL
	})
	if err != nil {
		tb.Fatal(err)
	}
	parts := app.Parts{
		Store:         o.store,
		Signer:        keys.NewSigner(o.keySource(set)),
		CookieKey:     o.cookieKey,
		CookieKeys:    o.cookieKeys,
		DPoPNonceKey:  o.dpopNonceKey,
		Logger:        httpapi.NewJSONLogger(o.logs, slog.LevelDebug),
		MetricsOutput: o.metrics,
		RequestIDs:    o.requestIDs,
		// The interface value stays nil without one (a typed nil would not).
		ClientCertificates: o.clientCerts,
	}
	if o.upstream != nil {
		parts.Upstream = o.upstream
	}
	if !o.wallClock {
		ts.clock = oauthtest.NewClock(time.Now())
		parts.Now = ts.clock.Now
	}
	ts.handler = app.NewHandler(cfg, parts)
	h = ts.handler.Routes()
	return ts
}

// seededStore imports the test seed (seedJSONWithKeys) into store and returns it.
func seededStore[S interface {
	oauth.Store
	oauth.Registry
}](tb testing.TB, store S) S {
	tb.Helper()
	f, err := seed.Parse([]byte(seedJSONWithKeys(tb)))
	if err != nil {
		tb.Fatal(err)
	}
	if err := seed.Import(context.Background(), store, f); err != nil {
		tb.Fatal(err)
	}
	return store
}

// syncBuffer is a log or metrics output that handlers write to concurrently.
type syncBuffer = proc.SyncWriter

// pushParams are valid pushed-request parameters for confID.
func pushParams() url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {confID}, "redirect_uri": {redirectURI},
		"scope": {"openid profile email"}, "state": {"xyz-state"}, "nonce": {"n-123"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

type response struct {
	Status int
	Header http.Header
	Body   string
	JSON   map[string]any
}

func (ts *testServer) do(tb testing.TB, c *http.Client, method, path, auth, contentType, body string) response {
	tb.Helper()
	return ts.doWithHeader(tb, c, method, path, auth, contentType, body, nil)
}

// doWithHeader is do with the request headers in header set as well.
func (ts *testServer) doWithHeader(tb testing.TB, c *http.Client, method, path, auth, contentType, body string, header map[string]string) response {
	tb.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = httpapitest.NoRedirect(nil)
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &r.JSON); err != nil {
			tb.Fatalf("%s %s: bad JSON %q: %v", method, path, b, err)
		}
	}
	return r
}

const form = "application/x-www-form-urlencoded"

// push pushes params for client id/secret and returns the request_uri.
func (ts *testServer) push(tb testing.TB, id, secret string, params url.Values) string {
	tb.Helper()
	r := ts.do(tb, nil, http.MethodPost, "/par", basic(id, secret), form, params.Encode())
	if r.Status != http.StatusCreated {
		tb.Fatalf("push: %d %s", r.Status, r.Body)
	}
	return r.JSON["request_uri"].(string)
}

// browser is the shared cookie-jar browser (httpapitest) on ts, whose pages come back
// as responses.
type browser struct {
	*httpapitest.Browser
}

func (ts *testServer) browser(tb testing.TB) *browser {
	tb.Helper()
	return &browser{httpapitest.NewBrowser(tb, ts.URL)}
}

// asResponse is the page as a response, its JSON body decoded.
func asResponse(tb testing.TB, p httpapitest.Page) response {
	tb.Helper()
	r := response{Status: p.Status, Header: p.Header, Body: p.Body}
	if strings.HasPrefix(p.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal([]byte(p.Body), &r.JSON); err != nil {
			tb.Fatalf("%s: bad JSON %q: %v", p.URL, p.Body, err)
		}
	}
	return r
}

func (b *browser) get(tb testing.TB, pathAndQuery string) response {
	tb.Helper()
	return asResponse(tb, b.Get(tb, pathAndQuery))
}

// submit posts the page's form with its hidden fields plus extra.
func (b *browser) submit(tb testing.TB, page response, extra url.Values) response {
	tb.Helper()
	v := httpapitest.HiddenFields(page.Body)
	if v.Get("pargate_step") == "" {
		tb.Fatalf("no form on page: %s", page.Body)
	}
	for k, vs := range extra {
		v[k] = vs
	}
	return asResponse(tb, b.Post(tb, "/authorize", v))
}

func authorizePath(clientID, requestURI string) string {
	return "/authorize?" + url.Values{"client_id": {clientID}, "request_uri": {requestURI}}.Encode()
}

// login follows a pushed request through the login page to the consent page.
func (b *browser) login(tb testing.TB, clientID, requestURI string) response {
	tb.Helper()
	return asResponse(tb, b.SignIn(tb, b.Get(tb, authorizePath(clientID, requestURI)), username, password))
}

// approve approves on the consent page and returns the authorization response.
func (b *browser) approve(tb testing.TB, consent response) url.Values {
	tb.Helper()
	r := b.submit(tb, consent, url.Values{"decision": {"approve"}})
	if r.Status != http.StatusSeeOther {
		tb.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		tb.Fatal(err)
	}
	return u.Query()
}
