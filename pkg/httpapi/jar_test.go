package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// Clients that sign: private_key_jwt, a client that must push request objects, and
// a client allowed per-request redirect URIs under a prefix (RFC 9126 §2.4).
const (
	pkjwtID  = "pkjwt-client"
	jarID    = "jar-client"
	jarSec   = "jar-secret-0123456789abcdefghijklmnopqrstuvwxyz0"
	prefixID = "prefix-client"
	prefixSc = "prefix-secret-0123456789abcdefghijklmnopqrstuvwxyz"
)

var (
	clientKeyOnce sync.Once
	clientKey     jose.JSONWebKey // the signing clients' private key
	otherKey      jose.JSONWebKey // a key nobody registered
)

func testClientKeys(tb testing.TB) {
	tb.Helper()
	clientKeyOnce.Do(func() {
		var err error
		if clientKey, err = keys.Generate(keys.ES256); err != nil {
			panic(err)
		}
		if otherKey, err = keys.Generate(keys.ES256); err != nil {
			panic(err)
		}
	})
}

// seedJSONWithKeys is seedJSON with the clients that sign, registered with
// clientKey.
func seedJSONWithKeys(tb testing.TB) string {
	tb.Helper()
	testClientKeys(tb)
	pub, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{clientKey.Public()}})
	if err != nil {
		tb.Fatal(err)
	}
	extra := `
  {"client_id": "` + pkjwtID + `", "token_endpoint_auth_method": "private_key_jwt", "jwks": ` + string(pub) + `,
   "consent": "always", "redirect_uris": ["` + redirectURI + `"], "scope": "openid profile email"},
  {"client_id": "` + jarID + `", "client_secret": "` + jarSec + `", "require_signed_request_object": true, "jwks": ` + string(pub) + `,
   "consent": "always", "redirect_uris": ["` + redirectURI + `"], "scope": "openid profile"},
  {"client_id": "` + prefixID + `", "client_secret": "` + prefixSc + `", "pushed_redirect_uri_prefixes": ["https://tenant.example.org/cb/"],
   "consent": "always", "redirect_uris": ["` + redirectURI + `"], "scope": "openid"},`
	return httpapitest.WithClients(tb, seedJSON, extra)
}

func sign(tb testing.TB, key jose.JSONWebKey, typ string, claims any) string {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", key.KeyID)
	return oauthtest.SignJWT(tb, jose.SignatureAlgorithm(key.Algorithm), key.Key, opts, claims)
}

var jtiN int
var jtiMu sync.Mutex

func newJTI() string {
	jtiMu.Lock()
	defer jtiMu.Unlock()
	jtiN++
	return "jti-" + time.Now().Format("150405.000000000") + "-" + string(rune('a'+jtiN%26)) + strings.Repeat("x", jtiN%7)
}

