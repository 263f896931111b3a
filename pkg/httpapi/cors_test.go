package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
)

// spaID is a public browser-based app (draft-ietf-oauth-browser-based-apps) whose
// pages are at the origin of its redirect URI and at one more allowed origin.
const (
	spaID       = "spa-client"
	spaRedirect = "https://spa.example.org/callback"
	spaOrigin   = "https://spa.example.org"
	spaOther    = "https://app.example.net"
	evilOrigin  = "https://evil.example.com"
)

func corsServer(tb testing.TB) *testServer {
	tb.Helper()
	store := seededStore(tb, memory.New())
	if err := store.PutClient(tb.Context(), &oauth.Client{ID: spaID, Consent: oauth.ConsentAlways, RedirectURIs: []string{spaRedirect},
		AllowedOrigins: []string{spaOther}, TokenEndpointAuthMethod: oauth.AuthNone, Scope: "openid offline_access",
		GrantTypes: []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken}}); err != nil {
		tb.Fatal(err)
	}
	return newServer(tb, withStore(store))
}

// spaCode runs the front channel for the SPA and returns a fresh code.
func spaCode(t *testing.T, ts *testServer) string {
	t.Helper()
	params := with(pushParams(), "client_id", spaID, "redirect_uri", spaRedirect, "scope", "openid offline_access")
	r := ts.do(t, nil, http.MethodPost, "/par", "", form, params.Encode())
	if r.Status != http.StatusCreated {
		t.Fatalf("push: %d %s", r.Status, r.Body)
	}
	requestURI := r.JSON["request_uri"].(string)
	b := ts.browser(t)
	code := b.approve(t, b.login(t, spaID, requestURI)).Get("code")
	if code == "" {
		t.Fatal("no code")
	}
	return code
}

func spaRedeem(t *testing.T, ts *testServer, code, origin string) response {
	t.Helper()
	body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {spaRedirect},
		"code_verifier": {verifier}, "client_id": {spaID}}.Encode()
	var h map[string]string
	if origin != "" {
		h = map[string]string{"Origin": origin}
	}
	return ts.doWithHeader(t, nil, http.MethodPost, "/token", "", form, body, h)
}

func preflight(t *testing.T, ts *testServer, path, origin, method, headers string) response {
	t.Helper()
	h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
	if headers != "" {
		h["Access-Control-Request-Headers"] = headers
	}
	return ts.doWithHeader(t, nil, http.MethodOptions, path, "", "", "", h)
}

func varies(r response, field string) bool {
	for _, v := range r.Header.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), field) {
				return true
			}
		}
	}
	return false
}

