package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// issueCode runs the browser part of the flow for confID and returns the code.
func issueCode(t *testing.T, ts *testServer, params url.Values) string {
	t.Helper()
	uri := ts.push(t, confID, confSecret, params)
	b := ts.browser(t)
	resp := b.approve(t, b.login(t, confID, uri))
	if resp.Get("code") == "" {
		t.Fatalf("no code in %v", resp)
	}
	return resp.Get("code")
}

func TestToken_ExchangesCodeOnce(t *testing.T) {
	ts := newServer(t)
	code := issueCode(t, ts, pushParams())
	body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}.Encode()
	r := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, body)
	if r.Status != 200 {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	if r.JSON["token_type"] != "Bearer" || r.JSON["scope"] != "openid profile email" || r.JSON["expires_in"] != float64(600) {
		t.Errorf("token response %v", r.JSON)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Errorf("token response is cacheable: %v", r.Header)
	}
	// RFC 9068 §2.1: typ at+jwt; the signature verifies with the published key.
	at, _ := r.JSON["access_token"].(string)
	payload, err := ts.keys.Verify(at)
	if err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}
	header, _ := jwtHeader(at)
	if header["typ"] != "at+jwt" {
		t.Errorf("access token typ %v, want at+jwt", header["typ"])
	}
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	for _, c := range []string{"iss", "sub", "aud", "client_id", "exp", "iat", "jti", "scope"} {
		if _, ok := claims[c]; !ok {
			t.Errorf("access token lacks %s: %v", c, claims)
		}
	}
	idt, _ := r.JSON["id_token"].(string)
	payload, err = ts.keys.Verify(idt)
	if err != nil {
		t.Fatalf("id token does not verify: %v", err)
	}
	claims = nil
	_ = json.Unmarshal(payload, &claims)
	if claims["aud"] != confID || claims["nonce"] != "n-123" || claims["iss"] != ts.URL || claims["email"] != "alice@example.org" {
		t.Errorf("id token claims %v", claims)
	}

	// RFC 6749 §4.1.2: a code used twice is denied.
	r = ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, body)
	if r.Status != 400 || r.JSON["error"] != "invalid_grant" {
		t.Fatalf("replayed code: %d %s", r.Status, r.Body)
	}
}

func jwtHeader(token string) (map[string]any, error) {
	part, _, _ := strings.Cut(token, ".")
	raw, err := decodeSegment(part)
	if err != nil {
		return nil, err
	}
	var h map[string]any
	return h, json.Unmarshal(raw, &h)
}

