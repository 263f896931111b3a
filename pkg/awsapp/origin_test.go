package awsapp_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/httpapi"
)

const testOriginSecret = "0123456789abcdefghijklmnopqrstuvwxyzABCD"

// withOriginSecret is env with ORIGIN_SECRET set to secret.
func withOriginSecret(env func(string) string, secret string) func(string) string {
	return func(k string) string {
		if k == awsapp.OriginSecretEnv {
			return secret
		}
		return env(k)
	}
}

// TestFunction_OriginGuard: with ORIGIN_SECRET set (the stack behind CloudFront), a
// function answers a request without CloudFront's origin secret header as API Gateway
// answers a refused request - 403 {"message":"Forbidden"} - and serves one with it as
// before; without ORIGIN_SECRET the header is not asked for.
func TestFunction_OriginGuard(t *testing.T) {
	metadata := func(headers map[string]string) events.APIGatewayV2HTTPRequest {
		ev := loadEvent(t, "discovery.json")
		ev.RawPath, ev.RequestContext.HTTP.Path, ev.RequestContext.HTTP.Method = httpapi.PathASMetadata, httpapi.PathASMetadata, http.MethodPost
		ev.Headers = map[string]string{}
		for k, v := range headers {
			ev.Headers[k] = v
		}
		return ev
	}
	base := lambdaEnv(t, "http://127.0.0.1:1")
	for _, tc := range []struct {
		name    string
		secret  string
		headers map[string]string
		status  int
	}{
		{"guarded, no header: refused", testOriginSecret, nil, http.StatusForbidden},
		{"guarded, wrong secret: refused", testOriginSecret, map[string]string{"x-pargate-origin-secret": testOriginSecret[:len(testOriginSecret)-1] + "X"}, http.StatusForbidden},
		{"guarded, secret sent twice (comma-joined): refused", testOriginSecret, map[string]string{"x-pargate-origin-secret": testOriginSecret + "," + testOriginSecret}, http.StatusForbidden},
		{"guarded, empty header: refused", testOriginSecret, map[string]string{"x-pargate-origin-secret": ""}, http.StatusForbidden},
		{"guarded, the secret: served", testOriginSecret, map[string]string{"x-pargate-origin-secret": testOriginSecret}, http.StatusMethodNotAllowed},
		{"guarded, the secret in another case of the name: served", testOriginSecret, map[string]string{"X-Pargate-Origin-Secret": testOriginSecret}, http.StatusMethodNotAllowed},
		{"not guarded, no header: served", "", nil, http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn, err := awsapp.Function(t.Context(), withOriginSecret(base, tc.secret), awsapp.Discovery, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := fn(t.Context(), metadata(tc.headers))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.status == http.StatusForbidden {
				if resp.Body != `{"message":"Forbidden"}` || resp.Headers["Content-Type"] != "application/json" {
					t.Errorf("refusal = %q (%v), want API Gateway's {\"message\":\"Forbidden\"} as application/json", resp.Body, resp.Headers)
				}
				if strings.Contains(resp.Body, testOriginSecret[:8]) {
					t.Error("the refusal mentions the secret")
				}
			}
		})
	}
}

// TestFunction_OriginSecretTooShortIsAConfigurationError: a short secret fails the
// init phase rather than guarding with a guessable credential.
func TestFunction_OriginSecretTooShortIsAConfigurationError(t *testing.T) {
	env := withOriginSecret(lambdaEnv(t, "http://127.0.0.1:1"), testOriginSecret[:awsapp.MinOriginSecretLength-1])
	fn, err := awsapp.Function(t.Context(), env, awsapp.Discovery, nil)
	if err == nil || fn != nil {
		t.Fatalf("Function with a %d-character ORIGIN_SECRET: %v; want an error", awsapp.MinOriginSecretLength-1, err)
	}
	if !strings.Contains(err.Error(), awsapp.OriginSecretEnv) || strings.Contains(err.Error(), testOriginSecret[:8]) {
		t.Errorf("error %q: want it to name %s and not show the value", err, awsapp.OriginSecretEnv)
	}
}

// TestOriginGuard_ClientIP: behind the guard the client IP is the viewer's, from the
// CloudFront-Viewer-Address header of a request that carried the secret (IPv4 and
// CloudFront's unbracketed IPv6 form); the secret and the address header are removed
// before the handler. Without the guard (CloudFront off) no header moves the client
// IP - neither CloudFront-Viewer-Address nor X-Forwarded-For, which any caller can send.
func TestOriginGuard_ClientIP(t *testing.T) {
	const edge = "130.176.0.10" // the peer API Gateway saw: CloudFront, or the caller
	for _, tc := range []struct {
		name    string
		secret  string
		headers map[string]string
		wantIP  string
	}{
		{"guarded, IPv4 viewer", testOriginSecret, map[string]string{"x-pargate-origin-secret": testOriginSecret, "cloudfront-viewer-address": "198.51.100.10:46532"}, "198.51.100.10"},
		{"guarded, IPv6 viewer", testOriginSecret, map[string]string{"x-pargate-origin-secret": testOriginSecret, "cloudfront-viewer-address": "2001:db8::1:46532"}, "2001:db8::1"},
		{"guarded, X-Forwarded-For is not used", testOriginSecret, map[string]string{"x-pargate-origin-secret": testOriginSecret, "x-forwarded-for": "203.0.113.7, 198.51.100.10"}, edge},
		{"guarded, malformed viewer address leaves sourceIp", testOriginSecret, map[string]string{"x-pargate-origin-secret": testOriginSecret, "cloudfront-viewer-address": "not-an-ip:1"}, edge},
		{"not guarded, CloudFront-Viewer-Address is not trusted", "", map[string]string{"cloudfront-viewer-address": "198.51.100.10:46532"}, edge},
		{"not guarded, X-Forwarded-For is not trusted", "", map[string]string{"x-forwarded-for": "203.0.113.7"}, edge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen *events.APIGatewayV2HTTPRequest
			next := func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				seen = &ev
				return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK}, nil
			}
			ev := events.APIGatewayV2HTTPRequest{Headers: tc.headers}
			ev.RequestContext.HTTP.SourceIP = edge
			resp, err := awsapp.OriginGuard(tc.secret, next)(t.Context(), ev)
			if err != nil || resp.StatusCode != http.StatusOK || seen == nil {
				t.Fatalf("status %d, err %v, handler reached %v; want 200 from the handler", resp.StatusCode, err, seen != nil)
			}
			if got := seen.RequestContext.HTTP.SourceIP; got != tc.wantIP {
				t.Errorf("sourceIp = %q, want %q", got, tc.wantIP)
			}
			if tc.secret != "" {
				for k := range seen.Headers {
					if strings.EqualFold(k, awsapp.OriginSecretHeader) || strings.EqualFold(k, awsapp.ViewerAddressHeader) {
						t.Errorf("header %s reached the handler", k)
					}
				}
			}
		})
	}
}
