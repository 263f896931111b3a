package stack_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pargate/pargate/infra/lambdaemu/stack"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/seed"
)

// The RFC 7636 Appendix B pair; events/par.json carries the challenge, token.json the
// verifier.
const demoVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

func request(tb testing.TB, name string) events.APIGatewayV2HTTPRequest {
	tb.Helper()
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(event(tb, name), &ev); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return ev
}

// send invokes fn with ev, as API Gateway would after a browser's request.
func send(tb testing.TB, fn *stack.Function, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	tb.Helper()
	data, err := json.Marshal(ev)
	if err != nil {
		tb.Fatal(err)
	}
	what := ev.RequestContext.HTTP.Method + " " + ev.RawPath
	raw, err := fn.Invoke(context.Background(), data)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	return response(tb, what, raw)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

func hiddenFields(tb testing.TB, body string) url.Values {
	tb.Helper()
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'").Replace(m[2]))
	}
	if v.Get("csrf") == "" {
		tb.Fatalf("no form on the page:\n%s", body)
	}
	return v
}

// cookieJar applies a payload 2.0 response's Set-Cookie values to jar (name=value
// pairs) and returns the next request's cookies, as the browser and API Gateway would.
func cookieJar(tb testing.TB, jar []string, resp events.APIGatewayV2HTTPResponse) []string {
	tb.Helper()
	for _, raw := range resp.Cookies {
		c, err := http.ParseSetCookie(raw)
		if err != nil {
			tb.Fatalf("Set-Cookie %q: %v", raw, err)
		}
		jar = slices.DeleteFunc(jar, func(kv string) bool { return strings.HasPrefix(kv, c.Name+"=") })
		if c.MaxAge >= 0 {
			jar = append(jar, c.Name+"="+c.Value)
		}
	}
	return jar
}

// formPost turns authorize.json into the browser's POST of a form.
func formPost(tb testing.TB, form url.Values, cookies []string) events.APIGatewayV2HTTPRequest {
	tb.Helper()
	ev := request(tb, "authorize.json")
	ev.RouteKey, ev.RequestContext.RouteKey = "POST /authorize", "POST /authorize"
	ev.RequestContext.HTTP.Method = http.MethodPost
	ev.RawQueryString, ev.QueryStringParameters = "", nil
	ev.Headers["content-type"] = "application/x-www-form-urlencoded"
	ev.Body = form.Encode()
	ev.Cookies = cookies
	return ev
}

