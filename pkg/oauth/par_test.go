package oauth_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/oauth"
)

// TestPush_Rules: one row per rule a pushed authorization request must pass
// (RFC 9126 §2.1 step 3: validated as at the authorization endpoint).
func TestPush_Rules(t *testing.T) {
	long := strings.Repeat("a", 2049)
	for _, tc := range []struct {
		name   string
		client string
		params []string // changes to authParams(client)
		code   string
		// redirect is whether the error may go to the redirect URI, i.e. the redirect
		// URI was established first (RFC 6749 §4.1.2.1).
		redirect bool
	}{
		{name: "RFC 9126 §2.1 request_uri in the push is invalid_request", params: []string{"request_uri", oauth.RequestURIPrefix + "x"}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §3.1 parameter included twice is invalid_request", params: []string{"scope", "openid\x00dup"}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 Appendix B non-UTF-8 value is invalid_request", params: []string{"state", "\xff"}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §3.1 control character in a value is invalid_request", params: []string{"state", "a\x01b"}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §3.1 overlong value is invalid_request", params: []string{"login_hint", strings.Repeat("h", 9000)}, code: oauth.CodeInvalidRequest},
		{name: "RFC 9126 §2.1 client_id other than the authenticated client is invalid_request", params: []string{"client_id", postID}, code: oauth.CodeInvalidRequest},
		{name: "RFC 9126 §2.3 unregistered redirect_uri is invalid_request", params: []string{"redirect_uri", "https://evil.example/cb"}, code: oauth.CodeInvalidRequest},
		{name: "RFC 9126 §2.4 prefix does not extend to a fragment", params: []string{"redirect_uri", redirect + "/x#frag"}, code: oauth.CodeInvalidRequest},
		{name: "RFC 9126 §7.2 public client gets no prefix-matched redirect_uri", client: publicID, params: []string{"redirect_uri", "http://127.0.0.1:9999/other"}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §3.1.2.3 redirect_uri omitted with two registered is invalid_request", client: twoURIID, params: []string{"redirect_uri", absent}, code: oauth.CodeInvalidRequest},
		{name: "OIDC Core §3.1.2.1 overlong state is invalid_request to the redirect URI", params: []string{"state", long}, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "RFC 6749 §4.1.1 missing response_type is invalid_request", params: []string{"response_type", absent}, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "OAuth 2.1 §4.1.1 response_type token is unsupported_response_type", params: []string{"response_type", "token"}, code: oauth.CodeUnsupportedResponseType, redirect: true},
		{name: "JARM §2.3 response_mode fragment is invalid_request", params: []string{"response_mode", "fragment"}, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "RFC 6749 §3.3 missing scope is invalid_scope", params: []string{"scope", absent}, code: oauth.CodeInvalidScope, redirect: true},
		{name: "RFC 6749 §3.3 scope outside the client's is invalid_scope", params: []string{"scope", "openid admin"}, code: oauth.CodeInvalidScope, redirect: true},
		{name: "RFC 6749 §3.3 scope with a quote is invalid_scope", params: []string{"scope", `open"id`}, code: oauth.CodeInvalidScope, redirect: true},
		{name: "RFC 7636 §4.4.1 missing code_challenge is invalid_request", params: []string{"code_challenge", absent}, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "RFC 7636 §4.3 missing code_challenge_method (plain) is invalid_request", params: []string{"code_challenge_method", absent}, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "RFC 9700 §2.1.1 code_challenge_method plain is invalid_request", params: []string{"code_challenge_method", "plain"}, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "RFC 7636 §4.2 code_challenge not 43 base64url characters is invalid_request", params: []string{"code_challenge", challenge[:42] + "!"}, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "OIDC Core §3.1.2.1 overlong nonce is invalid_request", params: []string{"nonce", long}, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "RFC 9449 §10 dpop_jkt that is no SHA-256 thumbprint is invalid_request", params: []string{"dpop_jkt", "abc"}, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "OIDC Core §3.1.2.1 unknown prompt value is invalid_request", params: []string{"prompt", "always"}, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "OIDC Core §3.1.2.1 prompt none with another value is invalid_request", params: []string{"prompt", "none login"}, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "OIDC Core §3.1.2.1 negative max_age is invalid_request", params: []string{"max_age", "-1"}, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "OIDC Core §3.1.2.1 non-numeric max_age is invalid_request", params: []string{"max_age", "soon"}, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "RFC 9396 §5 authorization_details with unknown type", params: []string{"authorization_details", `[{"type":"x"}]`}, code: oauth.CodeInvalidAuthorizationDetails, redirect: true},
		{name: "RFC 7591 §2 client without the code response type is unauthorized_client", client: "no-code", code: oauth.CodeUnauthorizedClient, redirect: true},
		{name: "RFC 7591 §2 client without the authorization_code grant is unauthorized_client", client: "no-grant", code: oauth.CodeUnauthorizedClient, redirect: true},
		{name: "RFC 9126 §2.3 client requiring request objects pushing plain parameters is invalid_request", client: "signed-only", code: oauth.CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			d.putClient(&oauth.Client{ID: "no-code", SecretHash: oauth.SecretHash(secret), RedirectURIs: []string{redirect},
				TokenEndpointAuthMethod: oauth.AuthClientSecretBasic, Scope: "openid profile email", ResponseTypes: []string{"token"}})
			d.putClient(&oauth.Client{ID: "no-grant", SecretHash: oauth.SecretHash(secret), RedirectURIs: []string{redirect},
				TokenEndpointAuthMethod: oauth.AuthClientSecretBasic, Scope: "openid profile email", GrantTypes: []string{oauth.GrantRefreshToken}})
			d.putClient(&oauth.Client{ID: "signed-only", SecretHash: oauth.SecretHash(secret), RedirectURIs: []string{redirect},
				TokenEndpointAuthMethod: oauth.AuthClientSecretBasic, Scope: "openid profile email", RequireSignedRequestObject: true})
			id := tc.client
			if id == "" {
				id = confID
			}
			params := authParams(id, tc.params...)
			// A value with NUL splits into a repeated parameter.
			for k, v := range params {
				if strings.Contains(v[0], "\x00dup") {
					params[k] = []string{strings.TrimSuffix(v[0], "\x00dup"), strings.TrimSuffix(v[0], "\x00dup")}
				}
			}
			res, err := d.push(d.client(id), params, oauth.DPoP{})
			if res != nil {
				t.Fatalf("push succeeded: %+v", res)
			}
			if e := wantErr(t, err, tc.code); e.Redirect != tc.redirect {
				t.Errorf("Redirect = %v, want %v (%v)", e.Redirect, tc.redirect, e)
			}
		})
	}
}

