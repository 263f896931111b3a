package main

// End-to-end tests: the local API started with Start on a free loopback port and
// driven over real HTTP the way a relying party and a browser drive it — the
// pushed request with net/http, the browser steps with a cookie jar that reads the
// HTML forms, the code exchange with golang.org/x/oauth2 and PKCE, the ID token with
// github.com/coreos/go-oidc/v3 from discovery, and the JWT access token (RFC 9068)
// against the published JWKS.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// Fixture clients and user. Secrets are 43+ characters, as the seed requires.
const (
	appID         = "e2e-app"
	appSecret     = "e2e-app-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	otherID       = "e2e-other"
	otherSecret   = "e2e-other-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	parOnlyID     = "e2e-par-only"
	parOnlySecret = "e2e-paronly-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	// The relying party's redirect URIs. The tests read the Location header of the
	// authorization response and never follow it to these hosts.
	appRedirect   = "https://app.example.com/cb"
	appRedirect2  = "https://app.example.com/other-cb"
	otherRedirect = "https://other.example.net/cb"

	userName     = "alice"
	userPassword = "correct horse battery staple"
	userSubject  = "5f1c3b9e-alice"
)

var seedJSON = `{
 "clients": [
  {"client_id": "` + appID + `", "client_name": "E2E App", "client_secret": "` + appSecret + `",
   "token_endpoint_auth_method": "client_secret_basic",
   "redirect_uris": ["` + appRedirect + `", "` + appRedirect2 + `"],
   "grant_types": ["authorization_code"], "response_types": ["code"], "scope": "openid profile email"},
  {"client_id": "` + otherID + `", "client_secret": "` + otherSecret + `",
   "redirect_uris": ["` + otherRedirect + `", "` + appRedirect + `"], "scope": "openid profile email"},
  {"client_id": "` + parOnlyID + `", "client_secret": "` + parOnlySecret + `",
   "require_pushed_authorization_requests": true,
   "redirect_uris": ["` + appRedirect + `"], "scope": "openid profile"}
 ],
 "users": [{"username": "` + userName + `", "password": "` + userPassword + `",
   "claims": {"sub": "` + userSubject + `", "name": "Alice Example", "email": "alice@example.org",
              "email_verified": true, "preferred_username": "alice"}}]
}`

// clock is the settable clock injected into the server (WithClock), so expiry is
// tested without sleeping.
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

// local is a running local API.
type local struct {
	srv   *Server
	clock *clock
	// meta is the discovery document: tests take endpoint paths from it.
	meta struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
		JWKSURI               string `json:"jwks_uri"`
		PAREndpoint           string `json:"pushed_authorization_request_endpoint"`
		RequirePAR            bool   `json:"require_pushed_authorization_requests"`
	}
}

// start runs the local API on 127.0.0.1:0 over the in-memory store (or what env
// says), seeded from seedJSON written to a temporary file, and stops it at the end.
func start(t *testing.T, env map[string]string) *local {
	t.Helper()
	seedFile := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seedFile, []byte(seedJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"ADDR": "127.0.0.1:0", "SEED_FILE": seedFile, "LOG_LEVEL": "warn"}
	for k, v := range env {
		vars[k] = v
	}
	l := &local{clock: &clock{now: time.Now()}}
	srv, err := Start(t.Context(), func(name string) string { return vars[name] }, WithClock(l.clock.Now))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Close)
	l.srv = srv
	resp, err := http.Get(srv.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&l.meta); err != nil {
		t.Fatal(err)
	}
	if l.meta.Issuer != srv.Issuer {
		t.Fatalf("discovery issuer = %q, want %q", l.meta.Issuer, srv.Issuer)
	}
	return l
}

// rp is a relying party: an oauth2.Config for one client and redirect URI.
func (l *local) rp(id, secret, redirect string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     id,
		ClientSecret: secret,
		RedirectURL:  redirect,
		Scopes:       scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   l.meta.AuthorizationEndpoint,
			TokenURL:  l.meta.TokenEndpoint,
			AuthStyle: oauth2.AuthStyleInHeader,
		},
	}
}

func (l *local) app() *oauth2.Config {
	return l.rp(appID, appSecret, appRedirect, "openid", "profile", "email")
}

// authRequest is one authorization request of a relying party, with its secrets.
type authRequest struct {
	conf                   *oauth2.Config
	state, nonce, verifier string
}

func newRequest(conf *oauth2.Config) *authRequest {
	return &authRequest{conf: conf, state: oauth2.GenerateVerifier()[:22], nonce: oauth2.GenerateVerifier()[:22],
		verifier: oauth2.GenerateVerifier()}
}

// url is the front-channel authorization request the oauth2 library builds.
func (a *authRequest) url() string {
	return a.conf.AuthCodeURL(a.state, oauth2.S256ChallengeOption(a.verifier), oauth2.SetAuthURLParam("nonce", a.nonce))
}

