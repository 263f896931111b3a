package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// signedIn signs the browser in to confID with scope and returns the token
// response's ID token and refresh token.
func signedIn(t *testing.T, ts *testServer, b *browser, scope string) (idToken, refreshToken string) {
	t.Helper()
	page := b.Get(t, authorizePath(confID, ts.push(t, confID, confSecret, with(pushParams(), "scope", scope))))
	if httpapitest.IsLoginPage(page) {
		page = b.SignIn(t, page, username, password)
	}
	q := b.approve(t, asResponse(t, page))
	tr := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, url.Values{"grant_type": {"authorization_code"},
		"code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}.Encode())
	if tr.Status != http.StatusOK {
		t.Fatalf("token: %d %s", tr.Status, tr.Body)
	}
	idToken, _ = tr.JSON["id_token"].(string)
	refreshToken, _ = tr.JSON["refresh_token"].(string)
	return idToken, refreshToken
}

func logoutPath(params url.Values) string { return "/logout?" + params.Encode() }

func isLogoutPage(r response) bool {
	return r.Status == http.StatusOK && strings.Contains(r.Body, `name="pargate_step" value="logout"`)
}

func isSignedOutPage(r response) bool {
	return r.Status == http.StatusOK && strings.Contains(r.Body, "You are signed out")
}

// refreshes reports whether the refresh token still works.
func refreshes(t *testing.T, ts *testServer, rt string) bool {
	t.Helper()
	r := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form,
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode())
	return r.Status == http.StatusOK
}

// sessionCleared reports whether resp deletes the session cookie with its attributes.
func sessionCleared(resp response) bool {
	for _, c := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "pargate_session=;") && strings.Contains(c, "Max-Age=0") &&
			strings.Contains(c, "Path=/") && strings.Contains(c, "HttpOnly") && strings.Contains(c, "SameSite=Lax") {
			return true
		}
	}
	return false
}

// RP-Initiated Logout 1.0 §2, §3: with an id_token_hint of the browser's session and a
// registered post_logout_redirect_uri, GET and POST end the session without a page,
// clear the cookie and redirect (303) with state; the next prompt=none is
// login_required (OIDC Core §3.1.2.6).
func TestLogout_RPInitiated_2_3_HintEndsTheSessionAndRedirectsWithState(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			ts := newServer(t)
			b := ts.browser(t)
			idt, _ := signedIn(t, ts, b, "openid")
			params := url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"st-1"}}
			var r response
			if method == http.MethodGet {
				r = b.get(t, logoutPath(params))
			} else {
				r = asResponse(t, b.Post(t, "/logout", params))
			}
			if r.Status != http.StatusSeeOther {
				t.Fatalf("logout: %d %s", r.Status, r.Body)
			}
			loc, err := url.Parse(r.Header.Get("Location"))
			if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != "https://client.example.org/signed-out" ||
				loc.Query().Get("state") != "st-1" || loc.Query().Get("from") != "op" {
				t.Fatalf("redirect to %q, want %s with state=st-1", r.Header.Get("Location"), postLogoutURI)
			}
			if !sessionCleared(r) {
				t.Errorf("the session cookie is not cleared: %v", r.Header.Values("Set-Cookie"))
			}
			if sessionCookieOf(t, ts, b) != nil {
				t.Error("the browser still has a session cookie")
			}
			none := ts.push(t, confID, confSecret, with(pushParams(), "prompt", "none"))
			resp := b.get(t, authorizePath(confID, none))
			if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=login_required") {
				t.Fatalf("prompt=none after logout: %d %q", resp.Status, loc)
			}
		})
	}
}

// RP-Initiated Logout 1.0 §4: an expired ID token is still a hint ("even when the
// exp time has passed").
func TestLogout_RPInitiated_4_ExpiredHintIsAccepted(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	idt, _ := signedIn(t, ts, b, "openid")
	ts.clock.Advance(11 * time.Minute) // past ID_TOKEN_LIFETIME (600 s), within the session's idle timeout
	r := b.get(t, logoutPath(url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {postLogoutURI}}))
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "https://client.example.org/signed-out") {
		t.Fatalf("logout with an expired hint: %d %q %s", r.Status, r.Header.Get("Location"), r.Body)
	}
}

