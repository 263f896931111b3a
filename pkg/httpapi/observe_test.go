package httpapi_test

// Observation (observe.go): one JSON access line per request with request id, route,
// method, status, duration, client id, outcome and error code, and one EMF metrics
// line; never a secret, code, token, request_uri, username, password, state or nonce.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
)

// observed is a test server whose access log (JSON, as in Lambda) and EMF metrics
// lines are kept.
type observed struct {
	*testServer
	logs    *syncBuffer
	metrics *syncBuffer
}

// newObserved serves every route with metrics on; opts may change the adapters.
func newObserved(t *testing.T, opts ...serverOption) *observed {
	t.Helper()
	o := &observed{logs: &syncBuffer{}, metrics: &syncBuffer{}}
	o.testServer = newServer(t, append([]serverOption{withEnv(map[string]string{"METRICS": "true", "SERVICE_NAME": "test-stack"}),
		withLogs(o.logs), withMetrics(o.metrics)}, opts...)...)
	return o
}

// lines parses every line of buf as a JSON object.
func lines(t *testing.T, buf *syncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// accessLines returns the access lines, checking that every log line is one.
func accessLines(t *testing.T, o *observed) []map[string]any {
	t.Helper()
	ls := lines(t, o.logs)
	for _, l := range ls {
		if l["msg"] != "request" {
			t.Errorf("a log line besides the access lines: %v", l)
		}
	}
	return ls
}

// TestObserve_Flow runs a whole authorization, a failed login, a bad client and an
// unknown path, and checks the access and metrics lines: one each per request, with
// the fields and outcomes expected, and none of the flow's secrets anywhere.
func TestObserve_Flow(t *testing.T) {
	o := newObserved(t)
	const (
		state      = "st-8d1f0a93c2e54b7c"
		nonce      = "nc-5e7b21c90aa14f3d"
		badPass    = "not-the-password-6a1b"
		reqIDInput = "edge-req-42"
	)
	params := pushParams()
	params.Set("scope", "openid profile offline_access")
	params.Set("state", state)
	params.Set("nonce", nonce)
	secrets := map[string]string{"client secret": confSecret, "password": password, "wrong password": badPass,
		"state": state, "nonce": nonce, "code_verifier": verifier, "username": username}

	var requests int
	do := func(method, path, auth, body string, header map[string]string) response {
		t.Helper()
		requests++
		contentType := ""
		if body != "" {
			contentType = form
		}
		return o.doWithHeader(t, nil, method, path, auth, contentType, body, header)
	}

	// Push, with an X-Request-Id from a proxy in front.
	r := do(http.MethodPost, "/par", basic(confID, confSecret), params.Encode(), map[string]string{"X-Request-Id": reqIDInput})
	if r.Status != http.StatusCreated {
		t.Fatalf("push: %d %s", r.Status, r.Body)
	}
	requestURI := r.JSON["request_uri"].(string)
	secrets["request_uri"] = requestURI
	secrets["request_uri reference"] = strings.TrimPrefix(requestURI, "urn:ietf:params:oauth:request_uri:")

	// The browser: a failed login, then login, consent, approval.
	b := o.browser(t)
	login := b.get(t, authorizePath(confID, requestURI))
	failed := b.submit(t, login, url.Values{"username": {username}, "password": {badPass}})
	if failed.Status != http.StatusOK || !strings.Contains(failed.Body, "incorrect") {
		t.Fatalf("failed login: %d %s", failed.Status, failed.Body)
	}
	consent := b.login(t, confID, requestURI) // login page, login, consent page
	auth := b.approve(t, consent)
	requests += 6
	code := auth.Get("code")
	if code == "" || auth.Get("state") != state {
		t.Fatalf("authorization response %v", auth)
	}
	secrets["code"] = code
	if csrf, ok := httpapitest.HiddenFields(consent.Body)["csrf"]; ok {
		secrets["csrf token"] = csrf[0]
	}
	for _, c := range b.Client.Jar.Cookies(mustURL(t, o.URL+"/authorize")) {
		secrets["cookie "+c.Name] = c.Value
	}
	// The single sign-on session's id (a bearer secret) and its store key.
	if id, ok := secrets["cookie pargate_session"]; !ok {
		t.Fatal("no session cookie after the login")
	} else {
		secrets["session store key"] = oauth.HashKey(id)
	}

	// Tokens, refresh, userinfo, introspection, revocation.
	r = do(http.MethodPost, "/token", basic(confID, confSecret), url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier},
	}.Encode(), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	secrets["access token"], secrets["refresh token"], secrets["id token"] = r.JSON["access_token"].(string), r.JSON["refresh_token"].(string), r.JSON["id_token"].(string)
	r = do(http.MethodPost, "/token", basic(confID, confSecret), url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {secrets["refresh token"]},
	}.Encode(), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	secrets["rotated refresh token"], secrets["refreshed access token"] = r.JSON["refresh_token"].(string), r.JSON["access_token"].(string)
	if r = do(http.MethodGet, "/userinfo", "Bearer "+secrets["refreshed access token"], "", nil); r.Status != http.StatusOK {
		t.Fatalf("userinfo: %d %s", r.Status, r.Body)
	}
	if r = do(http.MethodPost, "/introspect", basic(confID, confSecret), url.Values{"token": {secrets["refreshed access token"]}}.Encode(), nil); r.Status != http.StatusOK {
		t.Fatalf("introspect: %d %s", r.Status, r.Body)
	}
	if r = do(http.MethodPost, "/revoke", basic(confID, confSecret), url.Values{"token": {secrets["rotated refresh token"]}}.Encode(), nil); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	// Discovery, a bad client secret, a wrong method, an unknown path.
	if r = do(http.MethodGet, "/.well-known/openid-configuration", "", "", nil); r.Status != http.StatusOK {
		t.Fatalf("discovery: %d", r.Status)
	}
	if r = do(http.MethodGet, "/jwks", "", "", nil); r.Status != http.StatusOK {
		t.Fatalf("jwks: %d", r.Status)
	}
	const wrongSecret = "wrong-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	secrets["wrong client secret"] = wrongSecret
	if r = do(http.MethodPost, "/token", basic(confID, wrongSecret), "grant_type=refresh_token&refresh_token=x", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("bad secret: %d %s", r.Status, r.Body)
	}
	if r = do(http.MethodGet, "/par?client_secret="+confSecret, "", "", nil); r.Status != http.StatusMethodNotAllowed {
		t.Fatalf("GET /par: %d", r.Status)
	}
	if r = do(http.MethodGet, "/no/such/path", "", "", nil); r.Status != http.StatusNotFound {
		t.Fatalf("unknown path: %d", r.Status)
	}

	logs := accessLines(t, o)
	if len(logs) != requests {
		t.Fatalf("%d access lines for %d requests:\n%s", len(logs), requests, o.logs.String())
	}
	type want struct {
		route, method string
		status        int
		outcome       string
		clientID      string
		errorCode     string
	}
	wants := []want{
		{"/par", "POST", 201, "push_created", confID, ""},
		{"/authorize", "GET", 200, "login_page", confID, ""},
		{"/authorize", "POST", 200, "login_failed", confID, ""},
		{"/authorize", "GET", 200, "login_page", confID, ""},
		{"/authorize", "POST", 303, "login_succeeded", confID, ""},
		{"/authorize", "GET", 200, "consent_page", confID, ""},
		{"/authorize", "POST", 303, "code_issued", confID, ""},
		{"/token", "POST", 200, "tokens_issued", confID, ""},
		{"/token", "POST", 200, "tokens_refreshed", confID, ""},
		{"/userinfo", "GET", 200, "userinfo_served", "", ""},
		{"/introspect", "POST", 200, "token_introspected", confID, ""},
		{"/revoke", "POST", 200, "token_revoked", confID, ""},
		{"/.well-known/openid-configuration", "GET", 200, "metadata_served", "", ""},
		{"/jwks", "GET", 200, "jwks_served", "", ""},
		{"/token", "POST", 401, "rejected", "", "invalid_client"},
		{"/par", "GET", 405, "rejected", "", "invalid_request"},
		{"other", "GET", 404, "rejected", "", ""},
	}
	for i, w := range wants {
		l := logs[i]
		got := want{str(l["route"]), str(l["method"]), int(num(l["status"])), str(l["outcome"]), str(l["client_id"]), str(l["error_code"])}
		if got != w {
			t.Errorf("line %d: %+v\n want %+v\n line %v", i, got, w, l)
		}
		if l["level"] != "INFO" || str(l["request_id"]) == "" || l["time"] == nil {
			t.Errorf("line %d: level %v, request_id %v, time %v", i, l["level"], l["request_id"], l["time"])
		}
		if d, ok := l["duration_ms"].(float64); !ok || d < 0 {
			t.Errorf("line %d: duration_ms %v", i, l["duration_ms"])
		}
		if _, ok := l["cause"]; ok {
			t.Errorf("line %d: a cause on a %v", i, l["status"])
		}
	}
	if logs[0]["request_id"] != reqIDInput {
		t.Errorf("request_id %v, want the X-Request-Id %q", logs[0]["request_id"], reqIDInput)
	}
	if logs[1]["request_id"] == logs[2]["request_id"] {
		t.Errorf("two requests share the generated request_id %v", logs[1]["request_id"])
	}

	// One metrics line per request, with the business counters where they belong.
	ms := lines(t, o.metrics)
	if len(ms) != requests {
		t.Fatalf("%d metrics lines for %d requests", len(ms), requests)
	}
	counters := map[string]int{}
	for i, m := range ms {
		if m["Route"] != logs[i]["route"] || m["Outcome"] != logs[i]["outcome"] || m["Service"] != "test-stack" || m["Requests"] != 1.0 {
			t.Errorf("metrics line %d: %v, access line %v", i, m, logs[i])
		}
		if _, ok := m["_aws"].(map[string]any); !ok {
			t.Errorf("metrics line %d has no _aws: %v", i, m)
		}
		if code := str(logs[i]["error_code"]); code != "" && (m["ErrorCode"] != code || m["Errors"] != 1.0) {
			t.Errorf("metrics line %d: ErrorCode %v, Errors %v; want %s, 1", i, m["ErrorCode"], m["Errors"], code)
		}
		for _, c := range []string{"PushedRequests", "CodesIssued", "TokensIssued", "RefreshTokensRotated"} {
			counters[c] += int(num(m[c]))
		}
		if _, ok := m["client_id"]; ok {
			t.Errorf("metrics line %d carries a client id", i)
		}
	}
	if want := map[string]int{"PushedRequests": 1, "CodesIssued": 1, "TokensIssued": 2, "RefreshTokensRotated": 1}; !equalCounts(counters, want) {
		t.Errorf("counters %v, want %v", counters, want)
	}

	out := o.logs.String() + o.metrics.String()
	for name, v := range secrets {
		if v == "" {
			t.Fatalf("secret %s is empty", name)
		}
		if strings.Contains(out, v) {
			t.Errorf("the %s appears in the logs or metrics", name)
		}
	}
}

