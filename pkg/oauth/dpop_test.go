package oauth_test

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/oauth"
)

// TestDPoP_ProofRules: RFC 9449 §4.3, the checks of a DPoP proof, driven through the
// pushed authorization request (the proof is checked after the request is valid).
func TestDPoP_ProofRules(t *testing.T) {
	key := mustECKey()
	for _, tc := range []struct {
		name string
		// dpop returns what the request carried; without it, parProof(d, key, over).
		dpop func(d *domain) oauth.DPoP
		over map[string]any
		code string // "" for accepted
	}{
		{name: "RFC 9449 §4.3 a valid proof is accepted"},
		{name: "RFC 9449 §4.3 item 9 htu compares without query and fragment", dpop: func(d *domain) oauth.DPoP {
			return oauth.DPoP{Proofs: []string{d.proof(key, "POST", "HTTPS://AS.example.com:443/par?x=1#f", nil)}, Method: "POST", URL: parURL}
		}},
		{name: "RFC 9449 §4.3 item 1 more than one DPoP header", dpop: func(d *domain) oauth.DPoP {
			p := parProof(d, key, nil)
			p.Proofs = append(p.Proofs, p.Proofs[0])
			return p
		}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §4.3 item 2 not a JWS", dpop: func(*domain) oauth.DPoP {
			return oauth.DPoP{Proofs: []string{"not-a-jwt"}, Method: "POST", URL: parURL}
		}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §4.3 item 4 typ other than dpop+jwt", dpop: func(d *domain) oauth.DPoP {
			return parProofSigned(d, key, "jwt", true)
		}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §4.3 item 5 symmetric alg is refused", dpop: func(d *domain) oauth.DPoP {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, (&jose.SignerOptions{}).WithType("dpop+jwt"))
			if err != nil {
				d.tb.Fatal(err)
			}
			jws, err := s.Sign([]byte(`{"jti":"x","htm":"POST","htu":"` + parURL + `"}`))
			if err != nil {
				d.tb.Fatal(err)
			}
			raw, _ := jws.CompactSerialize()
			return oauth.DPoP{Proofs: []string{raw}, Method: "POST", URL: parURL}
		}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §4.3 item 6 no jwk header", dpop: func(d *domain) oauth.DPoP {
			return parProofSigned(d, key, "dpop+jwt", false)
		}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §4.3 item 7 signature not by the jwk", dpop: func(d *domain) oauth.DPoP {
			p := parProof(d, key, nil)
			other := parProof(d, mustECKey(), nil)
			p.Proofs[0] = p.Proofs[0][:lastDot(p.Proofs[0])] + other.Proofs[0][lastDot(other.Proofs[0]):]
			return p
		}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §4.3 item 11 jti is required", over: map[string]any{"jti": nil}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §4.3 item 8 htm must be the request's method", over: map[string]any{"htm": "GET"}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §4.3 item 9 htu must be the endpoint", over: map[string]any{"htu": tokenURL}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 3986 §6.2.3 a port other than the default is another htu", over: map[string]any{"htu": "https://as.example.com:8443/par"}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §4.3 item 10 iat is required", over: map[string]any{"iat": nil}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §11.1 iat older than the window", dpop: func(d *domain) oauth.DPoP {
			return parProof(d, key, map[string]any{"iat": d.now().Add(-5*time.Minute - time.Second).Unix()})
		}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §11.1 iat in the future beyond skew", dpop: func(d *domain) oauth.DPoP {
			return parProof(d, key, map[string]any{"iat": d.now().Add(11 * time.Second).Unix()})
		}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §11.1 a proof is usable once", dpop: func(d *domain) oauth.DPoP {
			p := parProof(d, key, nil)
			if _, err := d.push(d.client(confID), authParams(confID), p); err != nil {
				d.tb.Fatalf("first use: %v", err)
			}
			return p
		}, code: oauth.CodeInvalidDPoPProof},
		{name: "RFC 9449 §4.3 item 12 ath must match when the resource asks for it", dpop: func(d *domain) oauth.DPoP {
			p := parProof(d, key, map[string]any{"ath": "wrong"})
			p.ATH = ath("token")
			return p
		}, code: oauth.CodeInvalidDPoPProof},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			proof := parProof(d, key, tc.over)
			if tc.dpop != nil {
				proof = tc.dpop(d)
			}
			res, err := d.push(d.client(confID), authParams(confID), proof)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := d.mustResume(confID, res.RequestURI).Request.Request.DPoPJKT; got != thumbprint(t, key) {
					t.Errorf("dpop_jkt = %q", got)
				}
				return
			}
			wantErr(t, err, tc.code)
		})
	}
}

