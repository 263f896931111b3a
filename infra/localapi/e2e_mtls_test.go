package main

// End to end over HTTPS (TLS=true): the local server with its local CA, and mutual
// TLS (RFC 8705) with certificates a client presents through crypto/tls — a
// tls_client_auth client with a certificate of a CA named by MTLS_CA_FILE, a
// self_signed_tls_client_auth client, and a PROFILE=fapi2 flow whose access tokens
// are bound to the certificate instead of a DPoP key.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

const (
	mtlsID       = "e2e-mtls"        // tls_client_auth, bound tokens
	selfSignedID = "e2e-self-signed" // self_signed_tls_client_auth
	mtlsSubject  = "CN=e2e-mtls,OU=Payments,O=Example Bank\\, Ltd.,C=GB"
)

// testCA is a CA that issues client certificates, written as a PEM bundle for
// MTLS_CA_FILE.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key := oauthtest.ECKey(t)
	cert := oauthtest.Certificate(t, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, key, nil, nil)
	file := filepath.Join(t.TempDir(), "client-cas.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, file: file}
}

// clientCert is a TLS client certificate for subject: issued by ca, or
// self-signed when ca is nil.
func clientCert(t *testing.T, ca *testCA, subject pkix.Name, key *ecdsa.PrivateKey) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	var leaf *x509.Certificate
	if ca != nil {
		leaf = oauthtest.Certificate(t, tmpl, key, ca.cert, ca.key)
	} else {
		leaf = oauthtest.Certificate(t, tmpl, key, nil, nil)
	}
	return tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
}

