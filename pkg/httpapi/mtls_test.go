package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/httpapi"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

const (
	tlsID  = "tls-client"
	selfID = "self-signed-client"
	// certHeader picks the certificate the fake ClientCertificates returns: the
	// route tests run over plain httptest, the real sources have their own tests
	// (pkg/awsapp with the event, infra/localapi over TLS).
	certHeader = "X-Test-Client-Cert"
)

// fakeCerts hands out certificates by the certHeader of the request.
type fakeCerts map[string]*oauth.ClientCertificate

func (f fakeCerts) ClientCertificate(r *http.Request) (*oauth.ClientCertificate, error) {
	name := r.Header.Get(certHeader)
	if name == "broken" {
		return nil, errors.New("unreadable certificate")
	}
	return f[name], nil
}

func withClientCertificates(c httpapi.ClientCertificates) serverOption {
	return func(o *serverOptions) { o.clientCerts = c }
}

func newCert(tb testing.TB, key *ecdsa.PrivateKey, cn string) *x509.Certificate {
	tb.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{"Example"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	return oauthtest.Certificate(tb, tmpl, key, nil, nil)
}

// newMTLSServer serves the seed plus a tls_client_auth client (bound tokens) and a
// self_signed_tls_client_auth client, with certificates "ca" (CA-validated, the
// tls client's subject), "self" (the self-signed client's key) and "other".
func newMTLSServer(t *testing.T, env map[string]string) (*testServer, fakeCerts) {
	t.Helper()
	selfKey := oauthtest.ECKey(t)
	pub, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &selfKey.PublicKey, KeyID: "s1", Algorithm: "ES256", Use: "sig"}}})
	extra := `
  {"client_id": "` + tlsID + `", "token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": "CN=tls-client,O=Example",
   "tls_client_certificate_bound_access_tokens": true,
   "redirect_uris": ["` + redirectURI + `"], "scope": "openid profile email"},
  {"client_id": "` + selfID + `", "token_endpoint_auth_method": "self_signed_tls_client_auth", "jwks": ` + string(pub) + `,
   "redirect_uris": ["` + redirectURI + `"], "scope": "openid profile email"},`
	store := storeWithClients(t, extra)
	certs := fakeCerts{
		"ca":    {Leaf: newCert(t, oauthtest.ECKey(t), "tls-client"), CAValidated: true},
		"self":  {Leaf: newCert(t, selfKey, "self")},
		"other": {Leaf: newCert(t, oauthtest.ECKey(t), "tls-client")},
	}
	return newServer(t, withStore(store), withEnv(env), withClientCertificates(certs)), certs
}