func parProof(d *domain, key *ecdsa.PrivateKey, over map[string]any) oauth.DPoP {
	d.tb.Helper()
	return oauth.DPoP{Proofs: []string{d.proof(key, "POST", parURL, over)}, Method: "POST", URL: parURL}
}

// parProofSigned is a proof of parProof's claims signed as typ, with the jwk header
// (embed) or without.
func parProofSigned(d *domain, key *ecdsa.PrivateKey, typ string, embed bool) oauth.DPoP {
	d.tb.Helper()
	return oauth.DPoP{Proofs: []string{sign(d.tb, key, jose.ES256, typ, "", embed, map[string]any{
		"jti": nextJTI(), "htm": "POST", "htu": parURL, "iat": d.now().Unix()})}, Method: "POST", URL: parURL}
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

// TestDPoP_Nonces: RFC 9449 §8, server-provided nonces.
func TestDPoP_Nonces(t *testing.T) {
	key := mustECKey()
	nonceKey := func(context.Context) ([32]byte, error) { return [32]byte{1, 2, 3}, nil }
	d := newDomain(t, withOption(oauth.WithDPoPNonces(nonceKey)))
	push := func(nonce any) error {
		_, err := d.push(d.client(confID), authParams(confID), parProof(d, key, map[string]any{"nonce": nonce}))
		return err
	}
	nonce, err := d.dpopNonce()
	if err != nil || len(nonce) != 24 {
		t.Fatalf("DPoPNonce = %q %v", nonce, err)
	}
	t.Run("RFC 9449 §8 a proof without the nonce is use_dpop_nonce", func(t *testing.T) {
		wantErr(t, push(nil), oauth.CodeUseDPoPNonce)
	})
	t.Run("RFC 9449 §8 a wrong nonce is use_dpop_nonce", func(t *testing.T) {
		wantErr(t, push("bogus"), oauth.CodeUseDPoPNonce)
	})
	t.Run("RFC 9449 §8 the current nonce is accepted", func(t *testing.T) {
		if err := push(nonce); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("RFC 9449 §8 the previous window's nonce is still accepted", func(t *testing.T) {
		d.advance(time.Minute)
		if now, _ := d.dpopNonce(); now == nonce {
			t.Fatal("the nonce did not change with the window")
		}
		if err := push(nonce); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("RFC 9449 §8 a nonce two windows old is use_dpop_nonce", func(t *testing.T) {
		d.advance(time.Minute)
		wantErr(t, push(nonce), oauth.CodeUseDPoPNonce)
	})
	t.Run("docs/design.md decision 10 a nonce key outage is temporarily_unavailable", func(t *testing.T) {
		d := newDomain(t, withOption(oauth.WithDPoPNonces(func(context.Context) ([32]byte, error) {
			return [32]byte{}, oauth.ErrUnavailable
		})))
		_, err := d.push(d.client(confID), authParams(confID), parProof(d, key, map[string]any{"nonce": "n"}))
		e := wantErr(t, err, oauth.CodeTemporarilyUnavailable)
		if !errors.Is(e, oauth.ErrUnavailable) {
			t.Errorf("cause lost: %v", e)
		}
		if _, err := d.dpopNonce(); !errors.Is(err, oauth.ErrUnavailable) {
			t.Errorf("DPoPNonce = %v", err)
		}
	})
	t.Run("RFC 9449 §8 a server without nonces hands out none", func(t *testing.T) {
		if n, err := newDomain(t).dpopNonce(); n != "" || err != nil {
			t.Errorf("DPoPNonce = %q %v", n, err)
		}
	})
}
