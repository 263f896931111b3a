package oauth_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

const (
	tlsID        = "tls-client"         // tls_client_auth
	selfSignedID = "self-signed-client" // self_signed_tls_client_auth with selfSignedKey
)

// testCert is a certificate for the tests: signed by a throwaway CA, or
// self-signed, valid around t0 unless changed.
func testCert(tb testing.TB, key *ecdsa.PrivateKey, change func(*x509.Certificate)) *x509.Certificate {
	tb.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:   big.NewInt(7),
		Subject:        pkix.Name{CommonName: "client.example.org", Organization: []string{"Example, Inc."}, Country: []string{"DE"}},
		NotBefore:      t0.Add(-time.Hour),
		NotAfter:       t0.Add(24 * time.Hour),
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		DNSNames:       []string{"client.example.org"},
		URIs:           []*url.URL{{Scheme: "https", Host: "client.example.org", Path: "/id"}},
		IPAddresses:    []net.IP{net.ParseIP("2001:db8::1")},
		EmailAddresses: []string{"ops@Client.Example.org"},
	}
	if change != nil {
		change(tmpl)
	}
	return oauthtest.Certificate(tb, tmpl, key, nil, nil)
}

func caCert(tb testing.TB, change func(*x509.Certificate)) *oauth.ClientCertificate {
	return &oauth.ClientCertificate{Leaf: testCert(tb, mustECKey(), change), CAValidated: true}
}

