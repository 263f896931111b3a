package httpapi_test

// Hardening of what the back channel answers: no oracle on client ids or methods, no
// internals in responses, and the protocol headers every refusal carries
// (docs/design.md "Input, oracles and fetches").

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/seed"
)

// Clients whose keys are at a jwks_uri nothing listens on.
const (
	uriPKJWTID = "uri-pkjwt-client"
	uriJARID   = "uri-jar-client"
	uriJARSec  = "urijar-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	deadJWKS   = "https://127.0.0.1:1/jwks"
)

// newHardenServer is the test server with the jwks_uri clients added; logs go to logs.
func newHardenServer(t *testing.T, logs *syncBuffer) *testServer {
	t.Helper()
	extra := `
  {"client_id": "` + uriPKJWTID + `", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "` + deadJWKS + `",
   "redirect_uris": ["` + redirectURI + `"], "scope": "openid"},
  {"client_id": "` + uriJARID + `", "client_secret": "` + uriJARSec + `", "jwks_uri": "` + deadJWKS + `",
   "redirect_uris": ["` + redirectURI + `"], "scope": "openid profile"},`
	return newServer(t, withStore(storeWithClients(t, extra)), withLogs(logs))
}

// storeWithClients is a memory store holding the seed with client keys
// (seedJSONWithKeys) and the extra clients (seed JSON objects, each followed by a comma).
func storeWithClients(t *testing.T, extra string) *memory.Store {
	t.Helper()
	f, err := seed.Parse([]byte(httpapitest.WithClients(t, seedJSONWithKeys(t), extra)))
	if err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	if err := seed.Import(t.Context(), store, f); err != nil {
		t.Fatal(err)
	}
	return store
}

// TestHarden_OneInvalidClientAnswer: RFC 6749 §5.2 invalid_client, "Client
// authentication failed (e.g., unknown client, no client authentication included, or
// unsupported authentication method)" — one answer for all of them, so the endpoint
// tells nobody which client ids exist or how they authenticate. The reason is on the
// access line.
func TestHarden_OneInvalidClientAnswer(t *testing.T) {
	logs := &syncBuffer{}
	ts := newHardenServer(t, logs)
	for _, path := range []string{"/par", "/token", "/revoke", "/introspect"} {
		var first string
		for _, tc := range []struct {
			name, auth string
			body       url.Values
		}{
			{name: "unknown client with basic", auth: basic("nobody", confSecret), body: url.Values{}},
			{name: "known client, wrong secret", auth: basic(confID, "wrong"), body: url.Values{}},
			{name: "basic for a client registered for post", auth: basic(postID, postSecret), body: url.Values{}},
			{name: "post for a client registered for basic", body: url.Values{"client_id": {confID}, "client_secret": {confSecret}}},
			{name: "unknown client with post", body: url.Values{"client_id": {"nobody"}, "client_secret": {confSecret}}},
			{name: "a confidential client without authentication", body: url.Values{"client_id": {confID}}},
			{name: "no authentication at all", body: url.Values{}},
			{name: "malformed basic", auth: "Basic !!!", body: url.Values{}},
		} {
			r := ts.do(t, nil, http.MethodPost, path, tc.auth, form, tc.body.Encode())
			if r.Status != http.StatusUnauthorized || r.JSON["error"] != "invalid_client" {
				t.Errorf("%s %s: %d %s, want 401 invalid_client", path, tc.name, r.Status, r.Body)
				continue
			}
			if first == "" {
				first = r.Body
			} else if r.Body != first {
				t.Errorf("%s %s: body %s differs from %s: an oracle", path, tc.name, r.Body, first)
			}
		}
	}
	var reasons int
	for _, l := range lines(t, logs) {
		if l["error_code"] == "invalid_client" && l["reason"] != nil {
			reasons++
		}
		if s, _ := l["reason"].(string); strings.Contains(s, confSecret) || strings.Contains(s, "nobody") {
			t.Errorf("the reason carries a request value: %q", s)
		}
	}
	if reasons == 0 {
		t.Errorf("no access line carries the reason of a failed client authentication:\n%s", logs.String())
	}
}

