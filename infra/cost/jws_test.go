package cost_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// BenchmarkJWSVerify is the signature check at the heart of what the FAPI profile
// adds to a flow: a private_key_jwt client assertion at /par and at /token, and a
// DPoP proof at each (four per flow), with go-jose as the server checks them, for
// the algorithms FAPI 2.0 allows (PS256 with a 2048-bit key, ES256). It reports
// cpu-ms/op like BenchmarkPasswordCheck.
//
//	go test -run='^$' -bench=JWSVerify -cpu 1 -count 5 ./infra/cost > infra/cost/inputs/jws.txt
func BenchmarkJWSVerify(b *testing.B) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		alg jose.SignatureAlgorithm
		key any
		pub any
	}{{jose.PS256, rsaKey, &rsaKey.PublicKey}, {jose.ES256, ecKey, &ecKey.PublicKey}} {
		b.Run(string(tc.alg), func(b *testing.B) {
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: tc.alg, Key: tc.key}, nil)
			if err != nil {
				b.Fatal(err)
			}
			obj, err := signer.Sign([]byte(`{"iss":"client","sub":"client","aud":"https://issuer.example","jti":"0123456789abcdef","exp":2000000000}`))
			if err != nil {
				b.Fatal(err)
			}
			compact, err := obj.CompactSerialize()
			if err != nil {
				b.Fatal(err)
			}
			loopCPU(b, func() {
				parsed, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{tc.alg})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := parsed.Verify(tc.pub); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