// params are the parameters of that request, which PAR sends in the back channel.
func (a *authRequest) params(t *testing.T) url.Values {
	t.Helper()
	u, err := url.Parse(a.url())
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

type pushResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int    `json:"expires_in"`
}

// push sends the request to the PAR endpoint with client_secret_basic (RFC 9126 §2.1).
func (l *local) push(t *testing.T, a *authRequest) pushResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, l.meta.PAREndpoint, strings.NewReader(a.params(t).Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(a.conf.ClientID), url.QueryEscape(a.conf.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("push: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("push Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("push Cache-Control = %q, want no-store", cc)
	}
	var pr pushResponse
	if err := json.Unmarshal(body, &pr); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pr.RequestURI, "urn:ietf:params:oauth:request_uri:") || pr.ExpiresIn <= 0 {
		t.Fatalf("push response %s", body)
	}
	return pr
}

// page is one response as the browser saw it.
type page struct {
	Status int
	Header http.Header
	Body   string
	URL    *url.URL
}

func (p page) location(t *testing.T) *url.URL {
	t.Helper()
	loc, err := p.URL.Parse(p.Header.Get("Location"))
	if err != nil || p.Header.Get("Location") == "" {
		t.Fatalf("no Location (%d): %v\n%s", p.Status, err, p.Body)
	}
	return loc
}

// browser is a user agent with a cookie jar that reads the HTML forms. It follows
// no redirect by itself, so every hop is visible to the test.
type browser struct {
	l *local
	c *http.Client
}

func (l *local) browser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{l: l, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) do(t *testing.T, req *http.Request) page {
	t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{Status: resp.StatusCode, Header: resp.Header, Body: string(body), URL: req.URL}
}

// get loads target, absolute or relative to the issuer.
func (b *browser) get(t *testing.T, target string) page {
	t.Helper()
	u, err := url.Parse(b.l.srv.Issuer + "/")
	if err != nil {
		t.Fatal(err)
	}
	if u, err = u.Parse(target); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return b.do(t, req)
}

// open starts (or reloads) the authorization transaction of a pushed request.
func (b *browser) open(t *testing.T, clientID, requestURI string) page {
	t.Helper()
	return b.get(t, b.l.meta.AuthorizationEndpoint+"?"+url.Values{"client_id": {clientID}, "request_uri": {requestURI}}.Encode())
}

var (
	formTag     = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
)

// form is what a browser would post from page: its hidden fields, and its action.
func form(t *testing.T, p page) (action string, fields url.Values) {
	t.Helper()
	m := formTag.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no form on the page (%d):\n%s", p.Status, p.Body)
	}
	action = htmlUnescape(m[1])
	fields = url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(p.Body, -1) {
		fields.Set(m[1], htmlUnescape(m[2]))
	}
	return action, fields
}

// submit posts p's form with its hidden fields, then extra (an empty value
// deletes a field).
func (b *browser) submit(t *testing.T, p page, extra url.Values) page {
	t.Helper()
	action, fields := form(t, p)
	for k, vs := range extra {
		if len(vs) == 1 && vs[0] == "" {
			fields.Del(k)
		} else {
			fields[k] = vs
		}
	}
	target, err := p.URL.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target.String(), strings.NewReader(fields.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(t, req)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

func isLoginPage(p page) bool {
	return p.Status == http.StatusOK && strings.Contains(p.Body, `name="username"`) && strings.Contains(p.Body, `name="password"`)
}

func isConsentPage(p page) bool {
	return p.Status == http.StatusOK && strings.Contains(p.Body, `name="decision" value="approve"`) &&
		strings.Contains(p.Body, `name="decision" value="deny"`)
}

// signIn submits the login page with the user's credentials and follows the
// Post/Redirect/Get hop to the consent page.
func (b *browser) signIn(t *testing.T, login page) page {
	t.Helper()
	if !isLoginPage(login) {
		t.Fatalf("want the login page, got %d:\n%s", login.Status, login.Body)
	}
	r := b.submit(t, login, url.Values{"username": {userName}, "password": {userPassword}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("login: want 303, got %d:\n%s", r.Status, r.Body)
	}
	consent := b.get(t, r.location(t).String())
	if !isConsentPage(consent) {
		t.Fatalf("want the consent page, got %d:\n%s", consent.Status, consent.Body)
	}
	return consent
}

// decide presses the consent button and returns the raw response.
func (b *browser) decide(t *testing.T, consent page, decision string) page {
	t.Helper()
	return b.submit(t, consent, url.Values{"decision": {decision}})
}

// authorizationResponse checks r is the 303 to the client's redirect URI carrying
// code, state and iss (RFC 9207), and returns the code.
func (l *local) authorizationResponse(t *testing.T, a *authRequest, r page) string {
	t.Helper()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("authorization response: want 303 See Other, got %d:\n%s", r.Status, r.Body)
	}
	loc := r.location(t)
	q := loc.Query()
	if base := loc.Scheme + "://" + loc.Host + loc.Path; base != a.conf.RedirectURL {
		t.Errorf("redirected to %q, want %q", base, a.conf.RedirectURL)
	}
	if loc.Fragment != "" {
		t.Errorf("authorization response has a fragment: %s", loc)
	}
	if q.Get("code") == "" {
		t.Fatalf("no code in %s", loc)
	}
	if q.Get("state") != a.state {
		t.Errorf("state = %q, want %q", q.Get("state"), a.state)
	}
	if q.Get("iss") != l.srv.Issuer {
		t.Errorf("iss = %q, want %q (RFC 9207)", q.Get("iss"), l.srv.Issuer)
	}
	if q.Get("error") != "" {
		t.Errorf("error in a successful response: %s", loc)
	}
	return q.Get("code")
}

// authorize runs the browser part of a pushed request from open to code.
func (l *local) authorize(t *testing.T, a *authRequest, requestURI string) string {
	t.Helper()
	b := l.browser(t)
	consent := b.signIn(t, b.open(t, a.conf.ClientID, requestURI))
	return l.authorizationResponse(t, a, b.decide(t, consent, "approve"))
}

// pushAndAuthorize is push plus authorize: a fresh code for a.
func (l *local) pushAndAuthorize(t *testing.T, a *authRequest) string {
	t.Helper()
	return l.authorize(t, a, l.push(t, a).RequestURI)
}

func (a *authRequest) exchange(ctx context.Context, code string) (*oauth2.Token, error) {
	return a.conf.Exchange(ctx, code, oauth2.VerifierOption(a.verifier))
}

// wantTokenError checks err is the token endpoint's error response with code.
func wantTokenError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want a token error %s, got %v", code, err)
	}
	if re.ErrorCode != code || re.Response.StatusCode != http.StatusBadRequest {
		t.Fatalf("want 400 %s, got %d %q (%s)", code, re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
	}
	if cc := re.Response.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token error Cache-Control = %q, want no-store", cc)
	}
}

