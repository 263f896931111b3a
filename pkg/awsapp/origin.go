package awsapp

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// The origin guard of a stack behind CloudFront (template.yaml CloudFront=true, README
// "CloudFront and WAF"). The HTTP API's execute-api URL stays reachable from the
// internet, and a request sent there directly would skip the WAF web ACL (its per-IP
// rate limits and the managed rules). CloudFront adds OriginSecretHeader with the
// stack's OriginSecret to every request it sends the API; the functions answer any
// request without it as API Gateway answers a request it refuses (403
// {"message":"Forbidden"}) before the handler sees it. This costs nothing per request
// (no authorizer invocation, no secret read): the secret is in the function's
// environment, as it is in the distribution's configuration.
const (
	// OriginSecretEnv holds the secret the functions require; empty (the default,
	// CloudFront=false): no guard, every request is served.
	OriginSecretEnv = "ORIGIN_SECRET"
	// OriginSecretHeader is the header CloudFront adds (an origin custom header).
	OriginSecretHeader = "X-Pargate-Origin-Secret"
	// ViewerAddressHeader is the header CloudFront adds with the viewer's address
	// and port (the distribution's origin request policy asks for it).
	ViewerAddressHeader = "CloudFront-Viewer-Address"
	// MinOriginSecretLength: the secret is a bearer credential sent on every request;
	// 32 characters of the template's pattern carry at least 192 bits.
	MinOriginSecretLength = 32
)

// An EventHandler serves one API Gateway HTTP API (payload 2.0) invocation.
type EventHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// forbidden is API Gateway's own answer to a request it refuses, so that a caller of
// the execute-api URL cannot tell the guard from the gateway.
func forbidden() events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusForbidden,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       `{"message":"Forbidden"}`,
	}
}

// OriginGuard returns next behind the origin guard of secret; with an empty secret it
// returns next unchanged, which trusts no header about the caller (the client IP is
// API Gateway's sourceIp, the peer that connected to it). Otherwise a request whose
// OriginSecretHeader is not secret (compared in constant time) gets 403 without
// reaching next; a request that has it came through CloudFront, so its
// ViewerAddressHeader - set by CloudFront, not by the viewer - replaces sourceIp
// (which is CloudFront's own address), and both headers are removed before next
// sees the event, so that neither the secret nor the header reach a handler or a log.
func OriginGuard(secret string, next EventHandler) EventHandler {
	if secret == "" {
		return next
	}
	want := []byte(secret)
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		got, ok := header(ev.Headers, OriginSecretHeader)
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			return forbidden(), nil
		}
		viewer, _ := header(ev.Headers, ViewerAddressHeader)
		// The event is this invocation's own: the two headers are removed in place,
		// without a copy of the map per request.
		for k := range ev.Headers {
			if strings.EqualFold(k, OriginSecretHeader) || strings.EqualFold(k, ViewerAddressHeader) {
				delete(ev.Headers, k)
			}
		}
		if ip, ok := viewerIP(viewer); ok {
			ev.RequestContext.HTTP.SourceIP = ip
		}
		return next(ctx, ev)
	}
}

// header is the value of name in a payload 2.0 event's headers (which API Gateway
// sends in lower case; any case is accepted). A header sent twice arrives as one
// comma-joined value, which never equals the secret.
func header(headers map[string]string, name string) (string, bool) {
	if v, ok := headers[strings.ToLower(name)]; ok {
		return v, true
	}
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// viewerIP is the address of a CloudFront-Viewer-Address value: "IP:port", where an
// IPv6 address is written without brackets ("2001:db8::1:46532"), so the port is
// what follows the last colon.
func viewerIP(v string) (string, bool) {
	i := strings.LastIndexByte(v, ':')
	if i <= 0 {
		return "", false
	}
	if _, err := strconv.ParseUint(v[i+1:], 10, 16); err != nil {
		return "", false
	}
	host := strings.TrimSuffix(strings.TrimPrefix(v[:i], "["), "]")
	ip := net.ParseIP(host)
	if ip == nil {
		return "", false
	}
	return ip.String(), true
}

// originSecret reads OriginSecretEnv and checks its length.
func originSecret(getenv func(string) string) (string, error) {
	s := getenv(OriginSecretEnv)
	if s != "" && len(s) < MinOriginSecretLength {
		return "", fmt.Errorf("configuration: %s must be empty or at least %d characters", OriginSecretEnv, MinOriginSecretLength)
	}
	return s, nil
}
