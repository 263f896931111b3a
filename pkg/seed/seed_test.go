package seed

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
)

// demoSeed is the demo seed of the local server, infra/seed.json.
func demoSeed(t *testing.T) *File {
	t.Helper()
	f, err := ReadFile("../../infra/seed.json")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestParse_DemoSeedImports(t *testing.T) {
	f := demoSeed(t)
	store := memory.New()
	if err := Import(context.Background(), store, f); err != nil {
		t.Fatal(err)
	}
	c, err := store.GetClient(context.Background(), "demo-client")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.SecretHash, oauth.SecretHash(f.Clients[0].Secret)) {
		t.Error("client secret is not stored as its SHA-256")
	}
	u, err := store.GetUser(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := oauth.VerifyPassword(u.PasswordHash, "demo-password"); !ok || strings.Contains(u.PasswordHash, "demo-password") {
		t.Error("user password is not stored as argon2id")
	}
}

func TestParse_RejectsUnsafeClients(t *testing.T) {
	long := strings.Repeat("s", MinSecretLength)
	for name, doc := range map[string]string{
		"short secret":          `{"clients":[{"client_id":"a","client_secret":"short","redirect_uris":["https://a.example/cb"]}]}`,
		"public with secret":    `{"clients":[{"client_id":"a","token_endpoint_auth_method":"none","client_secret":"` + long + `","redirect_uris":["https://a.example/cb"]}]}`,
		"http redirect":         `{"clients":[{"client_id":"a","client_secret":"` + long + `","redirect_uris":["http://a.example/cb"]}]}`,
		"fragment":              `{"clients":[{"client_id":"a","client_secret":"` + long + `","redirect_uris":["https://a.example/cb#x"]}]}`,
		"relative":              `{"clients":[{"client_id":"a","client_secret":"` + long + `","redirect_uris":["/cb"]}]}`,
		"no redirect":           `{"clients":[{"client_id":"a","client_secret":"` + long + `"}]}`,
		"unknown field":         `{"clients":[{"client_id":"a","client_secret":"` + long + `","redirect_uris":["https://a.example/cb"],"require_par":true}]}`,
		"unknown auth method":   `{"clients":[{"client_id":"a","token_endpoint_auth_method":"tls_client_auth","redirect_uris":["https://a.example/cb"]}]}`,
		"user without password": `{"users":[{"username":"x"}]}`,
		// JARM §3: "The algorithm none is not allowed", nor one the server has no key of.
		"JARM §3 alg none":  `{"clients":[{"client_id":"a","client_secret":"` + long + `","redirect_uris":["https://a.example/cb"],"authorization_signed_response_alg":"none"}]}`,
		"JARM §3 alg HS256": `{"clients":[{"client_id":"a","client_secret":"` + long + `","redirect_uris":["https://a.example/cb"],"authorization_signed_response_alg":"HS256"}]}`,
		// docs/design.md decision 23: REQUESTS/SECONDS or off.
		"rate_limit not REQUESTS/SECONDS": `{"clients":[{"client_id":"a","client_secret":"` + long + `","redirect_uris":["https://a.example/cb"],"rate_limit":"600"}]}`,
		"rate_limit of zero requests":     `{"clients":[{"client_id":"a","client_secret":"` + long + `","redirect_uris":["https://a.example/cb"],"rate_limit":"0/60"}]}`,
		// docs/design.md decision 32: consent is always, or left out (remembered).
		"consent neither always nor left out": `{"clients":[{"client_id":"a","client_secret":"` + long + `","redirect_uris":["https://a.example/cb"],"consent":"never"}]}`,
		// RFC 7518 §3.3, FAPI 2.0 Security Profile §5.4.1 item 2: RSA keys of 2048 bits or more.
		"RSA key below 2048 bits": `{"clients":[{"client_id":"a","token_endpoint_auth_method":"private_key_jwt","redirect_uris":["https://a.example/cb"],"jwks":` + rsaJWKS(t, 1024) + `}]}`,
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func rsaJWKS(tb testing.TB, bits int) string {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "r", Use: "sig"}}})
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestParse_JARM_3_AuthorizationSignedResponseAlg: a signing algorithm the server
// can hold a key of is kept.
func TestParse_JARM_3_AuthorizationSignedResponseAlg(t *testing.T) {
	f, err := Parse([]byte(`{"clients":[{"client_id":"a","client_secret":"` + strings.Repeat("s", MinSecretLength) +
		`","redirect_uris":["https://a.example/cb"],"authorization_signed_response_alg":"PS256"}]}`))
	if err != nil || f.Clients[0].AuthorizationSignedResponseAlg != "PS256" {
		t.Fatalf("%v %+v", err, f)
	}
}

// The same client with a 2048-bit key is accepted: the refusal above is the size.
func TestParse_RFC7518_3_3_AcceptsRSA2048(t *testing.T) {
	doc := `{"clients":[{"client_id":"a","token_endpoint_auth_method":"private_key_jwt","redirect_uris":["https://a.example/cb"],"jwks":` + rsaJWKS(t, 2048) + `}]}`
	if _, err := Parse([]byte(doc)); err != nil {
		t.Errorf("RSA 2048: %v", err)
	}
}

// OIDC Registration §2 require_auth_time is client metadata the seed accepts.
func TestParse_OIDCRegistration_2_RequireAuthTime(t *testing.T) {
	f, err := Parse([]byte(`{"clients":[{"client_id":"a","client_secret":"` + strings.Repeat("s", MinSecretLength) +
		`","redirect_uris":["https://a.example/cb"],"require_auth_time":true}]}`))
	if err != nil || !f.Clients[0].RequireAuthTime {
		t.Fatalf("%v %+v", err, f)
	}
}

// consent: always is client metadata the seed keeps (docs/design.md decision 32).
func TestParse_ConsentAlways(t *testing.T) {
	f, err := Parse([]byte(`{"clients":[{"client_id":"a","client_secret":"` + strings.Repeat("s", MinSecretLength) +
		`","redirect_uris":["https://a.example/cb"],"consent":"always"}]}`))
	if err != nil || f.Clients[0].Consent != "always" {
		t.Fatalf("%v %+v", err, f)
	}
}