// wantErrorPage checks p is an HTML error page with status and, when code is not
// empty, that error code, shown to the user with no redirect (RFC 6749 §4.1.2.1).
func wantErrorPage(t *testing.T, p page, status int, code string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("want an error page %d %s, got %d:\n%s", status, code, p.Status, p.Body)
	}
	if loc := p.Header.Get("Location"); loc != "" {
		t.Fatalf("error page redirects to %s", loc)
	}
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("error page Content-Type = %q", ct)
	}
	if code != "" && !strings.Contains(p.Body, "<code>"+code+"</code>") {
		t.Fatalf("error page does not show %s:\n%s", code, p.Body)
	}
	if strings.Contains(p.Body, `name="password"`) || strings.Contains(p.Body, `value="approve"`) {
		t.Fatalf("error page carries a form:\n%s", p.Body)
	}
	wantPageHeaders(t, p)
}

// wantPageHeaders checks the security headers of the page contract in docs/design.md.
func wantPageHeaders(t *testing.T, p page) {
	t.Helper()
	csp := p.Header.Get("Content-Security-Policy")
	for _, directive := range []string{"default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, directive) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, directive)
		}
	}
	if got := p.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}
	if got := p.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
}

// wantCookies checks every cookie p sets is HttpOnly and SameSite=Lax, and not
// Secure, as the issuer is http on loopback; it returns how many there were.
func wantCookies(t *testing.T, p page) int {
	t.Helper()
	cookies := (&http.Response{Header: p.Header}).Cookies()
	for _, c := range cookies {
		if !c.HttpOnly {
			t.Errorf("cookie %s is not HttpOnly", c.Name)
		}
		if c.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %s SameSite = %v, want Lax", c.Name, c.SameSite)
		}
		if c.Secure {
			t.Errorf("cookie %s is Secure on an http loopback issuer (the browser would drop it)", c.Name)
		}
	}
	return len(cookies)
}

// jwks fetches the published key set from the jwks_uri of discovery.
func (l *local) jwks(t *testing.T) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(l.meta.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) == 0 {
		t.Fatal("empty JWKS")
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			t.Fatalf("JWKS publishes a private key %s", k.KeyID)
		}
	}
	return set
}