// openLoginPage pushes the recorded request and opens /authorize with the reference
// it got: the login page, 200.
func openLoginPage(t *testing.T, par, authorize *stack.Function, adapt func(events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	pushed := send(t, par, adapt(request(t, "par.json")))
	wantStatus(t, pushed, http.StatusCreated)
	requestURI, _ := decodeJSON(t, pushed)["request_uri"].(string)
	open := adapt(request(t, "authorize.json"))
	open.QueryStringParameters["request_uri"] = requestURI
	open.RawQueryString = url.Values{"client_id": {open.QueryStringParameters["client_id"]}, "request_uri": {requestURI}}.Encode()
	login := send(t, authorize, open)
	wantStatus(t, login, http.StatusOK)
	return login
}

// authorization carries one authorization through the bootstraps, from push to
// tokens, as the recorded events do it after adapt, and returns the token response.
func authorization(t *testing.T, par, authorize, token *stack.Function, user seed.User, adapt func(events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPRequest) map[string]any {
	t.Helper()
	tok, _ := authorizationWithCookies(t, par, authorize, token, user, adapt)
	return tok
}

// authorizationWithCookies is authorization, and the browser's cookies after it (the
// single sign-on session's among them).
func authorizationWithCookies(t *testing.T, par, authorize, token *stack.Function, user seed.User, adapt func(events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPRequest) (map[string]any, []string) {
	t.Helper()
	login := openLoginPage(t, par, authorize, adapt)
	if !strings.Contains(login.Body, `name="password"`) {
		t.Fatalf("not the login page:\n%s", login.Body)
	}

	form := hiddenFields(t, login.Body)
	form.Set("username", user.Username)
	form.Set("password", user.Password)
	jar := cookieJar(t, nil, login)
	signedIn := send(t, authorize, formPost(t, form, jar))
	wantStatus(t, signedIn, http.StatusSeeOther)
	next, err := url.Parse(signedIn.Headers["Location"])
	if err != nil {
		t.Fatal(err)
	}

	again := request(t, "authorize.json")
	again.RawQueryString, again.QueryStringParameters = next.RawQuery, nil
	jar = cookieJar(t, jar, signedIn)
	again.Cookies = jar
	consent := send(t, authorize, again)
	wantStatus(t, consent, http.StatusOK)
	if !strings.Contains(consent.Body, `value="approve"`) {
		t.Fatalf("not the consent page:\n%s", consent.Body)
	}
	form = hiddenFields(t, consent.Body)
	form.Set("decision", "approve")
	jar = cookieJar(t, jar, consent)
	approved := send(t, authorize, formPost(t, form, jar))
	jar = cookieJar(t, jar, approved)
	wantStatus(t, approved, http.StatusSeeOther)
	loc, err := url.Parse(approved.Headers["Location"])
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if jwt := q.Get("response"); jwt != "" {
		// A JARM response (response_mode jwt, docs/design.md decision 24): the
		// parameters are the claims of the JWT the authorize function signed.
		q = jarmParams(t, jwt)
	}
	if loc.Host != "client.example.com" || q.Get("code") == "" || q.Get("iss") != stack.EventsIssuer {
		t.Fatalf("authorization response %s", loc)
	}

	exchange := adapt(request(t, "token.json"))
	body, err := url.ParseQuery(exchange.Body)
	if err != nil {
		t.Fatal(err)
	}
	if body.Get("code_verifier") != demoVerifier {
		t.Fatalf("token.json's code_verifier %q is not the pair of par.json's challenge", body.Get("code_verifier"))
	}
	body.Set("code", q.Get("code"))
	exchange.Body = body.Encode()
	delete(exchange.Headers, "content-length")
	tokens := send(t, token, exchange)
	wantStatus(t, tokens, http.StatusOK)
	return decodeJSON(t, tokens), jar
}

// jarmParams are the string claims of a JARM response JWT, unverified: where its
// signature is checked is pkg/httpapi's and infra/browser's tests.
func jarmParams(t *testing.T, jwt string) url.Values {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("JARM response %q is not a compact JWS", jwt)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	q := url.Values{}
	for k, v := range claims {
		if s, ok := v.(string); ok {
			q.Set(k, s)
		}
	}
	return q
}

// TestFunctions_CarryAWholeAuthorization: the four bootstraps, each in its own
// process as in Lambda, share only DynamoDB and Secrets Manager, and together carry
// an authorization from push to tokens: the pushed request in the table, the login
// and consent pages sealed with the cookie key from its secret, the code issued in a
// transaction, the tokens signed with the key set from its secret and verified
// against the JWKS the discovery function publishes.
func TestFunctions_CarryAWholeAuthorization(t *testing.T) {
	par, authorize, token, discovery := start(t, "par"), start(t, "authorize"), start(t, "token"), start(t, "discovery")
	user := setup(t).Seed.Users[0]
	tok := authorization(t, par, authorize, token, user, func(ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPRequest { return ev })

	jwks := send(t, discovery, request(t, "jwks.json"))
	wantStatus(t, jwks, http.StatusOK)
	for _, name := range []string{"access_token", "id_token"} {
		raw, _ := tok[name].(string)
		payload, err := keys.VerifyJWKS([]byte(jwks.Body), raw)
		if err != nil {
			t.Fatalf("%s does not verify against the published JWKS: %v", name, err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		if claims["iss"] != stack.EventsIssuer || claims["sub"] != user.Claims["sub"] {
			t.Errorf("%s: iss %v, sub %v", name, claims["iss"], claims["sub"])
		}
	}
	t.Logf("AWS calls: par %v; authorize %v; token %v; discovery %v",
		par.AWS.Operations(), authorize.AWS.Operations(), token.AWS.Operations(), discovery.AWS.Operations())
}
