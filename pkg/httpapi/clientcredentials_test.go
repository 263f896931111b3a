package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/memory"
)

// TestToken_RFC6749_4_4_ClientCredentials: the client credentials grant on the wire,
// one row per answer: the §4.4.3 / §5.1 success JSON and the §5.2 errors, with the
// 401 and its WWW-Authenticate for a client that did not authenticate.
func TestToken_RFC6749_4_4_ClientCredentials(t *testing.T) {
	ts := newServer(t)
	for _, tc := range []struct {
		name      string
		auth      string
		body      url.Values
		status    int
		errorCode string
		scope     string // of a success
	}{
		{name: "RFC 6749 §4.4.3 Basic-authenticated client gets an access token of its scopes without openid",
			auth: basic(serviceID, serviceSecret), body: url.Values{}, status: 200, scope: "api reports"},
		{name: "RFC 6749 §4.4.2 a narrower scope is granted", auth: basic(serviceID, serviceSecret),
			body: url.Values{"scope": {"reports"}}, status: 200, scope: "reports"},
		{name: "RFC 8707 §2 a registered resource is granted", auth: basic(serviceID, serviceSecret),
			body: url.Values{"resource": {apiResource}}, status: 200, scope: "api reports"},
		{name: "RFC 6749 §5.2 a wrong Basic secret is 401 invalid_client with WWW-Authenticate",
			auth: basic(serviceID, confSecret), body: url.Values{}, status: 401, errorCode: "invalid_client"},
		{name: "RFC 6749 §4.4 a public client is 401 invalid_client with WWW-Authenticate",
			body: url.Values{"client_id": {publicID}}, status: 401, errorCode: "invalid_client"},
		{name: "RFC 6749 §5.2 a client not registered for the grant is unauthorized_client",
			auth: basic(confID, confSecret), body: url.Values{}, status: 400, errorCode: "unauthorized_client"},
		{name: "RFC 6749 §4.4 openid is invalid_scope", auth: basic(serviceID, serviceSecret),
			body: url.Values{"scope": {"openid api"}}, status: 400, errorCode: "invalid_scope"},
		{name: "RFC 8707 §2 an unregistered resource is invalid_target", auth: basic(serviceID, serviceSecret),
			body: url.Values{"resource": {ledgerResource}}, status: 400, errorCode: "invalid_target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.body.Set("grant_type", "client_credentials")
			r := ts.do(t, nil, http.MethodPost, "/token", tc.auth, form, tc.body.Encode())
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if r.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Errorf("headers %v", r.Header)
			}
			if tc.errorCode != "" {
				if r.JSON["error"] != tc.errorCode || r.JSON["access_token"] != nil {
					t.Errorf("body %s, want error %s", r.Body, tc.errorCode)
				}
				// RFC 6749 §5.2 / RFC 7235 §3.1: a 401 carries a challenge.
				if got := r.Header.Get("WWW-Authenticate"); (r.Status == 401) != strings.HasPrefix(got, "Basic ") {
					t.Errorf("WWW-Authenticate %q with status %d", got, r.Status)
				}
				return
			}
			// RFC 6749 §5.1 and §4.4.3: no refresh token; no ID token without an end-user.
			var keys []string
			for k := range r.JSON {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if want := []string{"access_token", "expires_in", "scope", "token_type"}; !slices.Equal(keys, want) {
				t.Errorf("members %v, want %v: %s", keys, want, r.Body)
			}
			if r.JSON["token_type"] != "Bearer" || r.JSON["scope"] != tc.scope || r.JSON["expires_in"] != float64(600) {
				t.Errorf("body %s", r.Body)
			}
			at, _ := r.JSON["access_token"].(string)
			payload, err := ts.keys.Verify(at)
			if err != nil {
				t.Fatalf("access token does not verify: %v", err)
			}
			var claims map[string]any
			if err := json.Unmarshal(payload, &claims); err != nil {
				t.Fatal(err)
			}
			// RFC 9068 §2.2: sub is the client_id when no resource owner is involved.
			if claims["sub"] != serviceID || claims["client_id"] != serviceID || claims["gty"] != "client_credentials" {
				t.Errorf("claims %v", claims)
			}
		})
	}
}

