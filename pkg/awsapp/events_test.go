package awsapp_test

// The Lambda path with the recorded events: each events/*.json is unmarshalled into
// the API Gateway HTTP API payload 2.0 type and fed to
// httpadapter.NewV2(handler).ProxyWithContext, the handler being the one the
// function's main starts (functions/<name>/main.go), built by app.NewHandler over the
// in-memory store seeded from infra/seed.json.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/httpapi"
	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/seed"
)

// issuer is the API Gateway URL the events were recorded against.
const issuer = "https://abc123.execute-api.us-east-1.amazonaws.com"

// The RFC 7636 Appendix B pair; events/par.json carries the challenge.
const demoVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

// functions maps each function to the handler its main.go passes to the adapter.
type functions struct {
	par, authorize, token, discovery http.Handler
	seed                             *seed.File
}

func newFunctions(t *testing.T) *functions {
	t.Helper()
	f, err := seed.ReadFile(filepath.Join("..", "..", "infra", "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	if err := seed.Import(t.Context(), store, f); err != nil {
		t.Fatal(err)
	}
	set := httpapitest.KeySet(t, keys.RS256)
	cfg, err := config.FromEnv(func(name string) string {
		return map[string]string{"ISSUER": issuer, "LOG_LEVEL": "warn"}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	h := app.NewHandler(cfg, app.Parts{
		Store:     store,
		Signer:    keys.NewSigner(keys.Static(set)),
		CookieKey: func(context.Context) ([32]byte, error) { return [32]byte{7}, nil },
		Logger:    app.Logger(cfg.LogLevel),
		// As awsapp.Lambda wires it.
		ClientCertificates: awsapp.APIGatewayCertificates{},
	})
	return &functions{par: h.PAR(), authorize: h.Authorize(), token: h.Token(), discovery: h.Discovery(), seed: f}
}

// handlerFor is the function API Gateway routes the event to (template.yaml).
func (fs *functions) handlerFor(t *testing.T, ev events.APIGatewayV2HTTPRequest) http.Handler {
	t.Helper()
	switch ev.RawPath {
	case httpapi.PathPAR:
		return fs.par
	case httpapi.PathAuthorize:
		return fs.authorize
	case httpapi.PathToken:
		return fs.token
	case httpapi.PathASMetadata, httpapi.PathOIDCMetadata, httpapi.PathJWKS:
		return fs.discovery
	}
	t.Fatalf("no function serves %s", ev.RawPath)
	return nil
}

func loadEvent(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if ev.Version != "2.0" || ev.RawPath == "" || ev.RequestContext.HTTP.Method == "" {
		t.Fatalf("%s is not an HTTP API payload 2.0 event", name)
	}
	return ev
}

// invoke runs ev through the adapter exactly as lambda.Start does in the functions.
func (fs *functions) invoke(t *testing.T, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := httpadapter.NewV2(fs.handlerFor(t, ev)).ProxyWithContext(t.Context(), ev)
	if err != nil {
		t.Fatalf("%s %s: %v", ev.RequestContext.HTTP.Method, ev.RawPath, err)
	}
	if resp.IsBase64Encoded {
		body, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body, resp.IsBase64Encoded = string(body), false
	}
	return resp
}

func decodeJSON(t *testing.T, resp events.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	if ct := resp.Headers["Content-Type"]; !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/jwk-set+json") {
		t.Fatalf("Content-Type = %q, want JSON; body %s", ct, resp.Body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return m
}

func wantStatus(t *testing.T, resp events.APIGatewayV2HTTPResponse, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; headers %v; body %s", resp.StatusCode, status, resp.Headers, resp.Body)
	}
}

// TestEventsMatchTheSeed: the events name the seed's demo client, its secret and a
// registered redirect URI, so `sam local invoke -e` against a seeded table works.
func TestEventsMatchTheSeed(t *testing.T) {
	fs := newFunctions(t)
	clients := map[string]seed.Client{}
	for _, c := range fs.seed.Clients {
		clients[c.ID] = c
	}
	for _, name := range []string{"par.json", "par-base64.json", "token.json"} {
		ev := loadEvent(t, name)
		req, err := http.NewRequest(http.MethodPost, "/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", ev.Headers["authorization"])
		id, secret, ok := req.BasicAuth()
		if !ok {
			t.Fatalf("%s: no Basic credentials", name)
		}
		c, found := clients[id]
		switch {
		case !found:
			t.Errorf("%s: client %q is not in infra/seed.json", name, id)
		case c.Secret != secret:
			t.Errorf("%s: the secret of %q differs from infra/seed.json", name, id)
		}
		body := ev.Body
		if ev.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(body)
			if err != nil {
				t.Fatal(err)
			}
			body = string(b)
		}
		form, err := url.ParseQuery(body)
		if err != nil {
			t.Fatal(err)
		}
		if uri := form.Get("redirect_uri"); found && !contains(c.RedirectURIs, uri) {
			t.Errorf("%s: redirect_uri %q is not registered for %q in infra/seed.json", name, uri, id)
		}
	}
	if q := loadEvent(t, "authorize.json").QueryStringParameters; q["client_id"] == "" || clients[q["client_id"]].ID == "" {
		t.Errorf("authorize.json: client_id %q is not in infra/seed.json", q["client_id"])
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestEvents feeds each recorded event through its function.
func TestEvents(t *testing.T) {
	fs := newFunctions(t)

	for _, name := range []string{"par.json", "par-base64.json"} {
		t.Run(name+" is 201 with a request_uri", func(t *testing.T) {
			resp := fs.invoke(t, loadEvent(t, name))
			wantStatus(t, resp, http.StatusCreated)
			body := decodeJSON(t, resp)
			uri, _ := body["request_uri"].(string)
			if !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") {
				t.Errorf("request_uri = %q", uri)
			}
			if n, _ := body["expires_in"].(float64); n <= 0 {
				t.Errorf("expires_in = %v", body["expires_in"])
			}
			if resp.Headers["Cache-Control"] != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", resp.Headers["Cache-Control"])
			}
		})
	}

	t.Run("par-get.json is 405 with Allow: POST", func(t *testing.T) {
		resp := fs.invoke(t, loadEvent(t, "par-get.json"))
		wantStatus(t, resp, http.StatusMethodNotAllowed)
		if resp.Headers["Allow"] != http.MethodPost {
			t.Errorf("Allow = %q, want POST", resp.Headers["Allow"])
		}
	})

	t.Run("authorize.json with an unknown request_uri is a 400 error page", func(t *testing.T) {
		resp := fs.invoke(t, loadEvent(t, "authorize.json"))
		wantStatus(t, resp, http.StatusBadRequest)
		if ct := resp.Headers["Content-Type"]; !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type = %q, want HTML", ct)
		}
		if resp.Headers["Location"] != "" {
			t.Errorf("error page redirects to %s", resp.Headers["Location"])
		}
		if !strings.Contains(resp.Body, "invalid_request_uri") {
			t.Errorf("page does not show invalid_request_uri:\n%s", resp.Body)
		}
		wantPageHeaders(t, resp)
	})

	t.Run("token.json with an unknown code is 400 invalid_grant", func(t *testing.T) {
		resp := fs.invoke(t, loadEvent(t, "token.json"))
		wantStatus(t, resp, http.StatusBadRequest)
		if body := decodeJSON(t, resp); body["error"] != "invalid_grant" {
			t.Errorf("error = %v, want invalid_grant", body["error"])
		}
		if resp.Headers["Cache-Control"] != "no-store" || resp.Headers["Pragma"] != "no-cache" {
			t.Errorf("Cache-Control %q, Pragma %q", resp.Headers["Cache-Control"], resp.Headers["Pragma"])
		}
	})

	t.Run("discovery.json is the metadata of the configured issuer", func(t *testing.T) {
		resp := fs.invoke(t, loadEvent(t, "discovery.json"))
		wantStatus(t, resp, http.StatusOK)
		meta := decodeJSON(t, resp)
		if meta["issuer"] != issuer {
			t.Errorf("issuer = %v, want %s", meta["issuer"], issuer)
		}
		for field, path := range map[string]string{
			"pushed_authorization_request_endpoint": httpapi.PathPAR, "authorization_endpoint": httpapi.PathAuthorize,
			"token_endpoint": httpapi.PathToken, "jwks_uri": httpapi.PathJWKS,
		} {
			if meta[field] != issuer+path {
				t.Errorf("%s = %v, want %s", field, meta[field], issuer+path)
			}
		}
	})

	t.Run("jwks.json is the public key set", func(t *testing.T) {
		resp := fs.invoke(t, loadEvent(t, "jwks.json"))
		wantStatus(t, resp, http.StatusOK)
		set := decodeJSON(t, resp)
		ks, _ := set["keys"].([]any)
		if len(ks) == 0 {
			t.Fatalf("no keys: %s", resp.Body)
		}
		for _, k := range ks {
			if _, private := k.(map[string]any)["d"]; private {
				t.Errorf("JWKS publishes a private key: %v", k)
			}
		}
	})
}

func wantPageHeaders(t *testing.T, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	if !strings.Contains(resp.Headers["Content-Security-Policy"], "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q", resp.Headers["Content-Security-Policy"])
	}
	if resp.Headers["X-Frame-Options"] != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", resp.Headers["X-Frame-Options"])
	}
	if resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", resp.Headers["Cache-Control"])
	}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

