package seed

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
)

func privateJWK(t *testing.T, kid, alg string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: alg})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func quoted(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestParse_Issue13IdentityProviders: the seed's identity_providers entries.
func TestParse_Issue13IdentityProviders(t *testing.T) {
	secret := strings.Repeat("s", MinSecretLength)
	client := func(extra string) string {
		return `{"client_id":"a","client_secret":"` + secret + `","redirect_uris":["https://a.example/cb"]` + extra + `}`
	}
	idp := func(fields string) string {
		return `{"identity_providers":[{"id":"corp","issuer":"https://idp.example.com","client_id":"broker"` + fields + `}]}`
	}
	for name, doc := range map[string]string{
		"unknown field":                       idp(`,"client_secret":"x","secret":"y"`),
		"id with capitals":                    `{"identity_providers":[{"id":"Corp","issuer":"https://idp.example.com","client_id":"b","client_secret":"x"}]}`,
		"id with a colon":                     `{"identity_providers":[{"id":"a:b","issuer":"https://idp.example.com","client_id":"b","client_secret":"x"}]}`,
		"id missing":                          `{"identity_providers":[{"issuer":"https://idp.example.com","client_id":"b","client_secret":"x"}]}`,
		"id twice":                            `{"identity_providers":[{"id":"a","issuer":"https://a.example","client_id":"b","client_secret":"x"},{"id":"a","issuer":"https://b.example","client_id":"b","client_secret":"x"}]}`,
		"OIDC Discovery §3 http issuer":       `{"identity_providers":[{"id":"a","issuer":"http://idp.example.com","client_id":"b","client_secret":"x"}]}`,
		"OIDC Discovery §3 issuer with query": `{"identity_providers":[{"id":"a","issuer":"https://idp.example.com?x=1","client_id":"b","client_secret":"x"}]}`,
		"no client_id":                        `{"identity_providers":[{"id":"a","issuer":"https://idp.example.com","client_secret":"x"}]}`,
		"secret method without secret":        idp(``),
		"secret and private key":              idp(`,"client_secret":"x","private_key":` + quoted(t, privateJWK(t, "k1", "ES256"))),
		"private_key_jwt without key":         idp(`,"token_endpoint_auth_method":"private_key_jwt"`),
		"private_key_jwt with a secret":       idp(`,"token_endpoint_auth_method":"private_key_jwt","client_secret":"x"`),
		"private_key_jwt key without kid":     idp(`,"token_endpoint_auth_method":"private_key_jwt","private_key":` + quoted(t, privateJWK(t, "", "ES256"))),
		"private_key_jwt key without alg":     idp(`,"token_endpoint_auth_method":"private_key_jwt","private_key":` + quoted(t, privateJWK(t, "k1", ""))),
		"unknown auth method":                 idp(`,"token_endpoint_auth_method":"tls_client_auth"`),
		"scope without openid":                idp(`,"client_secret":"x","scope":"email profile"`),
		"claims to sub":                       idp(`,"client_secret":"x","claims":{"oid":"sub"}`),
		"claims to idp":                       idp(`,"client_secret":"x","claims":{"x":"idp"}`),
		"display_name with U+202E":            idp(`,"client_secret":"x","display_name":"Corp\u202e"`),
		"client names an unknown provider":    `{"clients":[` + client(`,"identity_providers":["nope"]`) + `]}`,
		"user in the brokered key space":      `{"users":[{"username":"idp:corp:x","password":"p"}]}`,
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}

	f, err := Parse([]byte(`{"clients":[` + client(`,"identity_providers":["corp"]`) + `],"identity_providers":[
		{"id":"corp","display_name":"Corp SSO","issuer":"https://idp.example.com","client_id":"broker","client_secret":"x","claims":{"upn":"preferred_username"},"trust_email":true},
		{"id":"off","issuer":"http://127.0.0.1:9000","client_id":"broker","token_endpoint_auth_method":"private_key_jwt","private_key":` + quoted(t, privateJWK(t, "k1", "ES256")) + `,"enabled":false}]}`))
	if err != nil {
		t.Fatal(err)
	}
	corp, off := f.IdentityProviders[0], f.IdentityProviders[1]
	if !corp.Enabled || off.Enabled {
		t.Errorf("enabled: missing = true, false = false; got %v %v", corp.Enabled, off.Enabled)
	}
	if corp.Scope != oauth.DefaultUpstreamScope || corp.TokenEndpointAuthMethod != oauth.AuthClientSecretBasic || off.DisplayName != "off" {
		t.Errorf("defaults: %+v %+v", corp, off)
	}
	store := memory.New()
	if err := Import(context.Background(), store, f); err != nil {
		t.Fatal(err)
	}
	got, err := store.ListIdentityProviders(context.Background())
	if err != nil || len(got) != 2 || got[0].ID != "corp" || got[0].ClientSecret != "x" || got[0].Claims["upn"] != "preferred_username" {
		t.Fatalf("imported providers: %+v %v", got, err)
	}
	c, err := store.GetClient(context.Background(), "a")
	if err != nil || len(c.IdentityProviders) != 1 || c.IdentityProviders[0] != "corp" {
		t.Fatalf("client identity_providers: %+v %v", c, err)
	}
}
