package apigw

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pargate/pargate/infra/lambdaemu"
)

type invokerFunc func(ctx context.Context, function string, event []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	return f(ctx, function, event)
}

func serve(t *testing.T, g *Gateway, r *http.Request) *http.Response {
	t.Helper()
	w := httptest.NewRecorder()
	g.ServeHTTP(w, r)
	return w.Result()
}

func wantAnswer(t *testing.T, resp *http.Response, status int, body string) {
	t.Helper()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status || string(got) != body || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("got %d %s %q, want %d %q", resp.StatusCode, resp.Header.Get("Content-Type"), got, status, body)
	}
}

func TestParseRoutes_ReadsTemplateYAMLsRoutesAndIntegrations(t *testing.T) {
	got := map[string]string{}
	for _, r := range templateRoutes(t) {
		got[r.Key] = r.Function
	}
	want := map[string]string{
		"ANY /par": "ParFunction", "GET /authorize": "AuthorizeFunction", "POST /authorize": "AuthorizeFunction",
		"GET /logout": "AuthorizeFunction", "POST /logout": "AuthorizeFunction", "GET /federation/callback": "AuthorizeFunction",
		"ANY /token": "TokenFunction", "ANY /revoke": "TokenFunction", "ANY /introspect": "TokenFunction", "ANY /userinfo": "TokenFunction",
		"GET /.well-known/oauth-authorization-server": "DiscoveryFunction", "GET /.well-known/openid-configuration": "DiscoveryFunction", "GET /jwks": "DiscoveryFunction",
		"OPTIONS /.well-known/oauth-authorization-server": "DiscoveryFunction", "OPTIONS /.well-known/openid-configuration": "DiscoveryFunction", "OPTIONS /jwks": "DiscoveryFunction",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("routes %v,\nwant %v", got, want)
	}
}

