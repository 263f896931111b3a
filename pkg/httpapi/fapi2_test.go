package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
)

// The fapi2 profile (docs/design.md decision 9; FAPI 2.0 Security Profile §5.3).
func TestFAPI2Profile(t *testing.T) {
	ts := newServer(t, withEnv(map[string]string{"PROFILE": "fapi2"}))
	pushAs := func(claims map[string]any, params url.Values) response {
		return ts.do(t, nil, http.MethodPost, "/par", "", form,
			assertionForm(t, sign(t, clientKey, "", claims), with(params, "client_id", pkjwtID)).Encode())
	}

	t.Run("client secrets are refused (§5.3.2.1)", func(t *testing.T) {
		r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, pushParams().Encode())
		if r.Status != 401 || r.JSON["error"] != "invalid_client" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("public clients are refused (§5.3.2.1)", func(t *testing.T) {
		r := ts.do(t, nil, http.MethodPost, "/par", "", form,
			with(pushParams(), "client_id", publicID, "redirect_uri", "http://127.0.0.1:9999/cb", "scope", "openid").Encode())
		if r.Status != 401 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	// FAPI 2.0 Final §5.3.2.1 item 8: only the issuer, as a string.
	for name, aud := range map[string]any{
		"token endpoint URL as audience fails": ts.URL + "/token",
		"PAR endpoint URL as audience fails":   ts.URL + "/par",
		"array as audience fails":              []string{ts.URL},
	} {
		t.Run(name, func(t *testing.T) {
			r := pushAs(assertion(ts, func(m map[string]any) { m["aud"] = aud }), pushParams())
			if r.Status != 401 || r.JSON["error"] != "invalid_client" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	t.Run("redirect_uri is required in the push (§5.3.2.2)", func(t *testing.T) {
		r := pushAs(assertion(ts, nil), with(pushParams(), "redirect_uri", ""))
		if r.Status != 400 || r.JSON["error"] != "invalid_request" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("authorization requests without PAR are refused (§5.3.2.2)", func(t *testing.T) {
		// RFC 9126 §4: invalid_request, at the registered redirect URI (RFC 6749 §4.1.2.1).
		r := ts.browser(t).get(t, "/authorize?"+with(pushParams(), "client_id", pkjwtID).Encode())
		wantErrorRedirect(t, r, "invalid_request", "xyz-state", ts.URL)
	})
	t.Run("the flow needs a DPoP-bound token (§5.3.2.1 sender-constrained)", func(t *testing.T) {
		r := pushAs(assertion(ts, nil), pushParams())
		if r.Status != 201 {
			t.Fatalf("push: %d %s", r.Status, r.Body)
		}
		b := ts.browser(t)
		code := b.approve(t, b.login(t, pkjwtID, r.JSON["request_uri"].(string))).Get("code")
		body := assertionForm(t, sign(t, clientKey, "", assertion(ts, nil)),
			url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}})
		tr := ts.doDPoP(t, "/token", "", "", body)
		if tr.Status != 400 || tr.JSON["error"] != "invalid_dpop_proof" {
			t.Fatalf("without DPoP: %d %v", tr.Status, tr.JSON)
		}
		k := newDPoPKey(t)
		body = with(body, "client_assertion", sign(t, clientKey, "", assertion(ts, nil)))
		tr = ts.doDPoP(t, "/token", "", k.proof(t, ts, "POST", ts.URL+"/token", nil), body)
		if tr.Status != 200 || tr.JSON["token_type"] != "DPoP" {
			t.Fatalf("with DPoP: %d %v", tr.Status, tr.JSON)
		}
	})
	t.Run("metadata publishes the profile", func(t *testing.T) {
		m := ts.do(t, nil, http.MethodGet, "/.well-known/openid-configuration", "", "", "").JSON
		methods, _ := m["token_endpoint_auth_methods_supported"].([]any)
		if m["require_pushed_authorization_requests"] != true || len(methods) != 1 || methods[0] != "private_key_jwt" {
			t.Errorf("metadata %v", m)
		}
		// FAPI 2.0 §5.4.1 item 1: PS256, ES256 or EdDSA, and nothing else, everywhere.
		for _, name := range []string{"token_endpoint_auth_signing_alg_values_supported", "id_token_signing_alg_values_supported",
			"request_object_signing_alg_values_supported", "dpop_signing_alg_values_supported"} {
			algs, _ := m[name].([]any)
			if len(algs) == 0 {
				t.Errorf("%s is empty", name)
			}
			for _, a := range algs {
				if a != "PS256" && a != "ES256" && a != "EdDSA" {
					t.Errorf("%s publishes %v under FAPI 2.0", name, a)
				}
			}
		}
	})
}