func x5t(c *oauth.ClientCertificate) string {
	sum := sha256.Sum256(c.Leaf.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestMTLS_Metadata_RFC8705: with an mTLS origin configured, the metadata lists the
// two methods in every *_auth_methods_supported, tls_client_certificate_bound_access_tokens
// (§3.3) and mtls_endpoint_aliases (§5); without one, none of it.
func TestMTLS_Metadata_RFC8705(t *testing.T) {
	ts, _ := newMTLSServer(t, map[string]string{"MTLS_BASE_URL": "https://mtls.as.example.com"})
	m := ts.do(t, nil, http.MethodGet, "/.well-known/oauth-authorization-server", "", "", "").JSON
	for _, list := range []string{"token_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported"} {
		b, _ := json.Marshal(m[list])
		if !strings.Contains(string(b), `"tls_client_auth"`) || !strings.Contains(string(b), `"self_signed_tls_client_auth"`) {
			t.Errorf("§2.1.1, §2.2.1 %s = %s", list, b)
		}
	}
	if m["tls_client_certificate_bound_access_tokens"] != true {
		t.Errorf("§3.3 tls_client_certificate_bound_access_tokens = %v", m["tls_client_certificate_bound_access_tokens"])
	}
	aliases, _ := m["mtls_endpoint_aliases"].(map[string]any)
	want := map[string]any{
		"token_endpoint": "https://mtls.as.example.com/token", "pushed_authorization_request_endpoint": "https://mtls.as.example.com/par",
		"revocation_endpoint": "https://mtls.as.example.com/revoke", "introspection_endpoint": "https://mtls.as.example.com/introspect",
		"userinfo_endpoint": "https://mtls.as.example.com/userinfo",
	}
	if len(aliases) != len(want) {
		t.Errorf("§5 mtls_endpoint_aliases = %v", aliases)
	}
	for k, v := range want {
		if aliases[k] != v {
			t.Errorf("§5 mtls_endpoint_aliases.%s = %v, want %v", k, aliases[k], v)
		}
	}

	plain := newServer(t)
	m = plain.do(t, nil, http.MethodGet, "/.well-known/oauth-authorization-server", "", "", "").JSON
	if _, ok := m["mtls_endpoint_aliases"]; ok || m["tls_client_certificate_bound_access_tokens"] != nil {
		t.Errorf("without MTLS_BASE_URL: %v", m)
	}
}

// TestMTLS_ClientAuth_RFC8705: tls_client_auth and self_signed_tls_client_auth at
// every client-authenticated endpoint, through the edge's ClientCertificates.
func TestMTLS_ClientAuth_RFC8705(t *testing.T) {
	ts, _ := newMTLSServer(t, nil)
	call := func(path, id, cert string, body url.Values) response {
		body = with(body, "client_id", id)
		return ts.doWithHeader(t, nil, http.MethodPost, path, "", form, body.Encode(), map[string]string{certHeader: cert})
	}
	for _, path := range []string{"/par", "/token", "/revoke", "/introspect"} {
		body := url.Values{"token": {"nothing"}}
		if path == "/par" {
			body = pushParams()
		}
		if path == "/token" {
			body = url.Values{"grant_type": {"authorization_code"}, "code": {"nothing"}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
		}
		// A client that authenticated gets past client authentication: /token then
		// fails on the code (invalid_grant), the others succeed.
		passed := func(r response) bool { return r.Status < 300 || r.JSON["error"] == "invalid_grant" }
		name := strings.TrimPrefix(path, "/") + " "
		t.Run(name+"§2.1 tls_client_auth with a CA-validated matching certificate authenticates", func(t *testing.T) {
			if r := call(path, tlsID, "ca", body); !passed(r) {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
		t.Run(name+"§2.2 self_signed_tls_client_auth with the registered key authenticates", func(t *testing.T) {
			if r := call(path, selfID, "self", body); !passed(r) {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
		for desc, tc := range map[string]struct{ id, cert string }{
			"§2 tls_client_auth without a certificate":                 {tlsID, ""},
			"§2.1 tls_client_auth with a certificate not CA-validated": {tlsID, "self"},
			"§2.2 self_signed_tls_client_auth with another key":        {selfID, "other"},
		} {
			t.Run(name+desc+" is 401 invalid_client", func(t *testing.T) {
				r := call(path, tc.id, tc.cert, body)
				if r.Status != 401 || r.JSON["error"] != "invalid_client" || r.Header.Get("WWW-Authenticate") == "" {
					t.Fatalf("%d %v %v", r.Status, r.Header, r.Body)
				}
			})
		}
		t.Run(name+"an unreadable certificate is invalid_request", func(t *testing.T) {
			r := call(path, tlsID, "broken", body)
			if r.Status != 400 || r.JSON["error"] != "invalid_request" || strings.Contains(r.Body, "unreadable") {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
}

// TestMTLS_BoundTokens_RFC8705: the whole flow for a tls_client_auth client with
// tls_client_certificate_bound_access_tokens: the token is bound (§3.1), introspection
// shows it (§3.2), userinfo refuses another certificate with 401 invalid_token (§3).
func TestMTLS_BoundTokens_RFC8705(t *testing.T) {
	ts, certs := newMTLSServer(t, nil)
	hdr := func(cert string) map[string]string { return map[string]string{certHeader: cert} }
	r := ts.doWithHeader(t, nil, http.MethodPost, "/par", "", form, with(pushParams(), "client_id", tlsID, "scope", "openid profile").Encode(), hdr("ca"))
	if r.Status != 201 {
		t.Fatalf("push: %d %s", r.Status, r.Body)
	}
	b := ts.browser(t)
	code := b.approve(t, b.login(t, tlsID, r.JSON["request_uri"].(string))).Get("code")
	tr := ts.doWithHeader(t, nil, http.MethodPost, "/token", "", form, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier}, "client_id": {tlsID}}.Encode(), hdr("ca"))
	if tr.Status != 200 || tr.JSON["token_type"] != "Bearer" {
		t.Fatalf("token: %d %s", tr.Status, tr.Body)
	}
	at := tr.JSON["access_token"].(string)
	in := ts.doWithHeader(t, nil, http.MethodPost, "/introspect", "", form, url.Values{"token": {at}, "client_id": {tlsID}}.Encode(), hdr("ca"))
	if cnf, _ := in.JSON["cnf"].(map[string]any); cnf["x5t#S256"] != x5t(certs["ca"]) {
		t.Fatalf("§3.2 introspection: %s", in.Body)
	}
	ui := ts.doWithHeader(t, nil, http.MethodGet, "/userinfo", "Bearer "+at, "", "", hdr("ca"))
	if ui.Status != 200 {
		t.Fatalf("§3 userinfo with the certificate: %d %s", ui.Status, ui.Body)
	}
	for _, cert := range []string{"other", ""} {
		ui = ts.doWithHeader(t, nil, http.MethodGet, "/userinfo", "Bearer "+at, "", "", hdr(cert))
		if ui.Status != 401 || ui.JSON["error"] != "invalid_token" || !strings.HasPrefix(ui.Header.Get("WWW-Authenticate"), "Bearer ") {
			t.Fatalf("§3 userinfo with certificate %q: %d %v %s", cert, ui.Status, ui.Header, ui.Body)
		}
	}
}

// FuzzClientCertPEM: ParseClientCertPEM (what API Gateway's clientCertPem goes
// through) never panics, and what it accepts is a certificate whose DER encodes back
// to the PEM's first block.
func FuzzClientCertPEM(f *testing.F) {
	cert := newCert(f, oauthtest.ECKey(f), "fuzz")
	good := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	for _, s := range []string{good, good + good, "\n" + good + "\n", strings.Replace(good, "CERTIFICATE", "PRIVATE KEY", 2),
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "", "garbage"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := httpapi.ParseClientCertPEM(s)
		if err != nil {
			return
		}
		block, _ := pem.Decode([]byte(strings.TrimSpace(s)))
		if block == nil || string(block.Bytes) != string(c.Raw) {
			t.Fatalf("accepted %q with a different DER", s)
		}
	})
}

// TestMTLS_AliasDPoPTarget_RFC8705: a request to the mTLS alias host is checked
// against the alias URL, the one the client's DPoP proof names (RFC 8705 §5 with
// RFC 9449 §4.3 item 9); on the issuer's host the alias is not the target.
func TestMTLS_AliasDPoPTarget_RFC8705(t *testing.T) {
	const base = "https://mtls.as.example.com"
	ts, _ := newMTLSServer(t, map[string]string{"MTLS_BASE_URL": base})
	k := newDPoPKey(t)
	post := func(host, htu string) response {
		body := url.Values{"grant_type": {"authorization_code"}, "code": {"nothing"}, "redirect_uri": {"http://127.0.0.1:9999/cb"},
			"code_verifier": {verifier}, "client_id": {publicID}}
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/token", strings.NewReader(body.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("Content-Type", form)
		req.Header.Set("DPoP", k.proof(t, ts, "POST", htu, nil))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r response
		r.Status = resp.StatusCode
		_ = json.NewDecoder(resp.Body).Decode(&r.JSON)
		return r
	}
	// The proof passes and the unknown code fails: invalid_grant.
	if r := post("mtls.as.example.com", base+"/token"); r.JSON["error"] != "invalid_grant" {
		t.Errorf("alias host, alias htu: %d %v", r.Status, r.JSON)
	}
	if r := post("mtls.as.example.com", ts.URL+"/token"); r.JSON["error"] != "invalid_dpop_proof" {
		t.Errorf("alias host, issuer htu: %d %v", r.Status, r.JSON)
	}
	if r := post(strings.TrimPrefix(ts.URL, "http://"), base+"/token"); r.JSON["error"] != "invalid_dpop_proof" {
		t.Errorf("issuer host, alias htu: %d %v", r.Status, r.JSON)
	}
}