// TestObserve_ServerError: a 5xx is one access line at error level with the cause.
func TestObserve_ServerError(t *testing.T) {
	o := newObserved(t, withCookieKey(func(context.Context) ([32]byte, error) {
		return [32]byte{}, errors.New("secrets manager: AccessDeniedException")
	}))
	uri := o.push(t, confID, confSecret, pushParams())
	r := o.do(t, nil, http.MethodGet, authorizePath(confID, uri), "", "", "")
	if r.Status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", r.Status)
	}
	logs := accessLines(t, o)
	if len(logs) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(logs), o.logs.String())
	}
	l := logs[1]
	if l["level"] != "ERROR" || l["status"] != 500.0 || l["outcome"] != "failed" || l["error_code"] != "server_error" ||
		l["client_id"] != confID || !strings.Contains(str(l["cause"]), "AccessDeniedException") {
		t.Errorf("access line %v", l)
	}
	if strings.Contains(o.logs.String(), uri) {
		t.Error("the request_uri is in the logs")
	}
	ms := lines(t, o.metrics)
	if ms[1]["ErrorCode"] != "server_error" || ms[1]["Outcome"] != "failed" {
		t.Errorf("metrics line %v", ms[1])
	}
}

// unavailableStore fails to store pushed requests, as a throttled DynamoDB does.
type unavailableStore struct{ oauth.Store }