func thumbprint(c tls.Certificate) string {
	sum := sha256.Sum256(c.Certificate[0])
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// bankSubject is the subject mtlsSubject names, as the CA writes it.
var bankSubject = pkix.Name{CommonName: "e2e-mtls", OrganizationalUnit: []string{"Payments"}, Organization: []string{"Example Bank, Ltd."}, Country: []string{"GB"}}

// tlsLocal is the local API over HTTPS with its local CA.
type tlsLocal struct {
	srv  *Server
	dir  string
	pool *x509.CertPool
	meta map[string]any
}

// startTLS runs the local API with TLS=true, its CA under a temporary TLS_DIR, the
// seed with the mTLS clients (selfKey is the self-signed client's key) and env.
func startTLS(t *testing.T, selfKey *ecdsa.PrivateKey, env map[string]string) *tlsLocal {
	t.Helper()
	pub, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &selfKey.PublicKey, KeyID: "self-1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	extra := `
  {"client_id": "` + mtlsID + `", "token_endpoint_auth_method": "tls_client_auth",
   "tls_client_auth_subject_dn": "` + strings.ReplaceAll(mtlsSubject, `\`, `\\`) + `", "tls_client_certificate_bound_access_tokens": true,
   "consent": "always", "redirect_uris": ["` + appRedirect + `"], "scope": "openid profile email"},
  {"client_id": "` + selfSignedID + `", "token_endpoint_auth_method": "self_signed_tls_client_auth", "jwks": ` + string(pub) + `,
   "consent": "always", "redirect_uris": ["` + appRedirect + `"], "scope": "openid profile"},`
	seedFile := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seedFile, []byte(httpapitest.WithClients(t, seedJSON, extra)), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "tls")
	vars := map[string]string{"ADDR": "127.0.0.1:0", "SEED_FILE": seedFile, "LOG_LEVEL": "warn", "TLS": "true", "TLS_DIR": dir}
	for k, v := range env {
		vars[k] = v
	}
	srv, err := Start(t.Context(), func(name string) string { return vars[name] })
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Close)
	l := &tlsLocal{srv: srv, dir: dir, pool: x509.NewCertPool()}
	caPEM, err := os.ReadFile(srv.CAFile)
	if err != nil {
		t.Fatalf("the CA a client trusts: %v", err)
	}
	if !l.pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	resp, err := l.client(nil).Get(srv.Issuer + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&l.meta); err != nil {
		t.Fatal(err)
	}
	return l
}

// client is an HTTPS client that trusts the local CA and presents cert, if any.
func (l *tlsLocal) client(cert *tls.Certificate) *http.Client {
	conf := &tls.Config{RootCAs: l.pool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		conf.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: conf},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// endpoint is the mTLS alias of name (RFC 8705 §5), where a certificate-presenting
// client sends its requests.
func (l *tlsLocal) endpoint(t *testing.T, name string) string {
	t.Helper()
	aliases, _ := l.meta["mtls_endpoint_aliases"].(map[string]any)
	u, _ := aliases[name].(string)
	if u == "" {
		t.Fatalf("no mtls_endpoint_aliases.%s in %v", name, l.meta)
	}
	return u
}

func (l *tlsLocal) post(t *testing.T, cert *tls.Certificate, target string, form url.Values, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return l.do(t, cert, req)
}

func (l *tlsLocal) do(t *testing.T, cert *tls.Certificate, req *http.Request) answer {
	t.Helper()
	return send(t, l.client(cert), req)
}

// code pushes for clientID with cert and runs the browser to the code.
func (l *tlsLocal) code(t *testing.T, cert *tls.Certificate, clientID, scope string) string {
	t.Helper()
	push := l.post(t, cert, l.endpoint(t, "pushed_authorization_request_endpoint"), url.Values{
		"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {appRedirect}, "scope": {scope},
		"state": {"st-1"}, "nonce": {"n-1"}, "code_challenge": {challengeOf(verifierE2E)}, "code_challenge_method": {"S256"},
	}, nil)
	if push.status != http.StatusCreated {
		t.Fatalf("push: %d %s", push.status, push.body)
	}
	b := httpapitest.NewBrowser(t, l.srv.Issuer)
	b.Client.Transport = l.client(nil).Transport
	login := b.Get(t, l.meta["authorization_endpoint"].(string)+"?"+url.Values{"client_id": {clientID}, "request_uri": {push.json["request_uri"].(string)}}.Encode())
	consent := b.SignIn(t, login, userName, userPassword)
	r := b.Submit(t, consent, url.Values{"decision": {"approve"}})
	code := r.Location(t).Query().Get("code")
	if code == "" {
		t.Fatalf("no code: %d %v", r.Status, r.Header)
	}
	return code
}

func (l *tlsLocal) exchange(t *testing.T, cert *tls.Certificate, clientID, code string, header map[string]string) answer {
	t.Helper()
	return l.post(t, cert, l.endpoint(t, "token_endpoint"), url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {appRedirect}, "code_verifier": {verifierE2E}, "client_id": {clientID}}, header)
}

func (l *tlsLocal) userinfo(t *testing.T, cert *tls.Certificate, token string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, l.endpoint(t, "userinfo_endpoint"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return l.do(t, cert, req)
}

const verifierE2E = "e2e-mtls-verifier-0123456789abcdefghijklmnopqrstuvwxyz"

func challengeOf(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func accessTokenClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLocalTLS_ServesHTTPSWithALocalCA: TLS=true serves HTTPS on ADDR with a CA made
// once under TLS_DIR; the issuer is https://ADDR; a restart keeps the CA, so a
// client that trusts ca.pem keeps trusting the server.
func TestLocalTLS_ServesHTTPSWithALocalCA(t *testing.T) {
	localOnly(t, tlsListener)
	l := startTLS(t, oauthtest.ECKey(t), nil)
	if !strings.HasPrefix(l.srv.Issuer, "https://127.0.0.1:") || l.meta["issuer"] != l.srv.Issuer {
		t.Fatalf("issuer %q, metadata %v", l.srv.Issuer, l.meta["issuer"])
	}
	if l.srv.CAFile != filepath.Join(l.dir, "ca.pem") {
		t.Errorf("CAFile = %q, want ca.pem under TLS_DIR", l.srv.CAFile)
	}
	// A client that does not trust the local CA fails the handshake.
	if _, err := http.Get(l.srv.Issuer + "/jwks"); err == nil {
		t.Error("an untrusting client connected")
	}
	// RFC 8705 §5: the same listener serves the aliases.
	if l.endpoint(t, "token_endpoint") != l.srv.Issuer+"/token" || l.meta["tls_client_certificate_bound_access_tokens"] != true {
		t.Errorf("mTLS metadata: %v", l.meta)
	}
	before, _ := os.ReadFile(l.srv.CAFile)
	// The restart on a port known beforehand, with the seed's demo client
	// registered for its https callback, so that the walk-through is printed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	seedFile := filepath.Join(t.TempDir(), "seed.json")
	demo := `{"clients": [{"client_id": "demo", "client_secret": "` + appSecret + `", "redirect_uris": ["https://` + addr + `/callback"]}], "users": []}`
	if err := os.WriteFile(seedFile, []byte(demo), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"ADDR": addr, "SEED_FILE": seedFile, "LOG_LEVEL": "warn", "TLS": "true", "TLS_DIR": l.dir}
	again, err := Start(t.Context(), func(n string) string { return vars[n] })
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	after, _ := os.ReadFile(again.CAFile)
	if !bytes.Equal(before, after) {
		t.Error("a restart made a new CA")
	}
	resp, err := l.client(nil).Get(again.Issuer + "/jwks")
	if err != nil {
		t.Fatalf("the restarted server is not trusted with the kept ca.pem: %v", err)
	}
	resp.Body.Close()
	var out bytes.Buffer
	printWalkthrough(&out, again)
	if strings.Count(out.String(), "curl -s --cacert '"+again.CAFile+"'") != 2 {
		t.Errorf("the walk-through does not print curl --cacert:\n%s", out.String())
	}
}

// TestLocalTLS_Settings: the TLS settings that cannot work are refused at start.
func TestLocalTLS_Settings(t *testing.T) {
	localOnly(t, tlsListener)
	for name, env := range map[string]map[string]string{
		"FAPI 2.0 a plain-http issuer under PROFILE=fapi2": {"PROFILE": "fapi2"},
		"MTLS_CA_FILE without TLS":                         {"MTLS_CA_FILE": "x.pem"},
		"TLS_CERT_FILE without TLS_KEY_FILE":               {"TLS": "true", "TLS_DIR": t.TempDir(), "TLS_CERT_FILE": "x.pem"},
		"MTLS_CA_FILE without a certificate":               {"TLS": "true", "TLS_DIR": t.TempDir(), "MTLS_CA_FILE": "../seed.json"},
		"TLS that is not a boolean":                        {"TLS": "yes"},
	} {
		t.Run(name+" is refused", func(t *testing.T) {
			env["ADDR"], env["SEED_FILE"] = "127.0.0.1:0", "../seed.json"
			srv, err := Start(t.Context(), func(n string) string { return env[n] })
			if err == nil {
				srv.Close()
				t.Fatal("Start succeeded")
			}
			if env["PROFILE"] == "fapi2" && !strings.Contains(err.Error(), "TLS=true") {
				t.Errorf("the error does not say to use TLS=true: %v", err)
			}
		})
	}
	t.Run("ALLOW_HTTP_ISSUER=true lets fapi2 run over http", func(t *testing.T) {
		env := map[string]string{"ADDR": "127.0.0.1:0", "SEED_FILE": "../seed.json", "PROFILE": "fapi2", "ALLOW_HTTP_ISSUER": "true", "KEY_ALG": "ES256"}
		srv, err := Start(t.Context(), func(n string) string { return env[n] })
		if err != nil {
			t.Fatal(err)
		}
		srv.Close()
	})
	t.Run("TLS_CERT_FILE and TLS_KEY_FILE serve a brought certificate", func(t *testing.T) {
		ca := newTestCA(t)
		key := oauthtest.ECKey(t)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		der := oauthtest.Certificate(t, tmpl, key, ca.cert, ca.key).Raw
		keyDER, _ := x509.MarshalECPrivateKey(key)
		dir := t.TempDir()
		certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
		_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
		env := map[string]string{"ADDR": "127.0.0.1:0", "SEED_FILE": "../seed.json", "TLS": "true", "TLS_CERT_FILE": certFile, "TLS_KEY_FILE": keyFile}
		srv, err := Start(t.Context(), func(n string) string { return env[n] })
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		pool := x509.NewCertPool()
		pool.AddCert(ca.cert)
		port := srv.Addr[strings.LastIndex(srv.Addr, ":"):]
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		resp, err := c.Get("https://localhost" + port + "/jwks")
		if err != nil {
			t.Fatalf("the brought certificate is not served: %v", err)
		}
		resp.Body.Close()
		if srv.CAFile != "" {
			t.Errorf("CAFile = %q with a brought certificate", srv.CAFile)
		}
	})
}

// TestMTLSEndToEnd_TLSClientAuth_RFC8705: a tls_client_auth client with a
// certificate of the MTLS_CA_FILE CA pushes, exchanges and calls userinfo over
// HTTPS; its access token is bound to the certificate (§3), which userinfo checks.
func TestMTLSEndToEnd_TLSClientAuth_RFC8705(t *testing.T) {
	localOnly(t, tlsListener)
	ca := newTestCA(t)
	l := startTLS(t, oauthtest.ECKey(t), map[string]string{"MTLS_CA_FILE": ca.file})
	cert := clientCert(t, ca, bankSubject, oauthtest.ECKey(t))

	code := l.code(t, &cert, mtlsID, "openid profile")
	tok := l.exchange(t, &cert, mtlsID, code, nil)
	if tok.status != http.StatusOK || tok.json["token_type"] != "Bearer" {
		t.Fatalf("token: %d %s", tok.status, tok.body)
	}
	at := tok.json["access_token"].(string)
	if cnf, _ := accessTokenClaims(t, at)["cnf"].(map[string]any); cnf["x5t#S256"] != thumbprint(cert) {
		t.Fatalf("§3.1 cnf = %v, want x5t#S256 %s", cnf, thumbprint(cert))
	}
	if ui := l.userinfo(t, &cert, at); ui.status != http.StatusOK || ui.json["sub"] == nil {
		t.Fatalf("§3 userinfo with the certificate: %d %s", ui.status, ui.body)
	}
	other := clientCert(t, ca, bankSubject, oauthtest.ECKey(t))
	for name, c := range map[string]*tls.Certificate{"another certificate": &other, "no certificate": nil} {
		if ui := l.userinfo(t, c, at); ui.status != http.StatusUnauthorized || ui.json["error"] != "invalid_token" {
			t.Errorf("§3 userinfo with %s: %d %s", name, ui.status, ui.body)
		}
	}
	in := l.post(t, &cert, l.endpoint(t, "introspection_endpoint"), url.Values{"token": {at}, "client_id": {mtlsID}}, nil)
	if cnf, _ := in.json["cnf"].(map[string]any); in.json["active"] != true || cnf["x5t#S256"] != thumbprint(cert) {
		t.Errorf("§3.2 introspection: %s", in.body)
	}
	if r := l.post(t, &cert, l.endpoint(t, "revocation_endpoint"), url.Values{"token": {at}, "client_id": {mtlsID}}, nil); r.status != http.StatusOK {
		t.Errorf("revocation: %d %s", r.status, r.body)
	}

	// §2.1: a certificate with the same subject from a CA not in MTLS_CA_FILE, and
	// a certificate of another subject, do not authenticate the client.
	for name, c := range map[string]tls.Certificate{
		"a self-signed certificate with the registered subject": clientCert(t, nil, bankSubject, oauthtest.ECKey(t)),
		"a CA certificate of another subject":                   clientCert(t, ca, pkix.Name{CommonName: "e2e-mtls", Country: []string{"GB"}}, oauthtest.ECKey(t)),
	} {
		r := l.post(t, &c, l.endpoint(t, "pushed_authorization_request_endpoint"), url.Values{"client_id": {mtlsID}, "response_type": {"code"},
			"redirect_uri": {appRedirect}, "code_challenge": {challengeOf(verifierE2E)}, "code_challenge_method": {"S256"}}, nil)
		if r.status != http.StatusUnauthorized || r.json["error"] != "invalid_client" {
			t.Errorf("§2.1 push with %s: %d %s", name, r.status, r.body)
		}
	}
}

// TestMTLSEndToEnd_SelfSignedTLSClientAuth_RFC8705: a self_signed_tls_client_auth
// client authenticates with a self-signed certificate of the key in its jwks (§2.2);
// another key does not.
func TestMTLSEndToEnd_SelfSignedTLSClientAuth_RFC8705(t *testing.T) {
	localOnly(t, tlsListener)
	key := oauthtest.ECKey(t)
	l := startTLS(t, key, nil)
	cert := clientCert(t, nil, pkix.Name{CommonName: "anything"}, key)
	code := l.code(t, &cert, selfSignedID, "openid profile")
	if tok := l.exchange(t, &cert, selfSignedID, code, nil); tok.status != http.StatusOK {
		t.Fatalf("token: %d %s", tok.status, tok.body)
	}
	other := clientCert(t, nil, pkix.Name{CommonName: "anything"}, oauthtest.ECKey(t))
	r := l.post(t, &other, l.endpoint(t, "pushed_authorization_request_endpoint"), url.Values{"client_id": {selfSignedID}, "response_type": {"code"},
		"redirect_uri": {appRedirect}, "code_challenge": {challengeOf(verifierE2E)}, "code_challenge_method": {"S256"}}, nil)
	if r.status != http.StatusUnauthorized || r.json["error"] != "invalid_client" {
		t.Errorf("§2.2 another key: %d %s", r.status, r.body)
	}
}

// TestMTLSEndToEnd_FAPI2_RFC8705: PROFILE=fapi2 over HTTPS with a tls_client_auth
// client and no DPoP: the access token is sender-constrained by the certificate
// (FAPI 2.0 §5.3.2.1), signed ES256.
func TestMTLSEndToEnd_FAPI2_RFC8705(t *testing.T) {
	localOnly(t, tlsListener)
	ca := newTestCA(t)
	l := startTLS(t, oauthtest.ECKey(t), map[string]string{"MTLS_CA_FILE": ca.file, "PROFILE": "fapi2", "KEY_ALG": "ES256"})
	if l.meta["require_pushed_authorization_requests"] != true {
		t.Fatalf("not the fapi2 profile: %v", l.meta)
	}
	cert := clientCert(t, ca, bankSubject, oauthtest.ECKey(t))
	code := l.code(t, &cert, mtlsID, "openid profile")
	tok := l.exchange(t, &cert, mtlsID, code, nil)
	if tok.status != http.StatusOK {
		t.Fatalf("token: %d %s", tok.status, tok.body)
	}
	at := tok.json["access_token"].(string)
	if cnf, _ := accessTokenClaims(t, at)["cnf"].(map[string]any); cnf["x5t#S256"] != thumbprint(cert) {
		t.Fatalf("cnf = %v", cnf)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(at, ".")[0])
	if !strings.Contains(string(header), `"alg":"ES256"`) {
		t.Errorf("access token header %s", header)
	}
	if ui := l.userinfo(t, &cert, at); ui.status != http.StatusOK {
		t.Fatalf("userinfo: %d %s", ui.status, ui.body)
	}
}