// TestPush_RequestURI: RFC 9126 §2.2, the successful response and what is stored.
func TestPush_RequestURI(t *testing.T) {
	d := newDomain(t)
	c := d.client(confID)
	res, err := d.push(c, authParams(confID), oauth.DPoP{})
	if err != nil {
		t.Fatal(err)
	}
	// §2.2: "expires_in: A JSON number that represents the lifetime of the request URI in seconds".
	if res.ExpiresIn != 60 {
		t.Errorf("expires_in = %d, want the configured 60", res.ExpiresIn)
	}
	ref, ok := strings.CutPrefix(res.RequestURI, "urn:ietf:params:oauth:request_uri:")
	if !ok {
		t.Fatalf("request_uri %q lacks the RFC 9126 §2.2 URN prefix", res.RequestURI)
	}
	// §2.2 / RFC 6749 §10.10: a cryptographically random reference; 256 bits here.
	if raw, err := base64.RawURLEncoding.DecodeString(ref); err != nil || len(raw) != 32 {
		t.Errorf("reference %q is not 32 random bytes in base64url: %v", ref, err)
	}
	again, err := d.push(c, authParams(confID), oauth.DPoP{})
	if err != nil {
		t.Fatal(err)
	}
	if again.RequestURI == res.RequestURI {
		t.Error("two pushes got the same request_uri")
	}
	key, ok := oauth.RequestKey(res.RequestURI)
	if !ok || key != oauth.HashKey(ref) || key == ref {
		t.Fatalf("RequestKey = %q %v, want the hash of the reference", key, ok)
	}
	if _, ok := oauth.RequestKey("urn:other:" + ref); ok {
		t.Error("RequestKey accepted a foreign URN")
	}
	if _, ok := oauth.RequestKey(oauth.RequestURIPrefix); ok {
		t.Error("RequestKey accepted an empty reference")
	}
	rec, err := d.store.GetPushedRequest(d.ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	// §2.2: the request_uri "MUST be bound to the client that posted the authorization request".
	if rec.ClientID != confID || !rec.Pushed || rec.ConsumedAt != nil {
		t.Errorf("stored request: client %q pushed %v consumed %v", rec.ClientID, rec.Pushed, rec.ConsumedAt)
	}
	// docs/design.md decision 2: expires_in bounds the first use, the transaction lasts longer.
	if !rec.RedeemBy.Equal(t0.Add(60*time.Second)) || !rec.Deadline.Equal(t0.Add(10*time.Minute)) || !rec.CreatedAt.Equal(t0) {
		t.Errorf("times: created %v redeem by %v deadline %v", rec.CreatedAt, rec.RedeemBy, rec.Deadline)
	}
	r := rec.Request
	if r.RedirectURI != redirect || !r.RedirectURIGiven || r.State != "st-"+confID || r.Nonce != "n-0S6_WzA2Mj" ||
		r.CodeChallenge != challenge || r.CodeChallengeMethod != "S256" || strings.Join(r.Scopes, " ") != "openid profile email" ||
		r.ResponseType != "code" || !r.OpenID() {
		t.Errorf("stored request = %+v", r)
	}
}

// TestPush_Accepted: requests that pass, with what they record.
func TestPush_Accepted(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client string
		params []string
		check  func(t *testing.T, r oauth.AuthorizationRequest, res *oauth.PushResult)
	}{
		{name: "RFC 9126 §2.2 client pushed_request_lifetime overrides expires_in", client: "long-lived",
			check: func(t *testing.T, _ oauth.AuthorizationRequest, res *oauth.PushResult) {
				if res.ExpiresIn != 90 {
					t.Errorf("expires_in = %d, want 90", res.ExpiresIn)
				}
			}},
		{name: "RFC 9126 §2.4 confidential client may push a redirect_uri under its prefix", params: []string{"redirect_uri", redirect + "/tenant-7?x=1"},
			check: func(t *testing.T, r oauth.AuthorizationRequest, _ *oauth.PushResult) {
				if r.RedirectURI != redirect+"/tenant-7?x=1" {
					t.Errorf("redirect_uri = %q", r.RedirectURI)
				}
			}},
		{name: "RFC 6749 §3.1.2.3 redirect_uri omitted with one registered uses it", params: []string{"redirect_uri", absent},
			check: func(t *testing.T, r oauth.AuthorizationRequest, _ *oauth.PushResult) {
				if r.RedirectURI != redirect || r.RedirectURIGiven {
					t.Errorf("redirect_uri = %q given %v", r.RedirectURI, r.RedirectURIGiven)
				}
			}},
		{name: "RFC 6749 §3.3 scope tokens are deduplicated", params: []string{"scope", " openid  email openid "},
			check: func(t *testing.T, r oauth.AuthorizationRequest, _ *oauth.PushResult) {
				if strings.Join(r.Scopes, ",") != "openid,email" {
					t.Errorf("scopes = %v", r.Scopes)
				}
			}},
		{name: "RFC 6749 §3.1 unknown parameters are ignored", params: []string{"x-vendor", "1"},
			check: func(t *testing.T, r oauth.AuthorizationRequest, _ *oauth.PushResult) {
				if r.State != "st-"+confID {
					t.Errorf("state = %q", r.State)
				}
			}},
		{name: "OIDC Core §3.1.2.1 prompt, max_age and hints are kept", params: []string{"prompt", "login  consent", "max_age", "0", "login_hint", "alice", "ui_locales", "de", "acr_values", "urn:x"},
			check: func(t *testing.T, r oauth.AuthorizationRequest, _ *oauth.PushResult) {
				if r.Prompt != "login consent" || r.MaxAge == nil || *r.MaxAge != 0 || r.LoginHint != "alice" || r.UILocales != "de" || r.ACRValues != "urn:x" {
					t.Errorf("request = %+v", r)
				}
			}},
		{name: "RFC 9449 §10 dpop_jkt is recorded", params: []string{"dpop_jkt", thumbprint(t, clientKey())},
			check: func(t *testing.T, r oauth.AuthorizationRequest, _ *oauth.PushResult) {
				if r.DPoPJKT != thumbprint(t, clientKey()) {
					t.Errorf("dpop_jkt = %q", r.DPoPJKT)
				}
			}},
		{name: "RFC 9396 §3 authorization_details without scope, compacted", params: []string{"scope", absent, "authorization_details", "[ {\"type\": \"account_information\",\n \"accounts\": [1]} ]"},
			check: func(t *testing.T, r oauth.AuthorizationRequest, _ *oauth.PushResult) {
				if string(r.AuthorizationDetails) != `[{"type":"account_information","accounts":[1]}]` || len(r.Scopes) != 0 {
					t.Errorf("authorization_details = %s scopes %v", r.AuthorizationDetails, r.Scopes)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			d.putClient(&oauth.Client{ID: "long-lived", SecretHash: oauth.SecretHash(secret), RedirectURIs: []string{redirect},
				TokenEndpointAuthMethod: oauth.AuthClientSecretBasic, Scope: "openid profile email", PushedRequestLifetime: 90})
			id := tc.client
			if id == "" {
				id = confID
			}
			res, err := d.push(d.client(id), authParams(id, tc.params...), oauth.DPoP{})
			if err != nil {
				t.Fatalf("push: %v", err)
			}
			tx, err := d.resume(id, res.RequestURI, false)
			if err != nil {
				t.Fatalf("resume: %v", err)
			}
			tc.check(t, tx.Request.Request, res)
		})
	}
}

// TestPush_DPoP: RFC 9449 §10.1, a DPoP proof sent with the push binds the code.
func TestPush_DPoP(t *testing.T) {
	key, other := mustECKey(), mustECKey()
	parDPoP := func(d *domain) oauth.DPoP {
		return oauth.DPoP{Proofs: []string{d.proof(key, "POST", parURL, nil)}, Method: "POST", URL: parURL}
	}
	t.Run("RFC 9449 §10.1 proof at the push binds the request to its key", func(t *testing.T) {
		d := newDomain(t)
		res, err := d.push(d.client(confID), authParams(confID), parDPoP(d))
		if err != nil {
			t.Fatal(err)
		}
		if got := d.mustResume(confID, res.RequestURI).Request.Request.DPoPJKT; got != thumbprint(t, key) {
			t.Errorf("dpop_jkt = %q, want the proof key's %q", got, thumbprint(t, key))
		}
	})
	t.Run("RFC 9449 §10.1 dpop_jkt equal to the proof key is accepted", func(t *testing.T) {
		d := newDomain(t)
		if _, err := d.push(d.client(confID), authParams(confID, "dpop_jkt", thumbprint(t, key)), parDPoP(d)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("RFC 9449 §10.1 dpop_jkt of another key than the proof's is invalid_request", func(t *testing.T) {
		d := newDomain(t)
		_, err := d.push(d.client(confID), authParams(confID, "dpop_jkt", thumbprint(t, other)), parDPoP(d))
		wantErr(t, err, oauth.CodeInvalidRequest)
	})
	t.Run("RFC 9449 §4.3 invalid proof at the push is invalid_dpop_proof", func(t *testing.T) {
		d := newDomain(t)
		bad := oauth.DPoP{Proofs: []string{d.proof(key, "GET", parURL, nil)}, Method: "POST", URL: parURL}
		_, err := d.push(d.client(confID), authParams(confID), bad)
		wantErr(t, err, oauth.CodeInvalidDPoPProof)
	})
}

// TestAuthorizationDetails_Rules: RFC 9396 §5, "The AS MUST refuse to process any
// unknown authorization details type or authorization details not conforming to the
// respective type definition."
func TestAuthorizationDetails_Rules(t *testing.T) {
	for _, tc := range []struct {
		name, details string
		restrict      []string // the client's authorization_details_types
		ok            bool
	}{
		{name: "RFC 9396 §2 conforming payment_initiation is accepted", details: paymentRAR, ok: true},
		{name: "RFC 9396 §2.2 common fields are allowed for every type", details: `[{"type":"account_information","locations":["https://x"],"actions":["read"],"datatypes":["a"],"identifier":"i","privileges":["p"]}]`, ok: true},
		{name: "RFC 9396 §2 not a JSON array", details: `{"type":"payment_initiation"}`},
		{name: "RFC 9396 §2 empty array", details: `[]`},
		{name: "RFC 9396 §2 more than 32 entries", details: "[" + strings.Repeat(`{"type":"account_information"},`, 32) + `{"type":"account_information"}]`},
		{name: "RFC 9396 §2 type is required", details: `[{"creditorName":"A"}]`},
		{name: "RFC 9396 §2 type must be a string", details: `[{"type":7}]`},
		{name: "RFC 9396 §5 unknown type", details: `[{"type":"loan"}]`},
		{name: "RFC 9396 §5 field not in the type definition", details: `[{"type":"payment_initiation","instructedAmount":{},"color":"red"}]`},
		{name: "RFC 9396 §5 field of the wrong JSON type", details: `[{"type":"payment_initiation","instructedAmount":"123"}]`},
		{name: "RFC 9396 §5 common field of the wrong JSON type", details: `[{"type":"account_information","actions":"read"}]`},
		{name: "RFC 9396 §5 missing required field", details: `[{"type":"payment_initiation","creditorName":"A"}]`},
		{name: "RFC 9396 §10.2 type outside the client's authorization_details_types", details: paymentRAR, restrict: []string{"account_information"}},
		{name: "RFC 9396 §10.2 type within the client's authorization_details_types", details: paymentRAR, restrict: []string{"payment_initiation"}, ok: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			c := d.changeClient(confID, func(c *oauth.Client) { c.AuthorizationDetailsTypes = tc.restrict })
			res, err := d.push(c, authParams(confID, "authorization_details", tc.details), oauth.DPoP{})
			if !tc.ok {
				if e := wantErr(t, err, oauth.CodeInvalidAuthorizationDetails); !e.Redirect {
					t.Errorf("RAR error not redirectable: %v", e)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := d.mustResume(confID, res.RequestURI).Request.Request.AuthorizationDetails
			var a, b any
			if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(tc.details), &b) != nil || !jsonEqual(a, b) {
				t.Errorf("stored authorization_details = %s", got)
			}
		})
	}
	t.Run("RFC 9396 §10.1 server without types refuses authorization_details", func(t *testing.T) {
		d := newDomain(t, withConfig(func(c *oauth.Config) { c.AuthorizationDetailsTypes = nil }))
		_, err := d.push(d.client(confID), authParams(confID, "authorization_details", paymentRAR), oauth.DPoP{})
		wantErr(t, err, oauth.CodeInvalidAuthorizationDetails)
	})
}

// jsonEqual reports whether a and b encode to the same JSON value, whatever their Go
// types and key order.
func jsonEqual(a, b any) bool {
	norm := func(v any) (string, bool) {
		raw, err := json.Marshal(v)
		if err != nil {
			return "", false
		}
		var generic any
		if json.Unmarshal(raw, &generic) != nil {
			return "", false
		}
		out, err := json.Marshal(generic)
		return string(out), err == nil
	}
	x, ok1 := norm(a)
	y, ok2 := norm(b)
	return ok1 && ok2 && x == y
}

// TestParseDetailsTypes: the AUTHORIZATION_DETAILS_TYPES configuration.
func TestParseDetailsTypes(t *testing.T) {
	got, err := oauth.ParseDetailsTypes(`{"payment_initiation":{"fields":{"instructedAmount":"object"},"required":["instructedAmount","type"]}}`)
	if err != nil {
		t.Fatal(err)
	}
	if pi := got["payment_initiation"]; pi.Fields["instructedAmount"] != "object" || len(pi.Required) != 2 {
		t.Errorf("parsed = %+v", got)
	}
	if got, err := oauth.ParseDetailsTypes(""); got != nil || err != nil {
		t.Errorf("empty configuration = %v %v, want none", got, err)
	}
	for name, raw := range map[string]string{
		"unknown JSON type":             `{"t":{"fields":{"a":"date"}}}`,
		"RFC 9396 §2.2 common field":    `{"t":{"fields":{"locations":"array"}}}`,
		"undefined required field":      `{"t":{"fields":{"a":"string"},"required":["b"]}}`,
		"unknown key in the definition": `{"t":{"fields":{},"optional":["a"]}}`,
		"not JSON":                      `{`,
	} {
		if _, err := oauth.ParseDetailsTypes(raw); err == nil {
			t.Errorf("%s: %s accepted", name, raw)
		}
	}
}

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
			d := newDomainFor(t, tc.cfg, jwtID, tc.client)
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
			if wantOutcome(t, tc.code, err, res != nil, res) {
				return
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

// TestPush_RFC9126Section2_2_RequestObjectExpBoundsExpiresIn: a request_uri does not
// outlive the request object it stands for (RFC 9126 §2.2 expires_in, §3; RFC 7519
// §4.1.4: after exp the JWT "MUST NOT be accepted for processing").
func TestPush_RFC9126Section2_2_RequestObjectExpBoundsExpiresIn(t *testing.T) {
	for _, tc := range []struct {
		name      string
		exp       time.Duration // from t0, whole seconds (a NumericDate)
		push      time.Duration // from t0
		expiresIn int           // 0: the push is refused with invalid_request_object
	}{
		{name: "RFC 9126 §2.2 exp 30 s away gives expires_in 30", exp: 30 * time.Second, expiresIn: 30},
		{name: "RFC 9126 §2.2 a fraction of a second left over rounds down", exp: 30 * time.Second, push: 200 * time.Millisecond, expiresIn: 29},
		{name: "RFC 9126 §2.2 exp beyond the configured lifetime keeps it", exp: 5 * time.Minute, expiresIn: 60},
		{name: "RFC 9126 §2.2 exp passed within the clock skew leaves no positive expires_in", exp: -2 * time.Second},
		{name: "RFC 9126 §2.2 exp under a second away leaves no positive expires_in", exp: time.Second, push: 200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomainFor(t, nil, jwtID, nil)
			exp := d.now().Add(tc.exp)
			d.advance(tc.push)
			claims := map[string]any{"iss": jwtID, "aud": issuer, "jti": nextJTI(), "exp": exp.Unix()}
			for k, v := range authParams(jwtID) {
				claims[k] = v[0]
			}
			raw := sign(d.tb, clientKey(), jose.ES256, "oauth-authz-req+jwt", "ck1", false, claims)
			res, err := d.push(d.client(jwtID), url.Values{"request": {raw}, "client_id": {jwtID}}, oauth.DPoP{})
			if tc.expiresIn == 0 {
				wantOutcome(t, oauth.CodeInvalidRequestObject, err, res != nil, res)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.ExpiresIn != tc.expiresIn {
				t.Fatalf("expires_in = %d, want %d", res.ExpiresIn, tc.expiresIn)
			}
			// The redemption deadline is expires_in: usable one second before, not at it.
			d.advance(time.Duration(tc.expiresIn)*time.Second - time.Second)
			if _, err := d.resume(jwtID, res.RequestURI, false); err != nil {
				t.Fatalf("resume 1 s before expires_in: %v", err)
			}
			d.advance(time.Second)
			_, err = d.resume(jwtID, res.RequestURI, false)
			wantErr(t, err, oauth.CodeInvalidRequestURI)
		})
	}
}

// FAPI 2.0 Security Profile §5.3.2.2 note 2: expires_in "of less than 600 seconds". A
// client registered with pushed_request_lifetime 600 (allowed by RFC 9126 in the
// default profile) gets 599 under fapi2.
func TestPush_FAPI2_5_3_2_2_ClientLifetimeStaysBelow600(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []func(*setup)
		id   string
		want int
	}{
		{"default", nil, confID, 600},
		{"fapi2", []func(*setup){withFAPI2()}, jwtID, 599},
	} {
		d := newDomain(t, tc.opts...)
		d.changeClient(tc.id, func(c *oauth.Client) { c.PushedRequestLifetime = 600 })
		res, err := d.push(d.client(tc.id), authParams(tc.id), oauth.DPoP{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.ExpiresIn != tc.want {
			t.Errorf("%s: expires_in %d, want %d", tc.name, res.ExpiresIn, tc.want)
		}
	}
}