func assertion(ts *testServer, mod func(m map[string]any)) map[string]any {
	now := ts.clock.Now()
	m := map[string]any{"iss": pkjwtID, "sub": pkjwtID, "aud": ts.URL, "jti": newJTI(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	if mod != nil {
		mod(m)
	}
	return m
}

func assertionForm(tb testing.TB, token string, p url.Values) url.Values {
	out := with(p, "client_id", "", "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion", token)
	return out
}

func TestPAR_PrivateKeyJWT(t *testing.T) {
	ts := newServer(t)
	push := func(claims map[string]any, key jose.JSONWebKey, typ string) response {
		body := assertionForm(t, sign(t, key, typ, claims), pushParams())
		return ts.do(t, nil, http.MethodPost, "/par", "", form, body.Encode())
	}
	replayed := assertion(ts, nil)
	if r := push(replayed, clientKey, ""); r.Status != 201 {
		t.Fatalf("first use: %d %s", r.Status, r.Body)
	}
	tests := []struct {
		name   string
		claims map[string]any
		key    *jose.JSONWebKey
		typ    string
		want   int
	}{
		// RFC 9126 §2: issuer, token endpoint URL or PAR endpoint URL as audience.
		{name: "aud issuer is accepted", claims: assertion(ts, nil), want: 201},
		{name: "aud token endpoint is accepted", claims: assertion(ts, func(m map[string]any) { m["aud"] = ts.URL + "/token" }), want: 201},
		{name: "aud PAR endpoint is accepted", claims: assertion(ts, func(m map[string]any) { m["aud"] = ts.URL + "/par" }), want: 201},
		{name: "aud array with the issuer is accepted", claims: assertion(ts, func(m map[string]any) { m["aud"] = []string{"x", ts.URL} }), want: 201},
		{name: "aud of another server is refused", claims: assertion(ts, func(m map[string]any) { m["aud"] = "https://other.example" }), want: 401},
		{name: "replayed jti is refused", claims: replayed, want: 401},
		{name: "missing jti is refused", claims: assertion(ts, func(m map[string]any) { delete(m, "jti") }), want: 401},
		{name: "missing exp is refused", claims: assertion(ts, func(m map[string]any) { delete(m, "exp") }), want: 401},
		{name: "expired assertion is refused", claims: assertion(ts, func(m map[string]any) { m["exp"] = ts.clock.Now().Add(-time.Minute).Unix() }), want: 401},
		{name: "far-future exp is refused", claims: assertion(ts, func(m map[string]any) { m["exp"] = ts.clock.Now().Add(time.Hour).Unix() }), want: 401},
		{name: "iss other than the client is refused", claims: assertion(ts, func(m map[string]any) { m["iss"] = confID }), want: 401},
		{name: "unregistered key is refused", claims: assertion(ts, nil), key: &otherKey, want: 401},
		{name: "access token typ is refused", claims: assertion(ts, nil), typ: "at+jwt", want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := clientKey
			if tt.key != nil {
				key = *tt.key
			}
			r := push(tt.claims, key, tt.typ)
			if r.Status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.want, r.Body)
			}
			if tt.want == 401 && r.JSON["error"] != "invalid_client" {
				t.Errorf("error %v, want invalid_client", r.JSON["error"])
			}
		})
	}
	t.Run("alg none is refused", func(t *testing.T) {
		none := "eyJhbGciOiJub25lIn0." + strings.TrimRight(encodeJSON(assertion(ts, nil)), "=") + "."
		r := ts.do(t, nil, http.MethodPost, "/par", "", form, assertionForm(t, none, pushParams()).Encode())
		if r.Status != 401 || r.JSON["error"] != "invalid_client" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("wrong assertion type is refused", func(t *testing.T) {
		body := assertionForm(t, sign(t, clientKey, "", assertion(ts, nil)), pushParams())
		body.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
		r := ts.do(t, nil, http.MethodPost, "/par", "", form, body.Encode())
		if r.Status != 401 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}

func encodeJSON(v any) string {
	b, _ := json.Marshal(v)
	return decodeSafe(b)
}

func decodeSafe(b []byte) string {
	return strings.TrimRight(base64URL(b), "=")
}

func TestToken_PrivateKeyJWTFlow(t *testing.T) {
	ts := newServer(t)
	r := ts.do(t, nil, http.MethodPost, "/par", "", form,
		assertionForm(t, sign(t, clientKey, "", assertion(ts, nil)), with(pushParams(), "client_id", pkjwtID)).Encode())
	if r.Status != 201 {
		t.Fatalf("push: %d %s", r.Status, r.Body)
	}
	b := ts.browser(t)
	code := b.approve(t, b.login(t, pkjwtID, r.JSON["request_uri"].(string))).Get("code")
	body := assertionForm(t, sign(t, clientKey, "", assertion(ts, func(m map[string]any) { m["aud"] = ts.URL + "/token" })),
		url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}})
	r = ts.do(t, nil, http.MethodPost, "/token", "", form, body.Encode())
	if r.Status != 200 || r.JSON["id_token"] == nil {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
}

// requestObject returns the claims of a valid request object for jarID.
func requestObject(ts *testServer, mod func(m map[string]any)) map[string]any {
	now := ts.clock.Now()
	m := map[string]any{
		"iss": jarID, "aud": ts.URL, "client_id": jarID, "jti": newJTI(), "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(), "response_type": "code", "redirect_uri": redirectURI,
		"scope": "openid profile", "state": "jar-state", "nonce": "jar-nonce", "max_age": 300,
		"code_challenge": challenge, "code_challenge_method": "S256",
	}
	if mod != nil {
		mod(m)
	}
	return m
}

// RFC 9126 §3 and RFC 9101: request objects at the PAR endpoint.
func TestPAR_RequestObject(t *testing.T) {
	ts := newServer(t)
	push := func(jwtText string, extra url.Values) response {
		body := url.Values{"client_id": {jarID}, "request": {jwtText}}
		for k, v := range extra {
			body[k] = v
		}
		return ts.do(t, nil, http.MethodPost, "/par", basic(jarID, jarSec), form, body.Encode())
	}
	t.Run("a signed request object is accepted and outside parameters are ignored", func(t *testing.T) {
		r := push(sign(t, clientKey, "oauth-authz-req+jwt", requestObject(ts, nil)), url.Values{"scope": {"admin"}, "state": {"outside"}})
		if r.Status != 201 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		b := ts.browser(t)
		resp := b.approve(t, b.login(t, jarID, r.JSON["request_uri"].(string)))
		if resp.Get("state") != "jar-state" {
			t.Errorf("state %q: the pushed object's state must be used", resp.Get("state"))
		}
	})
	t.Run("a plain push from a client that requires request objects is invalid_request", func(t *testing.T) {
		body := with(pushParams(), "client_id", jarID, "scope", "openid")
		r := ts.do(t, nil, http.MethodPost, "/par", basic(jarID, jarSec), form, body.Encode())
		if r.Status != 400 || r.JSON["error"] != "invalid_request" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	replay := sign(t, clientKey, "", requestObject(ts, nil))
	if r := push(replay, nil); r.Status != 201 {
		t.Fatalf("first use: %d %s", r.Status, r.Body)
	}
	bad := []struct {
		name string
		jwt  string
	}{
		{"replayed jti", replay},
		{"unregistered key", sign(t, otherKey, "", requestObject(ts, nil))},
		{"client_id claim of another client", sign(t, clientKey, "", requestObject(ts, func(m map[string]any) { m["client_id"] = confID }))},
		{"iss other than the client", sign(t, clientKey, "", requestObject(ts, func(m map[string]any) { m["iss"] = confID }))},
		{"aud of another server", sign(t, clientKey, "", requestObject(ts, func(m map[string]any) { m["aud"] = "https://other.example" }))},
		{"missing exp", sign(t, clientKey, "", requestObject(ts, func(m map[string]any) { delete(m, "exp") }))},
		{"expired", sign(t, clientKey, "", requestObject(ts, func(m map[string]any) { m["exp"] = ts.clock.Now().Add(-time.Minute).Unix() }))},
		{"nbf in the future", sign(t, clientKey, "", requestObject(ts, func(m map[string]any) { m["nbf"] = ts.clock.Now().Add(time.Hour).Unix() }))},
		{"nested request_uri", sign(t, clientKey, "", requestObject(ts, func(m map[string]any) { m["request_uri"] = "urn:x" }))},
		{"DPoP proof typ", sign(t, clientKey, "dpop+jwt", requestObject(ts, nil))},
		{"alg none", "eyJhbGciOiJub25lIn0." + encodeJSON(requestObject(ts, nil)) + "."},
		{"not a JWT", "hello"},
	}
	for _, tt := range bad {
		t.Run(tt.name+" is invalid_request_object", func(t *testing.T) {
			r := push(tt.jwt, nil)
			if r.Status != 400 || r.JSON["error"] != "invalid_request_object" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
}

// RFC 9126 §2.4 and §7.2: per-request redirect URIs for authenticated clients only.
func TestPAR_PerRequestRedirectURI(t *testing.T) {
	ts := newServer(t)
	tenant := "https://tenant.example.org/cb/acme?x=1"
	r := ts.do(t, nil, http.MethodPost, "/par", basic(prefixID, prefixSc), form,
		with(pushParams(), "client_id", prefixID, "scope", "openid", "redirect_uri", tenant).Encode())
	if r.Status != 201 {
		t.Fatalf("prefix push: %d %s", r.Status, r.Body)
	}
	b := ts.browser(t)
	consent := b.login(t, prefixID, r.JSON["request_uri"].(string))
	resp := b.submit(t, consent, url.Values{"decision": {"approve"}})
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "https://tenant.example.org/cb/acme?") {
		t.Fatalf("redirect %q", loc)
	}
	for name, uri := range map[string]string{
		"outside the prefix":       "https://tenant.example.org/other",
		"host extension":           "https://tenant.example.org.evil.example/cb/",
		"fragment":                 "https://tenant.example.org/cb/x#f",
		"userinfo":                 "https://tenant.example.org@evil.example/cb/",
		"non-https under a prefix": "http://tenant.example.org/cb/",
	} {
		r := ts.do(t, nil, http.MethodPost, "/par", basic(prefixID, prefixSc), form,
			with(pushParams(), "client_id", prefixID, "scope", "openid", "redirect_uri", uri).Encode())
		if r.Status != 400 || r.JSON["error"] != "invalid_request" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// A front-channel request never gets the relaxation (RFC 9126 §2.4 is about PAR).
	page := b.get(t, "/authorize?"+with(pushParams(), "client_id", prefixID, "scope", "openid", "redirect_uri", tenant).Encode())
	if page.Status != 400 {
		t.Errorf("direct request with a prefix redirect URI: %d", page.Status)
	}
}

func TestPAR_RequestHygiene(t *testing.T) {
	ts := newServer(t)
	for name, body := range map[string]string{
		"control character": with(pushParams(), "state", "a\x01b").Encode(),
		"invalid UTF-8":     with(pushParams(), "state", "a\xffb").Encode(),
		"repeated unknown":  pushParams().Encode() + "&foo=1&foo=2",
		"overlong value":    with(pushParams(), "login_hint", strings.Repeat("a", 9000)).Encode(),
		"control in name":   pushParams().Encode() + "&a%01b=1",
		"absurd scope list": with(pushParams(), "scope", strings.Repeat("openid ", 2)+strings.Repeat("x ", 200)).Encode(),
	} {
		r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, body)
		if r.Status != 400 || (r.JSON["error"] != "invalid_request" && r.JSON["error"] != "invalid_scope") {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
