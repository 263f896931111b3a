package awsapp_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvents_MutualTLS_RFC8705: events/mtls/par-tls-client-auth.json is a push
// through API Gateway's custom domain with mutual TLS: no credentials in the
// request, the client certificate in requestContext.authentication.clientCert. Fed
// through the real par function, the tls_client_auth client of infra/seed.json is
// authenticated by it (§2.1: API Gateway validated the chain against the truststore,
// so the certificate counts as CA-validated, and its subject DN matches the
// registered one). The event lives in its own folder because the local API Gateway
// (infra/apigw) does not do mutual TLS and rebuilds every event of events/*.json.
func TestEvents_MutualTLS_RFC8705(t *testing.T) {
	fs := newFunctions(t)
	name := filepath.Join("mtls", "par-tls-client-auth.json")

	t.Run("§2.1 the certificate of the request context authenticates the tls_client_auth client", func(t *testing.T) {
		resp := fs.invoke(t, loadEvent(t, name))
		wantStatus(t, resp, http.StatusCreated)
		if uri, _ := decodeJSON(t, resp)["request_uri"].(string); !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") {
			t.Errorf("request_uri = %q", uri)
		}
	})
	t.Run("§2 without the certificate the same push is 401 invalid_client", func(t *testing.T) {
		ev := loadEvent(t, name)
		ev.RequestContext.Authentication.ClientCert.ClientCertPem = ""
		resp := fs.invoke(t, ev)
		wantStatus(t, resp, http.StatusUnauthorized)
		if decodeJSON(t, resp)["error"] != "invalid_client" {
			t.Errorf("body %s", resp.Body)
		}
	})
	t.Run("a clientCertPem that is not a certificate is 400 invalid_request", func(t *testing.T) {
		ev := loadEvent(t, name)
		ev.RequestContext.Authentication.ClientCert.ClientCertPem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
		resp := fs.invoke(t, ev)
		wantStatus(t, resp, http.StatusBadRequest)
		if decodeJSON(t, resp)["error"] != "invalid_request" {
			t.Errorf("body %s", resp.Body)
		}
	})
}
