package main

// The end-to-end harness: the local API started with Start on a free loopback port and
// driven over real HTTP the way a relying party and a browser drive it — the
// pushed request with net/http, the browser steps with a cookie jar that reads the
// HTML forms, the code exchange with golang.org/x/oauth2 and PKCE, the ID token with
// github.com/coreos/go-oidc/v3 from discovery, and the JWT access token (RFC 9068)
// against the published JWKS.
//
// This file starts the local API, holds the relying party, the browser and the
// token checks, and scans /proc for the processes a run leaves behind; the stories
// are in flows_test.go and the DynamoDB-backed runs in dynamo_test.go.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/pargate/pargate/infra/apigw"
	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
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

	userName     = httpapitest.Username
	userPassword = httpapitest.Password
	userSubject  = "5f1c3b9e-alice"
)

// seedJSON's clients are registered with consent: always, so that every
// authorization shows the consent page the flows step through; remembered consent
// (docs/design.md decision 32) is consent_test.go, with a client of its own.
var seedJSON = `{
 "clients": [
  {"client_id": "` + appID + `", "client_name": "E2E App", "client_secret": "` + appSecret + `",
   "token_endpoint_auth_method": "client_secret_basic",
   "consent": "always", "redirect_uris": ["` + appRedirect + `", "` + appRedirect2 + `"],
   "grant_types": ["authorization_code"], "response_types": ["code"], "scope": "openid profile email"},
  {"client_id": "` + otherID + `", "client_secret": "` + otherSecret + `",
   "consent": "always", "redirect_uris": ["` + otherRedirect + `", "` + appRedirect + `"], "scope": "openid profile email"},
  {"client_id": "` + parOnlyID + `", "client_secret": "` + parOnlySecret + `",
   "require_pushed_authorization_requests": true,
   "consent": "always", "redirect_uris": ["` + appRedirect + `"], "scope": "openid profile"}
 ],
 "users": [{"username": "` + userName + `", "password": "` + userPassword + `",
   "claims": {"sub": "` + userSubject + `", "name": "Alice Example", "email": "alice@example.org",
              "email_verified": true, "preferred_username": "alice"}}]
}`

// local is a running local API, on the target PARGATE_TARGET names (target_test.go).
type local struct {
	srv *Server
	// clock is the settable clock injected into the server (WithClock), so expiry
	// is tested without sleeping; nil on the lambda target, whose functions read the
	// time of the host (tests that advance it are localOnly).
	clock *oauthtest.Clock
	// lambda is `make run-lambda` on the lambda target, nil on the local one.
	lambda *apigw.Local
	// meta is the discovery document: tests take endpoint paths from it.
	meta struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
		JWKSURI               string `json:"jwks_uri"`
		PAREndpoint           string `json:"pushed_authorization_request_endpoint"`
		UserinfoEndpoint      string `json:"userinfo_endpoint"`
		IntrospectionEndpoint string `json:"introspection_endpoint"`
		RevocationEndpoint    string `json:"revocation_endpoint"`
		RequirePAR            bool   `json:"require_pushed_authorization_requests"`
		// IDTokenSigningAlgs are the algorithms of the server's keys.
		IDTokenSigningAlgs []string `json:"id_token_signing_alg_values_supported"`
	}
}

// start runs the local API on 127.0.0.1:0 over the in-memory store (or what env
// says), seeded from seedJSON written to a temporary file, and stops it at the end.
func start(t *testing.T, env map[string]string) *local {
	t.Helper()
	return startSeeded(t, seedJSON, env)
}

// startSeeded is start with the seed document doc.
func startSeeded(t *testing.T, doc string, env map[string]string) *local {
	t.Helper()
	seedFile := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seedFile, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"ADDR": "127.0.0.1:0", "SEED_FILE": seedFile, "LOG_LEVEL": "warn"}
	for k, v := range env {
		vars[k] = v
	}
	l := &local{}
	if target == "lambda" {
		l.srv, l.lambda = startLambda(t, vars)
	} else {
		l.clock = oauthtest.NewClock(time.Now())
		srv, err := Start(t.Context(), func(name string) string { return vars[name] }, WithClock(l.clock.Now))
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		l.srv = srv
	}
	t.Cleanup(l.srv.Close)
	srv := l.srv
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

// now is the server's time: the injected clock's on the local target, the host's on
// the lambda one.
func (l *local) now() time.Time {
	if l.clock == nil {
		return time.Now()
	}
	return l.clock.Now()
}

