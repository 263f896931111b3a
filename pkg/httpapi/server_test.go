package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/memory"
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
	redirectURI  = "https://client.example.org/cb"
	verifier     = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	challenge    = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	username     = "alice"
	password     = "correct horse battery staple"
)

var seedJSON = `{
 "clients": [
  {"client_id": "` + confID + `", "client_name": "Conf App", "client_secret": "` + confSecret + `",
   "redirect_uris": ["` + redirectURI + `"], "scope": "openid profile email offline_access",
   "grant_types": ["authorization_code", "refresh_token"]},
  {"client_id": "` + postID + `", "client_secret": "` + postSecret + `", "token_endpoint_auth_method": "client_secret_post",
   "redirect_uris": ["` + redirectURI + `"], "scope": "openid profile"},
  {"client_id": "` + publicID + `", "token_endpoint_auth_method": "none",
   "redirect_uris": ["http://127.0.0.1:9999/cb"], "scope": "openid offline_access",
   "grant_types": ["authorization_code", "refresh_token"]},
  {"client_id": "` + twoURIID + `", "client_secret": "` + twoURISecret + `",
   "redirect_uris": ["https://a.example.org/cb", "https://b.example.org/cb"], "scope": "openid"},
  {"client_id": "` + parOnlyID + `", "client_secret": "` + parOnlySec + `", "require_pushed_authorization_requests": true,
   "redirect_uris": ["` + redirectURI + `"], "scope": "openid"}
 ],
 "users": [{"username": "` + username + `", "password": "` + password + `",
   "claims": {"name": "Alice Example", "email": "alice@example.org", "email_verified": true}}]
}`

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type testServer struct {
	*httptest.Server
	clock *clock
	keys  *keys.Set
}

// newServer serves every route over the in-memory store, seeded with seedJSON.
func newServer(tb testing.TB, env map[string]string) *testServer {
	tb.Helper()
	f, err := seed.Parse([]byte(seedJSONWithKeys(tb)))
	if err != nil {
		tb.Fatal(err)
	}
	store := memory.New()
	if err := seed.Import(context.Background(), store, f); err != nil {
		tb.Fatal(err)
	}
	k, err := keys.Generate(keys.ES256)
	if err != nil {
		tb.Fatal(err)
	}
	set, err := keys.NewSet(k)
	if err != nil {
		tb.Fatal(err)
	}
	ts := &testServer{clock: &clock{now: time.Now()}, keys: set}
	var h http.Handler
	ts.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	ts.Start()
	tb.Cleanup(ts.Close)
	cfg, err := config.FromEnv(func(name string) string {
		if name == "ISSUER" {
			return ts.URL
		}
		return env[name]
	})
	if err != nil {
		tb.Fatal(err)
	}
	h = app.NewHandler(cfg, app.Parts{
		Store:     store,
		Signer:    keys.NewSigner(keys.Static(set)),
		CookieKey: func(context.Context) ([32]byte, error) { return [32]byte{1, 2, 3}, nil },
		Now:       ts.clock.Now,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}).Routes()
	return ts
}

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
	if c == nil {
		c = noRedirect(nil)
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

// noRedirect is a client with jar that does not follow redirects.
func noRedirect(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// browser is a user agent with a cookie jar that reads the HTML forms.
type browser struct {
	ts *testServer
	c  *http.Client
}

func (ts *testServer) browser(tb testing.TB) *browser {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return &browser{ts: ts, c: noRedirect(jar)}
}

func (b *browser) get(tb testing.TB, pathAndQuery string) response {
	tb.Helper()
	return b.ts.do(tb, b.c, http.MethodGet, pathAndQuery, "", "", "")
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// submit posts the page's form with its hidden fields plus extra.
func (b *browser) submit(tb testing.TB, page response, extra url.Values) response {
	tb.Helper()
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page.Body, -1) {
		v.Set(m[1], htmlUnescape(m[2]))
	}
	if v.Get("action") == "" {
		tb.Fatalf("no form on page: %s", page.Body)
	}
	for k, vs := range extra {
		v[k] = vs
	}
	return b.ts.do(tb, b.c, http.MethodPost, "/authorize", "", form, v.Encode())
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

func authorizePath(clientID, requestURI string) string {
	return "/authorize?" + url.Values{"client_id": {clientID}, "request_uri": {requestURI}}.Encode()
}

// login follows a pushed request through the login page to the consent page.
func (b *browser) login(tb testing.TB, clientID, requestURI string) response {
	tb.Helper()
	page := b.get(tb, authorizePath(clientID, requestURI))
	if page.Status != http.StatusOK || !strings.Contains(page.Body, `name="password"`) {
		tb.Fatalf("login page: %d %s", page.Status, page.Body)
	}
	r := b.submit(tb, page, url.Values{"username": {username}, "password": {password}})
	if r.Status != http.StatusSeeOther {
		tb.Fatalf("login: %d %s", r.Status, r.Body)
	}
	consent := b.get(tb, r.Header.Get("Location"))
	if consent.Status != http.StatusOK || !strings.Contains(consent.Body, `value="approve"`) {
		tb.Fatalf("consent page: %d %s", consent.Status, consent.Body)
	}
	return consent
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