func TestToken(t *testing.T) {
	ts := newServer(t)
	tests := []struct {
		name       string
		auth       string
		params     url.Values
		advance    time.Duration
		wantStatus int
		wantError  string
	}{
		{name: "missing grant_type is invalid_request", auth: basic(confID, confSecret),
			params: url.Values{"code": {"x"}}, wantStatus: 400, wantError: "invalid_request"},
		{name: "password grant is unsupported_grant_type", auth: basic(confID, confSecret),
			params: url.Values{"grant_type": {"password"}}, wantStatus: 400, wantError: "unsupported_grant_type"},
		{name: "missing code is invalid_request", auth: basic(confID, confSecret),
			params: url.Values{"grant_type": {"authorization_code"}}, wantStatus: 400, wantError: "invalid_request"},
		{name: "unknown code is invalid_grant", auth: basic(confID, confSecret),
			params: url.Values{"grant_type": {"authorization_code"}, "code": {"nope"}, "code_verifier": {verifier}}, wantStatus: 400, wantError: "invalid_grant"},
		{name: "wrong code_verifier is invalid_grant", auth: basic(confID, confSecret),
			params: url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {redirectURI}, "code_verifier": {strings.Repeat("a", 43)}}, wantStatus: 400, wantError: "invalid_grant"},
		{name: "missing code_verifier is invalid_grant", auth: basic(confID, confSecret),
			params: url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {redirectURI}}, wantStatus: 400, wantError: "invalid_grant"},
		{name: "wrong redirect_uri is invalid_grant", auth: basic(confID, confSecret),
			params: url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {"https://client.example.org/other"}, "code_verifier": {verifier}}, wantStatus: 400, wantError: "invalid_grant"},
		{name: "omitted redirect_uri that was sent is invalid_grant", auth: basic(confID, confSecret),
			params: url.Values{"grant_type": {"authorization_code"}, "code_verifier": {verifier}}, wantStatus: 400, wantError: "invalid_grant"},
		{name: "code of another client is invalid_grant", auth: basic(twoURIID, twoURISecret),
			params: url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, wantStatus: 400, wantError: "invalid_grant"},
		{name: "expired code is invalid_grant", auth: basic(confID, confSecret), advance: 61 * time.Second,
			params: url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}, wantStatus: 400, wantError: "invalid_grant"},
		{name: "no client authentication is invalid_client", params: url.Values{"grant_type": {"authorization_code"}},
			wantStatus: 401, wantError: "invalid_client"},
		{name: "repeated parameter is invalid_request", auth: basic(confID, confSecret),
			params: url.Values{"grant_type": {"authorization_code", "authorization_code"}}, wantStatus: 400, wantError: "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := url.Values{}
			for k, v := range tt.params {
				p[k] = v
			}
			if _, ok := p["redirect_uri"]; ok || slices.Contains([]string{"omitted redirect_uri that was sent is invalid_grant"}, tt.name) {
				p.Set("code", issueCode(t, ts, pushParams()))
			}
			ts.clock.Advance(tt.advance)
			r := ts.do(t, nil, http.MethodPost, "/token", tt.auth, form, p.Encode())
			if r.Status != tt.wantStatus || r.JSON["error"] != tt.wantError {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, tt.wantStatus, tt.wantError)
			}
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("error response is cacheable")
			}
		})
	}
}

func TestToken_GETIs405(t *testing.T) {
	ts := newServer(t)
	r := ts.do(t, nil, http.MethodGet, "/token", "", "", "")
	if r.Status != 405 || r.Header.Get("Allow") != "POST" {
		t.Fatalf("GET /token: %d %v", r.Status, r.Header)
	}
}

func TestDiscovery_PublishesPAR(t *testing.T) {
	for _, requirePAR := range []bool{false, true} {
		env := map[string]string{}
		if requirePAR {
			env["REQUIRE_PAR"] = "true"
		}
		ts := newServer(t, withEnv(env))
		for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
			r := ts.do(t, nil, http.MethodGet, path, "", "", "")
			if r.Status != 200 {
				t.Fatalf("%s: %d", path, r.Status)
			}
			m := r.JSON
			// RFC 8414 §3.3: issuer identical to the one the document was fetched for.
			if m["issuer"] != ts.URL || m["pushed_authorization_request_endpoint"] != ts.URL+"/par" ||
				m["authorization_endpoint"] != ts.URL+"/authorize" || m["token_endpoint"] != ts.URL+"/token" ||
				m["jwks_uri"] != ts.URL+"/jwks" || m["authorization_response_iss_parameter_supported"] != true {
				t.Errorf("%s: %v", path, m)
			}
			// RFC 9126 §5: require_pushed_authorization_requests published only when true.
			if got, ok := m["require_pushed_authorization_requests"]; ok != requirePAR || (ok && got != true) {
				t.Errorf("require_pushed_authorization_requests = %v (present %v), want %v", got, ok, requirePAR)
			}
			if algs, _ := m["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "ES256" {
				t.Errorf("id_token_signing_alg_values_supported %v", algs)
			}
			if ccm, _ := m["code_challenge_methods_supported"].([]any); len(ccm) != 1 || ccm[0] != "S256" {
				t.Errorf("code_challenge_methods_supported %v", ccm)
			}
		}
		r := ts.do(t, nil, http.MethodGet, "/jwks", "", "", "")
		if r.Status != 200 || strings.Contains(r.Body, `"d"`) || !strings.Contains(r.Body, `"kid"`) {
			t.Fatalf("jwks: %d %s", r.Status, r.Body)
		}
	}
}

func decodeSegment(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