// TestHarden_NoInternalsInResponses: a jwks_uri fetch error or a library message
// never reaches the caller (an unauthenticated caller would get a port scanner); the
// answer is a fixed description and the cause is logged.
func TestHarden_NoInternalsInResponses(t *testing.T) {
	logs := &syncBuffer{}
	ts := newHardenServer(t, logs)
	leaks := []string{"dial", "127.0.0.1", "connect", "refused", "go-jose", "jwks_uri", "fetch"}
	check := func(name string, r response, status int, code string) {
		t.Helper()
		if r.Status != status || r.JSON["error"] != code {
			t.Errorf("%s: %d %s, want %d %s", name, r.Status, r.Body, status, code)
		}
		for _, leak := range leaks {
			if strings.Contains(r.Body, leak) || strings.Contains(strings.Join(r.Header.Values("WWW-Authenticate"), " "), leak) {
				t.Errorf("%s: the response carries %q: %s", name, leak, r.Body)
			}
		}
	}
	a := assertion(ts, func(m map[string]any) { m["iss"], m["sub"] = uriPKJWTID, uriPKJWTID })
	check("assertion of a client whose jwks_uri is down",
		ts.do(t, nil, http.MethodPost, "/par", "", form, assertionForm(t, sign(t, clientKey, "", a), with(pushParams(), "client_id", uriPKJWTID)).Encode()),
		http.StatusUnauthorized, "invalid_client")
	ro := requestObject(ts, func(m map[string]any) { m["iss"], m["client_id"] = uriJARID, uriJARID })
	check("request object of a client whose jwks_uri is down",
		ts.do(t, nil, http.MethodPost, "/par", basic(uriJARID, uriJARSec), form, url.Values{"client_id": {uriJARID}, "request": {sign(t, clientKey, "oauth-authz-req+jwt", ro)}}.Encode()),
		http.StatusBadRequest, "invalid_request_object")
	check("a request object that is no JWS",
		ts.do(t, nil, http.MethodPost, "/par", basic(jarID, jarSec), form, url.Values{"client_id": {jarID}, "request": {"x.y.z"}}.Encode()),
		http.StatusBadRequest, "invalid_request_object")
	check("an assertion that is no JWS",
		ts.do(t, nil, http.MethodPost, "/token", "", form, assertionForm(t, "x.y.z", url.Values{"grant_type": {"authorization_code"}, "code": {"c"}}).Encode()),
		http.StatusUnauthorized, "invalid_client")
	if !strings.Contains(logs.String(), "connection refused") && !strings.Contains(logs.String(), "refused") {
		t.Errorf("the fetch error is not in the log:\n%s", logs.String())
	}
}

