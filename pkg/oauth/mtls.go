package oauth

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Client authentication methods of RFC 8705 §2.1.1 and §2.2.1.
const (
	AuthTLSClient           = "tls_client_auth"
	AuthSelfSignedTLSClient = "self_signed_tls_client_auth"
)

// ClientCertificate is the X.509 certificate a client presented in the TLS handshake
// of the request (RFC 8705), as the HTTP edge read it.
type ClientCertificate struct {
	Leaf *x509.Certificate
	// CAValidated is true when the certificate's chain was validated against the CAs
	// trusted for tls_client_auth (MTLS_CA_FILE locally; the API Gateway truststore,
	// which validates every certificate it lets through, on AWS). A certificate that
	// is not is good only for self_signed_tls_client_auth and for binding tokens
	// (docs/design.md decision 20).
	CAValidated bool
}

// Thumbprint is the certificate's x5t#S256: the base64url SHA-256 of its DER
// encoding (RFC 8705 §3.1).
func (c *ClientCertificate) Thumbprint() string {
	sum := sha256.Sum256(c.Leaf.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TLSSubject is the one registered expectation of a tls_client_auth client's
// certificate (RFC 8705 §2.1.2): which metadata names it, and its value.
func (c *Client) TLSSubject() (name, value string, n int) {
	for _, f := range []struct{ name, value string }{
		{"tls_client_auth_subject_dn", c.TLSClientAuthSubjectDN},
		{"tls_client_auth_san_dns", c.TLSClientAuthSANDNS},
		{"tls_client_auth_san_uri", c.TLSClientAuthSANURI},
		{"tls_client_auth_san_ip", c.TLSClientAuthSANIP},
		{"tls_client_auth_san_email", c.TLSClientAuthSANEmail},
	} {
		if f.value != "" {
			name, value, n = f.name, f.value, n+1
		}
	}
	return name, value, n
}

// CheckTLSMetadata checks a client's RFC 8705 metadata: a tls_client_auth client
// names exactly one expected subject, which must be well formed; a
// self_signed_tls_client_auth client has keys to match the certificate against;
// every other client names none (a subject on a client that does not authenticate
// with it would be a contradiction no one notices).
func CheckTLSMetadata(c *Client) error {
	name, value, n := c.TLSSubject()
	switch c.TokenEndpointAuthMethod {
	case AuthTLSClient:
		// RFC 8705 §2.1.2: "the client MUST use exactly one of the below metadata
		// parameters to indicate the certificate subject value".
		if n != 1 {
			return errors.New("tls_client_auth needs exactly one of tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip, tls_client_auth_san_email")
		}
		switch name {
		case "tls_client_auth_subject_dn":
			if _, err := parseDN(value); err != nil {
				return fmt.Errorf("tls_client_auth_subject_dn is not an RFC 4514 distinguished name: %w", err)
			}
		case "tls_client_auth_san_ip":
			if net.ParseIP(value) == nil {
				return errors.New("tls_client_auth_san_ip must be an IPv4 or IPv6 address")
			}
		case "tls_client_auth_san_uri":
			if u, err := url.Parse(value); err != nil || !u.IsAbs() {
				return errors.New("tls_client_auth_san_uri must be an absolute URI")
			}
		case "tls_client_auth_san_email":
			if !strings.Contains(value, "@") {
				return errors.New("tls_client_auth_san_email must be an email address")
			}
		}
	case AuthSelfSignedTLSClient:
		if n != 0 {
			return fmt.Errorf("%s is tls_client_auth metadata; a self_signed_tls_client_auth client is matched by its jwks", name)
		}
		// RFC 8705 §2.2: the certificate is bound to the client by its registered keys.
		if len(c.JWKS) == 0 && c.JWKSURI == "" {
			return errors.New("self_signed_tls_client_auth needs jwks or jwks_uri holding the certificate's public key")
		}
	default:
		if n != 0 {
			return fmt.Errorf("%s is only for tls_client_auth clients, not %s", name, c.TokenEndpointAuthMethod)
		}
	}
	return nil
}

// authenticateTLS authenticates a client registered for tls_client_auth or
// self_signed_tls_client_auth with the certificate of the request (RFC 8705 §2).
func (s *Service) authenticateTLS(ctx context.Context, client *Client, cert *ClientCertificate) (*Client, error) {
	if cert == nil {
		return nil, clientAuthFailed("the client is registered for %s and presented no client certificate", client.TokenEndpointAuthMethod)
	}
	if client.TokenEndpointAuthMethod == AuthTLSClient {
		// RFC 8705 §2.1: the PKI method "relies on a validated certificate chain
		// [RFC5280] and a single subject distinguished name (DN) or a single subject
		// alternative name (SAN) to authenticate the client".
		if !cert.CAValidated {
			return nil, clientAuthFailed("tls_client_auth: the certificate's chain is not trusted")
		}
		if !certMatchesSubject(client, cert.Leaf) {
			return nil, clientAuthFailed("tls_client_auth: the certificate does not match the registered subject")
		}
		return client, nil
	}
	// RFC 8705 §2.2: "the client's certificate chain is not validated by the server
	// in this case. The client is successfully authenticated if the certificate that
	// it presented during the handshake matches one of the certificates configured or
	// registered for that particular client": here, its public key is one of the
	// client's jwks (an x5c certificate there carries that key too). The validity
	// period is still checked.
	now := s.now()
	if now.Before(cert.Leaf.NotBefore) || now.After(cert.Leaf.NotAfter) {
		return nil, clientAuthFailed("self_signed_tls_client_auth: the certificate is not valid now")
	}
	set, err := s.clientKeys.ClientKeys(ctx, client)
	if errors.Is(err, ErrUnavailable) {
		return nil, AsError(err)
	}
	if err != nil {
		return nil, clientAuthFailed("self_signed_tls_client_auth: the client's keys: %w", err)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	for _, k := range set.Keys {
		if pub, ok := k.Public().Key.(equaler); ok && pub.Equal(cert.Leaf.PublicKey) {
			return client, nil
		}
	}
	return nil, clientAuthFailed("self_signed_tls_client_auth: the certificate's key is not in the client's jwks")
}

// certMatchesSubject applies RFC 8705 §2.1.2 with the one registered expectation.
func certMatchesSubject(c *Client, leaf *x509.Certificate) bool {
	name, value, n := c.TLSSubject()
	if n != 1 {
		return false
	}
	switch name {
	case "tls_client_auth_subject_dn":
		// "An [RFC4514] string representation of the expected subject distinguished
		// name": compared as DNs (dn.go), not as strings.
		want, err := parseDN(value)
		if err != nil {
			return false
		}
		got, ok := subjectDN(leaf.RawSubject)
		return ok && want.equal(got)
	case "tls_client_auth_san_dns":
		// DNS names compare case-insensitively (RFC 4343).
		return slices.ContainsFunc(leaf.DNSNames, func(d string) bool { return strings.EqualFold(d, value) })
	case "tls_client_auth_san_uri":
		return slices.ContainsFunc(leaf.URIs, func(u *url.URL) bool { return u.String() == value })
	case "tls_client_auth_san_ip":
		// "Per Section 8 of [RFC5952], the IP address comparison of the value in this
		// parameter and the SAN entry in the certificate is to be done in binary format."
		want := net.ParseIP(value)
		return want != nil && slices.ContainsFunc(leaf.IPAddresses, want.Equal)
	case "tls_client_auth_san_email":
		return slices.ContainsFunc(leaf.EmailAddresses, func(e string) bool { return emailEqual(e, value) })
	}
	return false
}

// emailEqual compares rfc822Name values: the local part exactly, the domain
// case-insensitively (RFC 5280 §4.2.1.6).
func emailEqual(a, b string) bool {
	la, da, ok1 := strings.Cut(a, "@")
	lb, db, ok2 := strings.Cut(b, "@")
	return ok1 && ok2 && la == lb && strings.EqualFold(da, db)
}
