package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/memory"
)

// tokensFor runs the flow for confID with scope and returns the token response.
func tokensFor(t *testing.T, ts *testServer, scope string, extra ...string) map[string]any {
	t.Helper()
	code := issueCode(t, ts, with(pushParams(), append([]string{"scope", scope}, extra...)...))
	body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	r := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, body.Encode())
	if r.Status != 200 {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	return r.JSON
}

func refreshWith(t *testing.T, ts *testServer, rt string, extra ...string) response {
	t.Helper()
	body := with(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, extra...)
	return ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, body.Encode())
}

func introspect(t *testing.T, ts *testServer, token string) map[string]any {
	t.Helper()
	r := ts.do(t, nil, http.MethodPost, "/introspect", basic(confID, confSecret), form, url.Values{"token": {token}}.Encode())
	if r.Status != 200 {
		t.Fatalf("introspect: %d %s", r.Status, r.Body)
	}
	return r.JSON
}

func TestRefresh_OnlyWithOfflineAccessForOpenID(t *testing.T) {
	ts := newServer(t)
	if tok := tokensFor(t, ts, "openid profile"); tok["refresh_token"] != nil {
		t.Errorf("refresh token without offline_access: %v", tok)
	}
	if tok := tokensFor(t, ts, "openid offline_access"); tok["refresh_token"] == nil {
		t.Errorf("no refresh token with offline_access: %v", tok)
	}
}

// RFC 9700 §4.14.2: rotation, and reuse of a rotated token revokes the family.
func TestRefresh_RotatesAndReuseRevokesTheFamily(t *testing.T) {
	ts := newServer(t)
	tok := tokensFor(t, ts, "openid offline_access profile")
	rt1 := tok["refresh_token"].(string)
	r := refreshWith(t, ts, rt1)
	if r.Status != 200 || r.JSON["refresh_token"] == nil || r.JSON["refresh_token"] == rt1 {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	rt2, at2 := r.JSON["refresh_token"].(string), r.JSON["access_token"].(string)
	if introspect(t, ts, at2)["active"] != true || introspect(t, ts, rt2)["active"] != true {
		t.Fatal("fresh tokens are inactive")
	}
	// Narrowing is allowed, widening is not (RFC 6749 §6).
	if r := refreshWith(t, ts, rt2, "scope", "openid admin"); r.Status != 400 || r.JSON["error"] != "invalid_scope" {
		t.Errorf("widening scope: %d %s", r.Status, r.Body)
	}
	// Reuse of rt1 revokes the whole grant: rt2 and the access tokens die with it.
	if r := refreshWith(t, ts, rt1); r.Status != 400 || r.JSON["error"] != "invalid_grant" {
		t.Fatalf("reuse: %d %s", r.Status, r.Body)
	}
	if r := refreshWith(t, ts, rt2); r.Status != 400 || r.JSON["error"] != "invalid_grant" {
		t.Errorf("sibling after reuse: %d %s", r.Status, r.Body)
	}
	for _, tkn := range []string{at2, tok["access_token"].(string), rt2} {
		if got := introspect(t, ts, tkn); got["active"] != false || len(got) != 1 {
			t.Errorf("token of a revoked grant: %v", got)
		}
	}
}

func TestRefresh_AnotherClientCannotUseIt(t *testing.T) {
	ts := newServer(t)
	rt := tokensFor(t, ts, "openid offline_access")["refresh_token"].(string)
	body := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	r := ts.do(t, nil, http.MethodPost, "/token", basic(twoURIID, twoURISecret), form, body.Encode())
	if r.Status != 400 || (r.JSON["error"] != "invalid_grant" && r.JSON["error"] != "unauthorized_client") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}

// RFC 6749 §4.1.2: a replayed code revokes the tokens issued from it.
func TestToken_ReplayedCodeRevokesItsTokens(t *testing.T) {
	ts := newServer(t)
	code := issueCode(t, ts, with(pushParams(), "scope", "openid offline_access"))
	body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}.Encode()
	first := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, body)
	if first.Status != 200 {
		t.Fatalf("%d %s", first.Status, first.Body)
	}
	if r := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, body); r.JSON["error"] != "invalid_grant" {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	if got := introspect(t, ts, first.JSON["access_token"].(string)); got["active"] != false {
		t.Errorf("access token after code replay: %v", got)
	}
	if r := refreshWith(t, ts, first.JSON["refresh_token"].(string)); r.Status != 400 {
		t.Errorf("refresh token after code replay: %d", r.Status)
	}
}

