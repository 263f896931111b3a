package oauth

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// DPoP is what a request carried for RFC 9449: the DPoP header values and the
// method and URL the proof must name. The URL is the endpoint's public URL as
// published in metadata, never one rebuilt from request headers.
type DPoP struct {
	Proofs []string
	Method string
	URL    string
	// ATH, when set, is the hash of the access token the proof must carry
	// (RFC 9449 §4.3 item 12, for protected resources).
	ATH string
	// Certificate is the request's TLS client certificate, the other proof of
	// possession a token may be bound to (RFC 8705 §3); nil when none was presented.
	Certificate *ClientCertificate
}

// dpopProofWindow is how old a proof's iat may be (RFC 9449 §11.1: "servers MUST only
// accept DPoP proofs for a limited time after their creation"); its jti is remembered
// that long.
const dpopProofWindow = 5 * time.Minute

func invalidDPoP(format string, args ...any) *Error {
	return newError(CodeInvalidDPoPProof, format, args...)
}

type dpopClaims struct {
	ID       string           `json:"jti"`
	Method   string           `json:"htm"`
	URL      string           `json:"htu"`
	IssuedAt *jwt.NumericDate `json:"iat"`
	ATH      string           `json:"ath"`
	Nonce    string           `json:"nonce"`
}

// verifyDPoP checks the request's DPoP proof, if any (RFC 9449 §4.3), and returns the
// JWK SHA-256 thumbprint of its key (RFC 7638), or "" when no proof was sent.
func (s *Service) verifyDPoP(ctx context.Context, clientID string, d DPoP) (string, error) {
	switch len(d.Proofs) {
	case 0:
		return "", nil
	case 1:
	default:
		// §4.3 item 1: "there is not more than one DPoP HTTP request header field".
		return "", invalidDPoP("send exactly one DPoP header")
	}
	algs := SigningAlgorithms
	if s.cfg.FAPI2 {
		algs = FAPISigningAlgorithms
	}
	// §4.3 items 2-7: a well-formed JWS with typ dpop+jwt, an asymmetric algorithm
	// (never none or MAC), a public jwk header, and a signature that verifies with it.
	tok, err := jwt.ParseSigned(d.Proofs[0], algs)
	if err != nil || len(tok.Headers) != 1 {
		return "", invalidDPoP("the DPoP proof is not a JWS signed with %v", algs)
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return "", invalidDPoP("the DPoP proof typ must be dpop+jwt")
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() || !h.JSONWebKey.Valid() {
		return "", invalidDPoP("the DPoP proof must carry a public jwk")
	}
	// RFC 7518 §3.3 and FAPI 2.0 Security Profile §5.4.1 items 2 and 3: RSA keys of at
	// least 2048 bits, EC keys of at least 256 here (CheckKeyStrength).
	if err := CheckKeyStrength(*h.JSONWebKey); err != nil {
		return "", invalidDPoP("the DPoP proof jwk is too small: %v", err)
	}
	var c dpopClaims
	if err := tok.Claims(h.JSONWebKey.Key, &c); err != nil {
		return "", invalidDPoP("the DPoP proof signature does not verify")
	}
	// §4.3 items 8-11: htm, htu (without query and fragment), iat, jti.
	now := s.now()
	switch {
	case c.ID == "":
		return "", invalidDPoP("the DPoP proof needs a jti")
	case c.Method != d.Method:
		return "", invalidDPoP("the DPoP proof htm must be %s", d.Method)
	case !sameHTU(c.URL, d.URL):
		return "", invalidDPoP("the DPoP proof htu must be %s", d.URL)
	case c.IssuedAt == nil:
		return "", invalidDPoP("the DPoP proof needs an iat")
	case c.IssuedAt.Time().Before(now.Add(-dpopProofWindow)), c.IssuedAt.Time().After(now.Add(10 * time.Second)):
		return "", invalidDPoP("the DPoP proof iat is outside the accepted window")
	case d.ATH != "" && c.ATH != d.ATH:
		return "", invalidDPoP("the DPoP proof ath must be the hash of the access token")
	}
	// §8: a server that provides nonces rejects proofs without a current one, with
	// use_dpop_nonce; the edge sends the current nonce in DPoP-Nonce.
	if s.nonces != nil {
		ok, err := s.nonces.valid(ctx, c.Nonce, now)
		if err != nil {
			return "", AsError(fmt.Errorf("dpop nonce: %w", err))
		}
		if !ok {
			return "", newError(CodeUseDPoPNonce, "the DPoP proof must carry the nonce from the DPoP-Nonce header")
		}
	}
	thumb, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", invalidDPoP("the DPoP proof jwk has no thumbprint")
	}
	jkt := base64.RawURLEncoding.EncodeToString(thumb)
	// §11.1: a proof is usable once; its jti is remembered for the window.
	if err := s.useOnce(ctx, "dpop", jkt, c.ID, c.IssuedAt.Time().Add(dpopProofWindow)); err != nil {
		if errors.Is(err, ErrConflict) {
			return "", invalidDPoP("the DPoP proof was already used")
		}
		return "", AsError(err)
	}
	return jkt, nil
}

// sameHTU compares htu with the endpoint URL ignoring query and fragment (RFC 9449
// §4.3 item 9) and the case of scheme and host (RFC 3986 §6.2.2.1).
func sameHTU(htu, endpoint string) bool {
	a, err1 := url.Parse(htu)
	b, err2 := url.Parse(endpoint)
	if err1 != nil || err2 != nil {
		return false
	}
	norm := func(u *url.URL) string {
		host := strings.ToLower(u.Host)
		scheme := strings.ToLower(u.Scheme)
		// RFC 3986 §6.2.3: only the scheme's own default port is dropped.
		switch scheme {
		case "https":
			host = strings.TrimSuffix(host, ":443")
		case "http":
			host = strings.TrimSuffix(host, ":80")
		}
		return scheme + "://" + host + u.EscapedPath()
	}
	return norm(a) == norm(b)
}

// validJKT reports whether s looks like a base64url SHA-256 JWK thumbprint.
func validJKT(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}
