package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestIntrospect_SignedResponse: RFC 9701 on the wire. A caller that sends "Accept:
// application/token-introspection+jwt" (§4) gets a JWT of that media type signed with
// the server's keys (§5); any other Accept gets RFC 7662's JSON; errors stay JSON.
func TestIntrospect_SignedResponse(t *testing.T) {
	ts := newServer(t)
	tok := tokensFor(t, ts, "openid profile")["access_token"].(string)
	body := url.Values{"token": {tok}}.Encode()
	introspectAccepting := func(t *testing.T, accept, auth string) response {
		t.Helper()
		return ts.doWithHeader(t, nil, http.MethodPost, "/introspect", auth, form, body, map[string]string{"Accept": accept})
	}
	plain := introspect(t, ts, tok)

	for _, accept := range []string{
		"application/token-introspection+jwt",
		"Application/Token-Introspection+JWT",
		"application/json;q=0.5, application/token-introspection+jwt",
		"application/token-introspection+jwt; q=0.9",
	} {
		t.Run("RFC 9701 §4 Accept "+accept+" gets a signed JWT", func(t *testing.T) {
			r := introspectAccepting(t, accept, basic(confID, confSecret))
			if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/token-introspection+jwt" ||
				r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%d %v %s", r.Status, r.Header, r.Body)
			}
			h, err := jwtHeader(r.Body)
			if err != nil || h["typ"] != "token-introspection+jwt" {
				t.Errorf("RFC 9701 §5 header = %v %v", h, err)
			}
			claims := ts.verifiedClaims(t, r.Body)
			// §5: iss the issuer, aud the resource server (the caller's client_id), iat.
			if claims["iss"] != ts.URL || claims["aud"] != confID || claims["iat"] != float64(ts.clock.Now().Unix()) {
				t.Errorf("claims = %v", claims)
			}
			got, _ := json.Marshal(claims["token_introspection"])
			want, _ := json.Marshal(plain)
			if string(got) != string(want) {
				t.Errorf("token_introspection = %s, want the JSON response %s", got, want)
			}
		})
	}

	for _, accept := range []string{"", "application/json", "*/*", "application/*", "application/token-introspection+jwt;q=0", "application/jwt"} {
		t.Run("RFC 7662 §2.2 Accept "+accept+" gets JSON", func(t *testing.T) {
			r := introspectAccepting(t, accept, basic(confID, confSecret))
			if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || r.JSON["active"] != true {
				t.Errorf("%d %v %s", r.Status, r.Header, r.Body)
			}
		})
	}

	t.Run("RFC 9701 §5 an inactive token is a JWT whose token_introspection is active false", func(t *testing.T) {
		r := ts.doWithHeader(t, nil, http.MethodPost, "/introspect", basic(twoURIID, twoURISecret), form, body,
			map[string]string{"Accept": "application/token-introspection+jwt"})
		if r.Status != http.StatusOK {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		claims := ts.verifiedClaims(t, r.Body)
		ti, _ := claims["token_introspection"].(map[string]any)
		if claims["aud"] != twoURIID || len(ti) != 1 || ti["active"] != false {
			t.Errorf("claims = %v", claims)
		}
	})

	t.Run("RFC 7662 §2.3 errors stay JSON when a JWT is asked for", func(t *testing.T) {
		r := introspectAccepting(t, "application/token-introspection+jwt", "")
		if r.Status != http.StatusUnauthorized || r.JSON["error"] != "invalid_client" {
			t.Errorf("%d %v %s", r.Status, r.Header, r.Body)
		}
	})

	t.Run("RFC 9701 §7 metadata lists introspection_signing_alg_values_supported", func(t *testing.T) {
		r := ts.do(t, nil, http.MethodGet, "/.well-known/oauth-authorization-server", "", "", "")
		algs, _ := r.JSON["introspection_signing_alg_values_supported"].([]any)
		if len(algs) != 1 || algs[0] != "ES256" {
			t.Errorf("introspection_signing_alg_values_supported = %v", r.JSON["introspection_signing_alg_values_supported"])
		}
	})
}