func hiddenFields(t *testing.T, body string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'").Replace(m[2]))
	}
	if v.Get("csrf") == "" {
		t.Fatalf("no form on the page:\n%s", body)
	}
	return v
}

// cookies turns the Set-Cookie values of a payload 2.0 response into the cookies
// field of the next request, as API Gateway and a browser would, and checks their
// attributes: Secure (https issuer), HttpOnly, SameSite=Lax.
func cookies(t *testing.T, resp events.APIGatewayV2HTTPResponse) []string {
	t.Helper()
	var out []string
	for _, raw := range resp.Cookies {
		c, err := http.ParseSetCookie(raw)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", raw, err)
		}
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %s: Secure=%v HttpOnly=%v SameSite=%v, want Secure, HttpOnly, Lax", c.Name, c.Secure, c.HttpOnly, c.SameSite)
		}
		if c.MaxAge >= 0 {
			out = append(out, c.Name+"="+c.Value)
		}
	}
	return out
}

// formEvent turns the GET /authorize event into the browser's POST of a form.
func formEvent(t *testing.T, form url.Values, cookies []string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	ev := loadEvent(t, "authorize.json")
	ev.RouteKey, ev.RequestContext.RouteKey = "POST /authorize", "POST /authorize"
	ev.RequestContext.HTTP.Method = http.MethodPost
	ev.RawQueryString, ev.QueryStringParameters = "", nil
	ev.Headers["content-type"] = "application/x-www-form-urlencoded"
	ev.Body = form.Encode()
	ev.Cookies = cookies
	return ev
}