// RFC 7009.
func TestRevoke(t *testing.T) {
	ts := newServer(t)
	tok := tokensFor(t, ts, "openid offline_access")
	revoke := func(auth, token string) response {
		return ts.do(t, nil, http.MethodPost, "/revoke", auth, form, url.Values{"token": {token}}.Encode())
	}
	if r := revoke(basic(twoURIID, twoURISecret), tok["refresh_token"].(string)); r.Status != 400 {
		t.Errorf("another client revoking: %d %s", r.Status, r.Body)
	}
	if r := revoke(basic(confID, confSecret), "not-a-token"); r.Status != 200 {
		t.Errorf("invalid token must be 200 (RFC 7009 §2.2): %d", r.Status)
	}
	if r := revoke("", tok["refresh_token"].(string)); r.Status != 401 {
		t.Errorf("unauthenticated: %d", r.Status)
	}
	if r := revoke(basic(confID, confSecret), tok["refresh_token"].(string)); r.Status != 200 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if got := introspect(t, ts, tok["access_token"].(string)); got["active"] != false {
		t.Errorf("access token after revocation: %v", got)
	}
	// Revoking by access token works too.
	tok = tokensFor(t, ts, "openid offline_access")
	if r := revoke(basic(confID, confSecret), tok["access_token"].(string)); r.Status != 200 {
		t.Fatalf("revoke access token: %d", r.Status)
	}
	if r := refreshWith(t, ts, tok["refresh_token"].(string)); r.Status != 400 {
		t.Errorf("refresh after access token revocation: %d", r.Status)
	}
}

// RFC 7662.
func TestIntrospect(t *testing.T) {
	ts := newServer(t)
	tok := tokensFor(t, ts, "openid profile")
	got := introspect(t, ts, tok["access_token"].(string))
	if got["active"] != true || got["client_id"] != confID || got["scope"] != "openid profile" || got["token_type"] != "Bearer" {
		t.Errorf("introspection: %v", got)
	}
	// Another client does not learn about this token.
	r := ts.do(t, nil, http.MethodPost, "/introspect", basic(twoURIID, twoURISecret), form, url.Values{"token": {tok["access_token"].(string)}}.Encode())
	if r.JSON["active"] != false {
		t.Errorf("other client sees the token: %v", r.JSON)
	}
	for _, bad := range []string{"x", "a.b.c", tok["id_token"].(string)} {
		if got := introspect(t, ts, bad); got["active"] != false || len(got) != 1 {
			t.Errorf("%q: %v", bad, got)
		}
	}
	if r := ts.do(t, nil, http.MethodPost, "/introspect", "", form, "token=x"); r.Status != 401 {
		t.Errorf("unauthenticated: %d", r.Status)
	}
}

// OIDC Core §5.3, RFC 6750.
func TestUserinfo(t *testing.T) {
	store := seededStore(t, memory.New())
	ts := newServer(t, withStore(store))
	user, err := store.GetUser(t.Context(), username)
	if err != nil {
		t.Fatal(err)
	}
	tok := tokensFor(t, ts, "openid profile email")
	at := tok["access_token"].(string)
	r := ts.do(t, nil, http.MethodGet, "/userinfo", "Bearer "+at, "", "")
	// OIDC Core §2: the sub is the user's stored, random subject, never the username.
	if r.Status != 200 || r.JSON["sub"] != user.Sub || user.Sub == "" || user.Sub == username || r.JSON["email"] != "alice@example.org" || r.JSON["name"] != "Alice Example" {
		t.Fatalf("userinfo: %d %s", r.Status, r.Body)
	}
	if r := ts.do(t, nil, http.MethodPost, "/userinfo", "", form, "access_token="+url.QueryEscape(at)); r.Status != 200 {
		t.Errorf("form access_token: %d %s", r.Status, r.Body)
	}
	r = ts.do(t, nil, http.MethodGet, "/userinfo", "Bearer nope", "", "")
	if r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("bad token: %d %v", r.Status, r.Header)
	}
	noOpenID := tokensFor(t, ts, "profile")["access_token"].(string)
	if r := ts.do(t, nil, http.MethodGet, "/userinfo", "Bearer "+noOpenID, "", ""); r.Status != 403 {
		t.Errorf("without openid scope: %d", r.Status)
	}
	// A revoked grant makes userinfo refuse the token.
	if r := ts.do(t, nil, http.MethodPost, "/revoke", basic(confID, confSecret), form, url.Values{"token": {at}}.Encode()); r.Status != 200 {
		t.Fatal(r.Status)
	}
	if r := ts.do(t, nil, http.MethodGet, "/userinfo", "Bearer "+at, "", ""); r.Status != 401 {
		t.Errorf("revoked: %d", r.Status)
	}
}

