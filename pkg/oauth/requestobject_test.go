package oauth_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/oauth"
)

// TestPush_RequestObject: RFC 9126 §3, a pushed request carried in a signed request
// object (RFC 9101), by jwt-client with keys generated in the test.
func TestPush_RequestObject(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    func(*oauth.Config)
		client func(*oauth.Client)
		over   map[string]any
		raw    func(d *domain) string // instead of d.requestObject(over)
		form   url.Values             // other form parameters of the push
		code   string
		check  func(t *testing.T, r oauth.AuthorizationRequest)
	}{
		{name: "RFC 9126 §3 the request object's claims are the request", check: func(t *testing.T, r oauth.AuthorizationRequest) {
			if r.State != "st-"+jwtID || r.CodeChallenge != challenge || r.RedirectURI != redirect {
				t.Errorf("request = %+v", r)
			}
		}},
		{name: "RFC 9126 §3 form parameters outside the request object are not used",
			form: url.Values{"state": {"from-the-form"}, "scope": {"openid api"}},
			check: func(t *testing.T, r oauth.AuthorizationRequest) {
				if r.State != "st-"+jwtID || strings.Join(r.Scopes, " ") != "openid profile email" {
					t.Errorf("request = %+v", r)
				}
			}},
		{name: "RFC 9101 §4 JSON-typed claims become parameters",
			over: map[string]any{"max_age": 300, "authorization_details": []any{map[string]any{"type": "account_information"}}},
			check: func(t *testing.T, r oauth.AuthorizationRequest) {
				if r.MaxAge == nil || *r.MaxAge != 300 || string(r.AuthorizationDetails) != `[{"type":"account_information"}]` {
					t.Errorf("request = %+v (details %s)", r, r.AuthorizationDetails)
				}
			}},
		{name: "RFC 9101 §10.5 require_signed_request_object is met by a request object",
			cfg: func(c *oauth.Config) { c.RequireSignedRequestObject = true },
			check: func(t *testing.T, r oauth.AuthorizationRequest) {
				if r.ClientID != jwtID {
					t.Errorf("request = %+v", r)
				}
			}},
		{name: "RFC 9101 §10.2 request_object_signing_alg matching the signature is accepted",
			client: func(c *oauth.Client) { c.RequestObjectSigningAlg = "ES256" },
			check: func(t *testing.T, r oauth.AuthorizationRequest) {
				if r.State != "st-"+jwtID {
					t.Errorf("request = %+v", r)
				}
			}},
		{name: "RFC 9101 §10.2 request_object_signing_alg other than the signature's is invalid_request_object",
			client: func(c *oauth.Client) { c.RequestObjectSigningAlg = "PS256" }, code: oauth.CodeInvalidRequestObject},
		{name: "RFC 9126 §3 step 3 client_id claim of another client is invalid_request_object", over: map[string]any{"client_id": confID}, code: oauth.CodeInvalidRequestObject},
		{name: "RFC 9126 §3 step 3 missing client_id claim is invalid_request_object", over: map[string]any{"client_id": nil}, code: oauth.CodeInvalidRequestObject},
		{name: "RFC 9126 §3 step 3 iss other than the client is invalid_request_object (this server requires it)", over: map[string]any{"iss": confID}, code: oauth.CodeInvalidRequestObject},
		{name: "RFC 9101 §4 aud without the issuer is invalid_request_object", over: map[string]any{"aud": tokenURL}, code: oauth.CodeInvalidRequestObject},
		{name: "RFC 9101 §4 aud as an array with the issuer is accepted", over: map[string]any{"aud": []string{"x", issuer}},
			check: func(t *testing.T, r oauth.AuthorizationRequest) {
				if r.ClientID != jwtID {
					t.Errorf("request = %+v", r)
				}
			}},
		{name: "FAPI 2.0 Message Signing §5.3.1 exp is required", over: map[string]any{"exp": nil}, code: oauth.CodeInvalidRequestObject},
		{name: "RFC 9101 §6.2 an expired request object is invalid_request_object", over: map[string]any{"exp": t0.Add(-time.Minute).Unix()}, code: oauth.CodeInvalidRequestObject},
		{name: "FAPI 2.0 Message Signing §5.3.1 exp beyond 60 minutes is invalid_request_object", over: map[string]any{"exp": t0.Add(61 * time.Minute).Unix()}, code: oauth.CodeInvalidRequestObject},
		{name: "RFC 9101 §6.3 a nested request_uri is invalid_request_object", over: map[string]any{"request_uri": oauth.RequestURIPrefix + "x"}, code: oauth.CodeInvalidRequestObject},
		{name: "RFC 9101 §6.3 a nested request is invalid_request_object", over: map[string]any{"request": "a.b.c"}, code: oauth.CodeInvalidRequestObject},
		{name: "RFC 7519 §4.1.7 a replayed jti is invalid_request_object", raw: func(d *domain) string {
			raw := d.requestObject(nil)
			if _, err := d.push(d.client(jwtID), url.Values{"request": {raw}}, oauth.DPoP{}); err != nil {
				d.tb.Fatalf("first push: %v", err)
			}
			return raw
		}, code: oauth.CodeInvalidRequestObject},
		{name: "RFC 9101 §5 an unsigned request object is invalid_request_object", raw: func(*domain) string {
			return "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqd3QtY2xpZW50In0."
		}, code: oauth.CodeInvalidRequestObject},
		{name: "RFC 9101 §6.2 a signature by an unregistered key is invalid_request_object", raw: func(d *domain) string {
			return sign(d.tb, mustECKey(), jose.ES256, "oauth-authz-req+jwt", "ck1", false, map[string]any{
				"iss": jwtID, "aud": issuer, "client_id": jwtID, "exp": d.now().Add(time.Minute).Unix()})
		}, code: oauth.CodeInvalidRequestObject},
		{name: "RFC 8725 §3.11 typ other than oauth-authz-req+jwt is invalid_request_object", raw: func(d *domain) string {
			return sign(d.tb, clientKey(), jose.ES256, "at+jwt", "ck1", false, map[string]any{
				"iss": jwtID, "aud": issuer, "client_id": jwtID, "exp": d.now().Add(time.Minute).Unix()})
		}, code: oauth.CodeInvalidRequestObject},
		{name: "RFC 9126 §2.1 the request object's request is validated like any other",
			over: map[string]any{"code_challenge_method": "plain"}, code: oauth.CodeInvalidRequest},
		{name: "RFC 9126 §2.1 request_uri beside the request object is invalid_request",
			form: url.Values{"request_uri": {oauth.RequestURIPrefix + "x"}}, code: oauth.CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []func(*setup)
			if tc.cfg != nil {
				opts = append(opts, withConfig(tc.cfg))
			}
			d := newDomain(t, opts...)
			if tc.client != nil {
				d.changeClient(jwtID, tc.client)
			}
			raw := ""
			if tc.raw != nil {
				raw = tc.raw(d)
			} else {
				raw = d.requestObject(tc.over)
			}
			params := url.Values{"request": {raw}, "client_id": {jwtID}}
			for k, v := range tc.form {
				params[k] = v
			}
			res, err := d.push(d.client(jwtID), params, oauth.DPoP{})
			if tc.code != "" {
				if res != nil {
					t.Fatalf("push succeeded: %+v", res)
				}
				wantErr(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, d.mustResume(jwtID, res.RequestURI).Request.Request)
		})
	}
	t.Run("RFC 9126 §2.3 require_signed_request_object refuses a plain push", func(t *testing.T) {
		d := newDomain(t, withConfig(func(c *oauth.Config) { c.RequireSignedRequestObject = true }))
		_, err := d.push(d.client(jwtID), authParams(jwtID), oauth.DPoP{})
		wantErr(t, err, oauth.CodeInvalidRequest)
	})
}

