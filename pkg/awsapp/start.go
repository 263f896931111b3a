package awsapp

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pargate/pargate/pkg/httpapi"
)

// An Endpoint is what one HTTP function serves of the handler (template.yaml routes
// its paths to it).
type Endpoint func(*httpapi.Handler) http.Handler

// PAR is the endpoint of the par function: POST /par (RFC 9126 §2).
func PAR(h *httpapi.Handler) http.Handler { return h.PAR() }

// Authorize is the endpoints of the authorize function: GET|POST /authorize with the
// login and consent pages, and GET|POST /logout (RP-Initiated Logout 1.0).
func Authorize(h *httpapi.Handler) http.Handler { return h.AuthorizeFunction() }

// TokenEndpoints are the endpoints of the token function: /token, /revoke,
// /introspect and /userinfo.
func TokenEndpoints(h *httpapi.Handler) http.Handler { return h.TokenEndpoints() }

// Discovery is the endpoint of the discovery function: the metadata documents and the
// JWKS.
func Discovery(h *httpapi.Handler) http.Handler { return h.Discovery() }

// Start is the main of an HTTP function: it builds the function from the process
// environment (and the table store of store, nil for discovery) and serves Lambda's invocations; it does not return. A configuration
// error is printed to stderr and the process exits with 1, which Lambda reports as
// Runtime.ExitError at the cold start.
func Start(endpoint Endpoint, store StoreFunc, opts ...Option) {
	fn, err := Function(context.Background(), os.Getenv, endpoint, store, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(fn)
}

// Function is what Start passes to lambda.Start: endpoint of the handler Lambda
// builds from getenv and store, behind the adapter of API Gateway HTTP API (payload
// 2.0) events and the origin guard of ORIGIN_SECRET (origin.go).
func Function(ctx context.Context, getenv func(string) string, endpoint Endpoint, store StoreFunc, opts ...Option) (func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error), error) {
	secret, err := originSecret(getenv)
	if err != nil {
		return nil, err
	}
	h, err := Lambda(ctx, getenv, store, opts...)
	if err != nil {
		return nil, err
	}
	return OriginGuard(secret, httpadapter.NewV2(endpoint(h)).ProxyWithContext), nil
}