// TestHarden_ProtocolDetails: the headers and codes every refusal carries.
func TestHarden_ProtocolDetails(t *testing.T) {
	ts := newServer(t)
	t.Run("RFC 7235 §3.1 every 401 invalid_client carries a challenge", func(t *testing.T) {
		for _, body := range []url.Values{
			{"client_id": {confID}, "client_secret": {"wrong"}},
			{"client_id": {confID}},
			{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {"x.y.z"}},
		} {
			for _, path := range []string{"/par", "/token", "/revoke", "/introspect"} {
				r := ts.do(t, nil, http.MethodPost, path, "", form, with(pushParams(), "client_id", "").Encode()+"&"+body.Encode())
				if r.Status == http.StatusUnauthorized && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("%s %v: 401 with WWW-Authenticate %q", path, body, r.Header.Get("WWW-Authenticate"))
				}
				if r.Status != http.StatusUnauthorized {
					t.Errorf("%s %v: %d %s, want 401", path, body, r.Status, r.Body)
				}
			}
		}
	})
	t.Run("RFC 6750 §3.1 userinfo without any token is a bare Bearer challenge", func(t *testing.T) {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			r := ts.do(t, nil, method, "/userinfo", "", "", "")
			if r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") != `Bearer realm="pargate"` {
				t.Errorf("%s: %d WWW-Authenticate %q, want 401 Bearer realm=\"pargate\"", method, r.Status, r.Header.Get("WWW-Authenticate"))
			}
			if strings.Contains(r.Body, "invalid_token") || strings.Contains(r.Header.Get("WWW-Authenticate"), "error") {
				t.Errorf("%s: error information without any authentication: %q %s", method, r.Header.Get("WWW-Authenticate"), r.Body)
			}
		}
	})
	t.Run("RFC 9110 §5.3 two Authorization headers are invalid_request", func(t *testing.T) {
		for _, path := range []string{"/par", "/token", "/userinfo"} {
			req, err := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(pushParams().Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", form)
			req.Header.Add("Authorization", basic(confID, confSecret))
			req.Header.Add("Authorization", basic(postID, postSecret))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s with two Authorization headers: %d, want 400", path, resp.StatusCode)
			}
		}
	})
	t.Run("RFC 8707 §2 a resource that is not an absolute URI without fragment is invalid_target", func(t *testing.T) {
		for _, res := range []string{"api.example.org", "/relative", "https://api.example.org/#frag", "https://api.example.org/#"} {
			r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, with(pushParams(), "resource", res).Encode())
			if r.Status != http.StatusBadRequest || r.JSON["error"] != "invalid_target" {
				t.Errorf("resource %q: %d %s, want 400 invalid_target", res, r.Status, r.Body)
			}
			r = ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form,
				url.Values{"grant_type": {"authorization_code"}, "code": {"abc"}, "code_verifier": {verifier}, "resource": {res}}.Encode())
			if r.Status != http.StatusBadRequest || r.JSON["error"] != "invalid_target" {
				t.Errorf("token resource %q: %d %s, want 400 invalid_target", res, r.Status, r.Body)
			}
		}
		r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, with(pushParams(), "resource", apiResource).Encode())
		if r.Status != http.StatusCreated {
			t.Errorf("a registered absolute resource URI: %d %s, want 201", r.Status, r.Body)
		}
		// RFC 8707 §2 "unknown": a well-formed resource the client did not register.
		r = ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, with(pushParams(), "resource", "https://other.example.org/").Encode())
		if r.Status != http.StatusBadRequest || r.JSON["error"] != "invalid_target" {
			t.Errorf("an unregistered absolute resource URI: %d %s, want 400 invalid_target", r.Status, r.Body)
		}
	})
}

// TestHarden_ErrorPagesInFixedWords: an error page is on the server's own origin, so
// it says what went wrong in fixed words and shows the error code, and never echoes a
// request value (RFC 6749 §4.1.2.1 errors shown to the user instead of redirected).
func TestHarden_ErrorPagesInFixedWords(t *testing.T) {
	ts := newServer(t)
	const planted = "YOUR ACCOUNT IS LOCKED"
	for _, tc := range []struct {
		name, query, want string
	}{
		{name: "an unregistered redirect_uri",
			query: with(pushParams(), "redirect_uri", "https://evil.example/ "+planted+" Call 555").Encode(),
			want:  "The redirect address is not registered for this application."},
		{name: "a repeated parameter named by the attacker",
			query: pushParams().Encode() + "&" + url.QueryEscape(planted) + "=1&" + url.QueryEscape(planted) + "=2",
			want:  "The application sent a sign-in request that cannot be accepted."},
		{name: "an unknown client",
			query: with(pushParams(), "client_id", planted).Encode(),
			want:  ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.browser(t).get(t, "/authorize?"+tc.query)
			if r.Status < 400 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("%d %s: want an error page", r.Status, r.Header.Get("Content-Type"))
			}
			body := httpapitest.HTMLUnescape(r.Body)
			for _, leak := range []string{planted, "evil.example", "Call 555"} {
				if strings.Contains(body, leak) {
					t.Errorf("the page echoes %q:\n%s", leak, r.Body)
				}
			}
			if tc.want != "" && !strings.Contains(body, tc.want) {
				t.Errorf("the page does not say %q:\n%s", tc.want, r.Body)
			}
			if !strings.Contains(body, "Error code: ") {
				t.Errorf("the page shows no error code:\n%s", r.Body)
			}
		})
	}
}
