package main

// End to end, on both targets (the lambda one runs the authorize bootstrap behind
// template.yaml, so its role's consent# statements are in play): remembered consent
// (OIDC Core §3.1.2.1; docs/design.md decision 32) with one cookie-jar browser,
// golang.org/x/oauth2 for the code and go-oidc for the ID token.

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
)

const (
	rememberID     = "e2e-remember"
	rememberSecret = "e2e-remember-secret-0123456789abcdefghijklmnopqrstuvwxyz"
)

// A second authorization in the same browser skips login and consent: /authorize
// answers with the code at once; prompt=none does too (silent authorization), and
// both codes redeem for the same user and session. prompt=consent shows the page.
func TestConsent_OIDCCore_3_1_2_1_RememberedConsentEndToEnd(t *testing.T) {
	extra := `
  {"client_id": "` + rememberID + `", "client_name": "E2E Remembered", "client_secret": "` + rememberSecret + `",
   "redirect_uris": ["` + appRedirect + `"], "scope": "openid profile email"},`
	seedFile := filepath.Join(t.TempDir(), "seed-remember.json")
	if err := os.WriteFile(seedFile, []byte(httpapitest.WithClients(t, seedJSON, extra)), 0o600); err != nil {
		t.Fatal(err)
	}
	l := start(t, map[string]string{"SEED_FILE": seedFile})
	b := l.browser(t)
	conf := l.rp(rememberID, rememberSecret, appRedirect, "openid", "profile")
	type idClaims struct {
		Sub string `json:"sub"`
		SID string `json:"sid"`
	}
	claimsOf := func(a *authRequest, code string) idClaims {
		t.Helper()
		var c idClaims
		if err := l.verifyIDToken(t, a, a.mustExchange(t, code)).Claims(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}

	first := newRequest(conf)
	consent := b.signIn(t, b.open(t, rememberID, l.push(t, first).RequestURI))
	c1 := claimsOf(first, l.authorizationResponse(t, first, b.decide(t, consent, "approve")))

	second := newRequest(conf)
	c2 := claimsOf(second, l.authorizationResponse(t, second, b.open(t, rememberID, l.push(t, second).RequestURI)))
	silent := newRequest(conf)
	c3 := claimsOf(silent, l.authorizationResponse(t, silent, b.open(t, rememberID, pushWith(t, l, silent, url.Values{"prompt": {"none"}}))))
	if c1.Sub != userSubject || c2 != c1 || c3 != c1 {
		t.Fatalf("ID tokens: first %+v, second %+v, prompt=none %+v: want one user and session", c1, c2, c3)
	}

	again := newRequest(conf)
	page := b.open(t, rememberID, pushWith(t, l, again, url.Values{"prompt": {"consent"}}))
	if !httpapitest.IsConsentPage(page) {
		t.Fatalf("prompt=consent: want the consent page, got %d:\n%s", page.Status, page.Body)
	}
}