// verifyAccessToken checks tok is a JWT access token (RFC 9068): typ at+jwt, signed
// by a key of the JWKS, with the required claims.
func (l *local) verifyAccessToken(t *testing.T, tok *oauth2.Token, clientID, subject, scope string) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok.AccessToken, []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256})
	if err != nil {
		t.Fatalf("access token is not a JWS: %v", err)
	}
	h := jws.Signatures[0].Header
	// RFC 9068 §2.1: "Resource servers MUST verify that the typ header value is at+jwt".
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "at+jwt" && typ != "application/at+jwt" {
		t.Errorf("access token typ = %q, want at+jwt", typ)
	}
	set := l.jwks(t)
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("access token kid %q is not in the JWKS", h.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("access token does not verify against the JWKS: %v", err)
	}
	var c struct {
		Iss      string          `json:"iss"`
		Sub      string          `json:"sub"`
		Aud      json.RawMessage `json:"aud"`
		ClientID string          `json:"client_id"`
		Exp      int64           `json:"exp"`
		Iat      int64           `json:"iat"`
		Jti      string          `json:"jti"`
		Scope    string          `json:"scope"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	var aud []string
	if json.Unmarshal(c.Aud, &aud) != nil {
		var one string
		if err := json.Unmarshal(c.Aud, &one); err != nil || one == "" {
			t.Errorf("access token aud = %s", c.Aud)
		}
		aud = []string{one}
	}
	now := l.clock.Now().Unix()
	switch {
	case c.Iss != l.srv.Issuer:
		t.Errorf("access token iss = %q, want %q", c.Iss, l.srv.Issuer)
	case c.Sub != subject:
		t.Errorf("access token sub = %q, want %q", c.Sub, subject)
	case len(aud) == 0 || aud[0] == "":
		t.Errorf("access token has no aud")
	case c.ClientID != clientID:
		t.Errorf("access token client_id = %q, want %q", c.ClientID, clientID)
	case c.Jti == "":
		t.Errorf("access token has no jti")
	case c.Scope != scope:
		t.Errorf("access token scope = %q, want %q", c.Scope, scope)
	case c.Iat > now+1 || c.Iat < now-60:
		t.Errorf("access token iat = %d, now %d", c.Iat, now)
	case c.Exp <= now:
		t.Errorf("access token exp = %d is not after now %d", c.Exp, now)
	case tok.Expiry.IsZero():
		t.Errorf("token response has no expires_in")
	}
	if tok.TokenType != "Bearer" {
		t.Errorf("token_type = %q, want Bearer", tok.TokenType)
	}
}

// verifyIDToken checks the ID token with go-oidc, from discovery, and returns its
// subject.
func (l *local) verifyIDToken(t *testing.T, a *authRequest, tok *oauth2.Token) *oidc.IDToken {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no id_token in the token response")
	}
	provider, err := oidc.NewProvider(t.Context(), l.srv.Issuer)
	if err != nil {
		t.Fatalf("oidc discovery: %v", err)
	}
	if provider.Endpoint().TokenURL != l.meta.TokenEndpoint {
		t.Errorf("oidc token endpoint %q, want %q", provider.Endpoint().TokenURL, l.meta.TokenEndpoint)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: a.conf.ClientID, Now: l.clock.Now}).Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("ID token does not verify: %v", err)
	}
	if idt.Nonce != a.nonce {
		t.Errorf("ID token nonce = %q, want %q", idt.Nonce, a.nonce)
	}
	if idt.Issuer != l.srv.Issuer {
		t.Errorf("ID token iss = %q", idt.Issuer)
	}
	return idt
}

// TestPushedAuthorizationCodeFlowEndToEnd is the whole flow: push, sign in,
// consent, 303 with code/state/iss, exchange with PKCE, verified ID and access tokens.
func TestPushedAuthorizationCodeFlowEndToEnd(t *testing.T) {
	happyPath(t, start(t, nil))
}

func happyPath(t *testing.T, l *local) {
	a := newRequest(l.app())
	pr := l.push(t, a)
	b := l.browser(t)

	login := b.open(t, appID, pr.RequestURI)
	if !isLoginPage(login) {
		t.Fatalf("login page: %d\n%s", login.Status, login.Body)
	}
	wantPageHeaders(t, login)
	if wantCookies(t, login) == 0 {
		t.Error("the login page sets no transaction cookie")
	}
	if strings.Contains(login.Body, a.state) || strings.Contains(login.Body, a.nonce) {
		t.Error("the login page shows pushed parameters (state or nonce)")
	}

	consent := b.signIn(t, login)
	wantPageHeaders(t, consent)
	if !strings.Contains(consent.Body, "E2E App") || !strings.Contains(consent.Body, "app.example.com") {
		t.Errorf("the consent page does not name the client and its redirect host:\n%s", consent.Body)
	}

	r := b.decide(t, consent, "approve")
	wantCookies(t, r)
	code := l.authorizationResponse(t, a, r)

	tok, err := a.exchange(t.Context(), code)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	idt := l.verifyIDToken(t, a, tok)
	if idt.Subject != userSubject {
		t.Errorf("ID token sub = %q, want %q", idt.Subject, userSubject)
	}
	var claims struct {
		Name          string `json:"name"`
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		AuthTime      int64  `json:"auth_time"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Name != "Alice Example" || claims.Email != "alice@example.org" || !claims.EmailVerified || claims.AuthTime == 0 {
		t.Errorf("ID token claims = %+v", claims)
	}
	l.verifyAccessToken(t, tok, appID, userSubject, "openid profile email")
}