// RP-Initiated Logout 1.0 §4 (a hint that is not this server's ID token) and §2
// client_id ("MUST verify that the Client Identifier matches the one used when
// issuing the ID Token"): an error page, never a redirect, and the session lives.
func TestLogout_RPInitiated_4_BadHintOrForeignClientIsAnErrorPage(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	idt, _ := signedIn(t, ts, b, "openid")
	tampered := idt[:len(idt)-4] + "AAAA"
	if strings.HasSuffix(idt, "AAAA") {
		tampered = idt[:len(idt)-4] + "BBBB"
	}
	for name, params := range map[string]url.Values{
		"not a JWT":      {"id_token_hint": {"not-a-token"}, "post_logout_redirect_uri": {postLogoutURI}},
		"bad signature":  {"id_token_hint": {tampered}, "post_logout_redirect_uri": {postLogoutURI}},
		"foreign client": {"id_token_hint": {idt}, "client_id": {postID}, "post_logout_redirect_uri": {postLogoutURI}},
		"unknown client": {"client_id": {"no-such-client"}, "post_logout_redirect_uri": {postLogoutURI}},
		"repeated":       {"client_id": {confID, confID}},
	} {
		t.Run(name, func(t *testing.T) {
			r := b.get(t, logoutPath(params))
			if r.Status != http.StatusBadRequest || r.Header.Get("Location") != "" || !strings.Contains(r.Body, "invalid_request") {
				t.Fatalf("want a 400 invalid_request page, got %d %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
			}
			if strings.Contains(r.Body, idt) {
				t.Error("the page shows the hint")
			}
			if sessionCookieOf(t, ts, b) == nil {
				t.Fatal("a refused logout ended the session")
			}
		})
	}
}

// RP-Initiated Logout 1.0 §4 and §5: without a hint the user is asked (a page whose
// form carries a CSRF token); the confirmed POST ends the session and redirects to
// the registered URI with state. The page's form-action allows that redirect only.
func TestLogout_RPInitiated_5_NoHintAsksThenEndsTheSession(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	signedIn(t, ts, b, "openid")
	page := b.get(t, logoutPath(url.Values{"client_id": {confID}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"s2"}}))
	if !isLogoutPage(page) {
		t.Fatalf("want the confirmation page, got %d\n%s", page.Status, page.Body)
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://client.example.org;") {
		t.Errorf("CSP %q", csp)
	}
	if sessionCookieOf(t, ts, b) == nil {
		t.Fatal("the confirmation page ended the session")
	}
	action, fields := httpapitest.Form(t, httpapitest.Page{Status: page.Status, Header: page.Header, Body: page.Body})
	if action != "/logout" || fields.Get("csrf") == "" || fields.Get("state") != "s2" {
		t.Fatalf("form %s %v", action, fields)
	}
	r := asResponse(t, b.Post(t, "/logout", fields))
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "state=s2") || !sessionCleared(r) {
		t.Fatalf("confirmed logout: %d %q %v", r.Status, r.Header.Get("Location"), r.Header.Values("Set-Cookie"))
	}
	if sessionCookieOf(t, ts, b) != nil {
		t.Fatal("the browser still has a session")
	}
}

// RP-Initiated Logout 1.0 §5: a confirmation without its CSRF token, or with another
// session's, is refused (403 page) and the session lives.
func TestLogout_RPInitiated_5_ConfirmationWithoutCSRFIsRefused(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	signedIn(t, ts, b, "openid")
	other := ts.browser(t)
	signedIn(t, ts, other, "openid")
	otherPage := other.get(t, logoutPath(url.Values{}))
	otherCSRF := httpapitest.HiddenFields(otherPage.Body).Get("csrf")
	for name, csrf := range map[string]string{"missing": "", "another session's": otherCSRF, "garbage": "0.AAAA"} {
		t.Run(name, func(t *testing.T) {
			fields := url.Values{"pargate_step": {"logout"}}
			if csrf != "" {
				fields.Set("csrf", csrf)
			}
			r := asResponse(t, b.Post(t, "/logout", fields))
			if r.Status != http.StatusForbidden || r.Header.Get("Location") != "" {
				t.Fatalf("want 403, got %d %q", r.Status, r.Header.Get("Location"))
			}
			if sessionCookieOf(t, ts, b) == nil {
				t.Fatal("the session ended")
			}
		})
	}
}