// TestCORS_BrowserBasedApps: RFC 9700 §2.6 and the Fetch Standard's CORS protocol
// (§3.2) at each endpoint (docs/design.md decision 30).
func TestCORS_BrowserBasedApps(t *testing.T) {
	ts := corsServer(t)

	t.Run("Fetch §3.2.2 a preflight at the client endpoints is answered for any origin, without credentials", func(t *testing.T) {
		for path, methods := range map[string]string{"/token": "POST", "/revoke": "POST", "/par": "POST", "/userinfo": "GET, POST"} {
			for _, origin := range []string{spaOrigin, evilOrigin} {
				r := preflight(t, ts, path, origin, "POST", "content-type,dpop")
				if r.Status != http.StatusNoContent {
					t.Fatalf("OPTIONS %s from %s: %d %s", path, origin, r.Status, r.Body)
				}
				for k, want := range map[string]string{
					"Access-Control-Allow-Origin":  origin,
					"Access-Control-Allow-Methods": methods,
					"Access-Control-Allow-Headers": "Authorization, Content-Type, DPoP",
					"Access-Control-Max-Age":       "600",
				} {
					if got := r.Header.Get(k); got != want {
						t.Errorf("OPTIONS %s from %s: %s = %q, want %q", path, origin, k, got, want)
					}
				}
				if r.Header.Get("Access-Control-Allow-Credentials") != "" {
					t.Errorf("OPTIONS %s: credentials allowed", path)
				}
				if !varies(r, "Origin") || !varies(r, "Access-Control-Request-Headers") {
					t.Errorf("OPTIONS %s: Vary = %q", path, r.Header.Values("Vary"))
				}
			}
		}
	})

	t.Run("RFC 9700 §2.6 the token endpoint answers the SPA's origins with Access-Control-Allow-Origin and Vary: Origin", func(t *testing.T) {
		for _, origin := range []string{spaOrigin, spaOther} {
			r := spaRedeem(t, ts, spaCode(t, ts), origin)
			if r.Status != http.StatusOK || r.JSON["access_token"] == nil {
				t.Fatalf("from %s: %d %s", origin, r.Status, r.Body)
			}
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != origin {
				t.Errorf("from %s: Access-Control-Allow-Origin = %q", origin, got)
			}
			if got := r.Header.Get("Access-Control-Expose-Headers"); got != "DPoP-Nonce, WWW-Authenticate, Retry-After" {
				t.Errorf("Access-Control-Expose-Headers = %q", got)
			}
			if !varies(r, "Origin") || r.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("Vary = %q, credentials %q", r.Header.Values("Vary"), r.Header.Get("Access-Control-Allow-Credentials"))
			}
		}
	})

	t.Run("RFC 6749 §5.2 another origin is invalid_request before the code is spent, and the code still works from the SPA", func(t *testing.T) {
		code := spaCode(t, ts)
		for _, origin := range []string{evilOrigin, "null", spaOrigin + ":443", "http://spa.example.org"} {
			r := spaRedeem(t, ts, code, origin)
			if r.Status != http.StatusBadRequest || r.JSON["error"] != oauth.CodeInvalidRequest {
				t.Fatalf("from %s: %d %s, want 400 invalid_request", origin, r.Status, r.Body)
			}
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("from %s: Access-Control-Allow-Origin = %q", origin, got)
			}
			if !varies(r, "Origin") {
				t.Errorf("from %s: no Vary: Origin", origin)
			}
		}
		if r := spaRedeem(t, ts, code, spaOrigin); r.Status != http.StatusOK {
			t.Errorf("the code after refused origins: %d %s", r.Status, r.Body)
		}
	})

	t.Run("RFC 6749 §5.2 an error for the SPA's origin is readable by its page", func(t *testing.T) {
		r := spaRedeem(t, ts, "not-a-code", spaOrigin)
		if r.Status != http.StatusBadRequest || r.JSON["error"] != oauth.CodeInvalidGrant {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if r.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
			t.Errorf("Access-Control-Allow-Origin = %q", r.Header.Get("Access-Control-Allow-Origin"))
		}
	})

	t.Run("Fetch §3.1 without Origin (not a browser) the token endpoint is as before", func(t *testing.T) {
		r := spaRedeem(t, ts, spaCode(t, ts), "")
		if r.Status != http.StatusOK || r.Header.Get("Access-Control-Allow-Origin") != "" || !varies(r, "Origin") {
			t.Errorf("%d ACAO %q Vary %q", r.Status, r.Header.Get("Access-Control-Allow-Origin"), r.Header.Values("Vary"))
		}
	})

	t.Run("BCP §6.3 a confidential client gets no CORS at the token or PAR endpoint, even from its redirect URI's origin", func(t *testing.T) {
		h := map[string]string{"Origin": "https://client.example.org"}
		r := ts.doWithHeader(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, pushParams().Encode(), h)
		if r.Status != http.StatusBadRequest || r.JSON["error"] != oauth.CodeInvalidRequest || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("/par: %d %s ACAO %q", r.Status, r.Body, r.Header.Get("Access-Control-Allow-Origin"))
		}
		body := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}.Encode()
		r = ts.doWithHeader(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, body, h)
		if r.Status != http.StatusBadRequest || r.JSON["error"] != oauth.CodeInvalidRequest || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("/token: %d %s ACAO %q", r.Status, r.Body, r.Header.Get("Access-Control-Allow-Origin"))
		}
		// Without Origin, as from its backend, the same push is fine.
		if r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, pushParams().Encode()); r.Status != http.StatusCreated {
			t.Errorf("/par without Origin: %d %s", r.Status, r.Body)
		}
	})

	t.Run("RFC 9126 §2 the PAR endpoint answers the public SPA's origin", func(t *testing.T) {
		params := with(pushParams(), "client_id", spaID, "redirect_uri", spaRedirect, "scope", "openid")
		r := ts.doWithHeader(t, nil, http.MethodPost, "/par", "", form, params.Encode(), map[string]string{"Origin": spaOrigin})
		if r.Status != http.StatusCreated || r.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
			t.Errorf("%d %s ACAO %q", r.Status, r.Body, r.Header.Get("Access-Control-Allow-Origin"))
		}
	})

	t.Run("RFC 7009 and OIDC Core §5.3 revocation and userinfo answer the SPA's origin, not another", func(t *testing.T) {
		tok := spaRedeem(t, ts, spaCode(t, ts), spaOrigin).JSON
		at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
		for _, origin := range []string{spaOrigin, evilOrigin} {
			r := ts.doWithHeader(t, nil, http.MethodGet, "/userinfo", "Bearer "+at, "", "", map[string]string{"Origin": origin})
			if r.Status != http.StatusOK {
				t.Fatalf("userinfo from %s: %d %s", origin, r.Status, r.Body)
			}
			want := ""
			if origin == spaOrigin {
				want = origin
			}
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != want || !varies(r, "Origin") {
				t.Errorf("userinfo from %s: Access-Control-Allow-Origin = %q, want %q; Vary %q", origin, got, want, r.Header.Values("Vary"))
			}
		}
		// A refused token: the page of the token's client reads the challenge.
		r := ts.doWithHeader(t, nil, http.MethodGet, "/userinfo", "DPoP "+at, "", "", map[string]string{"Origin": spaOrigin})
		if r.Status != http.StatusUnauthorized || r.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
			t.Errorf("userinfo with the wrong scheme: %d ACAO %q", r.Status, r.Header.Get("Access-Control-Allow-Origin"))
		}
		revoke := url.Values{"token": {rt}, "client_id": {spaID}}.Encode()
		r = ts.doWithHeader(t, nil, http.MethodPost, "/revoke", "", form, revoke, map[string]string{"Origin": evilOrigin})
		if r.Status != http.StatusBadRequest || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("revoke from another origin: %d %s", r.Status, r.Body)
		}
		r = ts.doWithHeader(t, nil, http.MethodPost, "/revoke", "", form, revoke, map[string]string{"Origin": spaOrigin})
		if r.Status != http.StatusOK || r.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
			t.Errorf("revoke from the SPA: %d %s ACAO %q", r.Status, r.Body, r.Header.Get("Access-Control-Allow-Origin"))
		}
	})

	t.Run("RFC 9700 §2.6 discovery and the JWKS are public: Access-Control-Allow-Origin *", func(t *testing.T) {
		for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/jwks"} {
			r := ts.doWithHeader(t, nil, http.MethodGet, path, "", "", "", map[string]string{"Origin": evilOrigin})
			if r.Status != http.StatusOK || r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("GET %s: %d ACAO %q", path, r.Status, r.Header.Get("Access-Control-Allow-Origin"))
			}
			p := preflight(t, ts, path, evilOrigin, "GET", "")
			if p.Status != http.StatusNoContent || p.Header.Get("Access-Control-Allow-Origin") != "*" || p.Header.Get("Access-Control-Allow-Methods") != "GET, HEAD" {
				t.Errorf("OPTIONS %s: %d %v", path, p.Status, p.Header)
			}
		}
	})

	t.Run("RFC 9700 §2.6 FAPI 2.0 §5.2 never CORS at the authorization endpoint, its pages or introspection", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{http.MethodOptions, "/authorize"}, {http.MethodGet, authorizePath(spaID, "urn:x")}, {http.MethodPost, "/authorize"},
			{http.MethodOptions, "/introspect"}, {http.MethodPost, "/introspect"},
		} {
			h := map[string]string{"Origin": spaOrigin}
			if c.method == http.MethodOptions {
				h["Access-Control-Request-Method"] = "POST"
			}
			r := ts.doWithHeader(t, nil, c.method, c.path, "", form, "", h)
			for k := range r.Header {
				if strings.HasPrefix(strings.ToLower(k), "access-control-") {
					t.Errorf("%s %s: %s: %s", c.method, c.path, k, r.Header.Get(k))
				}
			}
			if c.method == http.MethodOptions && r.Status < 400 {
				t.Errorf("%s %s: %d, want an error", c.method, c.path, r.Status)
			}
		}
	})

	t.Run("Fetch §3.2.2 OPTIONS without Origin is not a preflight: 405 as before", func(t *testing.T) {
		r := ts.do(t, nil, http.MethodOptions, "/token", "", "", "")
		if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%d ACAO %q", r.Status, r.Header.Get("Access-Control-Allow-Origin"))
		}
	})
}