func thumbprintOf(c *oauth.ClientCertificate) string {
	sum := sha256.Sum256(c.Leaf.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// withTLSClients registers tlsID (matched by change) and selfSignedID (jwks of key).
func withTLSClients(d *domain, key *ecdsa.PrivateKey, change func(*oauth.Client)) {
	c := &oauth.Client{ID: tlsID, RedirectURIs: []string{redirect}, TokenEndpointAuthMethod: oauth.AuthTLSClient,
		GrantTypes: []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken}, Scope: allScopes,
		TLSClientAuthSubjectDN: `CN=client.example.org,O=Example\, Inc.,C=DE`}
	if change != nil {
		change(c)
	}
	d.putClient(c)
	d.putClient(&oauth.Client{ID: selfSignedID, RedirectURIs: []string{redirect}, TokenEndpointAuthMethod: oauth.AuthSelfSignedTLSClient,
		Scope: allScopes, JWKS: jwksOf(d.tb, key, "tls1")})
}

// withCACert presents tlsID's CA-validated certificate (testCert's subject) with
// the client_id in the body.
func withCACert(t *testing.T) oauth.ClientCredentials {
	return oauth.ClientCredentials{BodyClientID: tlsID, Certificate: caCert(t, nil)}
}

// TestTLSClientAuth_RFC8705: mutual-TLS client authentication, PKI (§2.1) and
// self-signed (§2.2), through AuthenticateClient.
func TestTLSClientAuth_RFC8705(t *testing.T) {
	selfKey := mustECKey()
	for _, tc := range []struct {
		name   string
		fapi2  bool
		client func(*oauth.Client) // changes to tlsID
		cred   func(t *testing.T) oauth.ClientCredentials
		want   string // client id authenticated, or "" for invalid_client
		code   string
	}{
		{name: "§2.1 tls_client_auth with a CA-validated certificate whose subject DN matches is authenticated",
			cred: withCACert, want: tlsID},
		{name: "§2.1.2 subject DN compared as a DN: case, spacing and attribute names do not matter",
			client: func(c *oauth.Client) {
				c.TLSClientAuthSubjectDN = `cn=CLIENT.example.org ,  o = example\, inc. , 2.5.4.6=de`
			},
			cred: withCACert, want: tlsID},
		{name: "§2.1.2 subject DN in another RDN order does not match",
			client: func(c *oauth.Client) { c.TLSClientAuthSubjectDN = `C=DE,O=Example\, Inc.,CN=client.example.org` },
			cred:   withCACert, code: oauth.CodeInvalidClient},
		{name: "§2.1.2 subject DN with an RDN more than the certificate's does not match",
			client: func(c *oauth.Client) {
				c.TLSClientAuthSubjectDN = `CN=client.example.org,OU=Payments,O=Example\, Inc.,C=DE`
			},
			cred: withCACert, code: oauth.CodeInvalidClient},
		{name: "§2.1.2 tls_client_auth_san_dns matches a dNSName entry",
			client: func(c *oauth.Client) { c.TLSClientAuthSubjectDN, c.TLSClientAuthSANDNS = "", "CLIENT.example.org" },
			cred:   withCACert, want: tlsID},
		{name: "§2.1.2 tls_client_auth_san_dns of another name does not match",
			client: func(c *oauth.Client) { c.TLSClientAuthSubjectDN, c.TLSClientAuthSANDNS = "", "other.example.org" },
			cred:   withCACert, code: oauth.CodeInvalidClient},
		{name: "§2.1.2 tls_client_auth_san_uri matches a uniformResourceIdentifier entry",
			client: func(c *oauth.Client) {
				c.TLSClientAuthSubjectDN, c.TLSClientAuthSANURI = "", "https://client.example.org/id"
			},
			cred: withCACert, want: tlsID},
		{name: "§2.1.2 tls_client_auth_san_ip is compared in binary form",
			client: func(c *oauth.Client) { c.TLSClientAuthSubjectDN, c.TLSClientAuthSANIP = "", "2001:0db8:0:0:0:0:0:0001" },
			cred:   withCACert, want: tlsID},
		{name: "§2.1.2 tls_client_auth_san_email matches an rfc822Name entry, domain case-insensitively",
			client: func(c *oauth.Client) {
				c.TLSClientAuthSubjectDN, c.TLSClientAuthSANEmail = "", "ops@client.example.ORG"
			},
			cred: withCACert, want: tlsID},
		{name: "§2.1.2 tls_client_auth_san_email local part is case-sensitive",
			client: func(c *oauth.Client) {
				c.TLSClientAuthSubjectDN, c.TLSClientAuthSANEmail = "", "OPS@client.example.org"
			},
			cred: withCACert, code: oauth.CodeInvalidClient},
		{name: "§2.1 a certificate whose chain was not validated does not authenticate tls_client_auth",
			cred: func(t *testing.T) oauth.ClientCredentials {
				c := caCert(t, nil)
				c.CAValidated = false
				return oauth.ClientCredentials{BodyClientID: tlsID, Certificate: c}
			}, code: oauth.CodeInvalidClient},
		{name: "§2 tls_client_auth without a certificate is invalid_client",
			cred: func(t *testing.T) oauth.ClientCredentials { return oauth.ClientCredentials{BodyClientID: tlsID} }, code: oauth.CodeInvalidClient},
		{name: "RFC 6749 §2.3 a tls_client_auth client sending a secret is invalid_client",
			cred: func(t *testing.T) oauth.ClientCredentials {
				return oauth.ClientCredentials{BasicUsed: true, BasicID: tlsID, BasicSecret: secret, Certificate: caCert(t, nil)}
			}, code: oauth.CodeInvalidClient},
		{name: "§3 a certificate is not a method of its own: a client_secret_basic client presenting one authenticates with its secret",
			cred: func(t *testing.T) oauth.ClientCredentials {
				return oauth.ClientCredentials{BasicUsed: true, BasicID: confID, BasicSecret: secret, Certificate: caCert(t, nil)}
			}, want: confID},
		{name: "§2.2 self_signed_tls_client_auth with the key of its jwks is authenticated",
			cred: func(t *testing.T) oauth.ClientCredentials {
				return oauth.ClientCredentials{BodyClientID: selfSignedID, Certificate: &oauth.ClientCertificate{Leaf: testCert(t, selfKey, nil)}}
			}, want: selfSignedID},
		{name: "§2.2 self_signed_tls_client_auth with another key is invalid_client",
			cred: func(t *testing.T) oauth.ClientCredentials {
				return oauth.ClientCredentials{BodyClientID: selfSignedID, Certificate: &oauth.ClientCertificate{Leaf: testCert(t, mustECKey(), nil), CAValidated: true}}
			}, code: oauth.CodeInvalidClient},
		{name: "§2.2 self_signed_tls_client_auth with an expired certificate is invalid_client",
			cred: func(t *testing.T) oauth.ClientCredentials {
				leaf := testCert(t, selfKey, func(c *x509.Certificate) { c.NotAfter = t0.Add(-time.Minute) })
				return oauth.ClientCredentials{BodyClientID: selfSignedID, Certificate: &oauth.ClientCertificate{Leaf: leaf}}
			}, code: oauth.CodeInvalidClient},
		{name: "FAPI 2.0 §5.3.2.1 tls_client_auth is accepted", fapi2: true,
			cred: withCACert, want: tlsID},
		{name: "FAPI 2.0 §5.3.2.1 a public client presenting a certificate is still refused", fapi2: true,
			cred: func(t *testing.T) oauth.ClientCredentials {
				return oauth.ClientCredentials{BodyClientID: publicID, Certificate: caCert(t, nil)}
			}, code: oauth.CodeInvalidClient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []func(*setup)
			if tc.fapi2 {
				opts = append(opts, withFAPI2())
			}
			d := newDomain(t, opts...)
			withTLSClients(d, selfKey, tc.client)
			c, err := d.authenticate(tc.cred(t))
			if tc.code != "" {
				wantErr(t, err, tc.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ID != tc.want {
				t.Fatalf("authenticated %s, want %s", c.ID, tc.want)
			}
		})
	}
}

// accessClaims decodes the payload of a JWT access token (already verified by the
// service that issued it).
func accessClaims(tb testing.TB, token string) map[string]any {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("not a JWS: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// tlsTokens runs the flow for c and exchanges the code presenting cert.
func (d *domain) tlsTokens(c *oauth.Client, cert *oauth.ClientCertificate, kv ...string) (*oauth.TokenResponse, error) {
	d.tb.Helper()
	params := authParams(c.ID, kv...)
	code := d.code(c, params)
	return d.exchange(c, tokenParams(code), oauth.DPoP{Certificate: cert})
}

// TestCertificateBoundTokens_RFC8705: access tokens bound to the client certificate
// (§3), checked at userinfo (§3) and shown by introspection (§3.2); public clients'
// refresh tokens bound too (§4); FAPI 2.0's sender-constraining.
func TestCertificateBoundTokens_RFC8705(t *testing.T) {
	bound := func(c *oauth.Client) { c.TLSClientCertificateBoundAccessTokens = true }

	t.Run("§3.1 a bound client's access token carries cnf.x5t#S256 of its certificate and stays Bearer", func(t *testing.T) {
		d := newDomain(t)
		withTLSClients(d, mustECKey(), bound)
		cert := caCert(t, nil)
		resp, err := d.tlsTokens(d.client(tlsID), cert)
		if err != nil {
			t.Fatal(err)
		}
		cnf, _ := accessClaims(t, resp.AccessToken)["cnf"].(map[string]any)
		if cnf["x5t#S256"] != thumbprintOf(cert) || cnf["jkt"] != nil {
			t.Fatalf("cnf = %v, want x5t#S256 %s", cnf, thumbprintOf(cert))
		}
		if resp.TokenType != "Bearer" {
			t.Errorf("token_type = %s", resp.TokenType)
		}
		// §3.2: introspection shows the confirmation.
		got, err := d.introspect(d.client(tlsID), url.Values{"token": {resp.AccessToken}})
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(got["cnf"]); string(b) != `{"x5t#S256":"`+thumbprintOf(cert)+`"}` {
			t.Fatalf("introspection cnf = %s", b)
		}
		if got["token_type"] != "Bearer" {
			t.Errorf("introspection token_type = %v", got["token_type"])
		}
	})

	t.Run("§3 userinfo accepts a bound token only with the same certificate, else invalid_token", func(t *testing.T) {
		d := newDomain(t)
		withTLSClients(d, mustECKey(), bound)
		cert := caCert(t, nil)
		resp, err := d.tlsTokens(d.client(tlsID), cert)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.userinfo("Bearer", resp.AccessToken, oauth.DPoP{Certificate: cert}); err != nil {
			t.Fatalf("same certificate: %v", err)
		}
		if _, err := d.userinfo("Bearer", resp.AccessToken, oauth.DPoP{}); err == nil {
			t.Fatal("no certificate: accepted")
		} else {
			wantErr(t, err, oauth.CodeInvalidToken)
		}
		_, err = d.userinfo("Bearer", resp.AccessToken, oauth.DPoP{Certificate: caCert(t, nil)})
		wantErr(t, err, oauth.CodeInvalidToken)
	})

	t.Run("§3 a bound client without a certificate at the token endpoint is invalid_request", func(t *testing.T) {
		d := newDomain(t)
		d.changeClient(confID, bound)
		code := d.code(d.client(confID), authParams(confID))
		_, err := d.exchange(d.client(confID), tokenParams(code), oauth.DPoP{})
		wantErr(t, err, oauth.CodeInvalidRequest)
	})

	t.Run("§3 an unbound client presenting a certificate gets an unbound token", func(t *testing.T) {
		d := newDomain(t)
		resp, err := d.tlsTokens(d.client(confID), caCert(t, nil))
		if err != nil {
			t.Fatal(err)
		}
		if cnf := accessClaims(t, resp.AccessToken)["cnf"]; cnf != nil {
			t.Fatalf("cnf = %v", cnf)
		}
	})

	t.Run("§4 a public client's refresh token is bound to its certificate", func(t *testing.T) {
		d := newDomain(t)
		d.changeClient(publicID, bound)
		cert := caCert(t, nil)
		params := authParams(publicID, "scope", "openid offline_access", "redirect_uri", publicCB)
		code := d.code(d.client(publicID), params)
		resp, err := d.exchange(d.client(publicID), tokenParams(code, "redirect_uri", publicCB), oauth.DPoP{Certificate: cert})
		if err != nil {
			t.Fatal(err)
		}
		if resp.RefreshToken == "" {
			t.Fatal("no refresh token")
		}
		got, err := d.introspect(d.client(publicID), url.Values{"token": {resp.RefreshToken}})
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(got["cnf"]); !strings.Contains(string(b), thumbprintOf(cert)) {
			t.Errorf("refresh token introspection cnf = %s", b)
		}
		_, err = d.exchange(d.client(publicID), refreshParams(resp.RefreshToken), oauth.DPoP{Certificate: caCert(t, nil)})
		wantErr(t, err, oauth.CodeInvalidGrant)
		next, err := d.exchange(d.client(publicID), refreshParams(resp.RefreshToken), oauth.DPoP{Certificate: cert})
		if err != nil {
			t.Fatalf("refresh with the same certificate: %v", err)
		}
		if cnf, _ := accessClaims(t, next.AccessToken)["cnf"].(map[string]any); cnf["x5t#S256"] != thumbprintOf(cert) {
			t.Errorf("refreshed access token cnf = %v", cnf)
		}
		_, err = d.exchange(d.client(publicID), refreshParams(next.RefreshToken), oauth.DPoP{})
		wantErr(t, err, oauth.CodeInvalidRequest) // the client is bound: no certificate, no token
	})

	t.Run("FAPI 2.0 §5.3.2.1 a certificate without DPoP sender-constrains the access token by mTLS", func(t *testing.T) {
		d := newDomain(t, withFAPI2())
		withTLSClients(d, mustECKey(), nil)
		cert := caCert(t, nil)
		code := d.code(d.client(tlsID), authParams(tlsID))
		resp, err := d.exchange(d.client(tlsID), tokenParams(code), oauth.DPoP{Certificate: cert})
		if err != nil {
			t.Fatal(err)
		}
		if cnf, _ := accessClaims(t, resp.AccessToken)["cnf"].(map[string]any); cnf["x5t#S256"] != thumbprintOf(cert) {
			t.Fatalf("cnf = %v", cnf)
		}
	})

	t.Run("FAPI 2.0 §5.3.2.1 neither DPoP nor a certificate is refused", func(t *testing.T) {
		d := newDomain(t, withFAPI2())
		code := d.code(d.client(jwtID), authParams(jwtID))
		_, err := d.exchange(d.client(jwtID), tokenParams(code), oauth.DPoP{})
		e := wantErr(t, err, oauth.CodeInvalidDPoPProof)
		if !strings.Contains(e.Description, "certificate") {
			t.Errorf("description %q does not name mutual TLS", e.Description)
		}
	})
}

// TestCheckTLSMetadata_RFC8705: registrations that cannot work or contradict
// themselves are refused.
func TestCheckTLSMetadata_RFC8705(t *testing.T) {
	jwks := jwksOf(t, mustECKey(), "k")
	for _, tc := range []struct {
		name string
		c    oauth.Client
		ok   bool
	}{
		{"§2.1.2 tls_client_auth with one subject DN is accepted", oauth.Client{TokenEndpointAuthMethod: oauth.AuthTLSClient, TLSClientAuthSubjectDN: "CN=a,O=b"}, true},
		{"§2.1.2 tls_client_auth with no subject is refused", oauth.Client{TokenEndpointAuthMethod: oauth.AuthTLSClient}, false},
		{"§2.1.2 tls_client_auth with two subjects is refused", oauth.Client{TokenEndpointAuthMethod: oauth.AuthTLSClient, TLSClientAuthSubjectDN: "CN=a", TLSClientAuthSANDNS: "a.example"}, false},
		{"§2.1.2 a subject DN that is not RFC 4514 is refused", oauth.Client{TokenEndpointAuthMethod: oauth.AuthTLSClient, TLSClientAuthSubjectDN: "CN=a,O"}, false},
		{"§2.1.2 tls_client_auth_san_ip that is not an address is refused", oauth.Client{TokenEndpointAuthMethod: oauth.AuthTLSClient, TLSClientAuthSANIP: "10.0.0"}, false},
		{"§2.2 self_signed_tls_client_auth with jwks is accepted", oauth.Client{TokenEndpointAuthMethod: oauth.AuthSelfSignedTLSClient, JWKS: jwks}, true},
		{"§2.2 self_signed_tls_client_auth without keys is refused", oauth.Client{TokenEndpointAuthMethod: oauth.AuthSelfSignedTLSClient}, false},
		{"§2.2 self_signed_tls_client_auth with a subject is refused", oauth.Client{TokenEndpointAuthMethod: oauth.AuthSelfSignedTLSClient, JWKS: jwks, TLSClientAuthSANDNS: "a.example"}, false},
		{"§2.1.2 a subject on a client_secret_basic client is refused", oauth.Client{TokenEndpointAuthMethod: oauth.AuthClientSecretBasic, TLSClientAuthSANDNS: "a.example"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := oauth.CheckTLSMetadata(&tc.c)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckTLSMetadata = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
