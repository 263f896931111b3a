package main

// End-to-end use of the client credentials grant (RFC 6749 §4.4) through
// golang.org/x/oauth2/clientcredentials, over the harness of harness_test.go, on
// either target.

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
)

const (
	// serviceID has the client_credentials grant only, and no redirect URIs.
	serviceID     = "e2e-service"
	serviceSecret = "e2e-service-secret-0123456789abcdefghijklmnopqrstuvwxyz"
)

// TestClientCredentialsEndToEnd: x/oauth2's clientcredentials gets a token with
// client_secret_basic (RFC 6749 §4.4.2); it is an RFC 9068 access token whose sub is
// the client, without a refresh token (§4.4.3); introspection describes it, userinfo
// refuses it (no end-user), and a scope outside the client's is invalid_scope.
func TestClientCredentialsEndToEnd(t *testing.T) {
	extra := `
  {"client_id": "` + serviceID + `", "client_name": "E2E Service", "client_secret": "` + serviceSecret + `",
   "grant_types": ["client_credentials"], "scope": "openid api reports"},`
	seedFile := filepath.Join(t.TempDir(), "seed-service.json")
	if err := os.WriteFile(seedFile, []byte(httpapitest.WithClients(t, seedJSON, extra)), 0o600); err != nil {
		t.Fatal(err)
	}
	l := start(t, map[string]string{"SEED_FILE": seedFile})
	conf := &clientcredentials.Config{ClientID: serviceID, ClientSecret: serviceSecret, TokenURL: l.meta.TokenEndpoint,
		AuthStyle: oauth2.AuthStyleInHeader}

	tok, err := conf.Token(t.Context())
	if err != nil {
		t.Fatalf("client credentials token: %v", err)
	}
	// RFC 6749 §3.3: the default is the client's scopes; openid is never granted here.
	l.verifyAccessToken(t, tok, serviceID, serviceID, "api reports")
	if tok.RefreshToken != "" || tok.Extra("id_token") != nil || tok.Extra("scope") != "api reports" {
		t.Errorf("token response: refresh %q id_token %v scope %v", tok.RefreshToken, tok.Extra("id_token"), tok.Extra("scope"))
	}

	narrow := *conf
	narrow.Scopes = []string{"reports"}
	tok, err = narrow.Token(t.Context())
	if err != nil {
		t.Fatalf("narrowed token: %v", err)
	}
	l.verifyAccessToken(t, tok, serviceID, serviceID, "reports")

	in := postAs(t, l.meta.IntrospectionEndpoint, serviceID, serviceSecret, url.Values{"token": {tok.AccessToken}})
	if in.status != http.StatusOK || in.json["active"] != true || in.json["sub"] != serviceID || in.json["scope"] != "reports" {
		t.Errorf("introspection: %d %s", in.status, in.body)
	}
	if ui := l.userinfo(t, tok.AccessToken); ui.status != http.StatusUnauthorized || ui.json["error"] != "invalid_token" {
		t.Errorf("userinfo with a client credentials token: %d %s", ui.status, ui.body)
	}

	wide := *conf
	wide.Scopes = []string{"openid"}
	_, err = wide.Token(t.Context())
	wantTokenError(t, err, "invalid_scope")

	// RFC 6749 §5.2: a client without the grant is unauthorized_client; a wrong
	// secret is invalid_client (401).
	other := &clientcredentials.Config{ClientID: otherID, ClientSecret: otherSecret, TokenURL: l.meta.TokenEndpoint, AuthStyle: oauth2.AuthStyleInHeader}
	_, err = other.Token(t.Context())
	wantTokenError(t, err, "unauthorized_client")
	bad := *conf
	bad.ClientSecret = "wrong-" + serviceSecret
	_, err = bad.Token(t.Context())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusUnauthorized || re.ErrorCode != "invalid_client" {
		t.Errorf("wrong secret: %v", err)
	}
}