// TestRequestURIIsRejectedAfterTheCodeWasIssued: RFC 9126 §4 one-time use, enforced
// at code issuance (FAPI 2.0 §5.3.2.2 note 3).
func TestRequestURIIsRejectedAfterTheCodeWasIssued(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	pr := l.push(t, a)
	b := l.browser(t)
	consent := b.signIn(t, b.open(t, appID, pr.RequestURI))
	l.authorizationResponse(t, a, b.decide(t, consent, "approve"))

	wantErrorPage(t, b.open(t, appID, pr.RequestURI), http.StatusBadRequest, "invalid_request_uri")
	other := l.browser(t)
	wantErrorPage(t, other.open(t, appID, pr.RequestURI), http.StatusBadRequest, "invalid_request_uri")
	// The consent form posted again (back button) must not issue a second code.
	wantErrorPage(t, b.decide(t, consent, "approve"), http.StatusBadRequest, "")
}

// TestReloadOfAuthorizeBeforeCompletionWorks: FAPI 2.0 §5.3.2.2 note 3 — reloading
// the authorization page before the code is issued does not burn the request_uri.
func TestReloadOfAuthorizeBeforeCompletionWorks(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	pr := l.push(t, a)
	b := l.browser(t)
	if !isLoginPage(b.open(t, appID, pr.RequestURI)) {
		t.Fatal("first load is not the login page")
	}
	login := b.open(t, appID, pr.RequestURI)
	consent := b.signIn(t, login)
	for i := range 2 {
		if p := b.open(t, appID, pr.RequestURI); !isConsentPage(p) {
			t.Fatalf("reload %d after login: want the consent page, got %d:\n%s", i, p.Status, p.Body)
		} else {
			consent = p
		}
	}
	code := l.authorizationResponse(t, a, b.decide(t, consent, "approve"))
	if _, err := a.exchange(t.Context(), code); err != nil {
		t.Fatalf("exchange: %v", err)
	}
}

// TestExpiredRequestURIIsRejected: RFC 9126 §4 "An expired request_uri MUST be
// rejected as invalid."
func TestExpiredRequestURIIsRejected(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	pr := l.push(t, a)
	l.clock.Advance(time.Duration(pr.ExpiresIn)*time.Second + time.Second)
	wantErrorPage(t, l.browser(t).open(t, appID, pr.RequestURI), http.StatusBadRequest, "invalid_request_uri")
}

// TestTransactionContinuesAfterExpiresInOnceStarted: docs/design.md decision 2 —
// expires_in bounds when the reference can first be redeemed, not how long the
// user may take to sign in.
func TestTransactionContinuesAfterExpiresInOnceStarted(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	pr := l.push(t, a)
	b := l.browser(t)
	login := b.open(t, appID, pr.RequestURI)
	l.clock.Advance(2 * time.Duration(pr.ExpiresIn) * time.Second)
	if p := b.open(t, appID, pr.RequestURI); !isLoginPage(p) {
		t.Fatalf("reload after expires_in: want the login page, got %d:\n%s", p.Status, p.Body)
	}
	consent := b.signIn(t, login)
	l.clock.Advance(time.Duration(pr.ExpiresIn) * time.Second)
	code := l.authorizationResponse(t, a, b.decide(t, consent, "approve"))
	tok, err := a.exchange(t.Context(), code)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	l.verifyIDToken(t, a, tok)

	// Another browser, which never started the transaction, cannot pick it up late.
	a2 := newRequest(l.app())
	pr2 := l.push(t, a2)
	l.browser(t).open(t, appID, pr2.RequestURI)
	l.clock.Advance(time.Duration(pr2.ExpiresIn)*time.Second + time.Second)
	wantErrorPage(t, l.browser(t).open(t, appID, pr2.RequestURI), http.StatusBadRequest, "invalid_request_uri")
}

// TestTransactionStopsAtItsDeadline: the transaction deadline (default 10 min)
// bounds login and consent even for the browser that started it.
func TestTransactionStopsAtItsDeadline(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	pr := l.push(t, a)
	b := l.browser(t)
	login := b.open(t, appID, pr.RequestURI)
	l.clock.Advance(2 * time.Minute)
	consent := b.signIn(t, login)
	l.clock.Advance(8*time.Minute + time.Second) // 10 min and 1 s after the push
	wantErrorPage(t, b.decide(t, consent, "approve"), http.StatusBadRequest, "")
	wantErrorPage(t, b.open(t, appID, pr.RequestURI), http.StatusBadRequest, "invalid_request_uri")

	// Nor can a login form left open past the deadline be submitted.
	a2 := newRequest(l.app())
	pr2 := l.push(t, a2)
	b2 := l.browser(t)
	login2 := b2.open(t, appID, pr2.RequestURI)
	l.clock.Advance(10*time.Minute + time.Second)
	r := b2.submit(t, login2, url.Values{"username": {userName}, "password": {userPassword}})
	wantErrorPage(t, r, http.StatusBadRequest, "")
}

