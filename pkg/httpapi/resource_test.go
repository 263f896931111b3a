package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestResourceIndicators: RFC 8707 on the wire. /par and /token answer invalid_target
// as RFC 6749 §5.2 JSON; the access token's aud is the resources (RFC 9700 §2.3);
// introspection shows it; /userinfo, the server's own resource, refuses a token for
// other resources only.
func TestResourceIndicators(t *testing.T) {
	ts := newServer(t)
	pushWith := func(resources ...string) url.Values {
		p := pushParams()
		p.Set("scope", "openid offline_access")
		p["resource"] = resources
		return p
	}

	t.Run("RFC 8707 §2 an unregistered resource at /par is a 400 invalid_target", func(t *testing.T) {
		r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, pushWith(apiResource, "https://other.example.org/").Encode())
		if r.Status != http.StatusBadRequest || r.JSON["error"] != "invalid_target" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%d %v %s, want 400 invalid_target JSON", r.Status, r.Header, r.Body)
		}
		// The description names no value the client sent.
		if strings.Contains(r.Body, "other.example.org") {
			t.Errorf("the error quotes the resource: %s", r.Body)
		}
	})

	t.Run("RFC 8707 §2 another client may not use confID's resources", func(t *testing.T) {
		p := with(pushParams(), "client_id", postID, "scope", "openid", "resource", apiResource)
		r := ts.do(t, nil, http.MethodPost, "/par", "", form, with(p, "client_secret", postSecret).Encode())
		if r.Status != http.StatusBadRequest || r.JSON["error"] != "invalid_target" {
			t.Errorf("%d %s, want 400 invalid_target", r.Status, r.Body)
		}
	})

	code := issueCode(t, ts, pushWith(apiResource, ledgerResource))
	tokenBody := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	r := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, tokenBody.Encode())
	if r.Status != http.StatusOK {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	at, rt := r.JSON["access_token"].(string), r.JSON["refresh_token"].(string)

	t.Run("RFC 8707 §2 the access token's aud is the requested resources, not the issuer", func(t *testing.T) {
		claims := ts.verifiedClaims(t, at)
		if !jsonEqualAny(claims["aud"], []any{apiResource, ledgerResource}) {
			t.Errorf("aud = %v", claims["aud"])
		}
		// RFC 7662 §2.2: introspection shows the audience.
		if got := introspect(t, ts, at); !jsonEqualAny(got["aud"], []any{apiResource, ledgerResource}) || got["active"] != true {
			t.Errorf("introspection = %v", got)
		}
	})

	t.Run("RFC 9700 §2.3 /userinfo refuses a token for other resources with invalid_token", func(t *testing.T) {
		r := ts.do(t, nil, http.MethodGet, "/userinfo", "Bearer "+at, "", "")
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%d %v", r.Status, r.Header)
		}
	})

	t.Run("RFC 8707 §2.2 refresh narrows to one resource", func(t *testing.T) {
		r := refreshWith(t, ts, rt, "resource", ledgerResource)
		if r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		rt = r.JSON["refresh_token"].(string)
		if aud := ts.verifiedClaims(t, r.JSON["access_token"].(string))["aud"]; aud != ledgerResource {
			t.Errorf("aud = %v, want %q", aud, ledgerResource)
		}
	})

	t.Run("RFC 8707 §2.2 refresh cannot widen: a 400 invalid_target", func(t *testing.T) {
		for _, res := range []string{ts.URL, "https://other.example.org/"} {
			r := refreshWith(t, ts, rt, "resource", res)
			if r.Status != http.StatusBadRequest || r.JSON["error"] != "invalid_target" {
				t.Errorf("resource %s: %d %s, want 400 invalid_target", res, r.Status, r.Body)
			}
		}
	})

	t.Run("RFC 8707 §2 several resource parameters at /token are not a repeated parameter", func(t *testing.T) {
		body := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {ledgerResource, apiResource}}
		r := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, body.Encode())
		if r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if aud := ts.verifiedClaims(t, r.JSON["access_token"].(string))["aud"]; !jsonEqualAny(aud, []any{ledgerResource, apiResource}) {
			t.Errorf("aud = %v", aud)
		}
	})

	t.Run("RFC 8707 §2 no resource keeps the issuer as the audience, and userinfo works", func(t *testing.T) {
		tok := tokensFor(t, ts, "openid")
		if aud := ts.verifiedClaims(t, tok["access_token"].(string))["aud"]; aud != ts.URL {
			t.Errorf("aud = %v, want the issuer %s", aud, ts.URL)
		}
		if r := ts.do(t, nil, http.MethodGet, "/userinfo", "Bearer "+tok["access_token"].(string), "", ""); r.Status != http.StatusOK {
			t.Errorf("userinfo: %d %s", r.Status, r.Body)
		}
	})

	t.Run("RFC 8707 §2 the issuer named with another resource keeps userinfo usable", func(t *testing.T) {
		code := issueCode(t, ts, pushWith(apiResource, ts.URL))
		body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
		r := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, body.Encode())
		if r.Status != http.StatusOK {
			t.Fatalf("token: %d %s", r.Status, r.Body)
		}
		if r := ts.do(t, nil, http.MethodGet, "/userinfo", "Bearer "+r.JSON["access_token"].(string), "", ""); r.Status != http.StatusOK {
			t.Errorf("userinfo: %d %s", r.Status, r.Body)
		}
	})
}

// jsonEqualAny compares a decoded JSON value with want, element by element for arrays.
func jsonEqualAny(got any, want []any) bool {
	g, ok := got.([]any)
	return ok && slices.Equal(g, want)
}
