package httpapi_test

// Tests of CONFORMANCE.md rows that no other test proves: each names the sentence of
// the specification it checks.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
)

// wantPage checks r is an HTML error page with status and code, and no redirect
// (RFC 6749 §4.1.2.1).
func wantPage(t *testing.T, r response, status int, code string) {
	t.Helper()
	if r.Status != status || r.Header.Get("Location") != "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("want an error page %d, got %d (Location %q):\n%s", status, r.Status, r.Header.Get("Location"), r.Body)
	}
	if !strings.Contains(r.Body, "<code>"+code+"</code>") {
		t.Fatalf("error page does not show %s:\n%s", code, r.Body)
	}
}

// RFC 9126 §2.3: "If the client is required to use signed Request Objects, by either
// the authorization server or the client policy (see [RFC9101], Section 10.5), the
// authorization server MUST only accept requests complying with the definition given
// in Section 3 and MUST refuse any other request with HTTP status code 400 and error
// code invalid_request." This is the server policy (REQUIRE_SIGNED_REQUEST_OBJECT);
// TestPAR_RequestObject covers the client policy.
func TestConformance_RequireSignedRequestObjectServerWide(t *testing.T) {
	ts := newServer(t, withEnv(map[string]string{"REQUIRE_SIGNED_REQUEST_OBJECT": "true"}))
	r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, pushParams().Encode())
	if r.Status != 400 || r.JSON["error"] != "invalid_request" {
		t.Fatalf("plain push: %d %s", r.Status, r.Body)
	}
	// RFC 9101 §10.5: the server metadata says so.
	if m := ts.do(t, nil, http.MethodGet, "/.well-known/oauth-authorization-server", "", "", "").JSON; m["require_signed_request_object"] != true {
		t.Errorf("metadata require_signed_request_object = %v", m["require_signed_request_object"])
	}
	ro := requestObject(ts, func(m map[string]any) { m["iss"], m["client_id"], m["scope"] = pkjwtID, pkjwtID, "openid profile" })
	body := assertionForm(t, sign(t, clientKey, "", assertion(ts, nil)), url.Values{"request": {sign(t, clientKey, "oauth-authz-req+jwt", ro)}})
	if r := ts.do(t, nil, http.MethodPost, "/par", "", form, body.Encode()); r.Status != 201 {
		t.Fatalf("signed push: %d %s", r.Status, r.Body)
	}
}

// RFC 9126 §4 builds the authorization request "as defined in [RFC9101]", and RFC
// 9101 §6.3: the authorization server "MUST only use the parameters in the Request
// Object even if the same parameter is provided in the query parameter". Parameters
// next to client_id and request_uri at /authorize change nothing: not the redirect
// URI, the state, the scope or the PKCE challenge.
func TestConformance_AuthorizeUsesOnlyThePushedParameters(t *testing.T) {
	ts := newServer(t)
	uri := ts.push(t, confID, confSecret, pushParams())
	b := ts.browser(t)
	extra := url.Values{"state": {"evil-state"}, "redirect_uri": {"https://evil.example/cb"}, "scope": {"openid admin"},
		"response_type": {"token"}, "code_challenge": {strings.Repeat("A", 43)}, "prompt": {"none"}, "nonce": {"evil"}}
	page := b.get(t, authorizePath(confID, uri)+"&"+extra.Encode())
	if page.Status != 200 || !strings.Contains(page.Body, `name="password"`) {
		t.Fatalf("login page: %d %s", page.Status, page.Body)
	}
	r := b.submit(t, page, url.Values{"username": {username}, "password": {password}})
	consent := b.get(t, r.Header.Get("Location"))
	resp := b.submit(t, consent, url.Values{"decision": {"approve"}})
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, redirectURI+"?") {
		t.Fatalf("authorization response to %q", loc)
	}
	q, _ := url.ParseQuery(loc[len(redirectURI)+1:])
	if q.Get("state") != "xyz-state" {
		t.Errorf("state %q, want the pushed xyz-state", q.Get("state"))
	}
	tr := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, url.Values{"grant_type": {"authorization_code"},
		"code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}.Encode())
	if tr.Status != 200 || tr.JSON["scope"] != "openid profile email" {
		t.Fatalf("token: %d %s", tr.Status, tr.Body)
	}
	idt := ts.verifiedClaims(t, tr.JSON["id_token"].(string))
	if idt["nonce"] != "n-123" {
		t.Errorf("ID token nonce %v, want the pushed n-123", idt["nonce"])
	}
}