// TestRequestURIOfAnotherClientIsRejected: RFC 9126 §4 via RFC 9101 §6.3 — the
// client_id must match the one the request was pushed by; the failed attempt does
// not burn the rightful client's request.
func TestRequestURIOfAnotherClientIsRejected(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	pr := l.push(t, a)
	wantErrorPage(t, l.browser(t).open(t, otherID, pr.RequestURI), http.StatusBadRequest, "invalid_request_uri")
	wantErrorPage(t, l.browser(t).open(t, "no-such-client", pr.RequestURI), http.StatusBadRequest, "invalid_request")
	code := l.authorize(t, a, pr.RequestURI)
	if _, err := a.exchange(t.Context(), code); err != nil {
		t.Fatalf("exchange: %v", err)
	}
}

// TestReplayedCodeIsInvalidGrant: RFC 6749 §4.1.2 — a code used twice is denied.
func TestReplayedCodeIsInvalidGrant(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	code := l.pushAndAuthorize(t, a)
	if _, err := a.exchange(t.Context(), code); err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	_, err := a.exchange(t.Context(), code)
	wantTokenError(t, err, "invalid_grant")
}

// TestWrongCodeVerifierIsInvalidGrant: RFC 7636 §4.6; the failed attempt spends
// the code, so the verifier cannot be guessed by retrying.
func TestWrongCodeVerifierIsInvalidGrant(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	code := l.pushAndAuthorize(t, a)
	_, err := a.conf.Exchange(t.Context(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	wantTokenError(t, err, "invalid_grant")
	_, err = a.exchange(t.Context(), code)
	wantTokenError(t, err, "invalid_grant")
}

// TestMissingCodeVerifierIsInvalidGrant: PKCE is required for every client.
func TestMissingCodeVerifierIsInvalidGrant(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	code := l.pushAndAuthorize(t, a)
	_, err := a.conf.Exchange(t.Context(), code)
	wantTokenError(t, err, "invalid_grant")
}

// TestWrongRedirectURIAtTokenIsInvalidGrant: RFC 6749 §4.1.3 — redirect_uri must be
// identical to the one of the authorization request, even if it is registered.
func TestWrongRedirectURIAtTokenIsInvalidGrant(t *testing.T) {
	l := start(t, nil)
	for _, uri := range []string{appRedirect2, "https://evil.example/cb"} {
		a := newRequest(l.app())
		code := l.pushAndAuthorize(t, a)
		conf := *a.conf
		conf.RedirectURL = uri
		_, err := conf.Exchange(t.Context(), code, oauth2.VerifierOption(a.verifier))
		wantTokenError(t, err, "invalid_grant")
	}
}

// TestCodeOfAnotherClientIsInvalidGrant: RFC 6749 §4.1.3 — the code must have been
// issued to the authenticated client, even with the right verifier.
func TestCodeOfAnotherClientIsInvalidGrant(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	code := l.pushAndAuthorize(t, a)
	thief := l.rp(otherID, otherSecret, appRedirect, "openid")
	_, err := thief.Exchange(t.Context(), code, oauth2.VerifierOption(a.verifier))
	wantTokenError(t, err, "invalid_grant")
}

// TestExpiredCodeIsInvalidGrant: RFC 6749 §4.1.2 — the code "MUST expire shortly
// after it is issued" (60 s by default).
func TestExpiredCodeIsInvalidGrant(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	code := l.pushAndAuthorize(t, a)
	l.clock.Advance(61 * time.Second)
	_, err := a.exchange(t.Context(), code)
	wantTokenError(t, err, "invalid_grant")
}

// TestDenyRedirectsWithAccessDenied: RFC 6749 §4.1.2.1 — the user's refusal goes
// to the client with error, state and iss (RFC 9207 §2: error responses too).
func TestDenyRedirectsWithAccessDenied(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	pr := l.push(t, a)
	b := l.browser(t)
	r := b.decide(t, b.signIn(t, b.open(t, appID, pr.RequestURI)), "deny")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("deny: want 303, got %d:\n%s", r.Status, r.Body)
	}
	loc := r.location(t)
	q := loc.Query()
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != appRedirect {
		t.Errorf("redirected to %q, want %q", got, appRedirect)
	}
	if q.Get("error") != "access_denied" || q.Get("state") != a.state || q.Get("iss") != l.srv.Issuer || q.Has("code") {
		t.Errorf("deny response %s: want error=access_denied, state=%s, iss=%s, no code", loc, a.state, l.srv.Issuer)
	}
}

// TestWrongPasswordShowsTheLoginPageAgain: no redirect, a message, and the right
// password still works afterwards.
func TestWrongPasswordShowsTheLoginPageAgain(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	pr := l.push(t, a)
	b := l.browser(t)
	login := b.open(t, appID, pr.RequestURI)
	for _, user := range []string{userName, "mallory"} {
		r := b.submit(t, login, url.Values{"username": {user}, "password": {"wrong password"}})
		if !isLoginPage(r) || r.Header.Get("Location") != "" {
			t.Fatalf("wrong password for %s: want the login page again, got %d %s:\n%s", user, r.Status, r.Header.Get("Location"), r.Body)
		}
		if !strings.Contains(r.Body, `role="alert"`) || !strings.Contains(r.Body, "incorrect") {
			t.Errorf("no error message on the login page:\n%s", r.Body)
		}
		wantPageHeaders(t, r)
		login = r
	}
	code := l.authorizationResponse(t, a, b.decide(t, b.signIn(t, login), "approve"))
	if _, err := a.exchange(t.Context(), code); err != nil {
		t.Fatalf("exchange: %v", err)
	}
}

// TestMissingOrWrongCSRFTokenIsForbidden: the login and consent forms are CSRF
// protected; a forged post gets a 403 page and changes nothing.
func TestMissingOrWrongCSRFTokenIsForbidden(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	pr := l.push(t, a)
	b := l.browser(t)
	login := b.open(t, appID, pr.RequestURI)
	creds := url.Values{"username": {userName}, "password": {userPassword}}
	for name, csrf := range map[string]string{"missing": "", "wrong": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		t.Run("login/"+name, func(t *testing.T) {
			extra := url.Values{"csrf": {csrf}}
			for k, v := range creds {
				extra[k] = v
			}
			wantErrorPage(t, b.submit(t, login, extra), http.StatusForbidden, "")
		})
	}
	consent := b.signIn(t, login)
	_, beforeLogin := form(t, login)
	for name, csrf := range map[string]string{"missing": "", "wrong": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"from before login": beforeLogin.Get("csrf")} {
		t.Run("consent/"+name, func(t *testing.T) {
			wantErrorPage(t, b.submit(t, consent, url.Values{"csrf": {csrf}, "decision": {"approve"}}), http.StatusForbidden, "")
		})
	}
	code := l.authorizationResponse(t, a, b.decide(t, consent, "approve"))
	if _, err := a.exchange(t.Context(), code); err != nil {
		t.Fatalf("exchange: %v", err)
	}
}

// TestNonPushedRequestFromClientRequiringPARIsInvalidRequest: RFC 9126 §5/§6 and
// docs/design.md decision 8, per client.
func TestNonPushedRequestFromClientRequiringPARIsInvalidRequest(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.rp(parOnlyID, parOnlySecret, appRedirect, "openid"))
	wantErrorPage(t, l.browser(t).get(t, a.url()), http.StatusBadRequest, "invalid_request")
	// Pushed, the same client goes through.
	code := l.pushAndAuthorize(t, a)
	if _, err := a.exchange(t.Context(), code); err != nil {
		t.Fatalf("exchange: %v", err)
	}
}

