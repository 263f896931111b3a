package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// rememberID is a client registered with the default consent metadata: consent is
// remembered (docs/design.md decision 32).
const (
	rememberID     = "remember-client"
	rememberSecret = "remember-secret-0123456789abcdefghijklmnopqrstuvwxyz"
)

const rememberClient = `
  {"client_id": "` + rememberID + `", "client_secret": "` + rememberSecret + `",
   "redirect_uris": ["` + redirectURI + `"], "scope": "openid profile email address offline_access",
   "grant_types": ["authorization_code", "refresh_token"]},`

// detailsTypes are the RAR types the consent tests' server accepts.
const detailsTypes = `{"payment_initiation":{"fields":{"instructedAmount":"object","creditorName":"string"},"required":["instructedAmount"]}}`

func rememberServer(t *testing.T, logs *syncBuffer) (*testServer, *memory.Store) {
	t.Helper()
	store := storeWithClients(t, rememberClient)
	opts := []serverOption{withStore(store), withEnv(map[string]string{"AUTHORIZATION_DETAILS_TYPES": detailsTypes})}
	if logs != nil {
		opts = append(opts, withLogs(logs))
	}
	return newServer(t, opts...), store
}

func rememberParams(kv ...string) url.Values {
	return with(pushParams(), append([]string{"client_id", rememberID}, kv...)...)
}

// codeOf is the code of an authorization response that the server sent straight to
// the client (303 to the redirect URI, no page), or the test fails.
func codeOf(t *testing.T, r response, what string) url.Values {
	t.Helper()
	loc, err := url.Parse(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), redirectURI+"?") || loc.Query().Get("code") == "" {
		t.Fatalf("%s: want a code at the redirect URI without a page, got %d %s\n%s", what, r.Status, r.Header.Get("Location"), r.Body)
	}
	return loc.Query()
}

// consentGiven signs a fresh browser in and approves the pushed request of params on
// the consent page: the consent is then remembered.
func consentGiven(t *testing.T, ts *testServer, params url.Values) *browser {
	t.Helper()
	b := ts.browser(t)
	page := b.login(t, rememberID, ts.push(t, rememberID, rememberSecret, params))
	if !isConsent(page) {
		t.Fatalf("first authorization: want the consent page, got %d\n%s", page.Status, page.Body)
	}
	if q := b.approve(t, page); q.Get("code") == "" {
		t.Fatalf("first authorization: %v", q)
	}
	return b
}

