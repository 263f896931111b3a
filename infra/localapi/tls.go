package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// HTTPS for the local server (TLS=true): a local CA made once under TLS_DIR (ca.pem,
// which a client trusts, and ca-key.pem), a server certificate it signs at every
// start for 127.0.0.1, ::1, localhost and the host of ADDR; or the certificate
// TLS_CERT_FILE / TLS_KEY_FILE name. The listener asks for an optional client
// certificate on every connection (RFC 8705 on the same port: the mTLS endpoint
// aliases are the endpoints themselves), accepting any, and the edge verifies it in
// code (tlsClientCertificates): tls.VerifyClientCertIfGiven would refuse the
// handshake of a self-signed certificate, which self_signed_tls_client_auth needs.

// tlsSetup is the local server's TLS configuration.
type tlsSetup struct {
	config *tls.Config
	// caFile is the CA certificate a client trusts; empty for a brought certificate.
	caFile string
	// certs reads and judges the client certificate of a request.
	certs tlsClientCertificates
}

// localTLS reads TLS, TLS_DIR, TLS_CERT_FILE, TLS_KEY_FILE and MTLS_CA_FILE; nil
// when TLS is off.
func localTLS(getenv func(string) string, host string) (*tlsSetup, error) {
	on := false
	switch v := getenv("TLS"); v {
	case "", "false":
	case "true":
		on = true
	default:
		return nil, fmt.Errorf("TLS=%q: want true or false", v)
	}
	certFile, keyFile, caBundle := getenv("TLS_CERT_FILE"), getenv("TLS_KEY_FILE"), getenv("MTLS_CA_FILE")
	if !on {
		for name, v := range map[string]string{"TLS_CERT_FILE": certFile, "TLS_KEY_FILE": keyFile, "MTLS_CA_FILE": caBundle} {
			if v != "" {
				return nil, fmt.Errorf("%s is set but TLS is not: set TLS=true", name)
			}
		}
		return nil, nil
	}
	s := &tlsSetup{}
	var cert tls.Certificate
	var err error
	switch {
	case certFile != "" || keyFile != "":
		if certFile == "" || keyFile == "" {
			return nil, errors.New("TLS_CERT_FILE and TLS_KEY_FILE go together")
		}
		if cert, err = tls.LoadX509KeyPair(certFile, keyFile); err != nil {
			return nil, fmt.Errorf("TLS_CERT_FILE/TLS_KEY_FILE: %w", err)
		}
	default:
		dir := getenv("TLS_DIR")
		if dir == "" {
			if state := getenv("LOCAL_STATE_DIR"); state != "" {
				dir = filepath.Join(state, "tls")
			}
		}
		if dir == "" {
			return nil, errors.New("TLS=true needs TLS_DIR (or LOCAL_STATE_DIR) for the local CA")
		}
		ca, caKey, caFile, err := localCA(dir)
		if err != nil {
			return nil, err
		}
		if cert, err = serverCertificate(ca, caKey, host); err != nil {
			return nil, err
		}
		s.caFile = caFile
	}
	if caBundle != "" {
		data, err := os.ReadFile(caBundle)
		if err != nil {
			return nil, fmt.Errorf("MTLS_CA_FILE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("MTLS_CA_FILE=%q holds no PEM certificate", caBundle)
		}
		s.certs.roots = pool
	}
	s.config = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		// Asked for, never required, never verified by the handshake: see above.
		ClientAuth: tls.RequestClientCert,
	}
	return s, nil
}

// localCA loads the CA under dir, making it on first use.
func localCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, string, error) {
	certPath, keyPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	certPEM, cerr := os.ReadFile(certPath)
	keyPEM, kerr := os.ReadFile(keyPath)
	if errors.Is(cerr, fs.ErrNotExist) && errors.Is(kerr, fs.ErrNotExist) {
		return newLocalCA(dir, certPath, keyPath)
	}
	if cerr != nil || kerr != nil {
		return nil, nil, "", fmt.Errorf("TLS_DIR %s: read the CA: %w", dir, errors.Join(cerr, kerr))
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, "", fmt.Errorf("TLS_DIR %s: ca.pem or ca-key.pem is not PEM (delete both to make a new CA)", dir)
	}
	ca, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s: %w", certPath, err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s: %w", keyPath, err)
	}
	if time.Now().After(ca.NotAfter) {
		return nil, nil, "", fmt.Errorf("%s expired: delete ca.pem and ca-key.pem to make a new CA", certPath)
	}
	return ca, key, certPath, nil
}

func newLocalCA(dir, certPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, "", fmt.Errorf("TLS_DIR: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "pargate local CA", Organization: []string{"pargate (local development)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, "", err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, nil, "", err
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, nil, "", err
	}
	ca, err := x509.ParseCertificate(der)
	return ca, key, certPath, err
}

// serverCertificate is a fresh server certificate for the loopback names and host.
func serverCertificate(ca *x509.Certificate, caKey *ecdsa.PrivateKey, host string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(0, 0, 30),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if ip := net.ParseIP(host); ip != nil && !ip.IsLoopback() {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	} else if ip == nil && host != "" && host != "localhost" {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

// tlsClientCertificates is the local server's httpapi.ClientCertificates: the
// certificate of the TLS connection, CA-validated when its chain (with the
// intermediates the client sent) verifies against MTLS_CA_FILE for client
// authentication, as API Gateway validates against its truststore; any other
// certificate is still handed on, good only for self_signed_tls_client_auth and
// for binding tokens.
type tlsClientCertificates struct {
	roots *x509.CertPool
}

func (c tlsClientCertificates) ClientCertificate(r *http.Request) (*oauth.ClientCertificate, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, nil
	}
	leaf := r.TLS.PeerCertificates[0]
	out := &oauth.ClientCertificate{Leaf: leaf}
	if c.roots != nil {
		inter := x509.NewCertPool()
		for _, ic := range r.TLS.PeerCertificates[1:] {
			inter.AddCert(ic)
		}
		_, err := leaf.Verify(x509.VerifyOptions{
			Roots: c.roots, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		out.CAValidated = err == nil
	}
	return out, nil
}
