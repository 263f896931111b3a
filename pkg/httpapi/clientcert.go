package httpapi

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"

	"github.com/pargate/pargate/pkg/oauth"
)

// ClientCertificates is how the edge reads the TLS client certificate a request
// presented (RFC 8705): the one interface between the endpoints and whatever
// terminated TLS. The local server fills it from the TLS connection, validating the
// chain against MTLS_CA_FILE; on Lambda pkg/awsapp reads the certificate API
// Gateway put in requestContext.authentication.clientCert, which API Gateway has
// validated against its truststore (docs/design.md decision 20).
type ClientCertificates interface {
	// ClientCertificate returns the request's certificate, nil (and no error) when
	// it presented none; an error when one was presented but cannot be read.
	ClientCertificate(r *http.Request) (*oauth.ClientCertificate, error)
}

// maxCertPEM bounds a PEM certificate chain read from the platform: a leaf and a few
// intermediates fit many times over.
const maxCertPEM = 64 << 10

// ParseClientCertPEM reads the leaf certificate of a PEM chain (the first
// CERTIFICATE block), as API Gateway passes it in clientCertPem. Anything else in
// front of it, a block of another type or trailing garbage in the leaf block is an
// error.
func ParseClientCertPEM(s string) (*x509.Certificate, error) {
	if len(s) > maxCertPEM {
		return nil, errors.New("client certificate PEM too large")
	}
	block, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if block == nil || block.Type != "CERTIFICATE" || len(block.Headers) > 0 {
		return nil, errors.New("client certificate is not a PEM CERTIFICATE")
	}
	return x509.ParseCertificate(block.Bytes)
}

// clientCertificate reads the request's certificate through Options.ClientCertificates.
func (h *Handler) clientCertificate(r *http.Request) (*oauth.ClientCertificate, error) {
	if h.opts.ClientCertificates == nil {
		return nil, nil
	}
	cert, err := h.opts.ClientCertificates.ClientCertificate(r)
	if err != nil {
		return nil, oauth.InvalidRequest("the TLS client certificate could not be read").WithCause(err)
	}
	return cert, nil
}
