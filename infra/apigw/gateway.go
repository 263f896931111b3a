package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/pargate/pargate/infra/lambdaemu"
)

// Limits of API Gateway HTTP APIs and Lambda.
const (
	// MaxRequestSize is HTTP API's payload limit (10 MB).
	MaxRequestSize = 10 << 20
	// IntegrationTimeout is HTTP API's maximum integration timeout (30 s).
	IntegrationTimeout = 30 * time.Second
)

// Invoker runs a function (by LogicalId) on an event and returns its response
// payload; a failed invocation is an error (a *lambdaemu.FunctionError for the
// function's own failures).
type Invoker interface {
	Invoke(ctx context.Context, function string, event []byte) ([]byte, error)
}

// Gateway is the HTTP API: an http.Handler that routes each request to its
// function's integration.
type Gateway struct {
	Routes  []Route
	Invoker Invoker
	// APIID is requestContext.apiId (default "local").
	APIID string
	// Timeout is the integration timeout (default and at most [IntegrationTimeout]).
	Timeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives a line per failed integration (nil: none). It never gets bodies.
	Log func(format string, args ...any)
}

// API Gateway's own answers.
var (
	notFound         = gatewayAnswer{http.StatusNotFound, "Not Found"}
	tooLarge         = gatewayAnswer{http.StatusRequestEntityTooLarge, "Request Entity Too Large"}
	internalError    = gatewayAnswer{http.StatusInternalServerError, "Internal Server Error"}
	unavailable      = gatewayAnswer{http.StatusServiceUnavailable, "Service Unavailable"}
	errInvalidResult = errors.New("the function's response is not a payload 2.0 response")
)

type gatewayAnswer struct {
	status  int
	message string
}

func (g *Gateway) answer(w http.ResponseWriter, requestID string, a gatewayAnswer) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Apigw-Requestid", requestID)
	w.WriteHeader(a.status)
	fmt.Fprintf(w, `{"message":%q}`, a.message)
}

func (g *Gateway) logf(format string, args ...any) {
	if g.Log != nil {
		g.Log(format, args...)
	}
}

// ServeHTTP is one request through the API: 404 {"message":"Not Found"} for a
// method and path no route has, 413 above [MaxRequestSize], 503 when the
// integration does not answer within the timeout, 500 for a failed invocation or a
// response API Gateway cannot map; else the function's response.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	received := now()
	if r.ContentLength > MaxRequestSize {
		g.answer(w, newRequestID(), tooLarge)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestSize+1))
	if err != nil {
		g.answer(w, newRequestID(), internalError)
		return
	}
	if len(body) > MaxRequestSize {
		g.answer(w, newRequestID(), tooLarge)
		return
	}
	route, ok := match(g.Routes, r.Method, r.URL.Path)
	if !ok {
		g.answer(w, newRequestID(), notFound)
		return
	}
	proto, port := "http", "80"
	if r.TLS != nil {
		proto, port = "https", "443"
	}
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, p, err := net.SplitHostPort(addr.String()); err == nil {
			port = p
		}
	}
	apiID := g.APIID
	if apiID == "" {
		apiID = "local"
	}
	ev := NewEvent(r, body, route, apiID, proto, port, received)
	data, err := json.Marshal(ev)
	if err != nil {
		g.answer(w, ev.RequestContext.RequestID, internalError)
		return
	}
	timeout := g.Timeout
	if timeout <= 0 || timeout > IntegrationTimeout {
		timeout = IntegrationTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	raw, err := g.Invoker.Invoke(ctx, route.Function, data)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			g.logf("%s %s: integration timeout after %v", ev.RequestContext.RequestID, route.Key, timeout)
			g.answer(w, ev.RequestContext.RequestID, unavailable)
			return
		}
		g.logf("%s %s: %s", ev.RequestContext.RequestID, route.Key, errorSummary(err))
		g.answer(w, ev.RequestContext.RequestID, internalError)
		return
	}
	resp, err := ParseResponse(raw)
	if err != nil {
		g.logf("%s %s: %v", ev.RequestContext.RequestID, route.Key, err)
		g.answer(w, ev.RequestContext.RequestID, internalError)
		return
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	h.Set("Apigw-Requestid", ev.RequestContext.RequestID)
	h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(resp.Body)
}

// errorSummary names a failed invocation without the function's output.
func errorSummary(err error) string {
	var fe *lambdaemu.FunctionError
	if errors.As(err, &fe) {
		return fmt.Sprintf("lambda %s error %s: %s", fe.Phase, fe.Type, fe.Message)
	}
	return err.Error()
}

// Response is a function's payload 2.0 response as API Gateway reads it.
type Response struct {
	StatusCode        int
	Headers           map[string]string
	MultiValueHeaders map[string][]string
	Cookies           []string
	// Body is decoded from base64 when isBase64Encoded.
	Body []byte
}

// ParseResponse maps a function's response payload as API Gateway does for payload
// 2.0: an object with statusCode is the response (headers, multiValueHeaders,
// cookies, body, isBase64Encoded); any other JSON is a 200 application/json body of
// that JSON.
func ParseResponse(raw []byte) (Response, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil || probe["statusCode"] == nil {
		if !json.Valid(raw) {
			return Response{}, errInvalidResult
		}
		return Response{StatusCode: http.StatusOK, Headers: map[string]string{"Content-Type": "application/json"}, Body: raw}, nil
	}
	var out struct {
		StatusCode        int                 `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
		Cookies           []string            `json:"cookies"`
		Body              string              `json:"body"`
		IsBase64Encoded   bool                `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return Response{}, fmt.Errorf("%w: %v", errInvalidResult, err)
	}
	if out.StatusCode < 100 || out.StatusCode > 599 {
		return Response{}, fmt.Errorf("%w: statusCode %d", errInvalidResult, out.StatusCode)
	}
	resp := Response{StatusCode: out.StatusCode, Headers: out.Headers, MultiValueHeaders: out.MultiValueHeaders, Cookies: out.Cookies, Body: []byte(out.Body)}
	if out.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(out.Body)
		if err != nil {
			return Response{}, fmt.Errorf("%w: body is not base64", errInvalidResult)
		}
		resp.Body = b
	}
	return resp, nil
}