func (unavailableStore) CreatePushedRequest(context.Context, *oauth.PushedRequest) error {
	return errors.Join(oauth.ErrUnavailable, errors.New("ProvisionedThroughputExceededException"))
}

// TestObserve_StoreUnavailable: a store outage is Errors{Service, ErrorCode=
// temporarily_unavailable}, the metric template.yaml's StoreErrorsAlarm watches.
func TestObserve_StoreUnavailable(t *testing.T) {
	o := newObserved(t, withStore(unavailableStore{seededStore(t, memory.New())}))
	r := o.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, pushParams().Encode())
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", r.Status)
	}
	l := accessLines(t, o)[0]
	if l["level"] != "ERROR" || l["error_code"] != "temporarily_unavailable" || !strings.Contains(str(l["cause"]), "ProvisionedThroughputExceededException") {
		t.Errorf("access line %v", l)
	}
	m := lines(t, o.metrics)[0]
	if m["ErrorCode"] != "temporarily_unavailable" || m["Errors"] != 1.0 || m["Service"] != "test-stack" {
		t.Fatalf("metrics line %v", m)
	}
	var found bool
	for _, d := range m["_aws"].(map[string]any)["CloudWatchMetrics"].([]any) {
		d := d.(map[string]any)
		for _, set := range d["Dimensions"].([]any) {
			if d["Namespace"] == "pargate" && strings.Contains(mustJSON(t, d["Metrics"]), `"Errors"`) && mustJSON(t, set) == `["Service","ErrorCode"]` {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no Errors metric with dimensions [Service, ErrorCode] in %v", m["_aws"])
	}
}

// TestObserve_Lambda: through the api-proxy adapter, as the functions run (with
// awsapp.RequestIDs), the request id is API Gateway's requestContext.requestId and
// the invocation's id is logged beside it; the single-endpoint handler is observed too.
func TestObserve_Lambda(t *testing.T) {
	o := newObserved(t, withRequestIDs(awsapp.RequestIDs))
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "ANY /par", RawPath: "/par",
		Headers: map[string]string{"content-type": form, "authorization": basic(confID, confSecret)},
		Body:    base64.StdEncoding.EncodeToString([]byte(pushParams().Encode())), IsBase64Encoded: true,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "Ab1CdEfGhIjKlM=", Stage: "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: "/par"},
		},
	}
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: "7d5f9c1e-lambda"})
	resp, err := httpadapter.NewV2(o.handler.PAR()).ProxyWithContext(ctx, ev)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("%v %d %s", err, resp.StatusCode, resp.Body)
	}
	l := accessLines(t, o)
	if len(l) != 1 || l[0]["request_id"] != "Ab1CdEfGhIjKlM=" || l[0]["lambda_request_id"] != "7d5f9c1e-lambda" || l[0]["outcome"] != "push_created" {
		t.Errorf("access lines %v", l)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