// TestNonPushedRequestWithServerRequiringPARIsInvalidRequest: RFC 9126 §5 and
// docs/design.md decision 8, globally (REQUIRE_PAR=true), published in discovery.
func TestNonPushedRequestWithServerRequiringPARIsInvalidRequest(t *testing.T) {
	l := start(t, map[string]string{"REQUIRE_PAR": "true"})
	if !l.meta.RequirePAR {
		t.Error("discovery does not publish require_pushed_authorization_requests: true")
	}
	a := newRequest(l.app())
	wantErrorPage(t, l.browser(t).get(t, a.url()), http.StatusBadRequest, "invalid_request")
	code := l.pushAndAuthorize(t, a)
	if _, err := a.exchange(t.Context(), code); err != nil {
		t.Fatalf("exchange: %v", err)
	}
}

// TestNonPushedRequestFromNormalClientWorks: without PAR policy, a plain
// authorization request is stored and continues under the server's own request_uri.
func TestNonPushedRequestFromNormalClientWorks(t *testing.T) {
	l := start(t, nil)
	if l.meta.RequirePAR {
		t.Error("discovery publishes require_pushed_authorization_requests without REQUIRE_PAR")
	}
	a := newRequest(l.app())
	b := l.browser(t)
	r := b.get(t, a.url())
	if r.Status != http.StatusSeeOther {
		t.Fatalf("direct request: want 303 to continue, got %d:\n%s", r.Status, r.Body)
	}
	next := r.location(t)
	if next.Host != r.URL.Host || next.Path != r.URL.Path ||
		!strings.HasPrefix(next.Query().Get("request_uri"), "urn:ietf:params:oauth:request_uri:") ||
		next.Query().Get("client_id") != appID || next.Query().Has("state") || next.Query().Has("code_challenge") {
		t.Fatalf("direct request continues at %s", next)
	}
	consent := b.signIn(t, b.get(t, next.String()))
	code := l.authorizationResponse(t, a, b.decide(t, consent, "approve"))
	tok, err := a.exchange(t.Context(), code)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	l.verifyIDToken(t, a, tok)
	l.verifyAccessToken(t, tok, appID, userSubject, "openid profile email")
	wantErrorPage(t, b.get(t, next.String()), http.StatusBadRequest, "invalid_request_uri")
}

