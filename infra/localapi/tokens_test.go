package main

// End-to-end use of the tokens after the code exchange - refresh (RFC 6749 §6),
// userinfo (OIDC Core §5.3), introspection (RFC 7662), revocation (RFC 7009) - over
// the harness of harness_test.go, on either target; on the lambda target the story
// runs once on cold instances and again on the warm ones.

import (
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
)

const (
	// offlineID may use the refresh_token grant; offline_access gets it a refresh token.
	offlineID     = "e2e-offline"
	offlineSecret = "e2e-offline-secret-0123456789abcdefghijklmnopqrstuvwxyz"
)

// startOffline starts the target seeded with harness_test.go's fixtures plus the
// offline client.
func startOffline(t *testing.T) *local {
	t.Helper()
	extra := `
  {"client_id": "` + offlineID + `", "client_name": "E2E Offline App", "client_secret": "` + offlineSecret + `",
   "token_endpoint_auth_method": "client_secret_basic", "grant_types": ["authorization_code", "refresh_token"],
   "consent": "always", "redirect_uris": ["` + appRedirect + `"], "scope": "openid profile email offline_access"},`
	seedFile := filepath.Join(t.TempDir(), "seed-offline.json")
	if err := os.WriteFile(seedFile, []byte(httpapitest.WithClients(t, seedJSON, extra)), 0o600); err != nil {
		t.Fatal(err)
	}
	return start(t, map[string]string{"SEED_FILE": seedFile})
}

// postAs posts form to target with the client's client_secret_basic.
func postAs(t *testing.T, target, id, secret string, form url.Values) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", basicAuth(id, secret))
	return send(t, http.DefaultClient, req)
}

func (l *local) userinfo(t *testing.T, accessToken string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, l.meta.UserinfoEndpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return send(t, http.DefaultClient, req)
}

// refresh uses the refresh token once through x/oauth2 (RFC 6749 §6).
func refresh(t *testing.T, conf *oauth2.Config, refreshToken string) (*oauth2.Token, error) {
	t.Helper()
	return conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)}).Token()
}

// TestRefreshUserinfoIntrospectRevokeEndToEnd: after the code exchange, userinfo
// answers with the user's claims, a refresh rotates the refresh token, introspection
// describes the access token to its client only, revocation ends the refresh token,
// and the rotated-out one is refused.
func TestRefreshUserinfoIntrospectRevokeEndToEnd(t *testing.T) {
	l := startOffline(t)
	conf := l.rp(offlineID, offlineSecret, appRedirect, "openid", "profile", "offline_access")
	story := func(t *testing.T) {
		a := newRequest(conf)
		tok := a.mustExchange(t, l.pushAndAuthorize(t, a))
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token for offline_access")
		}
		l.verifyAccessToken(t, tok, offlineID, userSubject, "openid profile offline_access")

		// OIDC Core §5.3.2: the claims of the scope, and sub.
		if ui := l.userinfo(t, tok.AccessToken); ui.status != http.StatusOK || ui.json["sub"] != userSubject || ui.json["name"] != "Alice Example" {
			t.Fatalf("userinfo: %d %s", ui.status, ui.body)
		}
		if ui := l.userinfo(t, tok.AccessToken+"x"); ui.status != http.StatusUnauthorized || !strings.Contains(ui.header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("userinfo with a broken token (RFC 6750 §3.1): %d %q", ui.status, ui.header.Get("WWW-Authenticate"))
		}

		// RFC 6749 §6 with rotation (RFC 9700 §4.14.2): a new refresh token.
		next, err := refresh(t, conf, tok.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if next.AccessToken == "" || next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh response: access %t, refresh rotated %t", next.AccessToken != "", next.RefreshToken != tok.RefreshToken)
		}
		l.verifyAccessToken(t, next, offlineID, userSubject, "openid profile offline_access")

		// RFC 7662 §2.2: active with the token's client and subject; another client
		// learns nothing (§4: active false).
		in := postAs(t, l.meta.IntrospectionEndpoint, offlineID, offlineSecret, url.Values{"token": {next.AccessToken}})
		if in.status != http.StatusOK || in.json["active"] != true || in.json["client_id"] != offlineID || in.json["sub"] != userSubject {
			t.Fatalf("introspection: %d %s", in.status, in.body)
		}
		if in := postAs(t, l.meta.IntrospectionEndpoint, otherID, otherSecret, url.Values{"token": {next.AccessToken}}); in.status != http.StatusOK || in.json["active"] != false || len(in.json) != 1 {
			t.Errorf("introspection by another client: %d %s", in.status, in.body)
		}
		if in := postAs(t, l.meta.IntrospectionEndpoint, offlineID, "wrong-"+offlineSecret, url.Values{"token": {next.AccessToken}}); in.status != http.StatusUnauthorized || in.json["error"] != "invalid_client" {
			t.Errorf("introspection with a wrong secret: %d %s", in.status, in.body)
		}

		// RFC 7009 §2.2: 200, and the refresh token is then refused.
		if rv := postAs(t, l.meta.RevocationEndpoint, offlineID, offlineSecret, url.Values{"token": {next.RefreshToken}, "token_type_hint": {"refresh_token"}}); rv.status != http.StatusOK {
			t.Fatalf("revoke: %d %s", rv.status, rv.body)
		}
		_, err = refresh(t, conf, next.RefreshToken)
		wantTokenError(t, err, "invalid_grant")
		if in := postAs(t, l.meta.IntrospectionEndpoint, offlineID, offlineSecret, url.Values{"token": {next.RefreshToken}}); in.json["active"] != false {
			t.Errorf("introspection of the revoked refresh token: %s", in.body)
		}
		// The rotated-out refresh token is refused too.
		_, err = refresh(t, conf, tok.RefreshToken)
		wantTokenError(t, err, "invalid_grant")
	}
	t.Run("cold", story)
	cold := l.instances()
	for fn, n := range cold {
		if n < 1 {
			t.Errorf("%s: no instance after the first run: its requests did not reach a bootstrap", fn)
		}
	}
	t.Run("warm", story)
	if warm := l.instances(); !maps.Equal(warm, cold) {
		t.Errorf("instances after the second run %v, after the first %v: warm instances were not reused", warm, cold)
	}
}