// advance moves the injected clock on by d: only on the local target (a test that
// calls it starts with localOnly(t, injectedClock)).
func (l *local) advance(t *testing.T, d time.Duration) {
	t.Helper()
	if l.clock == nil {
		t.Fatal("advance on the lambda target: the test must be localOnly(t, injectedClock)")
	}
	l.clock.Advance(d)
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

// basicAuth is the Authorization value of client_secret_basic: the client ID and
// secret form-encoded, then joined and base64-encoded (RFC 6749 §2.3.1).
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// push sends the request to the PAR endpoint with client_secret_basic (RFC 9126 §2.1).
func (l *local) push(t *testing.T, a *authRequest) pushResponse {
	t.Helper()
	resp := httpapitest.PostForm(t, l.meta.PAREndpoint, a.params(t), map[string]string{"Authorization": basicAuth(a.conf.ClientID, a.conf.ClientSecret)})
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

// answer is a back-channel response: its status, headers, body and the body as a
// JSON object (nil if it is not one).
type answer struct {
	status int
	header http.Header
	json   map[string]any
	body   string
}

// send sends req with client and reads the answer.
func send(t *testing.T, client *http.Client, req *http.Request) answer {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	_ = json.Unmarshal(b, &a.json)
	return a
}

// browser is the shared cookie-jar browser on the local API: it follows no redirect
// by itself, so every hop is visible to the test.
type browser struct {
	*httpapitest.Browser
	l *local
}

func (l *local) browser(t *testing.T) *browser {
	t.Helper()
	return &browser{Browser: httpapitest.NewBrowser(t, l.srv.Issuer), l: l}
}

// open starts (or reloads) the authorization transaction of a pushed request.
func (b *browser) open(t *testing.T, clientID, requestURI string) httpapitest.Page {
	t.Helper()
	return b.Get(t, b.l.meta.AuthorizationEndpoint+"?"+url.Values{"client_id": {clientID}, "request_uri": {requestURI}}.Encode())
}

// signIn submits the login page with the user's credentials and follows the
// Post/Redirect/Get hop to the consent page.
func (b *browser) signIn(t *testing.T, login httpapitest.Page) httpapitest.Page {
	t.Helper()
	return b.SignIn(t, login, userName, userPassword)
}

// decide presses the consent button and returns the raw response.
func (b *browser) decide(t *testing.T, consent httpapitest.Page, decision string) httpapitest.Page {
	t.Helper()
	return b.Submit(t, consent, url.Values{"decision": {decision}})
}

// authorizationResponse checks r is the 303 to the client's redirect URI carrying
// code, state and iss (RFC 9207), and returns the code.
func (l *local) authorizationResponse(t *testing.T, a *authRequest, r httpapitest.Page) string {
	t.Helper()
	loc, q := responseAt(t, a, r)
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

// responseAt checks r is a 303 See Other to a's redirect URI and returns where to,
// and its query.
func responseAt(t *testing.T, a *authRequest, r httpapitest.Page) (*url.URL, url.Values) {
	t.Helper()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("authorization response: want 303 See Other, got %d:\n%s", r.Status, r.Body)
	}
	loc := r.Location(t)
	if base := loc.Scheme + "://" + loc.Host + loc.Path; base != a.conf.RedirectURL {
		t.Errorf("redirected to %q, want %q", base, a.conf.RedirectURL)
	}
	return loc, loc.Query()
}

// authorize runs the browser part of a pushed request from open to code.
func (l *local) authorize(t *testing.T, a *authRequest, requestURI string) string {
	t.Helper()
	b := l.browser(t)
	consent := b.signIn(t, b.open(t, a.conf.ClientID, requestURI))
	return l.authorizationResponse(t, a, b.decide(t, consent, "approve"))
}

// pushApp pushes a fresh request of the app client.
func (l *local) pushApp(t *testing.T) (*authRequest, pushResponse) {
	t.Helper()
	a := newRequest(l.app())
	return a, l.push(t, a)
}

// pushAndAuthorize is push plus authorize: a fresh code for a.
func (l *local) pushAndAuthorize(t *testing.T, a *authRequest) string {
	t.Helper()
	return l.authorize(t, a, l.push(t, a).RequestURI)
}

func (a *authRequest) exchange(ctx context.Context, code string) (*oauth2.Token, error) {
	return a.conf.Exchange(ctx, code, oauth2.VerifierOption(a.verifier))
}

// mustExchange is exchange where the test needs the tokens: an error fails it.
func (a *authRequest) mustExchange(t *testing.T, code string) *oauth2.Token {
	t.Helper()
	tok, err := a.exchange(t.Context(), code)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
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
func wantErrorPage(t *testing.T, p httpapitest.Page, status int, code string) {
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
func wantPageHeaders(t *testing.T, p httpapitest.Page) {
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
func wantCookies(t *testing.T, p httpapitest.Page) int {
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
func (l *local) jwks(tb testing.TB) jose.JSONWebKeySet {
	tb.Helper()
	resp, err := http.Get(l.meta.JWKSURI)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		tb.Fatal(err)
	}
	if len(set.Keys) == 0 {
		tb.Fatal("empty JWKS")
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			tb.Fatalf("JWKS publishes a private key %s", k.KeyID)
		}
	}
	return set
}

// verifyAccessToken checks tok is a JWT access token (RFC 9068): typ at+jwt, signed
// by a key of the JWKS, with the required claims.
func (l *local) verifyAccessToken(t *testing.T, tok *oauth2.Token, clientID, subject, scope string) {
	t.Helper()
	h, payload := l.verifiedJWT(t, "access token", tok.AccessToken, jose.RS256, jose.PS256, jose.ES256)
	// RFC 9068 §2.1: "Resource servers MUST verify that the typ header value is at+jwt".
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "at+jwt" && typ != "application/at+jwt" {
		t.Errorf("access token typ = %q, want at+jwt", typ)
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
	now := l.now().Unix()
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

// verifiedJWT parses raw, the what of a token response, as a compact JWS signed
// with one of algs, verifies it with the key of the published JWKS its kid names,
// and returns its header and payload.
func (l *local) verifiedJWT(tb testing.TB, what, raw string, algs ...jose.SignatureAlgorithm) (jose.Header, []byte) {
	tb.Helper()
	jws, err := jose.ParseSignedCompact(raw, algs)
	if err != nil {
		tb.Fatalf("%s is not a JWS signed with one of %v: %v", what, algs, err)
	}
	h := jws.Signatures[0].Header
	set := l.jwks(tb)
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		tb.Fatalf("%s kid %q is not in the JWKS", what, h.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		tb.Fatalf("%s does not verify against the JWKS: %v", what, err)
	}
	return h, payload
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
	idt, err := provider.Verifier(&oidc.Config{ClientID: a.conf.ClientID, Now: l.now}).Verify(t.Context(), raw)
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