// RP-Initiated Logout 1.0 §3, §4: a post_logout_redirect_uri that is not registered
// for the client is never redirected to: the user is asked, then the signed-out page.
func TestLogout_RPInitiated_3_UnregisteredRedirectIsNeverFollowed(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	idt, _ := signedIn(t, ts, b, "openid")
	for _, uri := range []string{"https://attacker.example/", redirectURI, postLogoutURI + "&x=1"} {
		page := b.get(t, logoutPath(url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {uri}}))
		if !isLogoutPage(page) || strings.Contains(page.Body, "attacker") {
			t.Fatalf("%s: want the confirmation page without the URI, got %d\n%s", uri, page.Status, page.Body)
		}
	}
	page := b.get(t, logoutPath(url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"https://attacker.example/"}}))
	r := asResponse(t, b.Post(t, "/logout", httpapitest.HiddenFields(page.Body)))
	if !isSignedOutPage(r) || !sessionCleared(r) {
		t.Fatalf("confirmed: want the signed-out page, got %d %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	// Signed out already: the signed-out page, no redirect either.
	if r := b.get(t, logoutPath(url.Values{"post_logout_redirect_uri": {"https://attacker.example/"}})); !isSignedOutPage(r) {
		t.Fatalf("without a session: %d %q", r.Status, r.Header.Get("Location"))
	}
}

// node-oidc-provider's rule (issue 12 item 3): ending the session revokes the grants
// issued in it without offline_access (here a plain OAuth grant, whose refresh token
// needs no offline_access: OIDC Core §11 is about openid requests); an
// offline_access refresh token lives on.
func TestLogout_RPInitiated_RevokesRefreshTokensWithoutOfflineAccess(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	_, online := signedIn(t, ts, b, "profile email")
	idt, offline := signedIn(t, ts, b, "openid offline_access")
	if online == "" || offline == "" {
		t.Fatalf("refresh tokens: %q %q", online, offline)
	}
	r := b.get(t, logoutPath(url.Values{"id_token_hint": {idt}}))
	if !isSignedOutPage(r) {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if refreshes(t, ts, online) {
		t.Error("the refresh token without offline_access still works after the logout")
	}
	if !refreshes(t, ts, offline) {
		t.Error("the offline_access refresh token was revoked")
	}
}

// RP-Initiated Logout 1.0 §2 logout_hint: a hint naming another user than the
// session's asks first.
func TestLogout_RPInitiated_2_LogoutHintOfAnotherUserAsks(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	idt, _ := signedIn(t, ts, b, "openid")
	if r := b.get(t, logoutPath(url.Values{"id_token_hint": {idt}, "logout_hint": {"someone-else"}})); !isLogoutPage(r) {
		t.Fatalf("want the confirmation page, got %d", r.Status)
	}
	if r := b.get(t, logoutPath(url.Values{"id_token_hint": {idt}, "logout_hint": {username}})); !isSignedOutPage(r) {
		t.Fatalf("logout_hint of the session's user: want signed out, got %d", r.Status)
	}
}

// An id_token_hint of an earlier session (the user signed in again since) does not
// end the browser's new session without asking (RP-Initiated Logout 1.0 §4).
func TestLogout_RPInitiated_4_HintOfAnotherSessionAsks(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	idt, _ := signedIn(t, ts, b, "openid")
	b.get(t, logoutPath(url.Values{"id_token_hint": {idt}}))
	signedIn(t, ts, b, "openid")
	if r := b.get(t, logoutPath(url.Values{"id_token_hint": {idt}})); !isLogoutPage(r) {
		t.Fatalf("an old session's hint: want the confirmation page, got %d\n%s", r.Status, r.Body)
	}
}

// OpenID Connect Discovery / RP-Initiated Logout 1.0 §2.1: end_session_endpoint.
func TestDiscovery_RPInitiatedLogout_2_1_EndSessionEndpoint(t *testing.T) {
	ts := newServer(t)
	r := ts.do(t, nil, http.MethodGet, "/.well-known/openid-configuration", "", "", "")
	if r.JSON["end_session_endpoint"] != ts.handler.Metadata(nil).Issuer+"/logout" {
		t.Fatalf("end_session_endpoint %v", r.JSON["end_session_endpoint"])
	}
}

// RP-Initiated Logout 1.0 §2: GET and POST; other methods 405 with Allow.
func TestLogout_RPInitiated_2_OtherMethodsAre405(t *testing.T) {
	ts := newServer(t)
	r := ts.do(t, nil, http.MethodPut, "/logout", "", "", "")
	if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, POST" {
		t.Fatalf("PUT /logout: %d %q", r.Status, r.Header.Get("Allow"))
	}
}

// The access line of a logout names the route, the client and the outcome, never
// the id_token_hint, the logout_hint or the session id.
func TestLogout_RPInitiated_AccessLineNeverHasTheHint(t *testing.T) {
	var logs syncBuffer
	ts := newServer(t, withLogs(&logs))
	b := ts.browser(t)
	idt, _ := signedIn(t, ts, b, "openid")
	id := sessionCookieOf(t, ts, b).Value
	if r := b.get(t, logoutPath(url.Values{"id_token_hint": {idt}, "logout_hint": {username}, "state": {"st-secret"}})); !isSignedOutPage(r) {
		t.Fatalf("logout: %d", r.Status)
	}
	out := logs.String()
	if !strings.Contains(out, `"route":"/logout"`) || !strings.Contains(out, `"outcome":"logged_out"`) || !strings.Contains(out, `"client_id":"`+confID+`"`) {
		t.Fatalf("no logout access line:\n%s", out)
	}
	for _, secret := range []string{idt, strings.Split(idt, ".")[1], id, "st-secret"} {
		if strings.Contains(out, secret) {
			t.Fatalf("the log has %q", secret)
		}
	}
}

// docs/design.md decision 16 at /logout: an outage finding or revoking the session's
// grants is a 503 page with Retry-After, and the session is not ended (the grants
// come first, the session last), so a retry revokes them and ends it.
func TestLogout_RPInitiated_OutageIsA503PageAndTheSessionLives(t *testing.T) {
	for _, method := range []string{oauthtest.MethodListGrantsBySubject, oauthtest.MethodRevokeGrant, oauthtest.MethodGetSession} {
		t.Run(method, func(t *testing.T) {
			store := seededStore(t, memory.New())
			faulty := oauthtest.NewFaulty(store)
			ts := newServer(t, withStore(faulty), withEnv(map[string]string{"CLIENT_CACHE_TTL": "0"}))
			b := ts.browser(t)
			_, online := signedIn(t, ts, b, "profile")
			idt, _ := signedIn(t, ts, b, "openid")
			params := url.Values{"id_token_hint": {idt}}
			faulty.FailMethod(method, oauthtest.Before)
			r := b.get(t, logoutPath(params))
			if r.Status != http.StatusServiceUnavailable || !strings.Contains(r.Body, oauth.CodeTemporarilyUnavailable) {
				t.Fatalf("want a 503 page, got %d\n%s", r.Status, r.Body)
			}
			wantRetryAfter(t, r)
			if sessionCookieOf(t, ts, b) == nil || sessionCleared(r) {
				t.Fatal("the session cookie was cleared by a failed logout")
			}
			faulty.Heal()
			if r := b.get(t, logoutPath(params)); !isSignedOutPage(r) {
				t.Fatalf("the retry: %d\n%s", r.Status, r.Body)
			}
			if refreshes(t, ts, online) {
				t.Error("the retry left the refresh token without offline_access working")
			}
		})
	}
}