// TestClientCredentials_TokenAtTheResources: the token at /userinfo (OIDC Core §5.3,
// RFC 6750 §3.1: 401 invalid_token, no end-user), /introspect (RFC 7662 §2.2) and
// /revoke (RFC 7009 §2.2: 200, then inactive), and the access log's outcome.
func TestClientCredentials_TokenAtTheResources(t *testing.T) {
	o := newObserved(t)
	r := o.do(t, nil, http.MethodPost, "/token", basic(serviceID, serviceSecret), form, "grant_type=client_credentials&scope=api")
	if r.Status != 200 {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	at, _ := r.JSON["access_token"].(string)

	r = o.do(t, nil, http.MethodGet, "/userinfo", "Bearer "+at, "", "")
	if r.Status != 401 || r.JSON["error"] != "invalid_token" || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("userinfo: %d %v %s", r.Status, r.Header, r.Body)
	}
	token := url.Values{"token": {at}}.Encode()
	r = o.do(t, nil, http.MethodPost, "/introspect", basic(serviceID, serviceSecret), form, token)
	if r.Status != 200 || r.JSON["active"] != true || r.JSON["sub"] != serviceID || r.JSON["scope"] != "api" {
		t.Errorf("introspect: %d %s", r.Status, r.Body)
	}
	r = o.do(t, nil, http.MethodPost, "/revoke", basic(serviceID, serviceSecret), form, token)
	if r.Status != 200 {
		t.Errorf("revoke: %d %s", r.Status, r.Body)
	}
	r = o.do(t, nil, http.MethodPost, "/introspect", basic(serviceID, serviceSecret), form, token)
	if r.Status != 200 || r.JSON["active"] != false {
		t.Errorf("introspect after revocation: %d %s", r.Status, r.Body)
	}
	logs := accessLines(t, o)
	if len(logs) != 5 || logs[0]["outcome"] != "client_token_issued" || logs[0]["client_id"] != serviceID {
		t.Errorf("access lines %v", logs)
	}
	for _, l := range logs {
		if b, _ := json.Marshal(l); strings.Contains(string(b), at) || strings.Contains(string(b), serviceSecret) {
			t.Errorf("a log line holds the token or the secret: %s", b)
		}
	}
	var issued bool
	for _, m := range lines(t, o.metrics) {
		if m["Route"] == "/token" && m["Outcome"] == "client_token_issued" && m["TokensIssued"] == 1.0 {
			issued = true
		}
	}
	if !issued {
		t.Errorf("no TokensIssued metric for the grant:\n%s", o.metrics.String())
	}
}

// TestDiscovery_RFC8414_2_ListsClientCredentials: grant_types_supported names the grant.
func TestDiscovery_RFC8414_2_ListsClientCredentials(t *testing.T) {
	r := newServer(t).do(t, nil, http.MethodGet, "/.well-known/oauth-authorization-server", "", "", "")
	got, _ := r.JSON["grant_types_supported"].([]any)
	if r.Status != 200 || !slices.Contains(got, any("client_credentials")) || !slices.Contains(got, any("authorization_code")) {
		t.Errorf("grant_types_supported %v", got)
	}
}

// TestClientCredentials_FAPI2_5_3_2_1_SenderConstrained: under PROFILE=fapi2 the
// grant issues only sender-constrained tokens, as the code grant does ("shall only
// issue sender-constrained access tokens"): private_key_jwt without a DPoP proof is
// invalid_dpop_proof, with one the token is DPoP-bound.
func TestClientCredentials_FAPI2_5_3_2_1_SenderConstrained(t *testing.T) {
	store := seededStore(t, memory.New())
	c, err := store.GetClient(t.Context(), pkjwtID)
	if err != nil {
		t.Fatal(err)
	}
	c.GrantTypes = []string{"authorization_code", "client_credentials"}
	if err := store.PutClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, withEnv(map[string]string{"PROFILE": "fapi2"}), withStore(store))
	body := func() url.Values {
		return assertionForm(t, sign(t, clientKey, "", assertion(ts, nil)), url.Values{"grant_type": {"client_credentials"}})
	}
	if r := ts.doDPoP(t, "/token", "", "", body()); r.Status != 400 || r.JSON["error"] != "invalid_dpop_proof" {
		t.Fatalf("without DPoP: %d %v", r.Status, r.JSON)
	}
	k := newDPoPKey(t)
	r := ts.doDPoP(t, "/token", "", k.proof(t, ts, "POST", ts.URL+"/token", nil), body())
	if r.Status != 200 || r.JSON["token_type"] != "DPoP" || r.JSON["refresh_token"] != nil || r.JSON["id_token"] != nil {
		t.Fatalf("with DPoP: %d %v", r.Status, r.JSON)
	}
	at, _ := r.JSON["access_token"].(string)
	payload, err := ts.keys.Verify(at)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Sub string            `json:"sub"`
		Cnf map[string]string `json:"cnf"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Sub != pkjwtID || claims.Cnf["jkt"] != k.jkt(t) {
		t.Errorf("sub %q cnf %v", claims.Sub, claims.Cnf)
	}
}
