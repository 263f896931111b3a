package oauth_test

// Benchmarks of the core's hot paths on the in-memory store: what every /par and
// /token call pays (client authentication), the push itself, and the password check
// of the login. `make bench` runs them; they assert nothing about time.

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
)

const (
	benchClientID = "bench-client"
	benchSecret   = "bench-secret-0123456789abcdefghijklmnopqrstuvwxyzABCD"
	benchRedirect = "https://client.example.com/cb"
)

func benchService(b *testing.B) (*oauth.Service, *oauth.Client) {
	b.Helper()
	store := memory.New()
	ctx := context.Background()
	clients := []*oauth.Client{
		{ID: benchClientID, SecretHash: oauth.SecretHash(benchSecret), RedirectURIs: []string{benchRedirect},
			TokenEndpointAuthMethod: oauth.AuthClientSecretBasic, Scope: "openid profile email"},
		{ID: "bench-public", RedirectURIs: []string{benchRedirect}, TokenEndpointAuthMethod: oauth.AuthNone, Scope: "openid"},
	}
	for _, c := range clients {
		if err := store.PutClient(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now()
	svc := oauth.NewService(oauth.Config{
		Issuer: "https://as.example.com", PushedRequestLifetime: time.Minute, TransactionLifetime: 10 * time.Minute,
		CodeLifetime: time.Minute, AccessTokenLifetime: 10 * time.Minute, IDTokenLifetime: 10 * time.Minute,
		Now: func() time.Time { return now },
	}, store, nil)
	client, err := store.GetClient(ctx, benchClientID)
	if err != nil {
		b.Fatal(err)
	}
	return svc, client
}

// BenchmarkAuthenticateClient is the client authentication of every /par and /token
// call: a client read, and for a secret its SHA-256 compared in constant time.
func BenchmarkAuthenticateClient(b *testing.B) {
	svc, _ := benchService(b)
	for _, bc := range []struct {
		name string
		cred oauth.ClientCredentials
	}{
		{"client_secret_basic", oauth.ClientCredentials{BasicUsed: true, BasicID: benchClientID, BasicSecret: benchSecret}},
		{"none", oauth.ClientCredentials{BodyClientID: "bench-public"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := svc.AuthenticateClient(ctx, bc.cred); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPush validates a pushed authorization request and stores it under a new
// 256-bit reference (RFC 9126 §2.1).
func BenchmarkPush(b *testing.B) {
	svc, client := benchService(b)
	params := url.Values{
		"response_type": {"code"}, "client_id": {benchClientID}, "redirect_uri": {benchRedirect},
		"scope": {"openid profile email"}, "state": {"bench-state"}, "nonce": {"bench-nonce"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Push(ctx, client, params, oauth.DPoP{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPassword is the argon2id check of the login page (19 MiB, 2 passes),
// the most expensive step of a flow.
func BenchmarkVerifyPassword(b *testing.B) {
	hash, err := oauth.HashPassword("bench-password-correct-horse")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := oauth.VerifyPassword(hash, "bench-password-correct-horse"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