// TestConcurrentApprovalsIssueExactlyOneCode: docs/design.md decision 4 — fifty
// concurrent approvals of one transaction (same cookie, same CSRF token): exactly
// one 303 with a code, every other one an error page.
func TestConcurrentApprovalsIssueExactlyOneCode(t *testing.T) {
	concurrentApprovals(t, start(t, nil))
}

func concurrentApprovals(t *testing.T, l *local) {
	const n = 50
	a := newRequest(l.app())
	pr := l.push(t, a)
	b := l.browser(t)
	consent := b.signIn(t, b.open(t, appID, pr.RequestURI))
	action, fields := form(t, consent)
	fields.Set("decision", "approve")
	target, err := consent.URL.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	var cookie []string
	for _, c := range b.c.Jar.Cookies(target) {
		cookie = append(cookie, c.Name+"="+c.Value)
	}
	// Each request carries the same cookie and form and goes over its own
	// connection, opened beforehand, so that all of them reach the server at once.
	var (
		wg    sync.WaitGroup
		ready sync.WaitGroup
		gate  = make(chan struct{})
		pages = make([]page, n)
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			transport := &http.Transport{}
			defer transport.CloseIdleConnections()
			client := &http.Client{Transport: transport,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target.String(), strings.NewReader(fields.Encode()))
			if err == nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Cookie", strings.Join(cookie, "; "))
				err = warmUp(client, l.meta.JWKSURI)
			}
			ready.Done()
			if err != nil {
				errs[i] = err
				return
			}
			<-gate
			resp, err := client.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			pages[i] = page{Status: resp.StatusCode, Header: resp.Header, Body: string(body), URL: req.URL}
		}()
	}
	ready.Wait()
	close(gate)
	wg.Wait()

	var codes []string
	statuses := map[int]int{}
	for i, p := range pages {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		statuses[p.Status]++
		if p.Status == http.StatusSeeOther {
			codes = append(codes, l.authorizationResponse(t, a, p))
			continue
		}
		wantErrorPage(t, p, http.StatusBadRequest, "")
	}
	if len(codes) != 1 {
		t.Fatalf("%d concurrent approvals: %d codes issued (statuses %v), want exactly 1", n, len(codes), statuses)
	}
	if _, err := a.exchange(t.Context(), codes[0]); err != nil {
		t.Fatalf("exchange of the one code: %v", err)
	}
}

// warmUp opens client's connection to the server with a harmless GET.
func warmUp(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// TestOnDynamoDB runs the happy path and the concurrent approvals with
// STORE=dynamodb: the local API starts moto_server itself (DYNAMODB_ENDPOINT unset)
// and stops it on Close. Over a real DynamoDB API the window between reading the
// pushed request and issuing the code is wide, so the conditional write is what
// keeps the code unique.
func TestOnDynamoDB(t *testing.T) {
	if _, err := exec.LookPath("moto_server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("moto_server is required under CI=true: %v", err)
		}
		t.Skipf("moto_server is not installed: %v", err)
	}
	before := childMotoServers()
	l := start(t, map[string]string{"STORE": "dynamodb", "TABLE_NAME": "pargate-e2e"})
	started := childMotoServers()
	if len(started) != len(before)+1 {
		t.Errorf("STORE=dynamodb started %d moto_server processes, want 1", len(started)-len(before))
	}

	t.Run("PushedAuthorizationCodeFlowEndToEnd", func(t *testing.T) { happyPath(t, l) })
	t.Run("ConcurrentApprovalsIssueExactlyOneCode", func(t *testing.T) { concurrentApprovals(t, l) })

	l.srv.Close()
	for _, pid := range started {
		if processGroupAlive(pid) {
			t.Errorf("moto_server (pid %d) or its workers still run after Close", pid)
		}
	}
}

// childMotoServers lists the moto_server processes this test process started.
func childMotoServers() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, _, ok := procStat(pid)
		if !ok || ppid != os.Getpid() {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(cmdline), "moto_server") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// processGroupAlive reports whether a live process is in process group pgid.
func processGroupAlive(pgid int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, pg, ok := procStat(pid); ok && pg == pgid {
			return true
		}
	}
	return false
}

// procStat returns the parent pid and process group of a live (non-zombie) pid.
func procStat(pid int) (ppid, pgrp int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:]) // state ppid pgrp ...
	if len(f) < 3 || f[0] == "Z" {
		return 0, 0, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	pgrp, err2 := strconv.Atoi(f[2])
	return ppid, pgrp, err1 == nil && err2 == nil
}