func TestParseRoutes_RefusesWhatItCannotEmulate(t *testing.T) {
	for name, yml := range map[string]string{
		"no integration":    "Resources:\n  R:\n    Type: AWS::ApiGatewayV2::Route\n    Properties:\n      RouteKey: GET /x\n      Target: !Sub \"integrations/${I}\"\n",
		"payload 1.0":       "Resources:\n  I:\n    Type: AWS::ApiGatewayV2::Integration\n    Properties:\n      IntegrationType: AWS_PROXY\n      IntegrationUri: !GetAtt F.Arn\n      PayloadFormatVersion: \"1.0\"\n  R:\n    Type: AWS::ApiGatewayV2::Route\n    Properties:\n      RouteKey: GET /x\n      Target: !Sub \"integrations/${I}\"\n",
		"no routes":         "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n",
		"route key no path": "Resources:\n  R:\n    Type: AWS::ApiGatewayV2::Route\n    Properties:\n      RouteKey: $default\n",
	} {
		if _, err := ParseRoutes([]byte(yml)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestGateway_AnswersUnroutedRequestsAsAPIGateway: a path or a method without a route
// is API Gateway's 404 {"message":"Not Found"}; the function is not invoked.
func TestGateway_AnswersUnroutedRequestsAsAPIGateway(t *testing.T) {
	g := &Gateway{Routes: templateRoutes(t), Invoker: invokerFunc(func(context.Context, string, []byte) ([]byte, error) {
		t.Error("invoked")
		return nil, nil
	})}
	for _, target := range []string{"GET /nope", "PUT /authorize", "DELETE /jwks", "GET /PAR", "GET /par/", "GET /"} {
		method, path, _ := strings.Cut(target, " ")
		wantAnswer(t, serve(t, g, httptest.NewRequest(method, path, nil)), http.StatusNotFound, `{"message":"Not Found"}`)
	}
}

// TestGateway_MapsTheResponseBack: cookies become Set-Cookie headers,
// multiValueHeaders are added, a base64 body is decoded, the status kept; the
// function gets the route's event.
func TestGateway_MapsTheResponseBack(t *testing.T) {
	var got Event
	g := &Gateway{Routes: templateRoutes(t), Invoker: invokerFunc(func(_ context.Context, fn string, event []byte) ([]byte, error) {
		if fn != "TokenFunction" {
			t.Errorf("function %s", fn)
		}
		if err := json.Unmarshal(event, &got); err != nil {
			t.Error(err)
		}
		return []byte(`{"statusCode":201,"headers":{"Content-Type":"application/octet-stream","Cache-Control":"no-store"},
			"multiValueHeaders":{"Vary":["Origin","Accept"]},"cookies":["a=1; Path=/; HttpOnly","b=2"],
			"body":"aGVsbG8=","isBase64Encoded":true}`), nil
	})}
	resp := serve(t, g, httptest.NewRequest(http.MethodPost, "/userinfo?x=1", strings.NewReader("k=v")))
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 || string(body) != "hello" || resp.Header.Get("Cache-Control") != "no-store" ||
		!reflect.DeepEqual(resp.Header.Values("Vary"), []string{"Origin", "Accept"}) ||
		!reflect.DeepEqual(resp.Header.Values("Set-Cookie"), []string{"a=1; Path=/; HttpOnly", "b=2"}) ||
		resp.Header.Get("Apigw-Requestid") != got.RequestContext.RequestID {
		t.Errorf("response %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if got.RouteKey != "ANY /userinfo" || got.RawPath != "/userinfo" || got.QueryStringParameters["x"] != "1" || got.Body != "az12" || !got.IsBase64Encoded {
		t.Errorf("event %+v", got)
	}
}

// TestGateway_InfersAResponseWithoutStatusCode: payload 2.0 takes other JSON as a 200
// application/json body.
func TestGateway_InfersAResponseWithoutStatusCode(t *testing.T) {
	g := &Gateway{Routes: templateRoutes(t), Invoker: invokerFunc(func(context.Context, string, []byte) ([]byte, error) {
		return []byte(`{"hello":"world"}`), nil
	})}
	wantAnswer(t, serve(t, g, httptest.NewRequest(http.MethodGet, "/jwks", nil)), http.StatusOK, `{"hello":"world"}`)
}

// TestGateway_AnswersLimitsAndFailuresAsAPIGateway: 413 above 10 MB, 503 after the
// integration timeout, 500 for a failed invocation or an unmappable response - in
// API Gateway's words, without the function's error.
func TestGateway_AnswersLimitsAndFailuresAsAPIGateway(t *testing.T) {
	var logs []string
	var mu sync.Mutex
	logf := func(format string, args ...any) {
		mu.Lock()
		logs = append(logs, format)
		mu.Unlock()
	}
	ok := invokerFunc(func(context.Context, string, []byte) ([]byte, error) { return []byte(`{"statusCode":200}`), nil })
	g := &Gateway{Routes: templateRoutes(t), Invoker: ok, Log: logf}
	big := strings.Repeat("a", MaxRequestSize+1)
	wantAnswer(t, serve(t, g, httptest.NewRequest(http.MethodPost, "/par", strings.NewReader(big))), http.StatusRequestEntityTooLarge, `{"message":"Request Entity Too Large"}`)
	r := httptest.NewRequest(http.MethodPost, "/par", strings.NewReader(big))
	r.ContentLength = -1 // chunked: the size is only known by reading
	wantAnswer(t, serve(t, g, r), http.StatusRequestEntityTooLarge, `{"message":"Request Entity Too Large"}`)
	resp := serve(t, g, httptest.NewRequest(http.MethodPost, "/par", strings.NewReader(big[:MaxRequestSize])))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a 10 MB request: %d", resp.StatusCode)
	}

	g.Invoker = invokerFunc(func(ctx context.Context, _ string, _ []byte) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	g.Timeout = 20 * time.Millisecond
	wantAnswer(t, serve(t, g, httptest.NewRequest(http.MethodGet, "/jwks", nil)), http.StatusServiceUnavailable, `{"message":"Service Unavailable"}`)

	for name, inv := range map[string]invokerFunc{
		"function error": func(context.Context, string, []byte) ([]byte, error) {
			return nil, &lambdaemu.FunctionError{Type: "Runtime.ExitError", Phase: "invoke", Message: "exit status 2", Logs: "panic: secret-in-logs"}
		},
		"not JSON":       func(context.Context, string, []byte) ([]byte, error) { return []byte(`nope`), nil },
		"bad statusCode": func(context.Context, string, []byte) ([]byte, error) { return []byte(`{"statusCode":"x"}`), nil },
		"bad base64": func(context.Context, string, []byte) ([]byte, error) {
			return []byte(`{"statusCode":200,"body":"!!","isBase64Encoded":true}`), nil
		},
	} {
		g.Invoker = inv
		resp := serve(t, g, httptest.NewRequest(http.MethodGet, "/jwks", nil))
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 500 || string(body) != `{"message":"Internal Server Error"}` {
			t.Errorf("%s: %d %q", name, resp.StatusCode, body)
		}
	}
}

type fakeInstance struct {
	id     int
	fail   error
	closed atomic.Bool
	busy   *atomic.Int32
	max    *atomic.Int32
}

func (f *fakeInstance) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	n := f.busy.Add(1)
	defer f.busy.Add(-1)
	for {
		m := f.max.Load()
		if n <= m || f.max.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(5 * time.Millisecond)
	if f.fail != nil {
		return nil, f.fail
	}
	return event, nil
}
func (f *fakeInstance) Stats() lambdaemu.Stats { return lambdaemu.Stats{Init: time.Millisecond} }
func (f *fakeInstance) Close() error           { f.closed.Store(true); return nil }

// TestPool_ReusesWarmInstancesUpToTheConcurrency: sequential events share one warm
// instance; 20 concurrent ones use at most Concurrency instances, each busy with one
// event at a time; an instance whose environment died is replaced, one whose
// handler returned an error is kept.
func TestPool_ReusesWarmInstancesUpToTheConcurrency(t *testing.T) {
	var busy, most atomic.Int32
	var started []*fakeInstance
	var mu sync.Mutex
	var nextErr error
	cold := 0
	p := &Pool{Concurrency: 3, Log: func(string, ...any) { mu.Lock(); cold++; mu.Unlock() }, Start: func(context.Context, string) (Instance, error) {
		mu.Lock()
		defer mu.Unlock()
		f := &fakeInstance{id: len(started), busy: &busy, max: &most, fail: nextErr}
		started = append(started, f)
		return f, nil
	}}
	defer p.Close()
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := p.Invoke(ctx, "ParFunction", []byte("e")); err != nil {
			t.Fatal(err)
		}
	}
	if len(started) != 1 || cold != 1 {
		t.Fatalf("3 sequential events started %d instances (%d cold starts logged), want 1 warm", len(started), cold)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Go(func() {
			if _, err := p.Invoke(ctx, "ParFunction", []byte("e")); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(started) > 3 || most.Load() > 3 || p.Instances("ParFunction") != len(started) {
		t.Errorf("%d instances started, %d busy at once, %d running; the limit is 3", len(started), most.Load(), p.Instances("ParFunction"))
	}
	if most.Load() < 2 {
		t.Errorf("20 concurrent events never ran in parallel")
	}

	q := &Pool{Concurrency: 2, Start: p.Start}
	defer q.Close()
	mu.Lock()
	nextErr = &lambdaemu.FunctionError{Type: "Sandbox.Timedout", Phase: "invoke"}
	mu.Unlock()
	if _, err := q.Invoke(ctx, "TokenFunction", nil); err == nil {
		t.Fatal("no error")
	}
	if q.Instances("TokenFunction") != 0 || !started[len(started)-1].closed.Load() {
		t.Error("a timed-out instance was kept")
	}
	mu.Lock()
	nextErr = &lambdaemu.FunctionError{Type: "errorString", Phase: "invoke"}
	mu.Unlock()
	if _, err := q.Invoke(ctx, "TokenFunction", nil); !errors.As(err, new(*lambdaemu.FunctionError)) {
		t.Fatalf("err %v", err)
	}
	if q.Instances("TokenFunction") != 1 {
		t.Error("an instance whose handler returned an error was dropped")
	}
}
