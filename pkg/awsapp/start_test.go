package awsapp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/awsapp/awstable"
	"github.com/pargate/pargate/pkg/httpapi"
)

// TestFunction_ServesItsEndpoint: what Start hands to lambda.Start for each
// functions/<name>/main.go is that function's endpoint behind the payload 2.0
// adapter. The events chosen need no AWS call (no store, no secret).
func TestFunction_ServesItsEndpoint(t *testing.T) {
	event := func(method, path string) events.APIGatewayV2HTTPRequest {
		ev := loadEvent(t, "discovery.json")
		ev.RawPath, ev.RequestContext.HTTP.Path, ev.RequestContext.HTTP.Method = path, path, method
		return ev
	}
	get := func(path string) events.APIGatewayV2HTTPRequest { return event(http.MethodGet, path) }
	for _, tc := range []struct {
		name     string
		endpoint awsapp.Endpoint
		store    awsapp.StoreFunc // as functions/<name>/main.go passes it
		event    events.APIGatewayV2HTTPRequest
		status   int
		want     string // in the body or the headers
	}{
		{"par answers GET with 405 Allow: POST", awsapp.PAR, awstable.Table, loadEvent(t, "par-get.json"), http.StatusMethodNotAllowed, "POST"},
		{"authorize without a request is an error page", awsapp.Authorize, awstable.Table, get(httpapi.PathAuthorize), http.StatusBadRequest, "text/html"},
		{"discovery serves the metadata: POST is 405 Allow: GET", awsapp.Discovery, nil, event(http.MethodPost, httpapi.PathASMetadata), http.StatusMethodNotAllowed, "GET"},
		{"discovery does not serve /par", awsapp.Discovery, nil, get(httpapi.PathPAR), http.StatusNotFound, ""},
		{"token serves /userinfo: no token is 401", awsapp.TokenEndpoints, awstable.Table, get(httpapi.PathUserinfo), http.StatusUnauthorized, "Bearer"},
		{"token does not serve the metadata", awsapp.TokenEndpoints, awstable.Table, loadEvent(t, "discovery.json"), http.StatusNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn, err := awsapp.Function(t.Context(), lambdaEnv(t, "http://127.0.0.1:1"), tc.endpoint, tc.store)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := fn(t.Context(), tc.event)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tc.status, resp.Body)
			}
			var headers strings.Builder
			for k, v := range resp.Headers {
				headers.WriteString(k + ": " + v + "\n")
			}
			if !strings.Contains(resp.Body, tc.want) && !strings.Contains(headers.String(), tc.want) {
				t.Errorf("%q neither in the body %s nor in the headers\n%s", tc.want, resp.Body, headers.String())
			}
		})
	}
}

// TestFunction_ConfigurationErrorIsReturned: Start prints this error and exits 1,
// before any invocation.
func TestFunction_ConfigurationErrorIsReturned(t *testing.T) {
	env := lambdaEnv(t, "http://127.0.0.1:1")
	fn, err := awsapp.Function(t.Context(), func(k string) string {
		if k == "ISSUER" {
			return ""
		}
		return env(k)
	}, awsapp.PAR, awstable.Table)
	if err == nil || fn != nil {
		t.Fatalf("Function without ISSUER: %v, %v; want an error and no function", fn != nil, err)
	}
	if !strings.Contains(err.Error(), "ISSUER") {
		t.Errorf("error %q does not name ISSUER", err)
	}
}