// RFC 9449 §7: a DPoP-bound token at userinfo needs the DPoP scheme and a proof with ath.
func TestUserinfo_DPoPBoundToken(t *testing.T) {
	ts := newServer(t)
	k := newDPoPKey(t)
	code := issueCode(t, ts, with(pushParams(), "dpop_jkt", k.jkt(t)))
	body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	tr := ts.doDPoP(t, "/token", basic(confID, confSecret), k.proof(t, ts, "POST", ts.URL+"/token", nil), body)
	at, _ := tr.JSON["access_token"].(string)
	if at == "" {
		t.Fatalf("token: %v", tr.JSON)
	}
	if r := ts.do(t, nil, http.MethodGet, "/userinfo", "Bearer "+at, "", ""); r.Status != 401 {
		t.Errorf("DPoP token as Bearer: %d", r.Status)
	}
	call := func(proof string) int {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "DPoP "+at)
		req.Header.Set("DPoP", proof)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := call(k.proof(t, ts, "GET", ts.URL+"/userinfo", nil)); got != 401 {
		t.Errorf("proof without ath: %d", got)
	}
	withATH := func(m map[string]any) { m["ath"] = athOf(at) }
	if got := call(k.proof(t, ts, "GET", ts.URL+"/userinfo", withATH)); got != 200 {
		t.Errorf("proof with ath: %d", got)
	}
	if got := call(newDPoPKey(t).proof(t, ts, "GET", ts.URL+"/userinfo", withATH)); got != 401 {
		t.Errorf("proof with another key: %d", got)
	}
}

// RFC 9396: authorization_details validated at PAR, shown, and returned.
func TestRAR(t *testing.T) {
	types := `{"payment_initiation":{"fields":{"instructedAmount":"object","creditorName":"string","creditorAccount":"object"},"required":["instructedAmount"]}}`
	ts := newServer(t, withEnv(map[string]string{"AUTHORIZATION_DETAILS_TYPES": types}))
	details := `[{"type":"payment_initiation","actions":["initiate"],"locations":["https://bank.example/payments"],"instructedAmount":{"currency":"EUR","amount":"123.50"},"creditorName":"Merchant A"}]`
	bad := map[string]string{
		"unknown type":     `[{"type":"account_information"}]`,
		"unknown field":    `[{"type":"payment_initiation","instructedAmount":{},"color":"red"}]`,
		"wrong field type": `[{"type":"payment_initiation","instructedAmount":"EUR 5"}]`,
		"missing required": `[{"type":"payment_initiation","creditorName":"x"}]`,
		"not an array":     `{"type":"payment_initiation"}`,
		"missing type":     `[{"instructedAmount":{}}]`,
		"bad common field": `[{"type":"payment_initiation","instructedAmount":{},"actions":"initiate"}]`,
	}
	for name, d := range bad {
		r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, with(pushParams(), "authorization_details", d).Encode())
		if r.Status != 400 || r.JSON["error"] != "invalid_authorization_details" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	uri := ts.push(t, confID, confSecret, with(pushParams(), "authorization_details", details))
	b := ts.browser(t)
	consent := b.login(t, confID, uri)
	for _, want := range []string{"Payment initiation", "Merchant A", "currency: EUR", "123.50"} {
		if !strings.Contains(consent.Body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	code := b.approve(t, consent).Get("code")
	body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	r := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, body.Encode())
	if r.Status != 200 || r.JSON["authorization_details"] == nil {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	if got := introspect(t, ts, r.JSON["access_token"].(string)); got["authorization_details"] == nil {
		t.Errorf("introspection lacks authorization_details: %v", got)
	}
	m := ts.do(t, nil, http.MethodGet, "/.well-known/oauth-authorization-server", "", "", "").JSON
	if types, _ := m["authorization_details_types_supported"].([]any); len(types) != 1 || types[0] != "payment_initiation" {
		t.Errorf("metadata: %v", m["authorization_details_types_supported"])
	}
}