// RFC 9126 §4: the server "MUST validate authorization requests arising from a pushed
// request as it would any other authorization request" and may skip checks done at
// the push only if "the request or the authorization server's policy has not been
// modified"; §7.4 recommends checking "the request parameter against the client
// policy when processing the authorization request". A client changed after the push
// is checked again at /authorize, once the change has reached the instance: clients are
// cached for CLIENT_CACHE_TTL (30 s by default), so the clock moves past it.
func TestConformance_ClientPolicyIsCheckedAgainAtAuthorize(t *testing.T) {
	for _, tc := range []struct {
		name, id, secret string
		params           url.Values
		change           func(*oauth.Client)
	}{
		{name: "a redirect URI no longer allowed", id: prefixID, secret: prefixSc,
			params: with(pushParams(), "client_id", prefixID, "scope", "openid", "redirect_uri", "https://tenant.example.org/cb/acme"),
			change: func(c *oauth.Client) { c.PushedRedirectURIPrefixes = nil }},
		{name: "a disabled client", id: confID, secret: confSecret, params: pushParams(),
			change: func(c *oauth.Client) { c.Disabled = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := seededStore(t, memory.New())
			ts := newServer(t, withStore(store))
			uri := ts.push(t, tc.id, tc.secret, tc.params)
			changeClient(t, store, tc.id, tc.change)
			ts.clock.Advance(31 * time.Second)
			wantPage(t, ts.browser(t).get(t, authorizePath(tc.id, uri)), 400, "invalid_request")
		})
	}
}

// verifiedClaims are the claims of the JWT tok, which the server's keys must verify.
func (ts *testServer) verifiedClaims(tb testing.TB, tok string) map[string]any {
	tb.Helper()
	payload, err := ts.keys.Verify(tok)
	if err != nil {
		tb.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		tb.Fatal(err)
	}
	return claims
}

// changeClient applies change to the stored client id.
func changeClient(tb testing.TB, store *memory.Store, id string, change func(*oauth.Client)) {
	tb.Helper()
	changeStored(tb, store.GetClient, store.PutClient, id, change)
}

// changeUser applies change to the stored user name.
func changeUser(tb testing.TB, store *memory.Store, name string, change func(*oauth.User)) {
	tb.Helper()
	changeStored(tb, store.GetUser, store.PutUser, name, change)
}

// changeStored reads the item key with get, applies change and writes it back with put.
func changeStored[T any](tb testing.TB, get func(context.Context, string) (T, error), put func(context.Context, T) error, key string, change func(T)) {
	tb.Helper()
	v, err := get(context.Background(), key)
	if err != nil {
		tb.Fatal(err)
	}
	change(v)
	if err := put(context.Background(), v); err != nil {
		tb.Fatal(err)
	}
}