// TestFAPI2_Rules: the FAPI 2.0 Security Profile (docs/design.md decision 9) where it
// differs from plain OAuth.
func TestFAPI2_Rules(t *testing.T) {
	key := mustECKey()
	t.Run("FAPI 2.0 §5.3.2.2 item 6 redirect_uri is required in the push", func(t *testing.T) {
		d := newDomain(t, withFAPI2())
		_, err := d.push(d.client(jwtID), authParams(jwtID, "redirect_uri", absent), oauth.DPoP{})
		if e := wantErr(t, err, oauth.CodeInvalidRequest); e.Redirect {
			t.Error("a missing redirect_uri cannot be redirected to")
		}
	})
	t.Run("FAPI 2.0 §5.3.2.1 a token request without DPoP is invalid_dpop_proof", func(t *testing.T) {
		d := newDomain(t, withFAPI2())
		c := d.client(jwtID)
		_, err := d.exchange(c, tokenParams(d.code(c, authParams(jwtID))), oauth.DPoP{})
		wantErr(t, err, oauth.CodeInvalidDPoPProof)
	})
	t.Run("FAPI 2.0 §5.3.2.1 the code grant with DPoP issues a sender-constrained token", func(t *testing.T) {
		d := newDomain(t, withFAPI2())
		c := d.client(jwtID)
		resp, err := d.exchange(c, tokenParams(d.code(c, authParams(jwtID))), d.dpop(key))
		if err != nil || resp.TokenType != "DPoP" {
			t.Fatalf("exchange = %+v %v", resp, err)
		}
	})
}
