package awsapp

import (
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/pargate/pargate/pkg/httpapi"
	"github.com/pargate/pargate/pkg/oauth"
)

// APIGatewayCertificates reads the TLS client certificate API Gateway passes in
// requestContext.authentication.clientCert (payload 2.0) when the request came
// through a custom domain with mutual TLS. API Gateway has validated the chain
// against the domain's truststore before the function runs, and refused the
// handshake otherwise, so every certificate found here counts as CA-validated for
// tls_client_auth; a self-signed certificate reaches the function only if it was
// added to the truststore (docs/design.md decision 20). A request through the
// default endpoint or a domain without mutual TLS carries none.
type APIGatewayCertificates struct{}

var _ httpapi.ClientCertificates = APIGatewayCertificates{}

// ClientCertificate implements httpapi.ClientCertificates.
func (APIGatewayCertificates) ClientCertificate(r *http.Request) (*oauth.ClientCertificate, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authentication.ClientCert.ClientCertPem == "" {
		return nil, nil
	}
	leaf, err := httpapi.ParseClientCertPEM(rc.Authentication.ClientCert.ClientCertPem)
	if err != nil {
		return nil, err
	}
	return &oauth.ClientCertificate{Leaf: leaf, CAValidated: true}, nil
}