// TestFlowThroughTheLambdaAdapter: the recorded events, with the values each step
// returns, carry a whole authorization through the functions: push (par.json), the
// login and consent pages with payload 2.0 cookies (authorize.json), and the code
// exchange (token.json), whose tokens verify against the JWKS (jwks.json).
func TestFlowThroughTheLambdaAdapter(t *testing.T) {
	fs := newFunctions(t)
	pushed := fs.invoke(t, loadEvent(t, "par.json"))
	wantStatus(t, pushed, http.StatusCreated)
	requestURI := decodeJSON(t, pushed)["request_uri"].(string)

	open := loadEvent(t, "authorize.json")
	open.QueryStringParameters["request_uri"] = requestURI
	open.RawQueryString = url.Values{"client_id": {open.QueryStringParameters["client_id"]}, "request_uri": {requestURI}}.Encode()
	login := fs.invoke(t, open)
	wantStatus(t, login, http.StatusOK)
	if !strings.Contains(login.Body, `name="password"`) {
		t.Fatalf("not the login page:\n%s", login.Body)
	}
	wantPageHeaders(t, login)
	jar := cookies(t, login)
	if len(jar) == 0 {
		t.Fatal("the login page sets no cookie")
	}

	user := fs.seed.Users[0]
	form := hiddenFields(t, login.Body)
	form.Set("username", user.Username)
	form.Set("password", user.Password)
	signedIn := fs.invoke(t, formEvent(t, form, jar))
	wantStatus(t, signedIn, http.StatusSeeOther)
	jar = cookies(t, signedIn)

	next, err := url.Parse(signedIn.Headers["Location"])
	if err != nil {
		t.Fatal(err)
	}
	again := loadEvent(t, "authorize.json")
	again.RawQueryString, again.QueryStringParameters = next.RawQuery, nil
	again.Cookies = jar
	consent := fs.invoke(t, again)
	wantStatus(t, consent, http.StatusOK)
	if !strings.Contains(consent.Body, `value="approve"`) {
		t.Fatalf("not the consent page:\n%s", consent.Body)
	}

	form = hiddenFields(t, consent.Body)
	form.Set("decision", "approve")
	approved := fs.invoke(t, formEvent(t, form, jar))
	wantStatus(t, approved, http.StatusSeeOther)
	loc, err := url.Parse(approved.Headers["Location"])
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if loc.Host != "client.example.com" || q.Get("code") == "" || q.Get("state") != "af0ifjsldkj" || q.Get("iss") != issuer {
		t.Fatalf("authorization response %s", loc)
	}

	exchange := loadEvent(t, "token.json")
	body, err := url.ParseQuery(exchange.Body)
	if err != nil {
		t.Fatal(err)
	}
	if body.Get("code_verifier") != demoVerifier {
		t.Fatalf("token.json code_verifier %q is not the pair of par.json's challenge", body.Get("code_verifier"))
	}
	body.Set("code", q.Get("code"))
	exchange.Body = body.Encode()
	delete(exchange.Headers, "content-length")
	tokens := fs.invoke(t, exchange)
	wantStatus(t, tokens, http.StatusOK)
	tok := decodeJSON(t, tokens)

	jwks := fs.invoke(t, loadEvent(t, "jwks.json"))
	wantStatus(t, jwks, http.StatusOK)
	for _, name := range []string{"access_token", "id_token"} {
		raw, _ := tok[name].(string)
		payload, err := keys.VerifyJWKS([]byte(jwks.Body), raw)
		if err != nil {
			t.Fatalf("%s does not verify against jwks.json: %v", name, err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		if claims["iss"] != issuer || claims["sub"] != user.Claims["sub"] {
			t.Errorf("%s iss=%v sub=%v", name, claims["iss"], claims["sub"])
		}
		if name == "id_token" && (claims["aud"] != "demo-client" || claims["nonce"] != "n-0S6_WzA2Mj") {
			t.Errorf("id_token aud=%v nonce=%v", claims["aud"], claims["nonce"])
		}
	}
}