// RFC 9126 §2.1: client authentication parameters "are relied upon only for client
// authentication and are not germane to the authorization request itself": the
// stored request holds neither the secret nor the assertion.
func TestConformance_ClientAuthenticationParametersAreNotStored(t *testing.T) {
	store := seededStore(t, memory.New())
	ts := newServer(t, withStore(store))
	secretPush := with(pushParams(), "client_id", postID, "client_secret", postSecret, "scope", "openid")
	r := ts.do(t, nil, http.MethodPost, "/par", "", form, secretPush.Encode())
	if r.Status != 201 {
		t.Fatalf("client_secret_post push: %d %s", r.Status, r.Body)
	}
	a := sign(t, clientKey, "", assertion(ts, nil))
	r2 := ts.do(t, nil, http.MethodPost, "/par", "", form, assertionForm(t, a, with(pushParams(), "client_id", pkjwtID)).Encode())
	if r2.Status != 201 {
		t.Fatalf("private_key_jwt push: %d %s", r2.Status, r2.Body)
	}
	for _, c := range []struct {
		uri    string
		secret string
	}{{r.JSON["request_uri"].(string), postSecret}, {r2.JSON["request_uri"].(string), a}} {
		key, _ := oauth.RequestKey(c.uri)
		rec, err := store.GetPushedRequest(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := json.Marshal(rec)
		for _, leak := range []string{c.secret, "client_secret", "client_assertion"} {
			if strings.Contains(string(stored), leak) {
				t.Errorf("stored pushed request contains %.20q: %s", leak, stored)
			}
		}
	}
}

// RFC 7523 §3 item 2: "The JWT MUST contain a sub (subject) claim identifying the
// principal that is the subject of the JWT ... the subject MUST be the client_id of
// the OAuth client" (OIDC Core §9: iss and sub are the client_id). Item 1 (iss) is in
// TestPAR_PrivateKeyJWT.
func TestConformance_ClientAssertionSubjectIsTheClient(t *testing.T) {
	ts := newServer(t)
	push := func(claims map[string]any, clientID string) response {
		body := assertionForm(t, sign(t, clientKey, "", claims), pushParams())
		if clientID != "" {
			body.Set("client_id", clientID)
		}
		return ts.do(t, nil, http.MethodPost, "/par", "", form, body.Encode())
	}
	for name, mod := range map[string]func(map[string]any){
		"sub another client": func(m map[string]any) { m["sub"] = confID },
		"no sub":             func(m map[string]any) { delete(m, "sub") },
		"sub not a string":   func(m map[string]any) { m["sub"] = 7 },
	} {
		t.Run(name+" is invalid_client", func(t *testing.T) {
			if r := push(assertion(ts, mod), ""); r.Status != 401 || r.JSON["error"] != "invalid_client" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	t.Run("a body client_id other than sub is invalid_request", func(t *testing.T) {
		if r := push(assertion(ts, nil), confID); r.Status != 400 || r.JSON["error"] != "invalid_request" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}

// FAPI 2.0 Security Profile §5.3.2.1 (clock skew): the authorization server "shall
// accept JWTs with an iat or nbf timestamp between 0 and 10 seconds in the future"
// and "shall reject JWTs with an iat or nbf timestamp greater than 60 seconds in the
// future", for client assertions and request objects alike.
func TestConformance_JWTClockSkew(t *testing.T) {
	ts := newServer(t)
	now := ts.clock.Now()
	for _, tt := range []struct {
		claim string
		ahead time.Duration
		ok    bool
	}{{"iat", 5 * time.Second, true}, {"nbf", 10 * time.Second, true}, {"iat", 61 * time.Second, false}, {"nbf", 61 * time.Second, false}} {
		name := tt.claim + " " + tt.ahead.String() + " ahead"
		t.Run("client assertion "+name, func(t *testing.T) {
			claims := assertion(ts, func(m map[string]any) { m[tt.claim] = now.Add(tt.ahead).Unix() })
			r := ts.do(t, nil, http.MethodPost, "/par", "", form, assertionForm(t, sign(t, clientKey, "", claims), pushParams()).Encode())
			if (r.Status == 201) != tt.ok || (!tt.ok && r.JSON["error"] != "invalid_client") {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
		t.Run("request object "+name, func(t *testing.T) {
			ro := requestObject(ts, func(m map[string]any) { m[tt.claim] = now.Add(tt.ahead).Unix() })
			body := url.Values{"client_id": {jarID}, "request": {sign(t, clientKey, "oauth-authz-req+jwt", ro)}}
			r := ts.do(t, nil, http.MethodPost, "/par", basic(jarID, jarSec), form, body.Encode())
			if (r.Status == 201) != tt.ok || (!tt.ok && r.JSON["error"] != "invalid_request_object") {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
}

// RFC 9449 §4.3, the checks of a DPoP proof not covered by
// TestDPoP_PARBindingAndTokenBinding: item 1 "there is not more than one DPoP HTTP
// request header field", item 5 the alg "indicates a registered asymmetric digital
// signature algorithm ... is not none", item 6 the signature verifies with the jwk
// header, and item 7 "the jwk JOSE Header Parameter does not contain a private key".
func TestConformance_DPoPProofChecks(t *testing.T) {
	ts := newServer(t)
	k := newDPoPKey(t)
	parURL := ts.URL + "/par"
	claims := func() string {
		return `{"jti":"` + newJTI() + `","htm":"POST","htu":"` + parURL + `","iat":` + jsonInt(ts.clock.Now().Unix()) + `}`
	}
	pub, _ := json.Marshal(k.Key.Public())
	priv, _ := json.Marshal(k.Key)
	b64 := base64.RawURLEncoding.EncodeToString
	hs256 := func(header, payload string) string {
		in := b64([]byte(header)) + "." + b64([]byte(payload))
		mac := hmac.New(sha256.New, []byte("a shared secret of thirty-two bytes!"))
		mac.Write([]byte(in))
		return in + "." + b64(mac.Sum(nil))
	}
	proofs := map[string]string{
		"a private key in jwk": signRaw(t, k.Key, `{"alg":"ES256","typ":"dpop+jwt","jwk":`+string(priv)+`}`, claims()),
		"alg none":             b64([]byte(`{"alg":"none","typ":"dpop+jwt","jwk":`+string(pub)+`}`)) + "." + b64([]byte(claims())) + ".",
		"alg HS256":            hs256(`{"alg":"HS256","typ":"dpop+jwt","jwk":{"kty":"oct","k":"`+b64([]byte("a shared secret of thirty-two bytes!"))+`"}}`, claims()),
		"no jwk":               signRaw(t, k.Key, `{"alg":"ES256","typ":"dpop+jwt"}`, claims()),
	}
	for name, proof := range proofs {
		t.Run(name+" is invalid_dpop_proof", func(t *testing.T) {
			r := ts.doDPoP(t, "/par", basic(confID, confSecret), proof, pushParams())
			if r.Status != 400 || r.JSON["error"] != "invalid_dpop_proof" {
				t.Fatalf("%d %v", r.Status, r.JSON)
			}
		})
	}
	t.Run("two DPoP headers is invalid_dpop_proof", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, parURL, strings.NewReader(pushParams().Encode()))
		req.Header.Set("Content-Type", form)
		req.Header.Set("Authorization", basic(confID, confSecret))
		req.Header.Add("DPoP", k.proof(t, ts, "POST", parURL, nil))
		req.Header.Add("DPoP", k.proof(t, ts, "POST", parURL, nil))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode != 400 || m["error"] != "invalid_dpop_proof" {
			t.Fatalf("%d %v", resp.StatusCode, m)
		}
	})
	t.Run("a well-formed proof is accepted", func(t *testing.T) {
		proof := signRaw(t, k.Key, `{"alg":"ES256","typ":"dpop+jwt","jwk":`+string(pub)+`}`, claims())
		if r := ts.doDPoP(t, "/par", basic(confID, confSecret), proof, pushParams()); r.Status != 201 {
			t.Fatalf("%d %v", r.Status, r.JSON)
		}
	})
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than
// once", at the authorization endpoint; before the client and its redirect URI are
// established the error is a page, never a redirect (§4.1.2.1). TestPAR and TestToken
// cover the back channel.
func TestConformance_RepeatedParametersAtAuthorize(t *testing.T) {
	ts := newServer(t)
	uri := ts.push(t, confID, confSecret, pushParams())
	for name, query := range map[string]string{
		"request_uri twice":           authorizePath(confID, uri) + "&request_uri=" + url.QueryEscape(uri),
		"client_id twice":             authorizePath(confID, uri) + "&client_id=" + confID,
		"client_id twice (direct)":    "/authorize?" + pushParams().Encode() + "&client_id=" + confID,
		"scope twice (direct)":        "/authorize?" + pushParams().Encode() + "&scope=openid",
		"redirect_uri twice (direct)": "/authorize?" + pushParams().Encode() + "&redirect_uri=" + url.QueryEscape(redirectURI),
	} {
		t.Run(name, func(t *testing.T) {
			wantPage(t, ts.browser(t).get(t, query), 400, "invalid_request")
		})
	}
	// The pushed request is intact after the refused attempts.
	b := ts.browser(t)
	if resp := b.approve(t, b.login(t, confID, uri)); resp.Get("code") == "" {
		t.Fatalf("no code: %v", resp)
	}
}

// RFC 9126 §2.2: the request_uri "MUST contain some part generated using a
// cryptographically strong pseudorandom algorithm such that it is computationally
// infeasible to predict or guess a valid value", RFC 6749 §10.10: a guessing
// probability of at most 2^-128. Each push of the same request gets a distinct
// reference of at least 256 bits of base64url.
func TestConformance_RequestURIsAreUnguessable(t *testing.T) {
	ts := newServer(t)
	seen := map[string]bool{}
	for range 20 {
		uri := ts.push(t, confID, confSecret, pushParams())
		ref := strings.TrimPrefix(uri, "urn:ietf:params:oauth:request_uri:")
		raw, err := base64.RawURLEncoding.DecodeString(ref)
		if err != nil || len(raw) < 32 {
			t.Fatalf("reference %q: %d bytes (%v), want ≥ 32 random bytes", ref, len(raw), err)
		}
		if seen[ref] {
			t.Fatalf("reference %q issued twice", ref)
		}
		seen[ref] = true
	}
}

// FAPI 2.0 Security Profile §5.4.1: "shall use PS256, ES256 or EdDSA" — under the
// fapi2 profile an RS256 client assertion is refused even with a key that could
// verify it, and the same RSA key signing PS256 is accepted.
func TestConformance_FAPI2ClientJWTAlgorithms(t *testing.T) {
	store := seededStore(t, memory.New())
	ts := newServer(t, withStore(store), withEnv(map[string]string{"PROFILE": "fapi2"}))
	k, err := keys.Generate(keys.RS256)
	if err != nil {
		t.Fatal(err)
	}
	pub := k.Public()
	pub.Algorithm = "" // usable with RS256 and PS256 alike; only the profile decides
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	const rsaID = "rsa-client"
	if err := store.PutClient(context.Background(), &oauth.Client{ID: rsaID, TokenEndpointAuthMethod: oauth.AuthPrivateKeyJWT,
		JWKS: jwks, Consent: oauth.ConsentAlways, RedirectURIs: []string{redirectURI}, Scope: "openid"}); err != nil {
		t.Fatal(err)
	}
	for alg, want := range map[string]int{"RS256": 401, "PS256": 201} {
		t.Run(alg, func(t *testing.T) {
			key := k
			key.Algorithm = alg
			claims := assertion(ts, func(m map[string]any) { m["iss"], m["sub"] = rsaID, rsaID })
			body := assertionForm(t, sign(t, key, "", claims), with(pushParams(), "scope", "openid"))
			if r := ts.do(t, nil, http.MethodPost, "/par", "", form, body.Encode()); r.Status != want {
				t.Fatalf("%s assertion: %d %s", alg, r.Status, r.Body)
			}
		})
	}
}

// RFC 9449 §5.2: with dpop_bound_access_tokens "the authorization server MUST reject
// token requests from this client that do not contain the DPoP header", in the
// default profile too.
func TestConformance_DPoPBoundAccessTokensClient(t *testing.T) {
	store := seededStore(t, memory.New())
	ts := newServer(t, withStore(store))
	changeClient(t, store, confID, func(c *oauth.Client) { c.DPoPBoundAccessTokens = true })
	code := issueCode(t, ts, pushParams())
	body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	if r := ts.doDPoP(t, "/token", basic(confID, confSecret), "", body); r.Status != 400 || r.JSON["error"] != "invalid_dpop_proof" {
		t.Fatalf("without DPoP: %d %v", r.Status, r.JSON)
	}
	k := newDPoPKey(t)
	if r := ts.doDPoP(t, "/token", basic(confID, confSecret), k.proof(t, ts, "POST", ts.URL+"/token", nil), body); r.Status != 200 || r.JSON["token_type"] != "DPoP" {
		t.Fatalf("with DPoP: %d %v", r.Status, r.JSON)
	}
}

// RFC 6749 §3.1 (and §3.2 for the token endpoint): "Parameters sent without a value
// MUST be treated as if they were omitted from the request. The authorization server
// MUST ignore unrecognized request parameters."
func TestConformance_UnknownAndEmptyParameters(t *testing.T) {
	ts := newServer(t)
	p := with(pushParams(), "x_unknown", "1", "another-one", "<b>")
	p.Set("nonce", "")
	p.Set("redirect_uri", "") // one registered URI: as if omitted
	uri := ts.push(t, confID, confSecret, p)
	b := ts.browser(t)
	code := b.approve(t, b.login(t, confID, uri)).Get("code")
	body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "x_unknown": {"1"}, "scope": {""}}
	r := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, body.Encode())
	if r.Status != 200 {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	idt := ts.verifiedClaims(t, r.JSON["id_token"].(string))
	if _, ok := idt["nonce"]; ok {
		t.Errorf("an empty nonce was treated as a value: %v", idt["nonce"])
	}
}

// RFC 6749 §5.2: "Values for the error_description parameter MUST NOT include
// characters outside the set %x20-21 / %x23-5B / %x5D-7E", also when the description
// quotes the input (found by fuzzing; FuzzPAR and FuzzToken check it for every input).
func TestConformance_ErrorDescriptionCharset(t *testing.T) {
	ts := newServer(t)
	r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form,
		with(pushParams(), "redirect_uri", "https://evil.example/cb").Encode())
	desc, _ := r.JSON["error_description"].(string)
	for _, c := range []byte(desc) {
		if c < 0x20 || c == 0x22 || c == 0x5c || c > 0x7e {
			t.Fatalf("error_description %q has %q, outside RFC 6749 §5.2's set", desc, c)
		}
	}
}

// RFC 9449 §4.3 item 9: htu must match the request URI, compared after RFC 3986
// §6.2.3 scheme-based normalization, which drops only the scheme's default port: a
// proof for https://as.example.org:80/par names another origin than
// https://as.example.org/par (found by FuzzDPoPProof).
func TestConformance_DPoPHTUDropsOnlyTheSchemesDefaultPort(t *testing.T) {
	fs := newFuzzServer(t)
	proof := signRaw(t, fs.dpopKey, fs.expand(`{"alg":"ES256","typ":"dpop+jwt","jwk":$JWK}`),
		fs.expand(`{"jti":"$JTI","htm":"POST","htu":"https://as.example.org:80/par","iat":$NOW}`))
	rec := fs.post("/par", []byte(pushParams().Encode()), basic(confID, confSecret), proof)
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	if rec.Code != 400 || m["error"] != "invalid_dpop_proof" {
		t.Fatalf("htu https://as.example.org:80/par for https://as.example.org/par: %d %v", rec.Code, m)
	}
}

// RFC 7515 §4.1.9: typ is a string; RFC 8725 §3.11 explicit typing. A request object
// whose typ is a number is not one without typ (found by FuzzRequestObjectClaims).
func TestConformance_NonStringTypIsRefused(t *testing.T) {
	fs := newFuzzServer(t)
	claims := fs.expand(`{"iss":"` + jarID + `","aud":"$ISSUER","client_id":"` + jarID + `","jti":"$JTI","iat":$NOW,"exp":$EXP,` +
		`"response_type":"code","redirect_uri":"$REDIRECT","scope":"openid","code_challenge":"$CHALLENGE","code_challenge_method":"S256"}`)
	token := signRaw(t, clientKey, fs.expand(`{"alg":"ES256","kid":"$KID","typ":7}`), claims)
	rec := fs.post("/par", []byte("client_id="+jarID+"&request="+token), basic(jarID, jarSec), "")
	if rec.Code == http.StatusCreated || !strings.Contains(rec.Body.String(), "invalid_request_object") {
		t.Fatalf("request object with typ 7: %d %s", rec.Code, rec.Body)
	}
}