// signInAnew signs in from a fresh browser (no session) to a new pushed request of
// rememberID and returns the page, or the redirect, the login's Post/Redirect/Get hop
// leads to.
func signInAnew(t *testing.T, ts *testServer) response {
	t.Helper()
	b := ts.browser(t)
	login := b.Get(t, authorizePath(rememberID, ts.push(t, rememberID, rememberSecret, rememberParams())))
	r := b.Submit(t, login, url.Values{"username": {username}, "password": {password}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("login: want 303, got %d:\n%s", r.Status, r.Body)
	}
	return asResponse(t, b.Get(t, r.Location(t).String()))
}

func TestConsent_OIDCCore_3_1_2_1_RememberedConsent(t *testing.T) {
	t.Run("OIDC Core §3.1.2.1 a second authorization in the same browser skips login and consent", func(t *testing.T) {
		logs := &syncBuffer{}
		ts, _ := rememberServer(t, logs)
		b := consentGiven(t, ts, rememberParams())
		r := b.get(t, authorizePath(rememberID, ts.push(t, rememberID, rememberSecret, rememberParams())))
		q := codeOf(t, r, "second authorization")
		if q.Get("state") != "xyz-state" || q.Get("iss") == "" {
			t.Errorf("the response lacks state or iss: %v", q)
		}
		// The code is a code like any other: it redeems once, for the session's user.
		tr := ts.do(t, nil, http.MethodPost, "/token", basic(rememberID, rememberSecret), form, url.Values{"grant_type": {"authorization_code"},
			"code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}.Encode())
		if tr.Status != 200 {
			t.Fatalf("token: %d %s", tr.Status, tr.Body)
		}
		claims := ts.verifiedClaims(t, tr.JSON["id_token"].(string))
		if claims["sub"] == nil || claims["sid"] == nil {
			t.Errorf("ID token of the silent code: %v", claims)
		}
		if !strings.Contains(logs.String(), `"outcome":"code_issued_consent_remembered"`) {
			t.Errorf("no access line with the remembered-consent outcome:\n%s", logs.String())
		}
	})
	t.Run("OIDC Core §3.1.2.1 prompt=none with a session and a remembered consent returns a code", func(t *testing.T) {
		ts, _ := rememberServer(t, nil)
		b := consentGiven(t, ts, rememberParams())
		r := b.get(t, authorizePath(rememberID, ts.push(t, rememberID, rememberSecret, rememberParams("prompt", "none"))))
		codeOf(t, r, "prompt=none")
	})
	t.Run("OIDC Core §3.1.2.1 the request is consumed: the same request_uri again is refused", func(t *testing.T) {
		ts, _ := rememberServer(t, nil)
		b := consentGiven(t, ts, rememberParams())
		uri := ts.push(t, rememberID, rememberSecret, rememberParams())
		codeOf(t, b.get(t, authorizePath(rememberID, uri)), "first use")
		if again := b.get(t, authorizePath(rememberID, uri)); again.Status != http.StatusBadRequest || !strings.Contains(again.Body, "invalid_request_uri") {
			t.Fatalf("the spent request_uri again: want the invalid_request_uri page, got %d\n%s", again.Status, again.Body)
		}
	})
	t.Run("OIDC Core §3.1.2.1 a new browser signs in and skips the consent page", func(t *testing.T) {
		ts, _ := rememberServer(t, nil)
		consentGiven(t, ts, rememberParams())
		codeOf(t, signInAnew(t, ts), "after the login in another browser")
	})
	t.Run("OIDC Core §3.1.2.1 a scope within the remembered ones skips the page", func(t *testing.T) {
		ts, _ := rememberServer(t, nil)
		b := consentGiven(t, ts, rememberParams())
		codeOf(t, b.get(t, authorizePath(rememberID, ts.push(t, rememberID, rememberSecret, rememberParams("scope", "openid email")))), "scope openid email")
	})

	shown := []struct {
		name   string
		params url.Values
		change func(*memory.Store)
	}{
		{name: "OIDC Core §3.1.2.1 prompt=consent shows the consent page", params: rememberParams("prompt", "consent")},
		{name: "a scope the user did not approve shows the consent page", params: rememberParams("scope", "openid profile email address")},
		{name: "OIDC Core §11 offline_access is not covered by a consent without it", params: rememberParams("scope", "openid offline_access")},
		{name: "RFC 9396 authorization_details are always shown", params: rememberParams("authorization_details", `[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"1.00"}}]`)},
		{name: "a client registered with consent always shows the consent page", params: rememberParams(), change: func(s *memory.Store) {
			changeClient(t, s, rememberID, func(c *oauth.Client) { c.Consent = oauth.ConsentAlways })
		}},
		{name: "a forgotten consent (pargate grants revoke) shows the consent page", params: rememberParams(), change: func(s *memory.Store) {
			u, err := s.GetUser(t.Context(), username)
			if err != nil {
				t.Fatal(err)
			}
			if err := oauth.ForgetConsent(t.Context(), s, u.Subject(), rememberID); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range shown {
		t.Run(c.name, func(t *testing.T) {
			ts, store := rememberServer(t, nil)
			b := consentGiven(t, ts, rememberParams("scope", "openid profile email"))
			if c.change != nil {
				c.change(store)
				ts.clock.Advance(time.Minute) // past CLIENT_CACHE_TTL (30 s)
			}
			page := b.get(t, authorizePath(rememberID, ts.push(t, rememberID, rememberSecret, c.params)))
			if !isConsent(page) {
				t.Fatalf("want the consent page, got %d %s\n%s", page.Status, page.Header.Get("Location"), page.Body)
			}
			// prompt=none then answers consent_required (§3.1.2.6), never a page.
			if c.params.Get("prompt") == "" {
				none := with(c.params, "prompt", "none")
				r := b.get(t, authorizePath(rememberID, ts.push(t, rememberID, rememberSecret, none)))
				loc, _ := url.Parse(r.Header.Get("Location"))
				if r.Status != http.StatusSeeOther || loc == nil || loc.Query().Get("error") != oauth.CodeConsentRequired {
					t.Fatalf("prompt=none: want consent_required at the redirect URI, got %d %s", r.Status, r.Header.Get("Location"))
				}
			}
		})
	}

	t.Run("approving a new scope replaces the remembered consent", func(t *testing.T) {
		ts, _ := rememberServer(t, nil)
		b := consentGiven(t, ts, rememberParams("scope", "openid profile"))
		page := b.get(t, authorizePath(rememberID, ts.push(t, rememberID, rememberSecret, rememberParams("scope", "openid offline_access"))))
		if !isConsent(page) {
			t.Fatalf("offline_access: want the consent page, got %d", page.Status)
		}
		b.approve(t, page)
		codeOf(t, b.get(t, authorizePath(rememberID, ts.push(t, rememberID, rememberSecret, rememberParams("scope", "openid offline_access")))), "offline_access approved before")
		if page := b.get(t, authorizePath(rememberID, ts.push(t, rememberID, rememberSecret, rememberParams("scope", "openid profile")))); !isConsent(page) {
			t.Fatalf("profile, approved before the replacing approval: want the consent page, got %d", page.Status)
		}
	})
	t.Run("a consent past GRANT_LIFETIME shows the consent page", func(t *testing.T) {
		ts, _ := rememberServer(t, nil)
		consentGiven(t, ts, rememberParams())
		ts.clock.Advance(31 * 24 * time.Hour) // the default GRANT_LIFETIME is 30 days
		if page := signInAnew(t, ts); !isConsent(page) {
			t.Fatalf("want the consent page, got %d", page.Status)
		}
	})
	t.Run("a user whose password changed since the consent sees the consent page", func(t *testing.T) {
		ts, store := rememberServer(t, nil)
		consentGiven(t, ts, rememberParams())
		ts.clock.Advance(time.Minute)
		changeUser(t, store, username, func(u *oauth.User) { u.TokensValidAfter = ts.clock.Now() })
		ts.clock.Advance(time.Minute)
		if page := signInAnew(t, ts); !isConsent(page) {
			t.Fatalf("want the consent page, got %d", page.Status)
		}
	})
}

// A failed write of the consent costs the user nothing but the page next time: the
// code is issued, and the access line says why the consent was not remembered.
func TestConsent_RememberFailureStillIssuesTheCode(t *testing.T) {
	logs := &syncBuffer{}
	faulty := oauthtest.NewFaulty(storeWithClients(t, rememberClient))
	ts := newServer(t, withStore(faulty), withLogs(logs))
	b := ts.browser(t)
	page := b.login(t, rememberID, ts.push(t, rememberID, rememberSecret, rememberParams()))
	faulty.FailMethod(oauthtest.MethodRememberConsent, oauthtest.Before)
	if q := b.approve(t, page); q.Get("code") == "" {
		t.Fatalf("approve with the consent write failing: %v", q)
	}
	if !strings.Contains(logs.String(), `"consent_not_remembered"`) {
		t.Errorf("no consent_not_remembered on the access line:\n%s", logs.String())
	}
	faulty.Heal()
	if page := b.get(t, authorizePath(rememberID, ts.push(t, rememberID, rememberSecret, rememberParams()))); !isConsent(page) {
		t.Fatalf("after the failed write: want the consent page again, got %d", page.Status)
	}
}

// docs/design.md decision 16: a store outage reading the remembered consent is the
// outage page (503, Retry-After), never the consent page as if nothing were
// remembered, nor a redirect.
func TestConsent_AnOutageReadingTheConsentIsA503Page(t *testing.T) {
	faulty := oauthtest.NewFaulty(storeWithClients(t, rememberClient))
	ts := newServer(t, withStore(faulty))
	b := ts.browser(t)
	login := b.Get(t, authorizePath(rememberID, ts.push(t, rememberID, rememberSecret, rememberParams())))
	r := b.Submit(t, login, url.Values{"username": {username}, "password": {password}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("login: %d", r.Status)
	}
	faulty.FailMethod(oauthtest.MethodGetConsent, oauthtest.Before)
	page := asResponse(t, b.Get(t, r.Location(t).String()))
	if page.Status != http.StatusServiceUnavailable || page.Header.Get("Retry-After") == "" || isConsent(page) {
		t.Fatalf("want the 503 outage page, got %d %s\n%s", page.Status, page.Header.Get("Location"), page.Body)
	}
	faulty.Heal()
	if page := asResponse(t, b.Get(t, r.Location(t).String())); !isConsent(page) {
		t.Fatalf("after the outage: want the consent page, got %d", page.Status)
	}
}

// CSP Level 3 §6.3.1 (form-action, which browsers apply to the redirects a form's
// submission follows): a login with a remembered consent ends at the client's
// redirect URI (docs/design.md decision 32), so the login page's form-action allows
// the redirect URI's origin, as the consent page's does; no other origin.
func TestLoginPage_CSP_FormActionAllowsTheRedirectURIOfARememberedConsent(t *testing.T) {
	ts, _ := rememberServer(t, nil)
	consentGiven(t, ts, rememberParams())
	b := ts.browser(t)
	login := b.get(t, authorizePath(rememberID, ts.push(t, rememberID, rememberSecret, rememberParams())))
	csp := login.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' https://client.example.org;") {
		t.Fatalf("login page CSP %q: form-action must allow the redirect URI's origin", csp)
	}
	// The failed attempt's page again, read without the pushed request: the same.
	again := b.submit(t, login, url.Values{"username": {username}, "password": {"wrong password"}})
	if csp := again.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://client.example.org;") {
		t.Fatalf("login page after a wrong password, CSP %q", csp)
	}
	codeOf(t, signInAnew(t, ts), "a login with a remembered consent")
}
